namespace NasFlatness.MultiObjective;

/// <summary>
/// Pareto tools for minimisation problems: dominance, non-dominated sorting into fronts, crowding distance and
/// hypervolume. Points are objective vectors of equal length.
/// </summary>
public static class Pareto
{
    /// <summary>Whether <paramref name="a"/> dominates <paramref name="b"/>: no worse in every objective and better in at least one.</summary>
    /// <exception cref="ArgumentException">The vectors differ in length.</exception>
    public static bool Dominates(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count) throw new ArgumentException($"Objective vectors of lengths {a.Count} and {b.Count} cannot be compared.", nameof(b));
        bool better = false;
        for (int i = 0; i < a.Count; i++)
        {
            if (a[i] > b[i]) return false;
            if (a[i] < b[i]) better = true;
        }
        return better;
    }

    /// <summary>
    /// Splits the points into non-dominated fronts (Deb et al.'s fast non-dominated sort): front 0 holds the points no
    /// other point dominates, front k those dominated only by points of fronts before k. Equal points share a front.
    /// </summary>
    /// <returns>The fronts in order, each the point indices in ascending order.</returns>
    /// <exception cref="ArgumentException">The points differ in length.</exception>
    public static IReadOnlyList<IReadOnlyList<int>> NonDominatedSort(IReadOnlyList<IReadOnlyList<double>> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        int n = points.Count;
        var dominatedBy = new int[n];            // how many points dominate i
        var dominates = new List<int>[n];        // the points i dominates
        for (int i = 0; i < n; i++) dominates[i] = [];
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                if (Dominates(points[i], points[j]))
                {
                    dominates[i].Add(j);
                    dominatedBy[j]++;
                }
                else if (Dominates(points[j], points[i]))
                {
                    dominates[j].Add(i);
                    dominatedBy[i]++;
                }
            }
        }
        var fronts = new List<IReadOnlyList<int>>();
        var current = new List<int>();
        for (int i = 0; i < n; i++) if (dominatedBy[i] == 0) current.Add(i);
        while (current.Count > 0)
        {
            fronts.Add(current);
            var next = new List<int>();
            foreach (int i in current)
                foreach (int j in dominates[i])
                    if (--dominatedBy[j] == 0) next.Add(j);
            next.Sort();
            current = next;
        }
        return fronts;
    }

    /// <summary>
    /// Crowding distance of each member of one front (NSGA-II): for every objective, the members are sorted by it;
    /// the two extremes get +∞ and each other member adds the gap between its two neighbours divided by the front's
    /// range in that objective. Objectives with zero (or non-finite) range add nothing.
    /// </summary>
    /// <param name="points">All points.</param>
    /// <param name="front">Indices into <paramref name="points"/> of the front's members.</param>
    /// <returns>The distances, in the order of <paramref name="front"/>.</returns>
    public static double[] CrowdingDistance(IReadOnlyList<IReadOnlyList<double>> points, IReadOnlyList<int> front)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(front);
        int n = front.Count;
        var distance = new double[n];
        if (n == 0) return distance;
        if (n <= 2)
        {
            Array.Fill(distance, double.PositiveInfinity);
            return distance;
        }
        int objectives = points[front[0]].Count;
        var order = new int[n];
        for (int m = 0; m < objectives; m++)
        {
            for (int k = 0; k < n; k++) order[k] = k;
            // Stable sort by the objective, ties by position in the front, so the result is deterministic.
            Array.Sort(order, (x, y) =>
            {
                int c = points[front[x]][m].CompareTo(points[front[y]][m]);
                return c != 0 ? c : x.CompareTo(y);
            });
            double min = points[front[order[0]]][m], max = points[front[order[n - 1]]][m];
            distance[order[0]] = double.PositiveInfinity;
            distance[order[n - 1]] = double.PositiveInfinity;
            double range = max - min;
            if (!(range > 0) || !double.IsFinite(range)) continue;
            for (int k = 1; k < n - 1; k++)
                distance[order[k]] += (points[front[order[k + 1]]][m] - points[front[order[k - 1]]][m]) / range;
        }
        return distance;
    }

    /// <summary>
    /// The hypervolume dominated by <paramref name="points"/> and bounded by <paramref name="reference"/>: the
    /// measure of the union of the boxes [p, reference]. Points that do not lie strictly below the reference in every
    /// objective add nothing; dominated points are allowed. Exact: a sweep in 2-D, slicing along the last objective in
    /// more dimensions (cost grows as n^(d−1); meant for the few objectives of NAS).
    /// </summary>
    /// <exception cref="ArgumentException">A point's length differs from the reference's, or the reference is empty.</exception>
    public static double Hypervolume(IReadOnlyList<IReadOnlyList<double>> points, IReadOnlyList<double> reference)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(reference);
        int d = reference.Count;
        if (d == 0) throw new ArgumentException("The reference point needs at least one objective.", nameof(reference));
        var inside = new List<double[]>(points.Count);
        foreach (var p in points)
        {
            ArgumentNullException.ThrowIfNull(p, nameof(points));
            if (p.Count != d) throw new ArgumentException($"A point has {p.Count} objectives but the reference has {d}.", nameof(points));
            bool below = true;
            for (int i = 0; i < d && below; i++) below = p[i] < reference[i];
            if (below) inside.Add([.. p]);
        }
        return inside.Count == 0 ? 0 : Slice(inside, [.. reference], d);
    }

    /// <summary>Hypervolume of points already strictly below the reference, in their first <paramref name="d"/> objectives.</summary>
    private static double Slice(List<double[]> points, double[] reference, int d)
    {
        if (d == 1)
        {
            double min = double.PositiveInfinity;
            foreach (var p in points) min = Math.Min(min, p[0]);
            return reference[0] - min;
        }
        if (d == 2)
        {
            // Sweep by the first objective ascending; each point that lowers the running minimum of the second adds a strip.
            var sorted = points.OrderBy(p => p[0]).ThenBy(p => p[1]).ToList();
            double area = 0, ceiling = reference[1];
            foreach (var p in sorted)
            {
                if (p[1] >= ceiling) continue;
                area += (reference[0] - p[0]) * (ceiling - p[1]);
                ceiling = p[1];
            }
            return area;
        }
        // Slab between consecutive values of the last objective: the union of the (d−1)-boxes of the points at or below it.
        int last = d - 1;
        var byLast = points.OrderBy(p => p[last]).ToList();
        double volume = 0;
        var active = new List<double[]>(byLast.Count);
        for (int i = 0; i < byLast.Count; i++)
        {
            active.Add(byLast[i]);
            double top = i + 1 < byLast.Count ? byLast[i + 1][last] : reference[last];
            double height = top - byLast[i][last];
            if (height > 0) volume += height * Slice(active, reference, d - 1);
        }
        return volume;
    }
}
