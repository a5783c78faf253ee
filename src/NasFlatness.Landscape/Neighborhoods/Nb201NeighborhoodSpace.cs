using NasFlatness.Genotypes;
using NasFlatness.Landscape.Internal;

namespace NasFlatness.Landscape;

/// <summary>
/// Exact neighbourhoods of the NAS-Bench-201 cell space: the distance is the Hamming distance over the six
/// edge operations (every substitution, to or from <c>none</c> included, counts 1; isomorphic duplicates are
/// not merged), so the sphere of radius r has C(6, r)·4^r members (24, 240, 1,280 for r = 1, 2, 3).
/// </summary>
public sealed class Nb201NeighborhoodSpace : INeighborhoodSpace<Nb201Genotype>
{
    private Nb201NeighborhoodSpace()
    {
    }

    /// <summary>The single instance.</summary>
    public static Nb201NeighborhoodSpace Instance { get; } = new();

    /// <inheritdoc />
    public string Name => SpaceNames.Nb201;

    /// <inheritdoc />
    public bool CanEnumerate => true;

    /// <summary>Size of a sphere of radius <paramref name="radius"/>: C(6, r)·4^r (0 outside 0..6).</summary>
    public static int SphereSize(int radius) => Nb201Codes.SphereSize(radius);

    /// <summary>Size of a ball of radius <paramref name="radius"/>: Σ_{i≤r} C(6, i)·4^i.</summary>
    public static int BallSize(int radius)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        int total = 0;
        for (int r = 0; r <= Math.Min(radius, Nb201Genotype.EdgeCount); r++) total += SphereSize(r);
        return total;
    }

    /// <inheritdoc />
    public int Distance(Nb201Genotype a, Nb201Genotype b)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.DistanceTo(b);
    }

    /// <summary>The search space's neighbours (<see cref="Nb201Genotype.Neighbors"/>), in ascending <see cref="Nb201Genotype.Code"/> order.</summary>
    public IEnumerable<Nb201Genotype> Neighbors(Nb201Genotype genotype)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        return genotype.Neighbors().OrderBy(n => n.Code).ToList();
    }

    /// <summary>All architectures at Hamming distance exactly <paramref name="radius"/>, in ascending <see cref="Nb201Genotype.Code"/> order.</summary>
    public IEnumerable<Nb201Genotype> Sphere(Nb201Genotype center, int radius)
    {
        ArgumentNullException.ThrowIfNull(center);
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        return SphereCodes(center.Code, radius).Select(Nb201Genotype.FromCode).ToList();
    }

    /// <summary>A uniformly random member of the sphere of radius <paramref name="radius"/>: <paramref name="radius"/> distinct edges, each set to one of its four other operations.</summary>
    public Nb201Genotype? SampleNeighbor(Nb201Genotype center, int radius, Random random)
    {
        ArgumentNullException.ThrowIfNull(center);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        if (radius > Nb201Genotype.EdgeCount) return null;
        Span<int> edges = [0, 1, 2, 3, 4, 5];
        random.Shuffle(edges);
        var ops = center.Operations.ToArray();
        for (int k = 0; k < radius; k++)
        {
            int e = edges[k];
            int t = random.Next(Nb201Genotype.OperationCount - 1);
            ops[e] = t < ops[e] ? t : t + 1;
        }
        return new Nb201Genotype(ops);
    }

    /// <summary>The single changes that set one still-differing edge of <paramref name="current"/> to <paramref name="target"/>'s operation, in edge order.</summary>
    public IEnumerable<Nb201Genotype> StepsToward(Nb201Genotype current, Nb201Genotype target)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(target);
        var steps = new List<Nb201Genotype>();
        for (int e = 0; e < Nb201Genotype.EdgeCount; e++)
        {
            if (current.Operations[e] != target.Operations[e]) steps.Add(current.With(e, target.Operations[e]));
        }
        return steps;
    }

    internal static int[] SphereCodes(int code, int radius)
    {
        if (radius > Nb201Genotype.EdgeCount) return [];
        var codes = new int[SphereSize(radius)];
        Nb201Codes.FillSphere(code, radius, codes);
        Array.Sort(codes);
        return codes;
    }
}
