using System.Globalization;

namespace NasFlatness.MultiObjective;

/// <summary>
/// A metric with an upper limit enforced by a static penalty, as in the CNAS code's <c>tiny_ml</c> terms:
/// <c>weight · (v + P · max(0, v − limit))</c> with P = 10¹⁰ by default. A feasible candidate scores
/// <c>weight · v</c>; any violation dominates the value.
/// </summary>
public sealed class PenaltyConstraint : ISearchObjective
{
    /// <summary>The default penalty factor P, 10¹⁰.</summary>
    public const double DefaultPenalty = 1e10;

    /// <summary>Creates the constraint.</summary>
    /// <param name="metricIndex">Index of the constrained metric in the evaluator's output.</param>
    /// <param name="limit">Largest feasible value (e.g. 5 M parameters).</param>
    /// <param name="weight">Weight of the term; default 1.</param>
    /// <param name="penalty">Penalty factor P; default 10¹⁰.</param>
    /// <param name="name">Name; default <c>metric[i] ≤ limit</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative index, or a weight, limit or penalty that is not finite, or a negative weight or penalty.</exception>
    public PenaltyConstraint(int metricIndex, double limit, double weight = 1, double penalty = DefaultPenalty, string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(metricIndex);
        ObjectiveMath.CheckFinite(limit, nameof(limit));
        ObjectiveMath.CheckNonNegative(weight, nameof(weight));
        ObjectiveMath.CheckNonNegative(penalty, nameof(penalty));
        MetricIndex = metricIndex;
        Limit = limit;
        Weight = weight;
        Penalty = penalty;
        Name = name ?? string.Create(CultureInfo.InvariantCulture, $"metric[{metricIndex}] <= {limit}");
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Index of the constrained metric.</summary>
    public int MetricIndex { get; }

    /// <summary>Largest feasible value.</summary>
    public double Limit { get; }

    /// <summary>Weight of the term.</summary>
    public double Weight { get; }

    /// <summary>Penalty factor P.</summary>
    public double Penalty { get; }

    /// <inheritdoc />
    public double Value(IReadOnlyList<double> metrics)
    {
        double v = ObjectiveMath.Metric(metrics, MetricIndex, Name);
        return Weight * (v + Penalty * Math.Max(0, v - Limit));
    }

    /// <inheritdoc />
    public double Violation(IReadOnlyList<double> metrics) => Math.Max(0, ObjectiveMath.Metric(metrics, MetricIndex, Name) - Limit);
}
