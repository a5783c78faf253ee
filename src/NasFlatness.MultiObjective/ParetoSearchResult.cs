namespace NasFlatness.MultiObjective;

/// <summary>Why a <see cref="ParetoSearch{T}"/> stopped.</summary>
public enum ParetoSearchStopReason
{
    /// <summary>The evaluation budget was spent.</summary>
    Budget,

    /// <summary><see cref="ParetoSearchOptions.MaxIterations"/> iterations ran.</summary>
    MaxIterations,

    /// <summary>The hypervolume did not improve for <see cref="ParetoSearchOptions.Patience"/> iterations.</summary>
    NoImprovement,

    /// <summary>No new distinct candidate could be found (the space, or the part the operators reach, is exhausted).</summary>
    SpaceExhausted,
}

/// <summary>One evaluated candidate of a <see cref="ParetoSearch{T}"/> archive.</summary>
/// <typeparam name="T">The candidate type.</typeparam>
/// <param name="Candidate">The candidate.</param>
/// <param name="Key">Its encoding key.</param>
/// <param name="Metrics">The evaluator's metrics.</param>
/// <param name="Objectives">The objective values, scored against the final archive (population-dependent objectives change as the archive grows).</param>
/// <param name="Violation">Total constraint violation (0 when feasible).</param>
/// <param name="Iteration">The iteration that evaluated it (0 = design of experiments).</param>
public sealed record ParetoArchiveEntry<T>(T Candidate, string Key, IReadOnlyList<double> Metrics, IReadOnlyList<double> Objectives, double Violation, int Iteration)
    where T : notnull
{
    /// <summary>Whether every constraint holds.</summary>
    public bool IsFeasible => Violation <= 0;
}

/// <summary>Progress of a <see cref="ParetoSearch{T}"/>, reported after the design of experiments and after every iteration.</summary>
/// <param name="Iteration">Iterations completed (0 after the design of experiments).</param>
/// <param name="Evaluations">Candidates evaluated so far.</param>
/// <param name="Hypervolume">Hypervolume of the feasible archive against the reference point.</param>
/// <param name="FrontSize">Size of the reported front (feasible non-dominated candidates, or all non-dominated ones while none is feasible).</param>
/// <param name="FeasibleCount">Feasible candidates in the archive.</param>
public sealed record ParetoSearchProgress(int Iteration, int Evaluations, double Hypervolume, int FrontSize, int FeasibleCount);

/// <summary>The outcome of a <see cref="ParetoSearch{T}"/>.</summary>
/// <typeparam name="T">The candidate type.</typeparam>
public sealed record ParetoSearchResult<T> where T : notnull
{
    /// <summary>Every evaluated candidate, in evaluation order.</summary>
    public required IReadOnlyList<ParetoArchiveEntry<T>> Archive { get; init; }

    /// <summary>The non-dominated feasible candidates (by objective values), in archive order; when no candidate is
    /// feasible, the non-dominated ones of the whole archive (their objectives carry the penalties).</summary>
    public required IReadOnlyList<ParetoArchiveEntry<T>> Front { get; init; }

    /// <summary>Hypervolume of the feasible archive after the design of experiments (element 0) and after each iteration.</summary>
    public required IReadOnlyList<double> HypervolumeHistory { get; init; }

    /// <summary>Iterations completed after the design of experiments.</summary>
    public required int Iterations { get; init; }

    /// <summary>Candidates evaluated (the archive size).</summary>
    public int Evaluations => Archive.Count;

    /// <summary>Why the search stopped.</summary>
    public required ParetoSearchStopReason StopReason { get; init; }
}
