namespace NasFlatness.Landscape;

/// <summary>
/// Landscape metrics over any search space and any scorer (docs/spec/algorithms.md §7): neighbourhood flatness,
/// accuracy-class distributions, whole-space summaries, monotone shortest paths, path profiles, barriers and endpoint
/// pairs. Each distinct architecture is scored at most once per analyzer (cached), so expensive scorers can be used.
/// For the whole NAS-Bench-201 space <see cref="Nb201Landscape"/> is much faster.
/// </summary>
/// <typeparam name="TGenotype">The genotype type.</typeparam>
public sealed class LandscapeAnalyzer<TGenotype> where TGenotype : notnull
{
    private readonly CachedScorer<TGenotype> _scorer;
    private readonly Dictionary<(TGenotype, int), IReadOnlyList<TGenotype>> _samples = [];
    private readonly Random _random;

    /// <summary>Creates an analyzer.</summary>
    /// <param name="space">The neighbourhood structure of the search space.</param>
    /// <param name="scorer">What to measure each architecture by (accuracy, loss, …).</param>
    /// <param name="options">Sampling and limits; defaults when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">The options are invalid, or the space cannot enumerate spheres and no <see cref="LandscapeOptions.SampleCount"/> is set.</exception>
    public LandscapeAnalyzer(INeighborhoodSpace<TGenotype> space, IArchitectureScorer<TGenotype> scorer, LandscapeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(scorer);
        options ??= new LandscapeOptions();
        options.Validate();
        if (!space.CanEnumerate && options.SampleCount is null)
            throw new ArgumentException(
                $"Space '{space.Name}' cannot enumerate its neighbourhoods; set LandscapeOptions.SampleCount (e.g. 30) to sample them.", nameof(options));
        Space = space;
        Options = options;
        _scorer = scorer as CachedScorer<TGenotype> ?? new CachedScorer<TGenotype>(scorer, null);
        _random = new Random(options.Seed);
    }

    /// <summary>The neighbourhood structure.</summary>
    public INeighborhoodSpace<TGenotype> Space { get; }

    /// <summary>The scorer (cached).</summary>
    public IArchitectureScorer<TGenotype> Scorer => _scorer;

    /// <summary>The options in use.</summary>
    public LandscapeOptions Options { get; }

    /// <summary>How many distinct architectures have been scored so far.</summary>
    public int EvaluatedCount => _scorer.Count;

    /// <summary>The (cached) score of <paramref name="genotype"/>.</summary>
    public double Score(TGenotype genotype) => _scorer.Score(genotype);

    /// <summary>
    /// The neighbours used at radius <paramref name="radius"/>: the whole sphere S_r, or (with
    /// <see cref="LandscapeOptions.SampleCount"/>) a random sample of it, drawn once per centre and radius and
    /// then reused.
    /// </summary>
    public IReadOnlyList<TGenotype> Neighbors(TGenotype center, int radius)
    {
        ArgumentNullException.ThrowIfNull(center);
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        if (Options.SampleCount is not { } count) return Space.Sphere(center, radius).ToList();
        lock (_samples)
        {
            if (!_samples.TryGetValue((center, radius), out var sample))
            {
                sample = Space.SampleSphere(center, radius, count, _random);
                _samples[(center, radius)] = sample;
            }
            return sample;
        }
    }

    /// <summary>Flatness of <paramref name="center"/> at radius <paramref name="radius"/>: neighbour mean/std/min/max, gap and all neighbour scores.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="radius"/> is negative.</exception>
    public FlatnessResult<TGenotype> Flatness(TGenotype center, int radius)
    {
        var neighbors = Neighbors(center, radius);
        var scores = new double[neighbors.Count];
        for (int i = 0; i < scores.Length; i++) scores[i] = Score(neighbors[i]);
        return new FlatnessResult<TGenotype>(center, radius, Score(center), neighbors, scores, Options.SampleCount is not null);
    }

