using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers;

/// <summary>
/// DARTS-PRIME's proximity regularisation (Maile et al.): adds <c>(t/T)·(ρ/2)·‖p − D(p)‖_F</c> (unsquared) to the validation loss
/// for every operation-mixing architecture tensor, p being the mixing weights (<see cref="ArchitectureStep.MixingWeights"/>),
/// D(p) the space's detached discretisation (<see cref="Supernet.DiscreteIndicator"/>) and t/T = <see cref="ArchitectureStep.Progress"/>.
/// A loss term only, so it composes with every optimizer, β-decay and A²M. Gradient and clock vs the code: docs/methods-constrained.md.
/// </summary>
public sealed class ProximityRegularizer : IFlatnessRegularizer, ISearchComponentSettings
{
    /// <summary>The registry name, <c>prox</c>.</summary>
    public const string RegularizerName = "prox";

    /// <summary>The code's default ρ.</summary>
    public const double DefaultRho = 0.1;

    /// <summary>Creates the regularizer.</summary>
    /// <param name="rho">The weight ρ (finite, ≥ 0); default 0.1 (DARTS-PRIME's <c>--rho</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rho"/> is negative or not finite.</exception>
    public ProximityRegularizer(double rho = DefaultRho)
    {
        if (!(rho >= 0) || double.IsInfinity(rho))
            throw new ArgumentOutOfRangeException(nameof(rho), rho, "rho must be a finite number ≥ 0.");
        Rho = rho;
    }

    /// <summary>The weight ρ.</summary>
    public double Rho { get; }

    /// <summary>The settings a resumed search must share (<see cref="ISearchComponentSettings"/>): ρ.</summary>
    public IReadOnlyDictionary<string, string> Settings => SearchComponentSettings.Of(("rho", Rho));

    /// <inheritdoc />
    public string Name => RegularizerName;

    /// <summary>
    /// The unscaled term <c>Σ_i ‖p_i − D_i‖_F</c> over the operation-mixing (2-D) tensors, differentiable with respect to
    /// <paramref name="mixingWeights"/>; <paramref name="indicator"/> is treated as a constant.
    /// </summary>
    /// <param name="mixingWeights">p, one tensor per architecture tensor.</param>
    /// <param name="indicator">D(p), same shapes.</param>
    /// <returns>The sum, or null when no tensor is an operation mixture.</returns>
    public static Tensor? Distance(IReadOnlyList<Tensor> mixingWeights, IReadOnlyList<Tensor> indicator)
    {
        ArgumentNullException.ThrowIfNull(mixingWeights);
        ArgumentNullException.ThrowIfNull(indicator);
        if (mixingWeights.Count != indicator.Count)
            throw new ArgumentException($"Got {mixingWeights.Count} mixing-weight tensors but {indicator.Count} indicator tensors.", nameof(indicator));
        Tensor? sum = null;
        for (int i = 0; i < mixingWeights.Count; i++)
        {
            if (mixingWeights[i].dim() != 2) continue;
            var norm = FrobeniusNorm(mixingWeights[i] - indicator[i].detach());
            sum = sum is null ? norm : sum + norm;
        }
        return sum;
    }

    /// <summary>Its contribution to a step: the loss term <see cref="LossTerm"/> at the step.</summary>
    public RegularizerContribution Contribute(ArchitectureStep step) => new() { LossTerm = a => LossTerm(a, step) };

    /// <summary>The term added to the architecture loss at <paramref name="architecture"/> on <paramref name="step"/>, or null for none.</summary>
    public Tensor? LossTerm(IReadOnlyList<Tensor> architecture, ArchitectureStep step)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(step);
        double scale = step.Progress * Rho / 2;
        if (scale == 0) return null;
        var p = step.MixingWeights(architecture);
        var d = step.Supernet.DiscreteIndicator(p.Select(x => x.detach()).ToArray());
        var distance = Distance(p, d);
        return distance is null ? null : distance * scale;
    }

    /// <summary>‖x‖_F with a zero (not NaN) gradient at x = 0.</summary>
    internal static Tensor FrobeniusNorm(Tensor x)
    {
        // sqrt of the sum of squares; at 0 the derivative of sqrt is infinite and would give 0·∞ = NaN, so the
        // square sum is clamped to the smallest normal number of its dtype before the root (exactly 0 gradient then).
        var squares = x.square().sum();
        double tiny = x.dtype == ScalarType.Float64 ? 2.2250738585072014e-308 : 1.17549435e-38; // smallest normal numbers
        return squares.clamp_min(tiny).sqrt();
    }
}
