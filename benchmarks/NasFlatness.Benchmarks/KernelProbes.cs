using NasFlatness.Advanced;
using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Benchmarks;

/// <summary>Single-kernel probes behind the design decisions in docs/performance.md (not BenchmarkDotNet: one-off comparisons).</summary>
internal static class KernelProbes
{
    private static long Arg(string[] args, int index, long fallback) =>
        args.Length > index ? long.Parse(args[index], CultureInfo.InvariantCulture) : fallback;

    /// <summary>
    /// `pool-variants [channels] [on|off]`: forward + backward time of NB201's 3×3 average pool (stride 1, padding 1,
    /// padding not counted) computed three ways, batch 64, 32×32, one thread, median of 11.
    /// </summary>
    public static int PoolVariants(string[] args)
    {
        long c = Arg(args, 0, 16);
        torch.set_num_threads(1);
        TorchRuntime.TuneAllocator();
        TorchRuntime.TrySetOneDnn(args.Length > 1 && args[1] == "on");
        var x = torch.randn(64, c, 32, 32);
        var invCount = SearchSpaces.Operations.AvgPool3x3.InverseWindowSizes(32, 32, float32, CPU);
        var ones = torch.ones(c, 1, 3, 3);
        Func<Tensor, Tensor> pool = t => nn.functional.avg_pool2d(t, 3, 1, 1, count_include_pad: false);
        Func<Tensor, Tensor> separable = SearchSpaces.Operations.AvgPool3x3.StrideOne; // the library's pool
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

    /// <summary>
    /// `padded-conv [cin] [cout]`: forward + backward (input and weight gradients) of a 3×3 convolution, batch 64,
    /// 32×32, one thread: libtorch native kernels vs oneDNN on channel counts zero-padded to multiples of 16
    /// (pad input and weight, convolve, keep the first cout channels). Median of 11.
    /// </summary>
    public static int PaddedConv(string[] args)
    {
        long cin = Arg(args, 0, 8);
        long cout = Arg(args, 1, 24);
        long pin = (cin + 15) / 16 * 16, pout = (cout + 15) / 16 * 16;
        torch.set_num_threads(1);
        TorchRuntime.TuneAllocator();
        var x = torch.randn(64, cin, 32, 32);
        var w = torch.randn(cout, cin, 3, 3);
        Func<Tensor, Tensor, Tensor> plain = (xi, wi) => nn.functional.conv2d(xi, wi, padding: [1, 1]);
        Func<Tensor, Tensor, Tensor> padded = (xi, wi) =>
        {
            var xp = nn.functional.pad(xi, [0, 0, 0, 0, 0, pin - cin]);
            var wp = nn.functional.pad(wi, [0, 0, 0, 0, 0, pin - cin, 0, pout - cout]);
            return nn.functional.conv2d(xp, wp, padding: [1, 1]).narrow(1, 0, cout).contiguous();
        };
        Tensor[]? reference = null;
        Func<Tensor, Tensor, Tensor> channelsLast = (xi, wi) => nn.functional.conv2d(OneDnnCheck.ChannelsLast(xi), OneDnnCheck.ChannelsLast(wi), padding: [1, 1]);
        foreach (var (name, oneDnn, f) in new[] { ("native", false, plain), ("oneDNN padded", true, padded), ("oneDNN unpadded (wrong here)", true, plain), ("oneDNN channels-last", true, channelsLast), ("native channels-last", false, channelsLast) })
        {
            TorchRuntime.TrySetOneDnn(oneDnn);
            var times = new List<double>();
            Tensor[] grads = [];
            for (int i = 0; i < 11; i++)
            {
                using var scope = torch.NewDisposeScope();
                var xi = x.clone().requires_grad_(true);
                var wi = w.clone().requires_grad_(true);
                var g = torch.ones(64, cout, 32, 32);
                var sw = Stopwatch.StartNew();
                var y = f(xi, wi);
                grads = [.. torch.autograd.grad([y], [xi, wi], [g])];
                times.Add(sw.Elapsed.TotalMilliseconds);
                grads = [.. grads.Select(t => t.detach().clone().DetachFromDisposeScope())];
            }
            reference ??= grads;
            double error = Math.Max((grads[0] - reference[0]).abs().max().item<float>(), ((grads[1] - reference[1]).abs().max() / reference[1].abs().max()).item<float>());
            times.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{cin}→{cout} 3×3 {name}: median {times[5]:F2} ms forward+backward, gradient difference to native {error:G3}"));
        }
        return 0;
    }
}
