namespace NasFlatness.Landscape;

/// <summary>Factories for <see cref="IArchitectureScorer{TGenotype}"/>.</summary>
public static class ArchitectureScorer
{
    /// <summary>A scorer that calls <paramref name="score"/> (e.g. a surrogate, or training from scratch).</summary>
    /// <param name="score">The scoring function.</param>
    /// <param name="name">Description of the score.</param>
    public static IArchitectureScorer<TGenotype> FromFunction<TGenotype>(Func<TGenotype, double> score, string name = "function")
        where TGenotype : notnull
    {
        ArgumentNullException.ThrowIfNull(score);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new FunctionScorer<TGenotype>(score, name);
    }

    /// <summary>A scorer that reads <paramref name="metric"/> from any tabular benchmark.</summary>
    /// <exception cref="ArgumentException">The table does not hold <paramref name="metric"/>.</exception>
    public static IArchitectureScorer<TGenotype> FromTable<TGenotype>(ITabularBenchmark<TGenotype> table, BenchmarkMetric metric)
        where TGenotype : notnull
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(metric);
        if (!table.Metrics.Contains(metric))
            throw new ArgumentException($"Table '{table.Name}' has no metric '{metric}'; it holds {string.Join(", ", table.Metrics)}.", nameof(metric));
        return new FunctionScorer<TGenotype>(g => table.GetValue(g, metric), $"{table.Name} {metric}");
    }

    /// <summary>
    /// Wraps <paramref name="scorer"/> so each distinct architecture is scored once; later calls return the
    /// remembered value. Thread-safe.
    /// </summary>
    /// <param name="scorer">The (expensive) scorer.</param>
    /// <param name="comparer">How to recognise equal architectures; default equality when <see langword="null"/>.</param>
    public static IArchitectureScorer<TGenotype> Cached<TGenotype>(IArchitectureScorer<TGenotype> scorer, IEqualityComparer<TGenotype>? comparer = null)
        where TGenotype : notnull
    {
        ArgumentNullException.ThrowIfNull(scorer);
        return scorer as CachedScorer<TGenotype> ?? new CachedScorer<TGenotype>(scorer, comparer);
    }

    private sealed class FunctionScorer<TGenotype>(Func<TGenotype, double> score, string name) : IArchitectureScorer<TGenotype>
        where TGenotype : notnull
    {
        public string Name => name;

        public double Score(TGenotype genotype) => score(genotype);
    }
}

/// <summary>Remembers each architecture's score (see <see cref="ArchitectureScorer.Cached{TGenotype}"/>).</summary>
internal sealed class CachedScorer<TGenotype>(IArchitectureScorer<TGenotype> inner, IEqualityComparer<TGenotype>? comparer) : IArchitectureScorer<TGenotype>
    where TGenotype : notnull
{
    private readonly Dictionary<TGenotype, double> _cache = new(comparer);
    private readonly Lock _lock = new();

    public string Name => inner.Name;

    public int Count
    {
        get
        {
            lock (_lock) return _cache.Count;
        }
    }

    public double Score(TGenotype genotype)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        lock (_lock)
        {
            if (_cache.TryGetValue(genotype, out double cached)) return cached;
        }
        double value = inner.Score(genotype);
        lock (_lock)
        {
            _cache.TryAdd(genotype, value);
            return _cache[genotype];
        }
    }
}
