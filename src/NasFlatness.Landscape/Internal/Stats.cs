namespace NasFlatness.Landscape.Internal;

/// <summary>Small descriptive statistics used by the landscape metrics.</summary>
internal static class Stats
{
    public static double Mean(ReadOnlySpan<double> x)
    {
        if (x.Length == 0) return double.NaN;
        double s = 0;
        foreach (var v in x) s += v;
        return s / x.Length;
    }

    /// <summary>Population standard deviation (divides by n, like numpy's default).</summary>
    public static double Std(ReadOnlySpan<double> x, double mean)
    {
        if (x.Length == 0) return double.NaN;
        double s = 0;
        foreach (var v in x) s += (v - mean) * (v - mean);
        return Math.Sqrt(s / x.Length);
    }

    public static (double Min, double Max) MinMax(ReadOnlySpan<double> x)
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
    public static double[] Ranks(ReadOnlySpan<double> x)
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

    public static double Pearson(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
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
    public static double Spearman(ReadOnlySpan<double> x, ReadOnlySpan<double> y) => Pearson(Ranks(x), Ranks(y));

    /// <summary>Quantile with linear interpolation between order statistics (numpy's default).</summary>
    public static double Quantile(ReadOnlySpan<double> x, double q)
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
