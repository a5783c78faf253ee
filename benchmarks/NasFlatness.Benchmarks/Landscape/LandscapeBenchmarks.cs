using BenchmarkDotNet.Attributes;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;

namespace NasFlatness.Benchmarks.Landscape;

/// <summary>Whole-space NAS-Bench-201 flatness (all 15,625 architectures) and the per-architecture and path metrics.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class LandscapeBenchmarks
{
    private Nb201Landscape _landscape = null!;
    private Nb201Genotype _best = null!;
    private Nb201Genotype _partner = null!;

    [GlobalSetup]
    public void Setup()
    {
        var table = Nb201Table.Embedded;
        _landscape = Nb201Landscape.FromTable(table, Nb201Metrics.Cifar10TestAccuracy);
        _best = table.GenotypeAt(81);
        _partner = table.GenotypeAt(1459);
    }

    /// <summary>Mean/std/min/max/gap of S_r for every architecture.</summary>
    [Benchmark]
    [Arguments(1)]
    [Arguments(2)]
    [Arguments(3)]
    public SpaceFlatness WholeSpaceFlatness(int radius) => _landscape.ComputeSpaceFlatness(radius);

    /// <summary>Whole-space summary (flatness pass + Spearman + flat-region counts).</summary>
    [Benchmark]
    [Arguments(1)]
    public LandscapeSummary Summary(int radius) => _landscape.Summarize(radius);

    /// <summary>Flatness of one architecture at radius 3 (1,280 neighbours, with genotype objects).</summary>
    [Benchmark]
    public FlatnessResult<Nb201Genotype> SingleArchitectureR3() => _landscape.Flatness(_best, 3);

    /// <summary>Path profile and barrier of one distance-3 pair.</summary>
    [Benchmark]
    public double PathBarrier() => _landscape.Analyzer.Barrier(_best, _partner).Value + _landscape.Analyzer.PathProfile(_best, _partner).Means[1];
}

/// <summary>Loading the embedded NAS-Bench-201 table (gzip + parse, 15,625 rows).</summary>
[MemoryDiagnoser]
[MedianColumn]
public class LandscapeTableLoadBenchmarks
{
    [Benchmark]
    public int LoadEmbeddedTable() => Nb201TableReader.ReadEmbedded().Count;
}
