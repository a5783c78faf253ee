namespace NasFlatness;

/// <summary>
/// The one statistics helper of NasFlatness: mean ± sample standard deviation for reports; the population statistics, ranks,
/// correlations and quantiles behind the landscape metrics (internal).
/// </summary>
public static class SummaryStatistics
{
    /// <summary>
    /// Mean and sample standard deviation (n − 1) of <paramref name="values"/>, NaN values left out; (NaN, NaN) when none is
    /// left, and a standard deviation of 0 for a single value.
    /// </summary>
    public static (double Mean, double Std) MeanAndStd(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var v = values.Where(x => !double.IsNaN(x)).ToArray();
        if (v.Length == 0) return (double.NaN, double.NaN);
        double mean = Mean(v);
        double squares = 0;
        foreach (var x in v) squares += (x - mean) * (x - mean);
        return (mean, v.Length > 1 ? Math.Sqrt(squares / (v.Length - 1)) : 0);
    }

    internal static double Mean(ReadOnlySpan<double> x)
    {
        if (x.Length == 0) return double.NaN;
        double s = 0;
        foreach (var v in x) s += v;
        return s / x.Length;
    }

    /// <summary>Population standard deviation (divides by n, like numpy's default).</summary>
    internal static double Std(ReadOnlySpan<double> x, double mean)
    {
        if (x.Length == 0) return double.NaN;
        double s = 0;
        foreach (var v in x) s += (v - mean) * (v - mean);
        return Math.Sqrt(s / x.Length);
    }

    internal static (double Min, double Max) MinMax(ReadOnlySpan<double> x)
    {
        if (x.Length == 0) return (double.NaN, double.NaN);
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var v in x)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return (min, max);
    }

    /// <summary>Ranks 1..n, ties get the average of the ranks they span.</summary>
    internal static double[] Ranks(ReadOnlySpan<double> x)
    {
        int n = x.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var keys = x.ToArray();
        Array.Sort(keys, order);
        var ranks = new double[n];
        int start = 0;
        while (start < n)
        {
            int end = start;
            while (end + 1 < n && keys[end + 1] == keys[start]) end++;
            double rank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++) ranks[order[k]] = rank;
            start = end + 1;
        }
        return ranks;
    }

    internal static double Pearson(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        double mx = Mean(x), my = Mean(y);
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }

    /// <summary>Spearman rank correlation (Pearson correlation of average ranks).</summary>
    internal static double Spearman(ReadOnlySpan<double> x, ReadOnlySpan<double> y) => Pearson(Ranks(x), Ranks(y));

    /// <summary>Quantile with linear interpolation between order statistics (numpy's default).</summary>
    internal static double Quantile(ReadOnlySpan<double> x, double q)
    {
        if (x.Length == 0) return double.NaN;
        var sorted = x.ToArray();
        Array.Sort(sorted);
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
