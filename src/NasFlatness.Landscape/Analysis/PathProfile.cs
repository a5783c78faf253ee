namespace NasFlatness.Landscape;

/// <summary>
/// The score profile along all monotone shortest paths from <see cref="A"/> to <see cref="B"/> (docs/spec/algorithms.md §7.3):
/// level ℓ holds the distinct architectures ℓ steps from A and k − ℓ from B (C(k, ℓ) of them in a cell space),
/// with their mean and standard deviation. Level 0 is A, level k is B.
/// </summary>
/// <typeparam name="TGenotype">The genotype type.</typeparam>
public sealed class PathProfile<TGenotype> where TGenotype : notnull
{
    internal PathProfile(TGenotype a, TGenotype b, long pathCount, IReadOnlyList<PathLevel<TGenotype>> levels)
    {
        A = a;
        B = b;
        PathCount = pathCount;
        Levels = levels;
        Means = levels.Select(l => l.Mean).ToArray();
        Stds = levels.Select(l => l.Std).ToArray();
    }

    /// <summary>Start of the paths.</summary>
    public TGenotype A { get; }

    /// <summary>End of the paths.</summary>
    public TGenotype B { get; }

    /// <summary>The distance k between <see cref="A"/> and <see cref="B"/>.</summary>
    public int Distance => Levels.Count - 1;

    /// <summary>Number of monotone shortest paths (k! in a cell space).</summary>
    public long PathCount { get; }

    /// <summary>Levels 0..k.</summary>
    public IReadOnlyList<PathLevel<TGenotype>> Levels { get; }

    /// <summary>The profile P = [score(A), mean(level 1), …, mean(level k−1), score(B)].</summary>
    public IReadOnlyList<double> Means { get; }

    /// <summary>Error bars: the standard deviation within each level (0 at the endpoints).</summary>
    public IReadOnlyList<double> Stds { get; }
}

/// <summary>One level of a <see cref="PathProfile{TGenotype}"/>.</summary>
/// <typeparam name="TGenotype">The genotype type.</typeparam>
public sealed class PathLevel<TGenotype> where TGenotype : notnull
{
    internal PathLevel(int level, IReadOnlyList<TGenotype> architectures, double[] scores)
    {
        Level = level;
        Architectures = architectures;
        Scores = Array.AsReadOnly(scores);
        Mean = SummaryStatistics.Mean(scores);
        Std = SummaryStatistics.Std(scores, Mean);
        (Min, Max) = SummaryStatistics.MinMax(scores);
    }

    /// <summary>Steps from the start, 0..k.</summary>
    public int Level { get; }

    /// <summary>The distinct architectures at this level.</summary>
    public IReadOnlyList<TGenotype> Architectures { get; }

    /// <summary>Their scores, in the same order.</summary>
    public IReadOnlyList<double> Scores { get; }

    /// <summary>Mean score of the level.</summary>
    public double Mean { get; }

    /// <summary>Population standard deviation of the level's scores.</summary>
    public double Std { get; }

    /// <summary>Lowest score of the level.</summary>
    public double Min { get; }

    /// <summary>Highest score of the level.</summary>
    public double Max { get; }
}

/// <summary>Which way a barrier is measured.</summary>
public enum BarrierKind
{
    /// <summary>Score is an accuracy (higher is better): ½(s(a) + s(b)) − min over intermediate architectures.</summary>
    Accuracy,

    /// <summary>Score is a loss (lower is better): max over intermediate architectures − ½(s(a) + s(b)).</summary>
    Loss,
}

/// <summary>Options of <see cref="LandscapeAnalyzer{TGenotype}.Barriers"/>.</summary>
public sealed class BarrierOptions
{
    /// <summary>Accuracy or loss barrier. <value>Default <see cref="BarrierKind.Accuracy"/>.</value></summary>
    public BarrierKind Kind { get; set; } = BarrierKind.Accuracy;

    /// <summary>
    /// When true, one running minimum (maximum for losses) is shared by all pairs in list order, so a pair's barrier
    /// uses the extreme over its own and all earlier pairs' intermediates (docs/spec/algorithms.md §7.5).
    /// <value>Default <see langword="false"/>: each pair uses its own extreme.</value>
    /// </summary>
    public bool LeakRunningMinimum { get; set; }

    /// <summary>Decimals <see cref="BarrierResult{TGenotype}.Value"/> is rounded to (half to even). <value>Default 2.</value></summary>
    public int Decimals { get; set; } = 2;

    internal void Validate()
    {
        if (!Enum.IsDefined(Kind)) throw new ArgumentException($"BarrierOptions.Kind {(int)Kind} is not a BarrierKind.", nameof(Kind));
        if (Decimals is < 0 or > 15) throw new ArgumentException($"BarrierOptions.Decimals must be in 0..15, got {Decimals}.", nameof(Decimals));
    }
}

/// <summary>The accuracy or loss barrier between two architectures (docs/spec/algorithms.md §7.3).</summary>
/// <typeparam name="TGenotype">The genotype type.</typeparam>
public sealed class BarrierResult<TGenotype> where TGenotype : notnull
{
    internal BarrierResult(TGenotype a, TGenotype b, BarrierKind kind, double scoreA, double scoreB,
        double pairExtreme, TGenotype pairExtremeArchitecture, double reference, int decimals)
    {
        A = a;
        B = b;
        Kind = kind;
        ScoreA = scoreA;
        ScoreB = scoreB;
        PairExtreme = pairExtreme;
        PairExtremeArchitecture = pairExtremeArchitecture;
        Reference = reference;
        double mid = 0.5 * (scoreA + scoreB);
        RawValue = kind == BarrierKind.Accuracy ? mid - reference : reference - mid;
        Value = Math.Round(RawValue, decimals, MidpointRounding.ToEven);
    }

    /// <summary>First endpoint.</summary>
    public TGenotype A { get; }

    /// <summary>Second endpoint.</summary>
    public TGenotype B { get; }

    /// <summary>Accuracy or loss barrier.</summary>
    public BarrierKind Kind { get; }

    /// <summary>Score of <see cref="A"/>.</summary>
    public double ScoreA { get; }

    /// <summary>Score of <see cref="B"/>.</summary>
    public double ScoreB { get; }

    /// <summary>The lowest (accuracy) or highest (loss) score among this pair's intermediate architectures.</summary>
    public double PairExtreme { get; }

    /// <summary>The intermediate architecture that has <see cref="PairExtreme"/>.</summary>
    public TGenotype PairExtremeArchitecture { get; }

    /// <summary>The extreme the barrier was computed from: <see cref="PairExtreme"/>, or with
    /// <see cref="BarrierOptions.LeakRunningMinimum"/> the running extreme over this and earlier pairs.</summary>
    public double Reference { get; }

    /// <summary>The barrier before rounding.</summary>
    public double RawValue { get; }

    /// <summary>The barrier rounded (2 decimals by default). Positive: a dip (accuracy) or bump (loss) between the endpoints; ≤ 0: none.</summary>
    public double Value { get; }
}

/// <summary>Two architectures at a given distance with similar scores (end points for paths and barriers).</summary>
/// <typeparam name="TGenotype">The genotype type.</typeparam>
/// <param name="A">The architecture found in the score range.</param>
/// <param name="B">Its partner on the sphere.</param>
/// <param name="ScoreA">Score of <paramref name="A"/>.</param>
/// <param name="ScoreB">Score of <paramref name="B"/>.</param>
public sealed record EndpointPair<TGenotype>(TGenotype A, TGenotype B, double ScoreA, double ScoreB) where TGenotype : notnull;
