namespace NasFlatness.Landscape;

/// <summary>Neighbourhood helpers over any <see cref="INeighborhoodSpace{TGenotype}"/>.</summary>
public static class Neighborhood
{
    /// <summary>All architectures at distance at most <paramref name="radius"/> from <paramref name="center"/> (the ball B_r, centre included), nearest first.</summary>
    public static IEnumerable<TGenotype> Ball<TGenotype>(this INeighborhoodSpace<TGenotype> space, TGenotype center, int radius)
        where TGenotype : notnull
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        for (int r = 0; r <= radius; r++)
        {
            foreach (var g in r == 0 ? [center] : space.Sphere(center, r)) yield return g;
        }
    }

    /// <summary>
    /// Up to <paramref name="count"/> distinct random architectures at distance exactly <paramref name="radius"/>
    /// (drawn with <see cref="INeighborhoodSpace{TGenotype}.SampleNeighbor"/>, duplicates rejected). Fewer are
    /// returned when the sampler keeps repeating itself (e.g. the sphere is smaller than <paramref name="count"/>).
    /// </summary>
    public static IReadOnlyList<TGenotype> SampleSphere<TGenotype>(this INeighborhoodSpace<TGenotype> space, TGenotype center, int radius, int count, Random random)
        where TGenotype : notnull
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var result = new List<TGenotype>(count);
        var seen = new HashSet<TGenotype>();
        int misses = 0;
        while (result.Count < count && misses < 20 * count + 100)
        {
            var g = space.SampleNeighbor(center, radius, random);
            if (g is not null && seen.Add(g)) result.Add(g);
            else misses++;
        }
        return result;
    }
}
