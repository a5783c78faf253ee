using NasFlatness.Genotypes;
using NasFlatness.MultiObjective;
using NasFlatness.MultiObjective.FlatNas;
using NasFlatness.MultiObjective.Nachos;
using NasFlatness.SearchSpaces.Nb201;

namespace NasFlatness.MultiObjective.Tests;

/// <summary>The <c>flatnas</c> preset (<see cref="FlatNasSearch"/>) with the table-based evaluator on the real NB201 table.</summary>
public sealed class FlatNasSearchTests
{
    private const double Limit = 0.4; // M parameters

    private sealed class SyncProgress(Action<ParetoSearchProgress> report) : IProgress<ParetoSearchProgress>
    {
        public void Report(ParetoSearchProgress value) => report(value);
    }

    /// <summary>Counts evaluations of the wrapped evaluator.</summary>
    private sealed class Counting(IMultiObjectiveEvaluator<Nb201Genotype> inner) : IMultiObjectiveEvaluator<Nb201Genotype>
    {
        public int Calls { get; private set; }

        public IReadOnlyList<string> MetricNames => inner.MetricNames;

        public IReadOnlyList<double> Evaluate(Nb201Genotype candidate, CancellationToken cancellationToken)
        {
            Calls++;
            return inner.Evaluate(candidate, cancellationToken);
        }
    }

    private static FlatNasSearchOptions Options(int seed, int budget = 60, string? checkpoint = null) => new()
    {
        ParameterLimit = Limit,
        Search = new ParetoSearchOptions
        {
            InitialSamples = 20, EvaluationsPerIteration = 8, PopulationSize = 20, MaxIterations = 100, Patience = 100,
            Budget = budget, Seed = seed, CheckpointDirectory = checkpoint,
        },
    };

    [Fact]
    public void TableEvaluatorReportsTableErrorExactParametersAndTheNeighbourhoodProxy()
    {
        var evaluator = new Nb201TableFlatNasEvaluator();
        var cell = Nb201Table.Embedded[13987].Genotype; // best under 0.4 M: 93.60 %, 372,346 parameters
        var metrics = evaluator.Evaluate(cell, CancellationToken.None);
        Assert.Equal(100 - Nb201Table.Embedded[13987].Cifar10TestAccuracy, metrics[FlatNasMetrics.Error], 12);
        Assert.Equal(6.40, metrics[FlatNasMetrics.Error], 2);
        Assert.Equal(0.372346, metrics[FlatNasMetrics.Parameters], 12);
        // Independent: the 24 neighbours from the search space, accuracies from the table's records.
        var neighbours = new Nb201SearchSpace().Neighbors(cell).Cast<Nb201Genotype>().ToArray();
        Assert.Equal(24, neighbours.Length);
        double own = Nb201Table.Embedded.Get(cell).Cifar10TestAccuracy;
        double expected = neighbours.Average(n => Math.Abs(own - Nb201Table.Embedded.Get(n).Cifar10TestAccuracy));
        Assert.Equal(expected, metrics[FlatNasMetrics.Robustness], 9);
        Assert.True(expected > 0);
    }

    [Fact]
    public void FrontIsFeasibleAndTheArchiveIsRescoredWithAlphaNorm()
    {
        var result = FlatNasSearch.Create(new Nb201TableFlatNasEvaluator(), Options(seed: 3)).Run();
        Assert.Equal(60, result.Evaluations);
        Assert.Contains(result.Archive, e => e.Metrics[FlatNasMetrics.Parameters] <= Limit);
        Assert.NotEmpty(result.Front);
        Assert.All(result.Front, e => Assert.True(e.IsFeasible && e.Metrics[FlatNasMetrics.Parameters] <= Limit));
        // Every entry, the design of experiments included (scored when the archive was smaller), carries the score under the final
        // archive's α_norm = mean(err) / mean(R), computed here independently.
        double alphaNorm = result.Archive.Average(e => e.Metrics[0]) / result.Archive.Average(e => e.Metrics[1]);
        Assert.All(result.Archive, e => Assert.Equal(0.5 * e.Metrics[0] + alphaNorm * 0.5 * e.Metrics[1], e.Objectives[0], 9));
        // The DOE alone gives a different α_norm, so re-scoring really changed the values.
        var doe = result.Archive.Where(e => e.Iteration == 0).ToArray();
        double doeAlphaNorm = doe.Average(e => e.Metrics[0]) / doe.Average(e => e.Metrics[1]);
        Assert.NotEqual(doeAlphaNorm, alphaNorm, 6);
        // Infeasible entries carry the 1e10 penalty; feasible ones their parameter count.
        Assert.All(result.Archive, e => Assert.Equal(
            e.Metrics[2] + 1e10 * Math.Max(0, e.Metrics[2] - Limit), e.Objectives[1], 1e-6 * Math.Max(1, e.Objectives[1])));
    }

