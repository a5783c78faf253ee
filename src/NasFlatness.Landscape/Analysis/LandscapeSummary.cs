namespace NasFlatness.Landscape;

/// <summary>
/// How "flat region" is defined for <see cref="LandscapeSummary"/>: an architecture is in one at radius r when its
/// neighbour mean over S_r is at or above the <see cref="NeighborMeanQuantile"/> quantile of all neighbour means and,
/// when <see cref="MaxGap"/> is set, its gap (score − neighbour mean) is at most <see cref="MaxGap"/>.
/// </summary>
public sealed class FlatRegionOptions
{
    /// <summary>Quantile (0..1) of the neighbour means an architecture's neighbour mean must reach. <value>Default 0.9 (top 10 % of neighbourhoods).</value></summary>
    public double NeighborMeanQuantile { get; set; } = 0.9;

    /// <summary>Optional upper bound on the flatness gap, in score units. <value>Default <see langword="null"/> (no bound).</value></summary>
    public double? MaxGap { get; set; }

    /// <summary>How many top-scoring architectures to check. <value>Default 10.</value></summary>
    public int TopK { get; set; } = 10;

    internal void Validate()
    {
        if (!(NeighborMeanQuantile is >= 0 and <= 1))
            throw new ArgumentException($"FlatRegionOptions.NeighborMeanQuantile must be in [0, 1], got {NeighborMeanQuantile}.", nameof(NeighborMeanQuantile));
        if (MaxGap is { } g && double.IsNaN(g))
            throw new ArgumentException("FlatRegionOptions.MaxGap must not be NaN.", nameof(MaxGap));
        if (TopK < 1) throw new ArgumentException($"FlatRegionOptions.TopK must be at least 1, got {TopK}.", nameof(TopK));
    }
}

/// <summary>Whole-space flatness summary at one radius.</summary>
public sealed class LandscapeSummary
{
    internal LandscapeSummary(int radius, int count, double spearmanMean, double spearmanGap, double meanGap,
        double flatThreshold, int flatCount, int topK, int topKFlat)
    {
        Radius = radius;
        ArchitectureCount = count;
        SpearmanScoreVsNeighborMean = spearmanMean;
        SpearmanScoreVsGap = spearmanGap;
        MeanGap = meanGap;
        FlatThreshold = flatThreshold;
        FlatCount = flatCount;
        TopK = topK;
        TopKInFlatRegion = topKFlat;
    }

    /// <summary>The radius r.</summary>
    public int Radius { get; }

    /// <summary>Number of architectures summarised.</summary>
    public int ArchitectureCount { get; }

    /// <summary>Spearman rank correlation between an architecture's score and its neighbour mean (high: good architectures sit among good neighbours).</summary>
    public double SpearmanScoreVsNeighborMean { get; }

    /// <summary>Spearman rank correlation between score and flatness gap.</summary>
    public double SpearmanScoreVsGap { get; }

    /// <summary>Mean flatness gap over the architectures.</summary>
    public double MeanGap { get; }

    /// <summary>The neighbour-mean cutoff of a flat region (the <see cref="FlatRegionOptions.NeighborMeanQuantile"/> quantile).</summary>
    public double FlatThreshold { get; }

    /// <summary>How many architectures sit in flat regions (see <see cref="FlatRegionOptions"/>).</summary>
    public int FlatCount { get; }

    /// <summary>How many top-scoring architectures were checked.</summary>
    public int TopK { get; }

    /// <summary>How many of the <see cref="TopK"/> best-scoring architectures sit in flat regions.</summary>
    public int TopKInFlatRegion { get; }

    /// <summary>Fraction of all architectures in flat regions (the base rate to compare <see cref="TopKInFlatRegion"/>/<see cref="TopK"/> with).</summary>
    public double FlatFraction => ArchitectureCount == 0 ? double.NaN : (double)FlatCount / ArchitectureCount;

    internal static LandscapeSummary Build(int radius, double[] scores, double[] means, FlatRegionOptions options)
    {
        int n = scores.Length;
        var gaps = new double[n];
        for (int i = 0; i < n; i++) gaps[i] = scores[i] - means[i];
        double threshold = SummaryStatistics.Quantile(means, options.NeighborMeanQuantile);
        var flat = new bool[n];
        int flatCount = 0;
        for (int i = 0; i < n; i++)
        {
            flat[i] = means[i] >= threshold && (options.MaxGap is not { } g || gaps[i] <= g);
            if (flat[i]) flatCount++;
        }
        int k = Math.Min(options.TopK, n);
        var order = Enumerable.Range(0, n).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(k);
        int topFlat = order.Count(i => flat[i]);
        return new LandscapeSummary(radius, n, SummaryStatistics.Spearman(scores, means), SummaryStatistics.Spearman(scores, gaps),
            SummaryStatistics.Mean(gaps), threshold, flatCount, k, topFlat);
    }
}
