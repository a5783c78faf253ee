using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Operations;

/// <summary>
/// ReLU → Conv2d (no bias) → BatchNorm2d. Layers are invoked with <c>call</c> so forward hooks (e.g. the MAC
/// counter of <c>NetworkSize</c>) see them.
/// </summary>
internal sealed class ReluConvBn : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;

    public ReluConvBn(long inChannels, long outChannels, long kernel, long stride, long padding, long dilation, bool affine, bool trackRunningStats)
        : base(nameof(ReluConvBn))
    {
        conv = nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding, dilation: dilation, bias: false);
        bn = nn.BatchNorm2d(outChannels, affine: affine, track_running_stats: trackRunningStats);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var relu = nn.functional.relu(input);
        using var c = conv.call(relu);
        return bn.call(c);
    }
}

/// <summary>SkipConnect.</summary>
internal sealed class SkipConnect : nn.Module<Tensor, Tensor>
{
    public SkipConnect() : base(nameof(SkipConnect)) => RegisterComponents();

    public override Tensor forward(Tensor input) => input.alias();
}

/// <summary>3×3 average pooling with padding 1 that does not count the padding.</summary>
internal sealed class AvgPool3x3 : nn.Module<Tensor, Tensor>
{
    private readonly long stride;

    public AvgPool3x3(long stride) : base(nameof(AvgPool3x3))
    {
        this.stride = stride;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) =>
        nn.functional.avg_pool2d(input, kernel_size: 3, stride: stride, padding: 1, count_include_pad: false);
}

/// <summary>
/// The NAS-Bench-201 residual reduction block: <c>shortcut(x) + b(a(x))</c> with
/// <c>a = ReLU-Conv3×3(stride 2)-BN</c>, <c>b = ReLU-Conv3×3-BN</c> and
/// <c>shortcut = AvgPool2d(2, 2) → Conv1×1</c> (no BN).
/// </summary>
internal sealed class ResNetBasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly ReluConvBn a;
    private readonly ReluConvBn b;
    private readonly Conv2d shortcut;

    public ResNetBasicBlock(long inChannels, long outChannels) : base(nameof(ResNetBasicBlock))
    {
        a = new ReluConvBn(inChannels, outChannels, 3, 2, 1, 1, affine: true, trackRunningStats: true);
        b = new ReluConvBn(outChannels, outChannels, 3, 1, 1, 1, affine: true, trackRunningStats: true);
        shortcut = nn.Conv2d(inChannels, outChannels, 1, bias: false);
        RegisterComponents();
    }

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
internal sealed class Stem : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;

    public Stem(long inChannels, long outChannels) : base(nameof(Stem))
    {
        conv = nn.Conv2d(inChannels, outChannels, 3, padding: 1, bias: false);
        bn = nn.BatchNorm2d(outChannels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var c = conv.call(input);
        return bn.call(c);
    }
}

/// <summary>Classifier head: BN → ReLU → global average pool → Linear.</summary>
internal sealed class ClassifierHead : nn.Module<Tensor, Tensor>
{
    private readonly BatchNorm2d bn;
    private readonly Linear classifier;

    public ClassifierHead(long channels, long classes) : base(nameof(ClassifierHead))
    {
        bn = nn.BatchNorm2d(channels);
        classifier = nn.Linear(channels, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var normalized = bn.call(input);
        using var activated = nn.functional.relu(normalized);
        using var pooled = activated.mean([2, 3]);
        return classifier.call(pooled);
    }
}
