namespace NasFlatness.Landscape;

/// <summary>
/// A search space's neighbourhood graph, typed: distance, spheres and random neighbours. <see cref="Neighbors"/> is the
/// graph of <see cref="ISearchSpace.Neighbors"/> where the space has one; <see cref="Distance"/> must be the length of the
/// shortest chain of single changes. Implement those two; the other members have general implementations a space may
/// replace with faster exact ones.
/// </summary>
/// <typeparam name="TGenotype">The genotype type.</typeparam>
public interface INeighborhoodSpace<TGenotype> where TGenotype : notnull
{
    /// <summary>Name of the space, e.g. <c>nas-bench-201</c>.</summary>
    string Name { get; }

    /// <summary>Whether whole spheres can be listed (<see cref="Sphere"/>); when <see langword="false"/> the landscape
    /// tools sample neighbours with <see cref="SampleNeighbor"/>.</summary>
    bool CanEnumerate { get; }

    /// <summary>The distance between two architectures (the least number of single changes between them).</summary>
    int Distance(TGenotype a, TGenotype b);

    /// <summary>All architectures one single change away from <paramref name="genotype"/> (its sphere of radius 1), each once.</summary>
    IEnumerable<TGenotype> Neighbors(TGenotype genotype);

    /// <summary>
    /// One random architecture at distance exactly <paramref name="radius"/> from <paramref name="center"/>,
    /// or <see langword="null"/> when none could be found (e.g. <paramref name="radius"/> exceeds the space's
    /// diameter). The general implementation walks random single changes and restarts when it overshoots.
    /// </summary>
    TGenotype? SampleNeighbor(TGenotype center, int radius, Random random) =>
        NeighborhoodDefaults.RandomWalk(this, center, radius, random);

    /// <summary>
    /// All architectures at distance exactly <paramref name="radius"/> from <paramref name="center"/> (the
    /// sphere S_r), each once. The general implementation expands <see cref="Neighbors"/> level by level.
    /// </summary>
    IEnumerable<TGenotype> Sphere(TGenotype center, int radius) => NeighborhoodDefaults.Sphere(this, center, radius);

    /// <summary>
    /// The single changes of <paramref name="current"/> that move one step closer to <paramref name="target"/>
    /// (for a cell space: set one still-differing edge to the target's operation). These are the steps of the
    /// monotone shortest paths.
    /// </summary>
    IEnumerable<TGenotype> StepsToward(TGenotype current, TGenotype target) =>
        NeighborhoodDefaults.StepsToward(this, current, target);
}
