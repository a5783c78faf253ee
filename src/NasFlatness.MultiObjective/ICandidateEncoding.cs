namespace NasFlatness.MultiObjective;

/// <summary>
/// How <see cref="ParetoSearch{T}"/> draws, recombines, mutates and names candidates of a search space.
/// Implement it to search any space; <see cref="Nb201CandidateEncoding"/> is the NAS-Bench-201 one.
/// All randomness must come from the <see cref="Random"/> passed in, so that a seeded search is reproducible.
/// </summary>
/// <typeparam name="T">The candidate (genotype) type.</typeparam>
public interface ICandidateEncoding<T> where T : notnull
{
    /// <summary>A uniformly random candidate (the design of experiments draws these).</summary>
    T Sample(Random random);

    /// <summary>A child combining <paramref name="first"/> and <paramref name="second"/>.</summary>
    T Crossover(T first, T second, Random random);

    /// <summary>A random variation of <paramref name="candidate"/>.</summary>
    T Mutate(T candidate, Random random);

    /// <summary>
    /// A string that identifies the candidate: equal candidates have equal keys, and <see cref="FromKey"/> turns the
    /// key back into the candidate. The search evaluates each key once and stores keys in its checkpoints.
    /// </summary>
    string Key(T candidate);

    /// <summary>The candidate whose <see cref="Key"/> is <paramref name="key"/>.</summary>
    /// <exception cref="FormatException"><paramref name="key"/> is not a key of this encoding.</exception>
    T FromKey(string key);
}
