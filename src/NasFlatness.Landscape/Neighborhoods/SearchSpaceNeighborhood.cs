namespace NasFlatness.Landscape;

/// <summary>
/// The neighbourhood of any <see cref="ISearchSpace"/>: <see cref="Neighbors"/> is the space's own
/// <see cref="ISearchSpace.Neighbors"/>, typed; spheres, steps and random neighbours use the general implementations
/// of <see cref="INeighborhoodSpace{TGenotype}"/>.
/// </summary>
/// <typeparam name="TGenotype">The space's genotype type.</typeparam>
public sealed class SearchSpaceNeighborhood<TGenotype> : INeighborhoodSpace<TGenotype> where TGenotype : Genotypes.Genotype
{
    private readonly ISearchSpace _space;
    private readonly Func<TGenotype, TGenotype, int> _distance;

    /// <summary>Creates the neighbourhood of <paramref name="space"/>.</summary>
    /// <param name="space">The search space whose neighbours are used.</param>
    /// <param name="distance">The least number of single changes between two genotypes of the space.</param>
    /// <param name="canEnumerate">Whether spheres are small enough to list (<see cref="INeighborhoodSpace{TGenotype}.CanEnumerate"/>).</param>
    public SearchSpaceNeighborhood(ISearchSpace space, Func<TGenotype, TGenotype, int> distance, bool canEnumerate = true)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(distance);
        _space = space;
        _distance = distance;
        CanEnumerate = canEnumerate;
    }

    /// <inheritdoc />
    public string Name => _space.Name;

    /// <inheritdoc />
    public bool CanEnumerate { get; }

    /// <inheritdoc />
    public int Distance(TGenotype a, TGenotype b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return _distance(a, b);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The space returned a genotype that is not a <typeparamref name="TGenotype"/>.</exception>
    public IEnumerable<TGenotype> Neighbors(TGenotype genotype)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        return _space.Neighbors(genotype).Select(n => n as TGenotype ?? throw new ArgumentException(
            $"The space '{_space.Name}' returned a {n.GetType().Name} neighbour, not a {typeof(TGenotype).Name}.", nameof(genotype))).ToList();
    }
}