    /// <summary>
    /// The pooled neighbour scores at radius <paramref name="radius"/> of every architecture in
    /// <paramref name="architectures"/> whose score lies in <paramref name="accuracyClass"/>.
    /// </summary>
    public ClassNeighborDistribution ClassNeighborDistribution(IEnumerable<TGenotype> architectures, AccuracyClass accuracyClass, int radius)
    {
        ArgumentNullException.ThrowIfNull(architectures);
        ArgumentNullException.ThrowIfNull(accuracyClass);
        var pooled = new List<double>();
        int members = 0;
        foreach (var g in architectures)
        {
            if (!accuracyClass.Contains(Score(g))) continue;
            members++;
            foreach (var n in Neighbors(g, radius)) pooled.Add(Score(n));
        }
        return new ClassNeighborDistribution(accuracyClass, radius, members, [.. pooled]);
    }

    /// <summary>Whole-space summary over <paramref name="architectures"/> at radius <paramref name="radius"/> (see <see cref="FlatRegionOptions"/> for "flat region").</summary>
    public LandscapeSummary Summarize(IEnumerable<TGenotype> architectures, int radius, FlatRegionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(architectures);
        options ??= new FlatRegionOptions();
        options.Validate();
        var list = architectures.ToList();
        var scores = new double[list.Count];
        var means = new double[list.Count];
        for (int i = 0; i < list.Count; i++)
        {
            var f = Flatness(list[i], radius);
            scores[i] = f.CenterScore;
            means[i] = f.NeighborMean;
        }
        return LandscapeSummary.Build(radius, scores, means, options);
    }

    /// <summary>
    /// All monotone shortest paths from <paramref name="a"/> to <paramref name="b"/> (each step sets one
    /// still-differing edge to <paramref name="b"/>'s choice), endpoints included: k! paths for distance k.
    /// </summary>
    /// <exception cref="ArgumentException">The distance exceeds <see cref="LandscapeOptions.MaxPathListDistance"/>.</exception>
    public IReadOnlyList<IReadOnlyList<TGenotype>> ShortestPaths(TGenotype a, TGenotype b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int k = Space.Distance(a, b);
        if (k > Options.MaxPathListDistance)
            throw new ArgumentException(
                $"The architectures are {k} apart: listing all {k}! paths exceeds LandscapeOptions.MaxPathListDistance = {Options.MaxPathListDistance}; use PathProfile, which works level by level.", nameof(b));
        var paths = new List<IReadOnlyList<TGenotype>>();
        var current = new List<TGenotype> { a };
        void Extend(TGenotype g)
        {
            if (current.Count == k + 1)
            {
                paths.Add(current.ToArray());
                return;
            }
            foreach (var next in Space.StepsToward(g, b))
            {
                current.Add(next);
                Extend(next);
                current.RemoveAt(current.Count - 1);
            }
        }
        Extend(a);
        return paths;
    }

    /// <summary>The score profile along all monotone shortest paths from <paramref name="a"/> to <paramref name="b"/>, over the distinct architectures of each level.</summary>
    public PathProfile<TGenotype> PathProfile(TGenotype a, TGenotype b)
    {
        var levels = Levels(a, b);
        var result = new List<PathLevel<TGenotype>>(levels.Count);
        for (int l = 0; l < levels.Count; l++)
        {
            var scores = levels[l].Select(Score).ToArray();
            result.Add(new PathLevel<TGenotype>(l, levels[l], scores));
        }
        long paths = 1;
        for (int i = 2; i < levels.Count; i++) paths = checked(paths * i);
        return new PathProfile<TGenotype>(a, b, paths, result);
    }

