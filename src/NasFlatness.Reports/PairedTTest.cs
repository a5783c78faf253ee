namespace NasFlatness.Reports;

/// <summary>Outcome of a paired t-test.</summary>
/// <param name="Pairs">Number of pairs.</param>
/// <param name="MeanDifference">Mean of the differences y − x (NaN without pairs).</param>
/// <param name="T">The t statistic (NaN with fewer than 2 pairs or when all differences are equal).</param>
/// <param name="PValue">Two-sided p-value under Student's t with n − 1 degrees of freedom (NaN where <paramref name="T"/> is).</param>
public sealed record PairedTResult(int Pairs, double MeanDifference, double T, double PValue);

/// <summary>The paired t-test (e.g. the same seeds searched by two methods), beside the exact Wilcoxon signed-rank test of NasFlatness.Landscape.</summary>
public static class PairedTTest
{
    /// <summary>Tests whether the mean of <paramref name="y"/> − <paramref name="x"/> is 0.</summary>
    /// <exception cref="ArgumentException">The samples differ in length.</exception>
    public static PairedTResult Test(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count) throw new ArgumentException($"Paired samples must have the same length ({x.Count} vs {y.Count}).", nameof(y));
        var d = x.Zip(y, (a, b) => b - a).ToArray();
        if (d.Length < 2) return new PairedTResult(d.Length, d.Length == 1 ? d[0] : double.NaN, double.NaN, double.NaN);
        if (d.Any(double.IsNaN)) return new PairedTResult(d.Length, double.NaN, double.NaN, double.NaN);
        var (mean, sd) = SummaryStatistics.MeanAndStd(d);
        if (sd == 0) return new PairedTResult(d.Length, mean, double.NaN, double.NaN);
        double t = mean / (sd / Math.Sqrt(d.Length));
        return new PairedTResult(d.Length, mean, t, 2 * (1 - MathNet.Numerics.Distributions.StudentT.CDF(0, 1, d.Length - 1, Math.Abs(t))));
    }
}
