namespace NasFlatness.MultiObjective;

/// <summary>NSGA-II's selection steps (Deb et al. 2002), minimisation: rank and crowding, binary tournament, environmental selection.</summary>
internal static class Nsga2
{
    /// <summary>The front index (rank, 0 = non-dominated) and the crowding distance within its front of every point.</summary>
    public static (int[] Rank, double[] Crowding) RankAndCrowding(IReadOnlyList<IReadOnlyList<double>> points)
    {
        var rank = new int[points.Count];
        var crowding = new double[points.Count];
        var fronts = Pareto.NonDominatedSort(points);
        for (int f = 0; f < fronts.Count; f++)
        {
            var distance = Pareto.CrowdingDistance(points, fronts[f]);
            for (int k = 0; k < fronts[f].Count; k++)
            {
                rank[fronts[f][k]] = f;
                crowding[fronts[f][k]] = distance[k];
            }
        }
        return (rank, crowding);
    }

    /// <summary>
    /// Binary tournament on (rank, crowding): two distinct members drawn uniformly (the same one when there is only one);
    /// the lower rank wins, then the larger crowding distance, then a fair coin.
    /// </summary>
    public static int Tournament(int[] rank, double[] crowding, Random random)
    {
        int n = rank.Length;
        if (n == 0) throw new ArgumentException("The tournament needs at least one member.", nameof(rank));
        if (n == 1) return 0;
        int a = random.Next(n);
        int b = random.Next(n - 1);
        if (b >= a) b++;
        if (rank[a] != rank[b]) return rank[a] < rank[b] ? a : b;
        if (crowding[a] != crowding[b]) return crowding[a] > crowding[b] ? a : b;
        return random.Next(2) == 0 ? a : b;
    }

    /// <summary>
    /// NSGA-II environmental selection of <paramref name="size"/> survivors: whole fronts in rank order while they fit,
    /// then the members of the next front with the largest crowding distance (ties: lower index first).
    /// </summary>
    /// <returns>The survivors' indices in the order chosen (all indices when there are no more than <paramref name="size"/>).</returns>
    public static int[] EnvironmentalSelection(IReadOnlyList<IReadOnlyList<double>> points, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        var chosen = new List<int>(Math.Min(size, points.Count));
        foreach (var front in Pareto.NonDominatedSort(points))
        {
            if (chosen.Count + front.Count <= size)
            {
                chosen.AddRange(front);
                if (chosen.Count == size) break;
                continue;
            }
            var distance = Pareto.CrowdingDistance(points, front);
            var order = Enumerable.Range(0, front.Count)
                .OrderByDescending(k => distance[k]).ThenBy(k => front[k]);
            chosen.AddRange(order.Take(size - chosen.Count).Select(k => front[k]));
            break;
        }
        return [.. chosen];
    }
}
