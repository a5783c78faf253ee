using System.Globalization;

namespace NasFlatness.MultiObjective.FlatNas;

/// <summary>
/// FlatNAS objective 1 (<c>top1_robust</c>): <c>α·err + α_norm·(1 − α)·R</c>, where err is the top-1 error, R the
/// weight-perturbation robustness (smaller is more robust) and <c>α_norm = mean(err) / mean(R)</c> over the population
/// passed to <see cref="Prepare"/>.
/// </summary>
public sealed class RobustTop1Objective : ISearchObjective
{
    private double _alphaNorm = double.NaN;

    /// <summary>Creates the objective.</summary>
    /// <param name="errorIndex">Index of the top-1 error metric.</param>
    /// <param name="robustnessIndex">Index of the robustness metric R.</param>
    /// <param name="alpha">Weight α of the error, in [0, 1]; default 0.5.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative index, or α outside [0, 1].</exception>
    public RobustTop1Objective(int errorIndex, int robustnessIndex, double alpha = 0.5)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(errorIndex);
        ArgumentOutOfRangeException.ThrowIfNegative(robustnessIndex);
        if (!(alpha is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "α must be in [0, 1].");
        ErrorIndex = errorIndex;
        RobustnessIndex = robustnessIndex;
        Alpha = alpha;
    }

    /// <inheritdoc />
    public string Name => string.Create(CultureInfo.InvariantCulture, $"top1_robust(alpha={Alpha})");

    /// <summary>Index of the error metric.</summary>
    public int ErrorIndex { get; }

    /// <summary>Index of the robustness metric.</summary>
    public int RobustnessIndex { get; }

    /// <summary>Weight α of the error.</summary>
    public double Alpha { get; }

    /// <summary>α_norm of the last prepared population (NaN before <see cref="Prepare"/>).</summary>
    public double AlphaNorm => _alphaNorm;

    /// <summary>Sets α_norm = mean(err) / mean(R) over <paramref name="population"/>; 1 when mean(R) is 0 (then R adds nothing anyway) or the population is empty.</summary>
    public void Prepare(IReadOnlyList<IReadOnlyList<double>> population)
    {
        ArgumentNullException.ThrowIfNull(population);
        double errSum = 0, rSum = 0;
        foreach (var member in population)
        {
            errSum += ObjectiveMath.Metric(member, ErrorIndex, Name);
            rSum += ObjectiveMath.Metric(member, RobustnessIndex, Name);
        }
        _alphaNorm = population.Count == 0 || rSum == 0 ? 1 : errSum / rSum; // the counts cancel in the ratio of means
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException"><see cref="Prepare"/> has not been called.</exception>
    public double Value(IReadOnlyList<double> metrics)
    {
        if (double.IsNaN(_alphaNorm))
            throw new InvalidOperationException($"{Name}: call Prepare with the archive first; α_norm depends on it.");
        double err = ObjectiveMath.Metric(metrics, ErrorIndex, Name);
        double r = ObjectiveMath.Metric(metrics, RobustnessIndex, Name);
        return Alpha * err + _alphaNorm * (1 - Alpha) * r;
    }
}
