using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Benchmarks;

/// <summary>
/// `pool-variants [channels] [on|off]`: forward + backward time of NB201's 3×3 average pool (stride 1, padding 1,
/// padding not counted) computed three ways, batch 64, 32×32, one thread, median of 11.
/// </summary>
internal static class PoolVariants
{
    public static int Run(string[] args)
    {
        long c = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 16;
        torch.set_num_threads(1);
        TorchRuntime.TuneAllocator();
        TorchRuntime.TrySetOneDnn(args.Length > 1 && args[1] == "on");
        var x = torch.randn(64, c, 32, 32);
        var invCount = nn.functional.conv2d(torch.ones(1, 1, 32, 32), torch.ones(1, 1, 3, 3), padding: [1, 1]).reciprocal();
        var ones = torch.ones(c, 1, 3, 3);
        Func<Tensor, Tensor> pool = t => nn.functional.avg_pool2d(t, 3, 1, 1, count_include_pad: false);
        Func<Tensor, Tensor> separable = t =>
        {
            var p = nn.functional.pad(t, [1, 1, 1, 1]);
            long h = t.shape[2], w = t.shape[3];
            var rows = p.narrow(3, 0, w) + p.narrow(3, 1, w) + p.narrow(3, 2, w);
            return (rows.narrow(2, 0, h) + rows.narrow(2, 1, h) + rows.narrow(2, 2, h)) * invCount;
        };
        Func<Tensor, Tensor> depthwise = t => nn.functional.conv2d(t, ones, padding: [1, 1], groups: c) * invCount;
        foreach (var (name, f) in new[] { ("avg_pool2d", pool), ("separable sums", separable), ("depthwise conv", depthwise) })
        {
            double error = (f(x) - pool(x)).abs().max().item<float>();
            var times = new List<double>();
            for (int i = 0; i < 11; i++)
            {
                using var scope = torch.NewDisposeScope();
                var xi = x.clone().requires_grad_(true);
                var sw = Stopwatch.StartNew();
                var y = f(xi);
                torch.autograd.grad([y], [xi], [torch.ones_like(y)]);
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"C={c} oneDNN {(TorchRuntime.OneDnnDisabled ? "off" : "on")} {name}: median {times[5]:F2} ms forward+backward, max difference {error:G3}"));
        }
        return 0;
    }
}
