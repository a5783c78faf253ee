namespace NasFlatness.Landscape.Tests;

public sealed class WilcoxonSignedRankTests
{
    [Fact]
    public void HandWorkedSmallCases()
    {
        // d = 1, 2, 3 (all positive): W⁺ = 6 is the largest of 2³ equally likely sums → P(W⁺ ≥ 6) = 1/8, two-sided 1/4.
        var r = WilcoxonSignedRank.Test([0, 0, 0], [1, 2, 3]);
        Assert.Equal((3, 3, 6.0, 0.0), (r.Pairs, r.NonZero, r.WPlus, r.WMinus));
        Assert.Equal(0.25, r.PValue, 12);
        // n = 5 all positive: 2 · 1/32.
        Assert.Equal(0.0625, WilcoxonSignedRank.Test([0, 0, 0, 0, 0], [1, 2, 3, 4, 5]).PValue, 12);
        // d = −1, 2, 3, 4, 5: W⁻ = 1, W⁺ = 14; P(W⁺ ≥ 14) = P(W⁻ ≤ 1) = |{∅, {1}}| / 32 = 2/32 → two-sided 0.125.
        r = WilcoxonSignedRank.Test([1, 0, 0, 0, 0], [0, 2, 3, 4, 5]);
        Assert.Equal((14.0, 1.0), (r.WPlus, r.WMinus));
        Assert.Equal(0.125, r.PValue, 12);
        // Ties: d = 1, 1, −2 → ranks 1.5, 1.5, 3; W⁺ = 3. Sums over the 8 patterns: 0, 1.5, 1.5, 3, 3, 4.5, 4.5, 6,
        // so P(W⁺ ≤ 3) = P(W⁺ ≥ 3) = 5/8 → p = min(1, 2·5/8) = 1.
        r = WilcoxonSignedRank.Test([0, 0, 2], [1, 1, 0]);
        Assert.Equal((3.0, 3.0, 1.0), (r.WPlus, r.WMinus, r.PValue));
        // Zero differences are dropped (n counts the rest); the median difference keeps them.
        r = WilcoxonSignedRank.Test([5, 5, 5, 5], [5, 6, 7, 8]);
        Assert.Equal((4, 3, 0.25), (r.Pairs, r.NonZero, r.PValue));
        Assert.Equal(1.5, r.MedianDifference);
        Assert.Equal(1.0, WilcoxonSignedRank.Test([1, 2], [1, 2]).PValue);
    }

    [Fact]
    public void ExactPValueMatchesBruteForceEnumeration()
    {
        var rng = new Random(7);
        for (int trial = 0; trial < 20; trial++)
        {
            int n = rng.Next(1, 11);
            var x = Enumerable.Range(0, n).Select(_ => (double)rng.Next(0, 6)).ToArray();
            var y = Enumerable.Range(0, n).Select(_ => (double)rng.Next(0, 6)).ToArray();
            var r = WilcoxonSignedRank.Test(x, y);
            var d = x.Zip(y, (a, b) => b - a).Where(v => v != 0).ToArray();
            if (d.Length == 0) { Assert.Equal(1.0, r.PValue); continue; }
            var ranks = d.Select(v => d.Select(Math.Abs).Count(a => a < Math.Abs(v)) + (d.Select(Math.Abs).Count(a => a == Math.Abs(v)) + 1) / 2.0).ToArray();
            double w = d.Select((v, i) => v > 0 ? ranks[i] : 0).Sum();
            int le = 0, ge = 0, m = d.Length;
            for (int mask = 0; mask < 1 << m; mask++)
            {
                double s = 0;
                for (int i = 0; i < m; i++) if ((mask >> i & 1) == 1) s += ranks[i];
                if (s <= w + 1e-9) le++;
                if (s >= w - 1e-9) ge++;
            }
            Assert.Equal(w, r.WPlus, 9);
            Assert.Equal(Math.Min(1.0, 2.0 * Math.Min(le, ge) / (1 << m)), r.PValue, 12);
        }
        Assert.Throws<ArgumentException>(() => WilcoxonSignedRank.Test([1], [1, 2]));
        Assert.Throws<ArgumentException>(() => WilcoxonSignedRank.Test(new double[21], Enumerable.Range(1, 21).Select(i => (double)i).ToArray()));
    }
}
