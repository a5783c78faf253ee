namespace NasFlatness.Landscape;

/// <summary>Outcome of a Wilcoxon signed-rank test on paired samples.</summary>
/// <param name="Pairs">Number of pairs given.</param>
/// <param name="NonZero">Pairs with a non-zero difference (the n of the test; zero differences are dropped).</param>
/// <param name="WPlus">Sum of the ranks of the positive differences (y − x &gt; 0), average ranks for ties of |d|.</param>
/// <param name="WMinus">Sum of the ranks of the negative differences.</param>
/// <param name="PValue">Two-sided p-value: 2 · min(P(W⁺ ≤ w), P(W⁺ ≥ w)) capped at 1, exact under H₀ (all 2ⁿ sign patterns equally likely); 1 when n = 0.</param>
/// <param name="MedianDifference">Median of the differences y − x (zeros included).</param>
public sealed record WilcoxonResult(int Pairs, int NonZero, double WPlus, double WMinus, double PValue, double MedianDifference);

/// <summary>
/// The Wilcoxon signed-rank test for paired samples (e.g. the same seeds searched by a host method and by host + A²M),
/// exact for n ≤ <see cref="MaxExactPairs"/>: the null distribution of W⁺ is enumerated over all 2ⁿ sign assignments of the
/// observed ranks (ties keep their average ranks, so the test stays exact with ties).
/// </summary>
public static class WilcoxonSignedRank
{
    /// <summary>Largest number of non-zero differences the exact test accepts.</summary>
    public const int MaxExactPairs = 20;

    /// <summary>Tests whether <paramref name="y"/> − <paramref name="x"/> is symmetric about 0.</summary>
    /// <param name="x">First sample (e.g. the host's accuracies, by seed).</param>
    /// <param name="y">Second sample, paired with <paramref name="x"/> by position.</param>
    /// <exception cref="ArgumentException">The samples differ in length, hold a non-finite value, or have more than <see cref="MaxExactPairs"/> non-zero differences.</exception>
    public static WilcoxonResult Test(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count) throw new ArgumentException($"Paired samples must have the same length ({x.Count} vs {y.Count}).", nameof(y));
        var all = new double[x.Count];
        for (int i = 0; i < x.Count; i++)
        {
            all[i] = y[i] - x[i];
            if (!double.IsFinite(all[i])) throw new ArgumentException($"Pair {i} has a non-finite difference.", nameof(y));
        }
        double median = Median(all);
        var d = all.Where(v => v != 0).ToArray();
        int n = d.Length;
        if (n > MaxExactPairs) throw new ArgumentException($"{n} non-zero differences: the exact test supports at most {MaxExactPairs}.", nameof(y));
        if (n == 0) return new WilcoxonResult(x.Count, 0, 0, 0, 1, median);

        // Ranks of |d| (1-based), ties averaged; doubled so that they are integers.
        var order = Enumerable.Range(0, n).OrderBy(i => Math.Abs(d[i])).ToArray();
        var doubled = new int[n];
        for (int start = 0; start < n;)
        {
            int end = start;
            while (end + 1 < n && Math.Abs(d[order[end + 1]]) == Math.Abs(d[order[start]])) end++;
            int twiceAverage = start + 1 + end + 1; // 2 × (first rank + last rank) / 2
            for (int k = start; k <= end; k++) doubled[order[k]] = twiceAverage;
            start = end + 1;
        }
        int observed = 0, total = 0;
        for (int i = 0; i < n; i++)
        {
            total += doubled[i];
            if (d[i] > 0) observed += doubled[i];
        }
        // counts[s] = number of sign patterns whose doubled W⁺ equals s (subset-sum DP over the ranks).
        var counts = new double[total + 1];
        counts[0] = 1;
        foreach (int r in doubled)
            for (int s = total; s >= r; s--) counts[s] += counts[s - r];
        double patterns = Math.Pow(2, n), lower = 0, upper = 0;
        for (int s = 0; s <= total; s++)
        {
            if (s <= observed) lower += counts[s];
            if (s >= observed) upper += counts[s];
        }
        double p = Math.Min(1.0, 2 * Math.Min(lower, upper) / patterns);
        return new WilcoxonResult(x.Count, n, observed / 2.0, (total - observed) / 2.0, p, median);
    }

    private static double Median(double[] values)
    {
        if (values.Length == 0) return double.NaN;
        var s = values.OrderBy(v => v).ToArray();
        int m = s.Length / 2;
        return s.Length % 2 == 1 ? s[m] : 0.5 * (s[m - 1] + s[m]);
    }
}
