using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Operations;

/// <summary>
/// Separable convolution of the DARTS space, applied twice: [ReLU → depthwise Conv(k, stride s) → Conv1×1 → BN]
/// then [ReLU → depthwise Conv(k, stride 1) → Conv1×1 → BN]. All convolutions without bias.
/// </summary>
public sealed class SepConv : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d depthwise1;
    private readonly Conv2d pointwise1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d depthwise2;
    private readonly Conv2d pointwise2;
    private readonly BatchNorm2d bn2;

    /// <summary>Creates the operation.</summary>
    /// <param name="inChannels">Input channels (also the depthwise and first pointwise width).</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="kernel">Depthwise kernel size (3 or 5).</param>
    /// <param name="stride">Stride of the first depthwise convolution.</param>
    /// <param name="padding">Padding of both depthwise convolutions.</param>
    /// <param name="affine">Whether the BatchNorms have a learned scale and shift (false in search cells).</param>
    /// <param name="trackRunningStats">Whether the BatchNorms track running statistics.</param>
    public SepConv(long inChannels, long outChannels, long kernel, long stride, long padding, bool affine, bool trackRunningStats)
        : base(nameof(SepConv))
    {
        depthwise1 = nn.Conv2d(inChannels, inChannels, kernel, stride: stride, padding: padding, groups: inChannels, bias: false);
        pointwise1 = nn.Conv2d(inChannels, inChannels, 1, bias: false);
        bn1 = nn.BatchNorm2d(inChannels, affine: affine, track_running_stats: trackRunningStats);
        depthwise2 = nn.Conv2d(inChannels, inChannels, kernel, stride: 1, padding: padding, groups: inChannels, bias: false);
        pointwise2 = nn.Conv2d(inChannels, outChannels, 1, bias: false);
        bn2 = nn.BatchNorm2d(outChannels, affine: affine, track_running_stats: trackRunningStats);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var r1 = nn.functional.relu(input);
        using var d1 = depthwise1.call(r1);
        using var p1 = pointwise1.call(d1);
        using var b1 = bn1.call(p1);
        using var r2 = nn.functional.relu(b1);
        using var d2 = depthwise2.call(r2);
        using var p2 = pointwise2.call(d2);
        return bn2.call(p2);
    }
}

/// <summary>Dilated separable convolution: ReLU → depthwise Conv(k, stride s, dilation d) → Conv1×1 → BN (no bias).</summary>
public sealed class DilConv : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d depthwise;
    private readonly Conv2d pointwise;
    private readonly BatchNorm2d bn;

    /// <summary>Creates the operation.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="kernel">Depthwise kernel size.</param>
    /// <param name="stride">Depthwise stride.</param>
    /// <param name="padding">Depthwise padding.</param>
    /// <param name="dilation">Depthwise dilation.</param>
    /// <param name="affine">Whether the BatchNorm has a learned scale and shift.</param>
    /// <param name="trackRunningStats">Whether the BatchNorm tracks running statistics.</param>
    public DilConv(long inChannels, long outChannels, long kernel, long stride, long padding, long dilation, bool affine, bool trackRunningStats)
        : base(nameof(DilConv))
    {
        depthwise = nn.Conv2d(inChannels, inChannels, kernel, stride: stride, padding: padding, dilation: dilation, groups: inChannels, bias: false);
        pointwise = nn.Conv2d(inChannels, outChannels, 1, bias: false);
        bn = nn.BatchNorm2d(outChannels, affine: affine, track_running_stats: trackRunningStats);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var r = nn.functional.relu(input);
        using var d = depthwise.call(r);
        using var p = pointwise.call(d);
        return bn.call(p);
    }
}

