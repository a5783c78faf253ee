namespace NasFlatness.MultiObjective;

/// <summary>
/// Measures a candidate: returns its raw metrics (e.g. test error, robustness, parameters, MACs), one value per
/// entry of <see cref="MetricNames"/>. <see cref="ISearchObjective"/>s turn the metrics into the minimised
/// objectives and the constraint penalties. Evaluations may be expensive (training a network); the search
/// evaluates each distinct candidate once.
/// </summary>
/// <typeparam name="T">The candidate type.</typeparam>
public interface IMultiObjectiveEvaluator<in T> where T : notnull
{
    /// <summary>The names of the metrics, in the order <see cref="Evaluate"/> returns them.</summary>
    IReadOnlyList<string> MetricNames { get; }

    /// <summary>The metrics of <paramref name="candidate"/>, one per <see cref="MetricNames"/> entry; none may be NaN.</summary>
    /// <param name="candidate">The candidate.</param>
    /// <param name="cancellationToken">Cancels a long evaluation.</param>
    IReadOnlyList<double> Evaluate(T candidate, CancellationToken cancellationToken);
}
