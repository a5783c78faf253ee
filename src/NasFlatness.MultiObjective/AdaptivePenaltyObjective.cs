using System.Globalization;

namespace NasFlatness.MultiObjective;

/// <summary>
/// NACHOS's adaptive penalty on a cost c with limit m (the CNAS code's <c>sec_obj</c>):
/// <c>φ·c + (1 − φ)·max(0, c − m)·P</c>, where φ is the fraction of the population with c ≤ m, recomputed by
/// <see cref="Prepare"/>. The more of the population is feasible, the more the cost itself counts; with no feasible
/// member only the violation does.
/// </summary>
public sealed class AdaptivePenaltyObjective : ISearchObjective
{
    private double _feasibleFraction = double.NaN;

    /// <summary>Creates the objective.</summary>
    /// <param name="metricIndex">Index of the cost metric (e.g. average MACs) in the evaluator's output.</param>
    /// <param name="limit">Largest feasible cost m (e.g. 2.7 M MACs).</param>
    /// <param name="penalty">Penalty factor P; default 10¹⁰.</param>
    /// <param name="name">Name; default <c>adaptive(metric[i] ≤ limit)</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative index, a limit that is not finite, or a negative or non-finite penalty.</exception>
    public AdaptivePenaltyObjective(int metricIndex, double limit, double penalty = PenaltyConstraint.DefaultPenalty, string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(metricIndex);
        ObjectiveMath.CheckFinite(limit, nameof(limit));
        ObjectiveMath.CheckNonNegative(penalty, nameof(penalty));
        MetricIndex = metricIndex;
        Limit = limit;
        Penalty = penalty;
        Name = name ?? string.Create(CultureInfo.InvariantCulture, $"adaptive(metric[{metricIndex}] <= {limit})");
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Index of the cost metric.</summary>
    public int MetricIndex { get; }

    /// <summary>Largest feasible cost.</summary>
    public double Limit { get; }

    /// <summary>Penalty factor P.</summary>
    public double Penalty { get; }

    /// <summary>φ, the feasible fraction of the last prepared population (NaN before <see cref="Prepare"/>).</summary>
    public double FeasibleFraction => _feasibleFraction;

    /// <summary>Sets φ to the fraction of <paramref name="population"/> whose cost is within the limit (0 for an empty population).</summary>
    public void Prepare(IReadOnlyList<IReadOnlyList<double>> population)
    {
        ArgumentNullException.ThrowIfNull(population);
        int feasible = 0;
        foreach (var member in population)
            if (ObjectiveMath.Metric(member, MetricIndex, Name) <= Limit) feasible++;
        _feasibleFraction = population.Count == 0 ? 0 : (double)feasible / population.Count;
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException"><see cref="Prepare"/> has not been called.</exception>
    public double Value(IReadOnlyList<double> metrics)
    {
        if (double.IsNaN(_feasibleFraction))
            throw new InvalidOperationException($"{Name}: call Prepare with the population first; the penalty depends on its feasible fraction.");
        double c = ObjectiveMath.Metric(metrics, MetricIndex, Name);
        double phi = _feasibleFraction;
        return phi * c + (1 - phi) * Math.Max(0, c - Limit) * Penalty;
    }

    /// <inheritdoc />
    public double Violation(IReadOnlyList<double> metrics) => Math.Max(0, ObjectiveMath.Metric(metrics, MetricIndex, Name) - Limit);
}