/// <summary>
/// Halves the image with two 1×1 stride-2 convolutions (the second on the input shifted by one pixel), each
/// producing half of the output channels: ReLU → [conv1(x), conv2(x[:, :, 1:, 1:])] → BN.
/// </summary>
public sealed class FactorizedReduce : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn;

    /// <summary>Creates the operation.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels (even).</param>
    /// <param name="affine">Whether the BatchNorm has a learned scale and shift.</param>
    /// <param name="trackRunningStats">Whether the BatchNorm tracks running statistics.</param>
    public FactorizedReduce(long inChannels, long outChannels, bool affine, bool trackRunningStats) : base(nameof(FactorizedReduce))
    {
        if (outChannels % 2 != 0)
            throw new ArgumentException($"FactorizedReduce needs an even number of output channels, got {outChannels}.", nameof(outChannels));
        conv1 = nn.Conv2d(inChannels, outChannels / 2, 1, stride: 2, bias: false);
        conv2 = nn.Conv2d(inChannels, outChannels / 2, 1, stride: 2, bias: false);
        bn = nn.BatchNorm2d(outChannels, affine: affine, track_running_stats: trackRunningStats);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var r = nn.functional.relu(input);
        using var a = conv1.call(r);
        var shifted = r[.., .., 1.., 1..]; // a view: left to the dispose scope
        using var b = conv2.call(shifted);
        using var cat = torch.cat([a, b], 1);
        return bn.call(cat);
    }
}

/// <summary>The <c>none</c> operation: zeros of the output shape (a strided subsample of the input when stride 2).</summary>
public sealed class Zero : nn.Module<Tensor, Tensor>
{
    private readonly long stride;

    /// <summary>Creates the operation.</summary>
    /// <param name="stride">1, or 2 on reduction edges.</param>
    public Zero(long stride) : base(nameof(Zero))
    {
        this.stride = stride;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        if (stride == 1) return input.mul(0.0);
        var sub = input[.., .., TensorIndex.Slice(null, null, stride), TensorIndex.Slice(null, null, stride)];
        return sub.mul(0.0);
    }
}

/// <summary>3×3 max pooling with padding 1.</summary>
public sealed class MaxPool3x3 : nn.Module<Tensor, Tensor>
{
    private readonly long stride;

    /// <summary>Creates the pool.</summary>
    /// <param name="stride">1 or 2.</param>
    public MaxPool3x3(long stride) : base(nameof(MaxPool3x3))
    {
        this.stride = stride;
        RegisterComponents();
    }

    /// <inheritdoc />
    /// <inheritdoc />
    public override Tensor forward(Tensor input) => nn.functional.max_pool2d(input, kernel_size: 3, stride: stride, padding: 1);
}

/// <summary>A pooling operation followed by an affine-free BatchNorm (how the DARTS search cell normalises pool outputs).</summary>
public sealed class PoolBn : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> pool;
    private readonly BatchNorm2d bn;

    /// <summary>Creates the operation.</summary>
    /// <param name="pool">The pooling module.</param>
    /// <param name="channels">Channels of the BatchNorm.</param>
    /// <param name="trackRunningStats">Whether the BatchNorm tracks running statistics.</param>
    public PoolBn(nn.Module<Tensor, Tensor> pool, long channels, bool trackRunningStats) : base(nameof(PoolBn))
    {
        this.pool = pool;
        bn = nn.BatchNorm2d(channels, affine: false, track_running_stats: trackRunningStats);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var p = pool.call(input);
        return bn.call(p);
    }
}

/// <summary>Drop-path of the DARTS evaluation networks.</summary>
public static class DropPath
{
    /// <summary>
    /// Zeroes whole examples of <paramref name="x"/> with probability <paramref name="probability"/> and scales the kept
    /// ones by 1 / (1 − p) (DARTS <c>drop_path</c>). The mask is drawn from the global torch generator.
    /// </summary>
    public static Tensor Apply(Tensor x, double probability)
    {
        ArgumentNullException.ThrowIfNull(x);
        double keep = 1.0 - probability;
        using var mask = torch.empty([x.shape[0], 1, 1, 1], dtype: x.dtype, device: x.device).bernoulli_(keep);
        using var scaled = x.div(keep);
        return scaled.mul(mask);
    }
}
