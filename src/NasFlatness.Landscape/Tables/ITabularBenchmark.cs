namespace NasFlatness.Landscape;

/// <summary>
/// A tabular NAS benchmark: a fixed set of architectures with precomputed metrics per dataset
/// (architecture → number for each <see cref="BenchmarkMetric"/>). Implement it to plug another table into
/// the landscape tools; <see cref="Nb201Table"/> is the built-in one.
/// </summary>
/// <typeparam name="TGenotype">The genotype type of the benchmark's search space.</typeparam>
public interface ITabularBenchmark<TGenotype> where TGenotype : notnull
{
    /// <summary>Human-readable name of the benchmark, e.g. <c>NAS-Bench-201</c>.</summary>
    string Name { get; }

    /// <summary>Number of architectures in the table.</summary>
    int Count { get; }

    /// <summary>The metrics this table holds for every architecture.</summary>
    IReadOnlyList<BenchmarkMetric> Metrics { get; }

    /// <summary>All architectures of the table, in the benchmark's own order.</summary>
    IEnumerable<TGenotype> Architectures { get; }

    /// <summary>Looks up one metric of one architecture.</summary>
    /// <returns><see langword="false"/> when the architecture is not in the table or the table lacks the metric.</returns>
    bool TryGetValue(TGenotype genotype, BenchmarkMetric metric, out double value);

    /// <summary>Looks up one metric of one architecture.</summary>
    /// <exception cref="KeyNotFoundException">The architecture is not in the table.</exception>
    /// <exception cref="ArgumentException">The table does not hold <paramref name="metric"/>.</exception>
    double GetValue(TGenotype genotype, BenchmarkMetric metric);
}
