using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Operations;

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
