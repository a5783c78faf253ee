using Xunit;

namespace NasFlatness.Reports.Tests;

public sealed class PairedTTestTests
{
    /// <summary>Two-sided p of Student's t by Simpson integration of the density (independent of the library's CDF).</summary>
    private static double TwoSidedP(double t, int df)
    {
        double logC = LogGamma((df + 1) / 2.0) - LogGamma(df / 2.0) - 0.5 * Math.Log(df * Math.PI);
        double Density(double x) => Math.Exp(logC - (df + 1) / 2.0 * Math.Log(1 + x * x / df));
        const int n = 200_000;
        double a = 0, b = Math.Abs(t), h = (b - a) / n, sum = Density(a) + Density(b);
        for (int i = 1; i < n; i++) sum += (i % 2 == 1 ? 4 : 2) * Density(a + i * h);
        return 1 - 2 * (sum * h / 3);
    }

    private static double LogGamma(double x)
    {
        // Lanczos approximation (g = 7), ample for half-integers.
        double[] c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61503916999185, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
        x -= 1;
        double s = c[0];
        for (int i = 1; i < 9; i++) s += c[i] / (x + i);
        double t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(s);
    }

    [Fact]
    public void The_t_statistic_and_p_value_match_a_hand_computation()
    {
        double[] x = [1, 2, 3, 4, 5], y = [2, 4, 5, 8, 5.5];
        var d = x.Zip(y, (a, b) => b - a).ToArray();
        double mean = d.Average(), sd = Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / (d.Length - 1)), t = mean / (sd / Math.Sqrt(d.Length));
        var result = PairedTTest.Test(x, y);
        Assert.Equal(5, result.Pairs);
        Assert.Equal(mean, result.MeanDifference, 12);
        Assert.Equal(t, result.T, 12);
        Assert.Equal(TwoSidedP(t, d.Length - 1), result.PValue, 6);
        // Swapping the samples flips the sign of t and keeps p.
        var swapped = PairedTTest.Test(y, x);
        Assert.Equal(-result.T, swapped.T, 12);
        Assert.Equal(result.PValue, swapped.PValue, 12);
    }

    [Fact]
    public void Fewer_than_two_pairs_or_equal_differences_give_no_p_value()
    {
        Assert.True(double.IsNaN(PairedTTest.Test([1.0], [2.0]).PValue));
        Assert.True(double.IsNaN(PairedTTest.Test([1.0, 2.0], [2.0, 3.0]).PValue));
        Assert.Throws<ArgumentException>(() => PairedTTest.Test([1.0], [1.0, 2.0]));
    }
}
