using System.Collections.Concurrent;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Operations;

/// <summary>
/// ReLU → Conv2d (no bias) → BatchNorm2d. Layers are invoked with <c>call</c> so forward hooks (e.g. the MAC
/// counter of <c>NetworkSize</c>) see them.
/// </summary>
public sealed class ReluConvBn : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="kernel">Convolution kernel size.</param>
    /// <param name="stride">Convolution stride.</param>
    /// <param name="padding">Convolution padding.</param>
    /// <param name="dilation">Convolution dilation.</param>
    /// <param name="affine">Whether the BatchNorm has a learned scale and shift (false in search cells).</param>
    /// <param name="trackRunningStats">Whether the BatchNorm tracks running statistics.</param>
    public ReluConvBn(long inChannels, long outChannels, long kernel, long stride, long padding, long dilation, bool affine, bool trackRunningStats)
        : base(nameof(ReluConvBn))
    {
        conv = nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding, dilation: dilation, bias: false);
        bn = nn.BatchNorm2d(outChannels, affine: affine, track_running_stats: trackRunningStats);
        RegisterComponents();
    }

    /// <summary>The convolution's weight (e.g. for kernel inheritance).</summary>
    internal Parameter ConvolutionWeight => conv.weight!;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var relu = nn.functional.relu(input);
        using var c = conv.call(relu);
        return bn.call(c);
    }
}

/// <summary>The identity operation (<c>skip_connect</c> with stride 1); returns an alias of its input.</summary>
public sealed class SkipConnect : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the operation.</summary>
    public SkipConnect() : base(nameof(SkipConnect)) => RegisterComponents();

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => input.alias();
}

/// <summary>
/// 3×3 average pooling with padding 1 that does not count the padding. With stride 1 it is computed as
/// separable box sums (pad, two row sums, two column sums) times the reciprocal of each pixel's window size:
/// 4–5× faster forward + backward than libtorch's CPU <c>avg_pool2d</c> here, equal up to float rounding
/// (docs/performance.md; <c>pool-variants</c> benchmark).
/// </summary>
public sealed class AvgPool3x3 : nn.Module<Tensor, Tensor>
{
    private readonly long stride;
    private readonly bool boxSums;

    /// <summary>Creates the pool.</summary>
    /// <param name="stride">1 or 2.</param>
    /// <param name="boxSums">False uses libtorch's <c>avg_pool2d</c> also at stride 1 (the straightforward reference).</param>
    public AvgPool3x3(long stride, bool boxSums = true) : base(nameof(AvgPool3x3))
    {
        this.stride = stride;
        this.boxSums = boxSums;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) =>
        stride == 1 && boxSums
            ? StrideOne(input)
            : nn.functional.avg_pool2d(input, kernel_size: 3, stride: stride, padding: 1, count_include_pad: false);

    /// <summary>The stride-1 average of a [B, C, H, W] tensor: <see cref="BoxSum"/> times <see cref="InverseWindowSizes"/>.</summary>
    public static Tensor StrideOne(Tensor input)
    {
        using var sums = BoxSum(input);
        return sums * InverseWindowSizes(input.shape[^2], input.shape[^1], input.dtype, input.device);
    }

    /// <summary>Sum over each pixel's 3×3 window (zero padding), shape of the input [B, C, H, W].</summary>
    public static Tensor BoxSum(Tensor input)
    {
        long h = input.shape[^2], w = input.shape[^1];
        using var padded = nn.functional.pad(input, [1, 1, 1, 1]);
        using var r0 = padded.narrow(3, 0, w);
        using var r1 = padded.narrow(3, 1, w);
        using var r2 = padded.narrow(3, 2, w);
        using var rows = r0 + r1;
        rows.add_(r2);
        using var c0 = rows.narrow(2, 0, h);
        using var c1 = rows.narrow(2, 1, h);
        using var c2 = rows.narrow(2, 2, h);
        var sums = c0 + c1;
        return sums.add_(c2);
    }

    private static readonly ConcurrentDictionary<(long H, long W, ScalarType Type, string Device), Tensor> InverseWindowCache = new();

