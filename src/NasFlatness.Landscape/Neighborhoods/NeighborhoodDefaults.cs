namespace NasFlatness.Landscape;

/// <summary>General implementations behind the default members of <see cref="INeighborhoodSpace{TGenotype}"/>.</summary>
internal static class NeighborhoodDefaults
{
    public static IEnumerable<T> Sphere<T>(INeighborhoodSpace<T> space, T center, int radius) where T : notnull
    {
        ArgumentNullException.ThrowIfNull(center);
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        var seen = new HashSet<T> { center };
        var frontier = new List<T> { center };
        for (int level = 1; level <= radius && frontier.Count > 0; level++)
        {
            var next = new List<T>();
            foreach (var g in frontier)
            {
                foreach (var n in space.Neighbors(g))
                {
                    if (seen.Add(n) && space.Distance(center, n) == level) next.Add(n);
                }
            }
            frontier = next;
        }
        return frontier;
    }

    public static IEnumerable<T> StepsToward<T>(INeighborhoodSpace<T> space, T current, T target) where T : notnull
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(target);
        int d = space.Distance(current, target);
        if (d == 0) return [];
        return space.Neighbors(current).Where(n => space.Distance(n, target) == d - 1).ToList();
    }

    public static T? RandomWalk<T>(INeighborhoodSpace<T> space, T center, int radius, Random random) where T : notnull
    {
        ArgumentNullException.ThrowIfNull(center);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        if (radius == 0) return center;
        for (int attempt = 0; attempt < 100; attempt++)
        {
            var current = center;
            for (int step = 0; step < 4 * radius + 4; step++)
            {
                var options = space.Neighbors(current).ToList();
                if (options.Count == 0) break;
                current = options[random.Next(options.Count)];
                int d = space.Distance(center, current);
                if (d == radius) return current;
                if (d > radius) break;
            }
        }
        return default;
    }
}
