using System.Globalization;

namespace NasFlatness.Optimizers;

/// <summary>
/// The β-DARTS regularisation weight per epoch: a linear ramp <c>λ_t = start + slope·t</c> (t = epoch index from 0).
/// The default replicates the β-DARTS code, <c>λ_t = 0.5·t</c>.
/// </summary>
public sealed record BetaDecaySchedule
{
    /// <summary>Creates a linear schedule <c>λ_t = start + slopePerEpoch·t</c>.</summary>
    /// <param name="slopePerEpoch">Increase of λ per epoch (β-DARTS code: 0.5).</param>
    /// <param name="start">λ at epoch 0 (β-DARTS code: 0).</param>
    public BetaDecaySchedule(double slopePerEpoch = 0.5, double start = 0.0)
    {
        if (!double.IsFinite(slopePerEpoch) || slopePerEpoch < 0)
            throw new ArgumentOutOfRangeException(nameof(slopePerEpoch), slopePerEpoch, "The β-decay slope must be a non-negative number.");
        if (!double.IsFinite(start) || start < 0)
            throw new ArgumentOutOfRangeException(nameof(start), start, "The β-decay start value must be a non-negative number.");
        SlopePerEpoch = slopePerEpoch;
        Start = start;
    }

    /// <summary>The code default: <c>λ_t = 0.5·t</c> (0 → 24.5 over 50 epochs, 0 → 49.5 over 100).</summary>
    public static BetaDecaySchedule Default { get; } = new();

    /// <summary>The <c>(λ_max, T)</c> form: <c>λ_t = λ_max · t / T</c>, so that λ reaches <paramref name="maxLambda"/> after
    /// <paramref name="epochs"/> epochs (λ_max = 50, T = 100 is the code default).</summary>
    /// <param name="maxLambda">The value λ reaches at epoch <paramref name="epochs"/>.</param>
    /// <param name="epochs">The epoch count T over which λ ramps from 0 to λ_max.</param>
    public static BetaDecaySchedule Linear(double maxLambda, int epochs)
    {
        if (epochs < 1) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "The ramp length must be at least one epoch.");
        return new BetaDecaySchedule(maxLambda / epochs);
    }

    /// <summary>Increase of λ per epoch.</summary>
    public double SlopePerEpoch { get; }

    /// <summary>λ at epoch 0.</summary>
    public double Start { get; }

    /// <summary>λ at epoch <paramref name="epoch"/> (0-based).</summary>
    /// <param name="epoch">The epoch index, from 0.</param>
    public double At(int epoch) => Start + SlopePerEpoch * Math.Max(0, epoch);

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"λ_t = {Start} + {SlopePerEpoch}·t");
}
