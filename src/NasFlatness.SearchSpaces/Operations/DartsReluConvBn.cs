using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Operations;

/// <summary>
/// ReLU → Conv2d (no bias) → BatchNorm2d, invoking its layers through <c>call</c> so forward hooks (e.g. the
/// MAC counter of <c>NetworkSize</c>) see them. Used by the DARTS cells' preprocessing and the ImageNet stem.
/// </summary>
internal sealed class DartsReluConvBn : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;

    public DartsReluConvBn(long inChannels, long outChannels, long kernel, long stride, long padding, long dilation, bool affine, bool trackRunningStats)
        : base(nameof(DartsReluConvBn))
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

/// <summary>The DARTS CIFAR stem: Conv3×3 (no bias) → BN (affine).</summary>
internal sealed class DartsStem : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;

    public DartsStem(long inChannels, long outChannels) : base(nameof(DartsStem))
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
