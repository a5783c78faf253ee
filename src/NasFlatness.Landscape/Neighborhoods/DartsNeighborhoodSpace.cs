using NasFlatness.Genotypes;

namespace NasFlatness.Landscape;

/// <summary>
/// Neighbourhoods in the DARTS cell space (docs/spec/algorithms.md §7.4): the distance is the number of the first
/// genotype's edges whose entry in the 4×5 adjacency matrix changed (operation changed or edge moved, 1 each), summed
/// over the normal and reduction cells. <see cref="CanEnumerate"/> is false (spheres beyond radius 1 are too large);
/// neighbours of radius r are drawn with <see cref="SampleNeighbor"/>.
/// </summary>
public sealed class DartsNeighborhoodSpace : INeighborhoodSpace<DartsGenotype>
{
    private readonly string[] _operations;

    /// <summary>The 7 DARTS-space operations without <c>none</c> (docs/spec/algorithms.md §7.4).</summary>
    public static IReadOnlyList<string> NoNoneOperations { get; } =
        ["max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"];

    /// <summary>Creates the space over <paramref name="operations"/> (default: <see cref="NoNoneOperations"/>).</summary>
    public DartsNeighborhoodSpace(IReadOnlyList<string>? operations = null)
    {
        _operations = [.. operations ?? NoNoneOperations];
        if (_operations.Length < 2) throw new ArgumentException("A neighbourhood needs at least two operations.", nameof(operations));
    }

    /// <inheritdoc />
    public string Name => SpaceNames.Darts;

    /// <inheritdoc />
    public bool CanEnumerate => false;

    /// <inheritdoc />
    public int Distance(DartsGenotype a, DartsGenotype b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return CellDistance(a.Normal, b.Normal) + CellDistance(a.Reduce, b.Reduce);
    }

    private static int CellDistance(IReadOnlyList<DartsEdge> a, IReadOnlyList<DartsEdge> b)
    {
        int d = 0;
        for (int node = 0; node < DartsGenotype.NodeCount; node++)
        {
            foreach (var edge in a.Skip(2 * node).Take(2))
            {
                bool kept = b.Skip(2 * node).Take(2).Any(e => e.Input == edge.Input && e.Operation == edge.Operation);
                if (!kept) d++;
            }
        }
        return d;
    }

    /// <summary>The search space's single changes (<see cref="DartsSingleChanges"/>) over this space's operations.</summary>
    public IEnumerable<DartsGenotype> Neighbors(DartsGenotype genotype) => DartsSingleChanges.Enumerate(genotype, _operations);

    /// <summary>
    /// A random neighbour at distance <paramref name="radius"/>: the radius is split at random between the normal and
    /// reduction cells, and random single moves (an operation change, or an edge moved to another input with a random
    /// operation) are applied to each cell until it differs from the centre by its share (docs/spec/algorithms.md §7.4).
    /// </summary>
    public DartsGenotype? SampleNeighbor(DartsGenotype center, int radius, Random random)
    {
        ArgumentNullException.ThrowIfNull(center);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        int normalShare = random.Next(radius + 1);
        var normal = Walk(center.Normal, normalShare, random);
        var reduce = Walk(center.Reduce, radius - normalShare, random);
        if (normal is null || reduce is null) return null;
        return center.WithCell(false, normal).WithCell(true, reduce);
    }

    private IReadOnlyList<DartsEdge>? Walk(IReadOnlyList<DartsEdge> cell, int target, Random random)
    {
        if (target > 2 * DartsGenotype.NodeCount) return null;
        var current = cell;
        for (int attempt = 0; attempt < 10_000; attempt++)
        {
            if (CellDistance(cell, current) == target) return current;
            int node = random.Next(DartsGenotype.NodeCount);
            int input = random.Next(2 + node);
            int slot = DartsSingleChanges.Slot(current, node, input);
            if (slot >= 0)
            {
                var others = _operations.Where(o => o != current[slot].Operation).ToArray();
                current = DartsSingleChanges.Replace(current, slot, new DartsEdge(others[random.Next(others.Length)], input));
            }
            else
            {
                current = DartsSingleChanges.Replace(current, 2 * node + random.Next(2), new DartsEdge(_operations[random.Next(_operations.Length)], input));
            }
        }
        return null;
    }
}
