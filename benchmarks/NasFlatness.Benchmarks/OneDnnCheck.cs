using NasFlatness.Advanced;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Benchmarks;

/// <summary>
/// `onednn-check [on|off]`: compares float32 convolution gradients (input and weight) with a float64
/// computation over a grid of shapes, three repeats each, and prints the shapes that disagree.
/// </summary>
internal static class OneDnnCheck
{
    public static int Run(string[] args)
    {
        if (args.FirstOrDefault() == "decision") return OneDnnDecision.Run(args);
        if (args.FirstOrDefault() == "trial") return OneDnnDecision.Trial(args);
        if (args.FirstOrDefault() == "decision-report" && args.Length > 1) return OneDnnDecision.ReportFolder(args[1]);
        bool keep = args.FirstOrDefault() == "on";
        if (!keep) TorchRuntime.TrySetOneDnn(false);
        if (args.Contains("grid")) return Grid(args.Contains("nhwc"));
        if (args.Contains("networks")) return CheckNetworks();
        torch.manual_seed(1);
        int bad = 0, total = 0;
        foreach (int c in new[] { 4, 8, 16, 32, 48, 64 })
        foreach (int b in new[] { 16, 64 })
        foreach (int hw in new[] { 8, 16, 32 })
        foreach (int k in new[] { 1, 3 })
        {
            int badHere = 0;
            double worst = 0;
            for (int rep = 0; rep < 3; rep++)
            {
                using var scope = torch.NewDisposeScope();
                var x = torch.randn(b, c, hw, hw);
                var w = torch.randn(c, c, k, k);
                long pad = k / 2;
                var x32 = x.clone().requires_grad_(true);
                var w32 = w.clone().requires_grad_(true);
                var y = nn.functional.conv2d(x32, w32, padding: [pad, pad]);
                var g = torch.randn_like(y);
                var grads = torch.autograd.grad([y], [x32, w32], [g]);
                var x64 = x.to(float64).requires_grad_(true);
                var w64 = w.to(float64).requires_grad_(true);
                var exact = torch.autograd.grad([nn.functional.conv2d(x64, w64, padding: [pad, pad])], [x64, w64], [g.to(float64)]);
                double inputError = (grads[0].to(float64) - exact[0]).abs().max().item<double>();
                double weightError = ((grads[1].to(float64) - exact[1]).abs().max() / exact[1].abs().max()).item<double>();
                total++;
                if (!(inputError < 1e-3 && weightError < 1e-4))
                {
                    bad++;
                    badHere++;
                    worst = double.IsNaN(inputError) || double.IsNaN(worst) ? double.NaN : Math.Max(worst, inputError);
                }
            }
            if (badHere > 0)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"C={c,2} batch {b,2} {hw,2}x{hw,-2} k={k}: {badHere}/3 wrong, input-gradient error up to {worst:G3}"));
        }
        Console.WriteLine($"oneDNN {(keep ? "on" : "off")}: {bad} of {total} gradient checks wrong");
        return bad == 0 ? 0 : 1;
    }

    /// <summary>The same NCHW-shaped tensor with channels-last (NHWC) strides; TorchSharp has no <c>memory_format</c> argument for this.</summary>
    internal static Tensor ChannelsLast(Tensor t) => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    private static int Grid(bool nhwc)
    {
        torch.manual_seed(1);
        int bad = 0, total = 0;
        foreach (int cin in new[] { 3, 4, 8, 12, 16, 24, 32 })
        foreach (int cout in new[] { 4, 8, 16, 24, 32, 48 })
        foreach (int k in new[] { 1, 3 })
        foreach (int stride in new[] { 1, 2 })
        {
            using var scope = torch.NewDisposeScope();
            var x = torch.randn(64, cin, 32, 32);
            var w = torch.randn(cout, cin, k, k);
            long pad = k / 2;
            var x32 = (nhwc ? ChannelsLast(x) : x.clone()).requires_grad_(true);
            var y = nn.functional.conv2d(x32, nhwc ? ChannelsLast(w) : w, strides: [stride, stride], padding: [pad, pad]);
            var g = torch.randn(y.shape);
            if (nhwc) g = ChannelsLast(g);
            var gx = torch.autograd.grad([y], [x32], [g])[0];
            var x64 = x.to(float64).requires_grad_(true);
            var y64 = nn.functional.conv2d(x64, w.to(float64), strides: [stride, stride], padding: [pad, pad]);
            var exact = torch.autograd.grad([y64], [x64], [g.to(float64)])[0];
            double forward = (y.to(float64) - y64).abs().max().item<double>();
            double error = (gx.to(float64) - exact).abs().max().item<double>();
            total++;
            if (!(error < 1e-3 && forward < 1e-3)) { bad++; Console.WriteLine($"cin={cin} cout={cout} k={k} s={stride}: forward {forward:G3} input-grad {error:G3}"); }
        }
        Console.WriteLine($"grid: {bad} of {total} wrong");
        return 0;
    }

    /// <summary>The supernets both `networks` and `decision` ask about (CIFAR-10: 32×32, 3 channels).</summary>
    internal static readonly (string Name, Func<Supernet> Create)[] Networks =
    [
        ("NB201 C=8, N=1", () => new SearchSpaces.Nb201.Nb201SearchSpace(new() { Channels = 8, CellsPerStage = 1 }).CreateSupernet(DatasetInfo.Cifar10)),
        ("NB201 C=16, N=5", () => new SearchSpaces.Nb201.Nb201SearchSpace(new() { Channels = 16, CellsPerStage = 5 }).CreateSupernet(DatasetInfo.Cifar10)),
        ("DARTS C=8, 5 cells", () => new SearchSpaces.Darts.DartsSearchSpace(new() { Channels = 8, Cells = 5 }).CreateSupernet(DatasetInfo.Cifar10)),
        ("DARTS C=16, 8 cells", () => new SearchSpaces.Darts.DartsSearchSpace(new() { Channels = 16, Cells = 8 }).CreateSupernet(DatasetInfo.Cifar10)),
        ("PC-DARTS C=16, 8 cells, K=4", () => new SearchSpaces.Darts.DartsSearchSpace(new() { Channels = 16, Cells = 8, PartialChannels = 4, EdgeNormalization = true }).CreateSupernet(DatasetInfo.Cifar10)),
    ];

    /// <summary>`onednn-check networks`: for each search space's supernet, the library's decision at batch 64 of 32×32 images (oneDNN, or the reason for native kernels).</summary>
    private static int CheckNetworks()
    {
        var verdicts = new Dictionary<(TorchRuntime.ConvolutionShape, TorchRuntime.ConvolutionSite), string?>();
        foreach (var (name, create) in Networks)
        {
            using var net = create();
            var shapes = TorchRuntime.ConvolutionShapes(net);
            var sites = TorchRuntime.ConvolutionSites(net, [64, 3, 32, 32]);
            TorchRuntime.TrySetOneDnn(true);
            string? failure = TorchRuntime.FirstProblem(shapes, s => sites.TryGetValue(s, out var list) ? list : [new(0, 0, 0)], verdicts, System.Runtime.Intrinsics.X86.Avx512F.IsSupported);
            TorchRuntime.TrySetOneDnn(false);
            Console.WriteLine($"{name}: {shapes.Count} convolution shapes, {(failure is null ? "all pass: runs on oneDNN" : "native kernels: " + failure)}");
        }
        return 0;
    }
}
