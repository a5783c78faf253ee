namespace NasFlatness.Landscape;

/// <summary>
/// Flatness of one architecture at radius r (docs/spec/algorithms.md §7.2): statistics of its neighbours' scores on the sphere
/// S_r, and the gap between its own score and their mean.
/// </summary>
/// <typeparam name="TGenotype">The genotype type.</typeparam>
public sealed class FlatnessResult<TGenotype> where TGenotype : notnull
{
    internal FlatnessResult(TGenotype center, int radius, double centerScore, IReadOnlyList<TGenotype> neighbors, double[] scores, bool sampled)
    {
        Center = center;
        Radius = radius;
        CenterScore = centerScore;
        Neighbors = neighbors;
        NeighborScores = Array.AsReadOnly(scores);
        IsSampled = sampled;
        Statistics = FlatnessStatistics.From(centerScore, scores);
    }

    /// <summary>The architecture whose neighbourhood this describes.</summary>
    public TGenotype Center { get; }

    /// <summary>The radius r of the sphere S_r.</summary>
    public int Radius { get; }

    /// <summary>The centre's own score.</summary>
    public double CenterScore { get; }

    /// <summary>The neighbours (all of S_r, or a random sample of it when <see cref="IsSampled"/>).</summary>
    public IReadOnlyList<TGenotype> Neighbors { get; }

    /// <summary>The neighbours' scores, in the order of <see cref="Neighbors"/>.</summary>
    public IReadOnlyList<double> NeighborScores { get; }

    /// <summary>Whether <see cref="Neighbors"/> is a random sample of S_r rather than all of it.</summary>
    public bool IsSampled { get; }

    /// <summary>Mean, standard deviation, minimum, maximum and gap.</summary>
    public FlatnessStatistics Statistics { get; }

    /// <summary>Mean neighbour score: <c>Flatness(a, r)</c> of the A²M analysis.</summary>
    public double NeighborMean => Statistics.NeighborMean;

    /// <summary>Population standard deviation of the neighbour scores.</summary>
    public double NeighborStd => Statistics.NeighborStd;

    /// <summary>Lowest neighbour score.</summary>
    public double NeighborMin => Statistics.NeighborMin;

    /// <summary>Highest neighbour score.</summary>
    public double NeighborMax => Statistics.NeighborMax;

    /// <summary><see cref="CenterScore"/> − <see cref="NeighborMean"/> (small or negative: the architecture sits in a flat region).</summary>
    public double Gap => Statistics.Gap;
}

/// <summary>Summary numbers of one architecture's neighbourhood at some radius.</summary>
/// <param name="Score">The architecture's own score.</param>
/// <param name="NeighborMean">Mean neighbour score.</param>
/// <param name="NeighborStd">Population standard deviation of the neighbour scores.</param>
/// <param name="NeighborMin">Lowest neighbour score.</param>
/// <param name="NeighborMax">Highest neighbour score.</param>
/// <param name="Gap"><paramref name="Score"/> − <paramref name="NeighborMean"/>.</param>
public readonly record struct FlatnessStatistics(double Score, double NeighborMean, double NeighborStd, double NeighborMin, double NeighborMax, double Gap)
{
    internal static FlatnessStatistics From(double score, ReadOnlySpan<double> neighbors)
    {
        double mean = SummaryStatistics.Mean(neighbors);
        var (min, max) = SummaryStatistics.MinMax(neighbors);
        return new FlatnessStatistics(score, mean, SummaryStatistics.Std(neighbors, mean), min, max, score - mean);
    }
}
