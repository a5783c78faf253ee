using NasFlatness.Genotypes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Testing;

/// <summary>
/// A two-edge "supernet" small enough for exact autograd oracles, in float64:
/// <c>h = Σ_o softmax(α₀)_o · tanh(W₀ₒ x)</c>, <c>logits = V · Σ_o softmax(α₁)_o · tanh(W₁ₒ h)</c>.
/// <see cref="Functional"/> evaluates the same function with explicit weights (for double-backward oracles).
/// </summary>
internal sealed class TinyLinearSupernet : Supernet
{
    public const int Features = 5, Hidden = 4, Ops = 3, Classes = 3;
    private readonly Parameter alpha;
    private readonly Parameter w0, w1, v;
    private readonly Func<IReadOnlyList<Tensor>, Genotype>? _derive;

    /// <param name="seed">Seed of α and the weights.</param>
    /// <param name="derive">How a genotype is read from α (for a search runner); null throws <see cref="NotSupportedException"/>.</param>
    public TinyLinearSupernet(int seed, Func<IReadOnlyList<Tensor>, Genotype>? derive = null) : base(nameof(TinyLinearSupernet))
    {
        _derive = derive;
        var g = new torch.Generator((ulong)seed);
        alpha = nn.Parameter(torch.randn([2, Ops], dtype: float64, generator: g) * 0.5);
        w0 = nn.Parameter(torch.randn([Ops, Hidden, Features], dtype: float64, generator: g) * 0.5);
        w1 = nn.Parameter(torch.randn([Ops, Hidden, Hidden], dtype: float64, generator: g) * 0.5);
        v = nn.Parameter(torch.randn([Classes, Hidden], dtype: float64, generator: g) * 0.5);
        RegisterComponents();
    }

    public override IReadOnlyList<Parameter> ArchitectureParameters() => [alpha];

    public override Tensor Forward(Tensor input, IReadOnlyList<Tensor> architecture, IArchitectureActivation activation) =>
        Functional(input, architecture[0], WeightParameters().Cast<Tensor>().ToArray());

    /// <summary>The network as a function of explicit weights, in <see cref="Supernet.WeightParameters"/> order.</summary>
    public static Tensor Functional(Tensor x, Tensor alpha, IReadOnlyList<Tensor> weights)
    {
        var p = alpha.softmax(-1);
        var h = Mix(x, weights[0], p[0]);
        var z = Mix(h, weights[1], p[1]);
        return z.matmul(weights[2].t());
    }

    private static Tensor Mix(Tensor x, Tensor w, Tensor p)
    {
        // x [B, F], w [O, H, F] -> [O, B, H]
        var y = torch.tanh(torch.einsum("ohf,bf->obh", w, x));
        return (y * p.view(-1, 1, 1)).sum(dim: 0);
    }

    public override Genotype DeriveGenotype(IReadOnlyList<Tensor> architecture, IArchitectureActivation activation) =>
        _derive is null ? throw new NotSupportedException() : _derive(architecture);

    // Clone overwrites every value, so the seed does not matter.
    protected override Supernet CreateEmptyCopy() => new TinyLinearSupernet(0, _derive);
}