    /// <summary>
    /// The accuracy barrier <c>½(s(a) + s(b)) − min s(c)</c> (or, for <see cref="BarrierKind.Loss"/>,
    /// <c>max s(c) − ½(s(a) + s(b))</c>) over the intermediate architectures c of all monotone shortest paths,
    /// rounded to 2 decimals.
    /// </summary>
    /// <exception cref="ArgumentException">The endpoints are less than 2 apart (no intermediate architectures).</exception>
    public BarrierResult<TGenotype> Barrier(TGenotype a, TGenotype b, BarrierKind kind = BarrierKind.Accuracy) =>
        Barriers([(a, b)], new BarrierOptions { Kind = kind })[0];

    /// <summary>
    /// Barriers of a list of pairs, in order. With <see cref="BarrierOptions.LeakRunningMinimum"/> the running
    /// extreme is shared across the list.
    /// </summary>
    public IReadOnlyList<BarrierResult<TGenotype>> Barriers(IEnumerable<(TGenotype A, TGenotype B)> pairs, BarrierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        options ??= new BarrierOptions();
        options.Validate();
        bool accuracy = options.Kind == BarrierKind.Accuracy;
        double running = accuracy ? double.PositiveInfinity : double.NegativeInfinity;
        var results = new List<BarrierResult<TGenotype>>();
        foreach (var (a, b) in pairs)
        {
            var levels = Levels(a, b);
            if (levels.Count < 3)
                throw new ArgumentException(
                    $"A barrier needs endpoints at least 2 apart (so that paths have intermediate architectures); '{a}' and '{b}' are {levels.Count - 1} apart.", nameof(pairs));
            double extreme = accuracy ? double.PositiveInfinity : double.NegativeInfinity;
            TGenotype extremeArch = levels[1][0];
            for (int l = 1; l < levels.Count - 1; l++)
            {
                foreach (var c in levels[l])
                {
                    double s = Score(c);
                    if (accuracy ? s < extreme : s > extreme)
                    {
                        extreme = s;
                        extremeArch = c;
                    }
                }
            }
            running = accuracy ? Math.Min(running, extreme) : Math.Max(running, extreme);
            double reference = options.LeakRunningMinimum ? running : extreme;
            results.Add(new BarrierResult<TGenotype>(a, b, options.Kind, Score(a), Score(b), extreme, extremeArch, reference, options.Decimals));
        }
        return results;
    }

    /// <summary>
    /// The first candidate (in order) whose score lies strictly inside (<paramref name="lower"/>, <paramref name="upper"/>)
    /// paired with the first member of its sphere of radius <paramref name="distance"/> (space's order) whose score is
    /// within <paramref name="tolerance"/> of it; <see langword="null"/> when there is none.
    /// </summary>
    public EndpointPair<TGenotype>? FindEndpointPair(IEnumerable<TGenotype> candidates, double lower, double upper, int distance = 3, double tolerance = 1.0)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfNegative(distance);
        if (double.IsNaN(tolerance) || tolerance < 0) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "The tolerance must be ≥ 0.");
        foreach (var a in candidates)
        {
            double sa = Score(a);
            if (!(sa > lower && sa < upper)) continue;
            foreach (var b in Neighbors(a, distance))
            {
                double sb = Score(b);
                if (Math.Abs(sa - sb) <= tolerance) return new EndpointPair<TGenotype>(a, b, sa, sb);
            }
        }
        return null;
    }

    /// <summary>Distinct architectures per level 0..k of the monotone shortest paths.</summary>
    private List<List<TGenotype>> Levels(TGenotype a, TGenotype b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int k = Space.Distance(a, b);
        var levels = new List<List<TGenotype>>(k + 1) { new() { a } };
        for (int l = 1; l <= k; l++)
        {
            var seen = new HashSet<TGenotype>();
            var next = new List<TGenotype>();
            foreach (var g in levels[l - 1])
            {
                foreach (var s in Space.StepsToward(g, b))
                {
                    if (seen.Add(s)) next.Add(s);
                }
            }
            levels.Add(next);
        }
        return levels;
    }
}
