using NasFlatness.Genotypes;
using NasFlatness.Landscape.Internal;

namespace NasFlatness.Landscape;

/// <summary>
/// Fast landscape metrics over the whole NAS-Bench-201 space for one score (e.g. CIFAR-10 test accuracy):
/// every architecture is scored once into a dense array, and neighbourhoods are computed on integer codes.
/// Paths, barriers and per-architecture results are available through <see cref="Analyzer"/>.
/// </summary>
public sealed class Nb201Landscape
{
    private readonly double[] _scores;

    private Nb201Landscape(double[] scoresByCode, string name)
    {
        _scores = scoresByCode;
        Name = name;
        ScoresByCode = Array.AsReadOnly(scoresByCode);
        Analyzer = new LandscapeAnalyzer<Nb201Genotype>(
            Nb201NeighborhoodSpace.Instance,
            ArchitectureScorer.FromFunction<Nb201Genotype>(g => _scores[g.Code], name));
    }

    /// <summary>The landscape of one metric of a NAS-Bench-201 table.</summary>
    /// <exception cref="ArgumentException">The table does not hold <paramref name="metric"/>.</exception>
    public static Nb201Landscape FromTable(Nb201Table table, BenchmarkMetric metric)
    {
        ArgumentNullException.ThrowIfNull(table);
        return new Nb201Landscape(table.ValuesByCode(metric), $"{table.Name} {metric}");
    }

    /// <summary>The landscape of any scorer: scores all 15,625 architectures once, in <see cref="Nb201Genotype.Code"/> order.</summary>
    /// <param name="scorer">The scorer (e.g. a supernet's inherited accuracy).</param>
    /// <param name="progress">Receives the number of architectures scored so far, every 100 and at the end.</param>
    /// <param name="cancellationToken">Checked before each architecture.</param>
    public static Nb201Landscape FromScorer(IArchitectureScorer<Nb201Genotype> scorer, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        var scores = new double[Nb201Codes.Size];
        for (int c = 0; c < scores.Length; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            scores[c] = scorer.Score(Nb201Genotype.FromCode(c));
            if ((c + 1) % 100 == 0 || c + 1 == scores.Length) progress?.Report(c + 1);
        }
        return new Nb201Landscape(scores, scorer.Name);
    }

    /// <summary>What the score is.</summary>
    public string Name { get; }

    /// <summary>The score of every architecture, indexed by <see cref="Nb201Genotype.Code"/>.</summary>
    public IReadOnlyList<double> ScoresByCode { get; }

    /// <summary>A general analyzer over this landscape's scores (paths, profiles, barriers, endpoint search).</summary>
    public LandscapeAnalyzer<Nb201Genotype> Analyzer { get; }