    [Fact]
    public void AlphaNormIsRecomputedEachIteration()
    {
        // The objective as the preset builds it, driven by the search: record its α_norm after every iteration.
        var options = Options(seed: 4);
        var objectives = FlatNasSearch.Objectives(options);
        var robust = Assert.IsType<RobustTop1Objective>(objectives[0]);
        var search = options.Search.Clone();
        search.HypervolumeReference = [100, Limit];
        var seen = new List<(int Evaluations, double AlphaNorm)>();
        var result = new ParetoSearch<Nb201Genotype>(new Nb201CandidateEncoding(), new Nb201TableFlatNasEvaluator(), objectives, search)
            .Run(new SyncProgress(p => seen.Add((p.Evaluations, robust.AlphaNorm))));
        Assert.Equal([20, 28, 36, 44, 52, 60], seen.Select(s => s.Evaluations));
        // After each iteration α_norm is that of the archive so far (its first n entries), computed independently.
        foreach (var (n, alphaNorm) in seen)
        {
            var prefix = result.Archive.Take(n).ToArray();
            Assert.Equal(prefix.Average(e => e.Metrics[0]) / prefix.Average(e => e.Metrics[1]), alphaNorm, 9);
        }
        Assert.True(seen.Select(s => s.AlphaNorm).Distinct().Count() > 1);
    }

    [Fact]
    public void CancelledSearchResumesToTheSameArchive()
    {
        string folder = Path.Combine(Path.GetTempPath(), "nasflatness-flatnas-" + Guid.NewGuid().ToString("N"));
        try
        {
            var uninterrupted = FlatNasSearch.Create(new Nb201TableFlatNasEvaluator(), Options(seed: 9, budget: 68)).Run();
            var options = Options(seed: 9, budget: 68, checkpoint: folder);
            using var cts = new CancellationTokenSource();
            var progress = new SyncProgress(p =>
            {
                if (p.Iteration == 2) cts.Cancel();
            });
            Assert.ThrowsAny<OperationCanceledException>(() => FlatNasSearch.Create(new Nb201TableFlatNasEvaluator(), options).Run(progress, cts.Token));
            var counting = new Counting(new Nb201TableFlatNasEvaluator());
            var resumed = FlatNasSearch.Create(counting, options).Run(); // resumes from the checkpoint
            Assert.Equal(uninterrupted.Archive.Select(e => e.Key), resumed.Archive.Select(e => e.Key));
            Assert.Equal(uninterrupted.Archive.SelectMany(e => e.Metrics), resumed.Archive.SelectMany(e => e.Metrics));
            Assert.Equal(uninterrupted.Archive.SelectMany(e => e.Objectives), resumed.Archive.SelectMany(e => e.Objectives));
            Assert.Equal(uninterrupted.HypervolumeHistory, resumed.HypervolumeHistory);
            Assert.Equal(uninterrupted.Front.Select(e => e.Key), resumed.Front.Select(e => e.Key));
            Assert.Equal(68 - (20 + 2 * 8), counting.Calls);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void InvalidOptionsAndEvaluatorsAreRefusedBeforeSearching()
    {
        var bad = new FlatNasSearchOptions { Alpha = 1.5, ParameterLimit = 0 };
        var errors = bad.Validate();
        Assert.Contains(errors, e => e.Contains("Alpha", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("ParameterLimit", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => FlatNasSearch.Create(new Nb201TableFlatNasEvaluator(), bad));
        var twoMetrics = new TwoMetrics();
        var error = Assert.Throws<ArgumentException>(() => FlatNasSearch.Create(twoMetrics, Options(seed: 0)));
        Assert.Contains("FlatNasMetrics", error.Message);
        Assert.Equal([100, Limit], FlatNasSearch.Create(new Nb201TableFlatNasEvaluator(), Options(seed: 0)).Options.HypervolumeReference!);
    }

    private sealed class TwoMetrics : IMultiObjectiveEvaluator<Nb201Genotype>
    {
        public IReadOnlyList<string> MetricNames { get; } = ["a", "b"];

        public IReadOnlyList<double> Evaluate(Nb201Genotype candidate, CancellationToken cancellationToken) => [0, 0];
    }
}
