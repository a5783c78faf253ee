using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Advanced;

// The convolution shapes of a network, where they run, and their float32-against-float64 check.
public static partial class TorchRuntime
{
    /// <summary>A 2-D convolution configuration as the check sees it.</summary>
    internal readonly record struct ConvolutionShape(
        long InChannels, long OutChannels, long KernelH, long KernelW, long StrideH, long StrideW,
        long PadH, long PadW, long DilationH, long DilationW, long Groups, bool CheckInputGradient)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"conv2d {InChannels}→{OutChannels} channels, kernel {KernelH}×{KernelW}, stride {StrideH}, padding {PadH}, dilation {DilationH}, groups {Groups}");
    }

    /// <summary>Where a convolution runs: its batch size and input height and width; batch 0 stands for the small default check.</summary>
    internal readonly record struct ConvolutionSite(long Batch, long Height, long Width);

    private static readonly IReadOnlyList<ConvolutionSite> DefaultSites = [new ConvolutionSite(0, 0, 0)];

    internal static List<ConvolutionShape> ConvolutionShapes(nn.Module module) => [.. ConvolutionModules(module).Select(c => c.Shape).Distinct()];

    // Every float32 CPU convolution module once, in registration order; the first convolution of the module needs no input gradient.
    private static List<(Conv2d Module, ConvolutionShape Shape)> ConvolutionModules(nn.Module module)
    {
        var result = new List<(Conv2d, ConvolutionShape)>();
        bool first = true;
        var seen = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        foreach (var (_, m) in module.named_modules().Prepend(("", module)))
        {
            if (m is not Conv2d conv || !seen.Add(conv)) continue;
            var weight = conv.weight;
            if (weight is null || weight.device_type != DeviceType.CPU || weight.dtype != float32) { first = false; continue; }
            long[] pad = conv.padding is { } p ? [.. p] : [0, 0];
            result.Add((conv, new ConvolutionShape(
                conv.in_channels, conv.out_channels, weight.shape[2], weight.shape[3],
                conv.stride[0], conv.stride[^1], pad[0], pad[^1], conv.dilation[0], conv.dilation[^1], conv.groups,
                CheckInputGradient: !first)));
            first = false;
        }
        return result;
    }

    /// <summary>
    /// The sites at which each convolution shape of <paramref name="module"/> runs on batches of <paramref name="inputShape"/>:
    /// one forward pass of a single zero image in evaluation mode without gradients records each convolution's input size
    /// (batch: <c>inputShape[0]</c>). The random-number state and every module's training flag are restored. A shape the pass
    /// does not reach is missing from the result; a pass that fails gives an empty result (the caller falls back to the default check).
    /// </summary>
    internal static Dictionary<ConvolutionShape, IReadOnlyList<ConvolutionSite>> ConvolutionSites(nn.Module<Tensor, Tensor> module, long[] inputShape)
    {
        var sites = new Dictionary<ConvolutionShape, List<ConvolutionSite>>();
        var convolutions = ConvolutionModules(module);
        if (convolutions.Count == 0) return [];
        var modes = module.named_modules().Select(m => (Module: m.module, m.module.training)).Prepend((module, module.training)).ToArray();
        var removers = new List<Action>();
        using var rng = torch.get_rng_state();
        try
        {
            foreach (var (conv, shape) in convolutions)
            {
                removers.Add(conv.register_forward_pre_hook((_, x) =>
                {
                    var site = new ConvolutionSite(inputShape[0], x.shape[2], x.shape[3]);
                    if (!sites.TryGetValue(shape, out var list)) sites[shape] = list = [];
                    if (!list.Contains(site)) list.Add(site);
                    return x;
                }).remove);
            }
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            module.eval();
            module.call(torch.zeros([1, inputShape[1], inputShape[2], inputShape[3]]));
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.Runtime.InteropServices.ExternalException or IndexOutOfRangeException)
        {
            sites.Clear();
        }
        finally
        {
            foreach (var remove in removers) remove();
            foreach (var (m, training) in modes) m.train(training);
            torch.set_rng_state(rng);
        }
        return sites.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<ConvolutionSite>)kv.Value);
    }

    /// <summary>
    /// Rounds of the small default check of a shape. oneDNN's wrong results are intermittent on some CPUs (measured on an AMD
    /// EPYC with libtorch 2.10: the 8→8 3×3 input gradient was right in about 1 call out of 10, so a single check let a broken
    /// kernel through in 1 process out of 10, and the search then diverged). Each round uses fresh inputs; any wrong round fails the shape.
    /// </summary>
    internal const int CheckRounds = 6;

    /// <summary>Rounds of the check of a shape at a site the network really uses (each compares a whole batch).</summary>
    internal const int RealSizeRounds = 1;

    /// <summary>
    /// Runs one convolution shape with the current kernels in float32 and in float64 on random data, <see cref="CheckRounds"/>
    /// rounds at 7×7 and 16×16 with batch 2, and returns null when forward, weight gradient and (if asked) input gradient
    /// agree to 1e-4 relative to the largest value, or a description of the first disagreement.
    /// </summary>
    internal static string? CheckConvolution(ConvolutionShape s)
    {
        var generator = new torch.Generator(20261123);
        foreach (long size in Enumerable.Repeat(new long[] { 7, 16 }, CheckRounds).SelectMany(sizes => sizes))
        {
            long spanH = s.DilationH * (s.KernelH - 1) + 1, spanW = s.DilationW * (s.KernelW - 1) + 1;
            if (CompareOnce(s, 2, Math.Max(size, spanH), Math.Max(size, spanW), generator) is { } problem) return problem;
        }
        return null;
    }

    /// <summary>As <see cref="CheckConvolution(ConvolutionShape)"/>, but <paramref name="rounds"/> rounds at <paramref name="site"/>'s batch and size.</summary>
    internal static string? CheckConvolution(ConvolutionShape s, ConvolutionSite site, int rounds)
    {
        var generator = new torch.Generator(20261123);
        for (int round = 0; round < rounds; round++)
            if (CompareOnce(s, site.Batch, site.Height, site.Width, generator) is { } problem) return problem;
        return null;
    }

    // One float32-with-the-current-kernels against float64 comparison on fresh random data; null when all agree to 1e-4 of the largest value.
    private static string? CompareOnce(ConvolutionShape s, long batch, long h, long w, torch.Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn([batch, s.InChannels, h, w], generator: generator);
        var k = torch.randn([s.OutChannels, s.InChannels / s.Groups, s.KernelH, s.KernelW], generator: generator);
        var outputs = new Tensor[2];
        var gradients = new Tensor[2][];
        Tensor? g = null;
        for (int precision = 0; precision < 2; precision++)
        {
            var type = precision == 0 ? float32 : float64;
            var xi = x.to(type).requires_grad_(s.CheckInputGradient);
            var ki = k.to(type).requires_grad_(true);
            var y = nn.functional.conv2d(xi, ki, strides: [s.StrideH, s.StrideW], padding: [s.PadH, s.PadW],
                dilation: [s.DilationH, s.DilationW], groups: s.Groups);
            g ??= torch.randn(y.shape, generator: generator);
            outputs[precision] = y.detach().to(float64);
            Tensor[] inputs = s.CheckInputGradient ? [ki, xi] : [ki];
            gradients[precision] = [.. torch.autograd.grad([y], inputs, [g.to(type)]).Select(t => t.to(float64))];
        }
        string? Compare(string what, Tensor actual, Tensor exact)
        {
            double scale = exact.abs().max().item<double>();
            double error = (actual - exact).abs().max().item<double>();
            return error <= 1e-4 * Math.Max(scale, 1e-30)
                ? null
                : string.Create(CultureInfo.InvariantCulture, $"oneDNN {what} of {s} is wrong (largest error {error:G3}, largest value {scale:G3}, batch {batch}, input {h}×{w})");
        }
        var problem = Compare("forward", outputs[0], outputs[1]) ?? Compare("weight gradient", gradients[0][0], gradients[1][0]);
        if (problem is null && s.CheckInputGradient) problem = Compare("input gradient", gradients[0][1], gradients[1][1]);
        return problem;
    }
}