    /// <summary>The score of <paramref name="genotype"/>.</summary>
    public double Score(Nb201Genotype genotype)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        return _scores[genotype.Code];
    }

    /// <summary>Flatness of one architecture at radius <paramref name="radius"/> (neighbours in ascending code order).</summary>
    public FlatnessResult<Nb201Genotype> Flatness(Nb201Genotype center, int radius)
    {
        ArgumentNullException.ThrowIfNull(center);
        CheckRadius(radius);
        var codes = Nb201NeighborhoodSpace.SphereCodes(center.Code, radius);
        var scores = new double[codes.Length];
        for (int i = 0; i < codes.Length; i++) scores[i] = _scores[codes[i]];
        return new FlatnessResult<Nb201Genotype>(center, radius, _scores[center.Code], codes.Select(Nb201Genotype.FromCode).ToArray(), scores, sampled: false);
    }

    /// <summary>Flatness statistics of all 15,625 architectures at radius <paramref name="radius"/>.</summary>
    public SpaceFlatness ComputeSpaceFlatness(int radius)
    {
        CheckRadius(radius);
        int n = Nb201Codes.Size;
        var mean = new double[n];
        var std = new double[n];
        var min = new double[n];
        var max = new double[n];
        var buffer = new int[Math.Max(1, Nb201Codes.SphereSize(radius))];
        for (int c = 0; c < n; c++)
        {
            int count = Nb201Codes.FillSphere(c, radius, buffer);
            double sum = 0, lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            for (int i = 0; i < count; i++)
            {
                double s = _scores[buffer[i]];
                sum += s;
                if (s < lo) lo = s;
                if (s > hi) hi = s;
            }
            double m = sum / count, sq = 0;
            for (int i = 0; i < count; i++)
            {
                double d = _scores[buffer[i]] - m;
                sq += d * d;
            }
            mean[c] = m;
            std[c] = Math.Sqrt(sq / count);
            min[c] = lo;
            max[c] = hi;
        }
        return new SpaceFlatness(radius, _scores, mean, std, min, max);
    }

    /// <summary>The pooled neighbour scores at radius <paramref name="radius"/> of all architectures whose score lies in <paramref name="accuracyClass"/>, members in code order.</summary>
    public ClassNeighborDistribution ClassNeighborDistribution(AccuracyClass accuracyClass, int radius)
    {
        ArgumentNullException.ThrowIfNull(accuracyClass);
        CheckRadius(radius);
        var buffer = new int[Math.Max(1, Nb201Codes.SphereSize(radius))];
        var pooled = new List<double>();
        int members = 0;
        for (int c = 0; c < _scores.Length; c++)
        {
            if (!accuracyClass.Contains(_scores[c])) continue;
            members++;
            int count = Nb201Codes.FillSphere(c, radius, buffer);
            for (int i = 0; i < count; i++) pooled.Add(_scores[buffer[i]]);
        }
        return new ClassNeighborDistribution(accuracyClass, radius, members, [.. pooled]);
    }

    /// <summary>Whole-space summary at radius <paramref name="radius"/>: rank correlations and how many top architectures sit in flat regions (see <see cref="FlatRegionOptions"/>).</summary>
    public LandscapeSummary Summarize(int radius, FlatRegionOptions? options = null)
    {
        options ??= new FlatRegionOptions();
        options.Validate();
        var flatness = ComputeSpaceFlatness(radius);
        return LandscapeSummary.Build(radius, _scores, flatness.MeanArray, options);
    }

    private static void CheckRadius(int radius)
    {
        if (radius is < 0 or > Nb201Genotype.EdgeCount)
            throw new ArgumentOutOfRangeException(nameof(radius), radius, $"A NAS-Bench-201 radius is in 0..{Nb201Genotype.EdgeCount}.");
    }
}

/// <summary>Flatness statistics of every NAS-Bench-201 architecture at one radius, indexed by <see cref="Nb201Genotype.Code"/>.</summary>
public sealed class SpaceFlatness
{
    internal SpaceFlatness(int radius, double[] scores, double[] mean, double[] std, double[] min, double[] max)
    {
        Radius = radius;
        MeanArray = mean;
        var gap = new double[scores.Length];
        for (int i = 0; i < gap.Length; i++) gap[i] = scores[i] - mean[i];
        Scores = Array.AsReadOnly(scores);
        NeighborMean = Array.AsReadOnly(mean);
        NeighborStd = Array.AsReadOnly(std);
        NeighborMin = Array.AsReadOnly(min);
        NeighborMax = Array.AsReadOnly(max);
        Gap = Array.AsReadOnly(gap);
    }

    /// <summary>The radius r.</summary>
    public int Radius { get; }

    /// <summary>Each architecture's own score.</summary>
    public IReadOnlyList<double> Scores { get; }

    /// <summary>Mean neighbour score per architecture.</summary>
    public IReadOnlyList<double> NeighborMean { get; }

    /// <summary>Population standard deviation of the neighbour scores per architecture.</summary>
    public IReadOnlyList<double> NeighborStd { get; }

    /// <summary>Lowest neighbour score per architecture.</summary>
    public IReadOnlyList<double> NeighborMin { get; }

    /// <summary>Highest neighbour score per architecture.</summary>
    public IReadOnlyList<double> NeighborMax { get; }

    /// <summary>Score − neighbour mean per architecture.</summary>
    public IReadOnlyList<double> Gap { get; }

    /// <summary>The statistics of <paramref name="genotype"/>.</summary>
    public FlatnessStatistics this[Nb201Genotype genotype]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(genotype);
            int c = genotype.Code;
            return new FlatnessStatistics(Scores[c], NeighborMean[c], NeighborStd[c], NeighborMin[c], NeighborMax[c], Gap[c]);
        }
    }

    internal double[] MeanArray { get; }
}