    /// <summary>
    /// 1 / (number of in-image pixels of each 3×3 window), shape [H, W]: 1/9 inside, 1/6 on edges, 1/4 in corners.
    /// Built once per size, type and device and shared (every pooled edge of every cell needs it, and on CUDA
    /// building it is a host-to-device copy): do not dispose or modify the returned tensor.
    /// </summary>
    public static Tensor InverseWindowSizes(long h, long w, ScalarType dtype, Device device) =>
        InverseWindowCache.GetOrAdd((h, w, dtype, device.ToString()), _ => BuildInverseWindowSizes(h, w, dtype, device));

    private static Tensor BuildInverseWindowSizes(long h, long w, ScalarType dtype, Device device)
    {
        using var scope = torch.NewDisposeScope();
        static Tensor Counts(long n, ScalarType dtype, Device device)
        {
            var counts = new double[n];
            for (long i = 0; i < n; i++) counts[i] = 1 + (i > 0 ? 1 : 0) + (i < n - 1 ? 1 : 0);
            return torch.tensor(counts, dtype: dtype, device: device);
        }
        using var rows = Counts(h, dtype, device);
        using var cols = Counts(w, dtype, device);
        return torch.outer(rows, cols).reciprocal_().DetachFromDisposeScope();
    }
}

/// <summary>
/// The NAS-Bench-201 residual reduction block: <c>shortcut(x) + b(a(x))</c> with
/// <c>a = ReLU-Conv3×3(stride 2)-BN</c>, <c>b = ReLU-Conv3×3-BN</c> and
/// <c>shortcut = AvgPool2d(2, 2) → Conv1×1</c> (no BN).
/// </summary>
public sealed class ResNetBasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly ReluConvBn a;
    private readonly ReluConvBn b;
    private readonly Conv2d shortcut;

    /// <summary>Creates the block (stride 2; all BatchNorms affine).</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    public ResNetBasicBlock(long inChannels, long outChannels) : base(nameof(ResNetBasicBlock))
    {
        a = new ReluConvBn(inChannels, outChannels, 3, 2, 1, 1, affine: true, trackRunningStats: true);
        b = new ReluConvBn(outChannels, outChannels, 3, 1, 1, 1, affine: true, trackRunningStats: true);
        shortcut = nn.Conv2d(inChannels, outChannels, 1, bias: false);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var pooled = nn.functional.avg_pool2d(input, kernel_size: 2, stride: 2);
        using var residual = shortcut.call(pooled);
        using var ya = a.forward(input);
        using var yb = b.forward(ya);
        return residual + yb;
    }
}

/// <summary>The NAS-Bench-201 and DARTS CIFAR stem: Conv3×3 (no bias) → BN (affine).</summary>
public sealed class Stem : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;

    /// <summary>Creates the stem.</summary>
    /// <param name="inChannels">Image channels.</param>
    /// <param name="outChannels">Channels of the first stage.</param>
    public Stem(long inChannels, long outChannels) : base(nameof(Stem))
    {
        conv = nn.Conv2d(inChannels, outChannels, 3, padding: 1, bias: false);
        bn = nn.BatchNorm2d(outChannels);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var c = conv.call(input);
        return bn.call(c);
    }
}

/// <summary>Classifier head: BN → ReLU → global average pool → Linear.</summary>
public sealed class ClassifierHead : nn.Module<Tensor, Tensor>
{
    private readonly BatchNorm2d bn;
    private readonly Linear classifier;

    /// <summary>Creates the head.</summary>
    /// <param name="channels">Channels of the last feature map.</param>
    /// <param name="classes">Number of classes.</param>
    public ClassifierHead(long channels, long classes) : base(nameof(ClassifierHead))
    {
        bn = nn.BatchNorm2d(channels);
        classifier = nn.Linear(channels, classes);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var normalized = bn.call(input);
        using var activated = nn.functional.relu(normalized);
        using var pooled = activated.mean([2, 3]);
        return classifier.call(pooled);
    }
}
