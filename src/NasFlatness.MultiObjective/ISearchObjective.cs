namespace NasFlatness.MultiObjective;

/// <summary>
/// One minimised objective of a <see cref="ParetoSearch{T}"/>: maps a candidate's metrics (from an
/// <see cref="IMultiObjectiveEvaluator{T}"/>) to a number, possibly with a constraint penalty folded in, and
/// possibly depending on the population it is ranked in (FlatNAS's α_norm, NACHOS's feasible fraction φ).
/// </summary>
public interface ISearchObjective
{
    /// <summary>Short name, e.g. <c>error</c> or <c>tiny_ml</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Called with the metrics of the whole population (the search's archive) before its members are scored;
    /// population-dependent objectives recompute their statistics here. The default does nothing.
    /// </summary>
    /// <param name="population">The metrics of every member.</param>
    void Prepare(IReadOnlyList<IReadOnlyList<double>> population) { }

    /// <summary>The objective value (smaller is better) of a candidate with <paramref name="metrics"/>.</summary>
    double Value(IReadOnlyList<double> metrics);

    /// <summary>How far the candidate violates this objective's constraints (0 when feasible or unconstrained).
    /// The search reports only feasible candidates in its front when any exist.</summary>
    double Violation(IReadOnlyList<double> metrics) => 0;
}
