using NasFlatness.Genotypes;
using NasFlatness.MultiObjective;
using NasFlatness.MultiObjective.FlatNas;
using NasFlatness.MultiObjective.Nachos;
using NasFlatness.SearchSpaces.Nb201;
using Xunit.Abstractions;

namespace NasFlatness.MultiObjective.Tests;

/// <summary>
/// The optional surrogate of <see cref="ParetoSearch{T}"/> (<see cref="ParetoSearchOptions.Surrogate"/>, ML.NET
/// <see cref="TreeEnsembleSurrogate"/>) on the NB201 table: its predictions against the table, the surrogate-assisted FlatNAS
/// search against the plain one at the same budget, reproducibility and resume.
/// </summary>
public sealed class SurrogateSearchTests(ITestOutputHelper output)
{
    private const double Limit = 0.4; // M parameters

    private static FlatNasSearchOptions Options(int seed, IObjectiveSurrogate? surrogate, int budget = 60, string? checkpoint = null) => new()
    {
        ParameterLimit = Limit,
        Search = new ParetoSearchOptions
        {
            InitialSamples = 20, EvaluationsPerIteration = 8, PopulationSize = 20, MaxIterations = 100, Patience = 100,
            Budget = budget, Seed = seed, CheckpointDirectory = checkpoint, Surrogate = surrogate,
        },
    };

    /// <summary>Spearman's ρ with average ranks for ties, computed here.</summary>
    private static double Spearman(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        static double[] Ranks(IReadOnlyList<double> x)
        {
            var order = Enumerable.Range(0, x.Count).OrderBy(i => x[i]).ToArray();
            var ranks = new double[x.Count];
            for (int i = 0; i < order.Length;)
            {
                int j = i;
                while (j + 1 < order.Length && x[order[j + 1]] == x[order[i]]) j++;
                for (int k = i; k <= j; k++) ranks[order[k]] = (i + j) / 2.0;
                i = j + 1;
            }
            return ranks;
        }
        var (ra, rb) = (Ranks(a), Ranks(b));
        double ma = ra.Average(), mb = rb.Average();
        double cov = ra.Zip(rb, (x, y) => (x - ma) * (y - mb)).Sum();
        return cov / Math.Sqrt(ra.Sum(x => (x - ma) * (x - ma)) * rb.Sum(y => (y - mb) * (y - mb)));
    }

    [Theory]
    [InlineData(TreeEnsembleKind.BoostedTrees)]
    [InlineData(TreeEnsembleKind.RandomForest)]
    public void PredictionsRankHeldOutCellsLikeTheTable(TreeEnsembleKind kind)
    {
        // 100 random cells to fit (the size of an archive after a few iterations), 1,000 other random cells held out.
        var random = new Random(7);
        var codes = Enumerable.Range(0, Nb201Table.Embedded.Count).OrderBy(_ => random.Next()).Take(1100).ToArray();
        var encoding = new Nb201CandidateEncoding();
        var evaluator = new Nb201TableFlatNasEvaluator();
        var cells = codes.Select(c => Nb201Table.Embedded[c].Genotype).ToArray();
        var error = cells.Select(c => evaluator.Evaluate(c, CancellationToken.None)[FlatNasMetrics.Error]).ToArray();
        var surrogate = new TreeEnsembleSurrogate(new TreeEnsembleSurrogateOptions { Kind = kind });
        surrogate.Fit([.. cells.Take(100).Select(encoding.Features)], [.. error.Take(100)], seed: 1);
        var predicted = cells.Skip(100).Select(c => surrogate.Predict(encoding.Features(c))).ToArray();
        double rho = Spearman(predicted, error.Skip(100).ToArray());
        output.WriteLine($"{surrogate.Name}: Spearman ρ on 1,000 held-out cells = {rho:F3}");
        Assert.True(rho > 0.6, $"Spearman ρ = {rho:F3}");

        // Reproducible: the same data and seed give the same predictions.
        var again = new TreeEnsembleSurrogate(new TreeEnsembleSurrogateOptions { Kind = kind });
        again.Fit([.. cells.Take(100).Select(encoding.Features)], [.. error.Take(100)], seed: 1);
        Assert.Equal(predicted, cells.Skip(100).Select(c => again.Predict(encoding.Features(c))));
    }

    [Fact]
    public void FeaturesAreTheOneHotOperationOfEveryEdge()
    {
        var cell = Nb201Table.Embedded[13987].Genotype;
        var features = new Nb201CandidateEncoding().Features(cell);
        Assert.Equal(30, features.Count);
        for (int e = 0; e < 6; e++)
            for (int o = 0; o < 5; o++)
                Assert.Equal(cell.Operations[e] == o ? 1.0 : 0.0, features[5 * e + o]);
    }

    /// <summary>Hypervolume of the feasible archive in (top1_robust with one fixed α_norm for both searches, parameters M).</summary>
    private static double CommonHypervolume(ParetoSearchResult<Nb201Genotype> result, double alphaNorm)
    {
        var points = result.Archive.Where(e => e.IsFeasible)
            .Select(e => (IReadOnlyList<double>)[0.5 * e.Metrics[0] + alphaNorm * 0.5 * e.Metrics[1], e.Metrics[2]]).ToArray();
        return Pareto.Hypervolume(points, [100, Limit]);
    }

    [Fact]
    public void SurrogateAssistedSearchReachesAtLeastThePlainHypervolumeOnAverage()
    {
        // One α_norm for both archives (that of the whole table), so their hypervolumes are on the same scale.
        var evaluator = new Nb201TableFlatNasEvaluator();
        var all = Enumerable.Range(0, Nb201Table.Embedded.Count).Select(c => evaluator.Evaluate(Nb201Table.Embedded[c].Genotype, CancellationToken.None)).ToArray();
        double alphaNorm = all.Average(m => m[0]) / all.Average(m => m[1]);
        var plain = new List<double>();
        var assisted = new List<double>();
        var plainOwn = new List<double>();
        var assistedOwn = new List<double>();
        for (int seed = 0; seed < 5; seed++)
        {
            var p = FlatNasSearch.Create(evaluator, Options(seed, null)).Run();
            var s = FlatNasSearch.Create(evaluator, Options(seed, new TreeEnsembleSurrogate())).Run();
            Assert.Equal(60, p.Evaluations);
            Assert.Equal(60, s.Evaluations);
            plain.Add(CommonHypervolume(p, alphaNorm));
            assisted.Add(CommonHypervolume(s, alphaNorm));
            plainOwn.Add(p.HypervolumeHistory[^1]);
            assistedOwn.Add(s.HypervolumeHistory[^1]);
            output.WriteLine($"seed {seed}: HV plain {plain[^1]:F3} surrogate {assisted[^1]:F3} (own α_norm: {plainOwn[^1]:F3} / {assistedOwn[^1]:F3}); " +
                $"best feasible table error plain {p.Archive.Where(e => e.IsFeasible).Min(e => e.Metrics[0]):F2} surrogate {s.Archive.Where(e => e.IsFeasible).Min(e => e.Metrics[0]):F2}");
        }
        output.WriteLine($"mean HV plain {plain.Average():F3} surrogate {assisted.Average():F3}; own α_norm {plainOwn.Average():F3} / {assistedOwn.Average():F3}");
        Assert.True(assisted.Average() >= plain.Average(), $"surrogate {assisted.Average():F3} < plain {plain.Average():F3}");
    }

    [Fact]
    public void SameSeedGivesTheSameArchiveAndTheSurrogateChangesIt()
    {
        var evaluator = new Nb201TableFlatNasEvaluator();
        var a = FlatNasSearch.Create(evaluator, Options(5, new TreeEnsembleSurrogate(), budget: 44)).Run();
        var b = FlatNasSearch.Create(evaluator, Options(5, new TreeEnsembleSurrogate(), budget: 44)).Run();
        var plain = FlatNasSearch.Create(evaluator, Options(5, null, budget: 44)).Run();
        Assert.Equal(a.Archive.Select(e => e.Key), b.Archive.Select(e => e.Key));
        Assert.Equal(a.HypervolumeHistory, b.HypervolumeHistory);
        Assert.Equal(44, a.Archive.Select(e => e.Key).Distinct().Count());
        // The design of experiments is the same; the iterations propose other candidates.
        Assert.Equal(plain.Archive.Take(20).Select(e => e.Key), a.Archive.Take(20).Select(e => e.Key));
        Assert.NotEqual(plain.Archive.Skip(20).Select(e => e.Key), a.Archive.Skip(20).Select(e => e.Key));
    }

    [Fact]
    public void CancelledSurrogateSearchResumesToTheSameArchive()
    {
        string folder = Path.Combine(Path.GetTempPath(), "nasflatness-surrogate-" + Guid.NewGuid().ToString("N"));
        try
        {
            var evaluator = new Nb201TableFlatNasEvaluator();
            var uninterrupted = FlatNasSearch.Create(evaluator, Options(9, new TreeEnsembleSurrogate(), budget: 52)).Run();
            string path = Path.Combine(folder, "surrogate");
            using var cts = new CancellationTokenSource();
            var progress = new SyncProgress(p =>
            {
                if (p.Iteration == 2) cts.Cancel();
            });
            Assert.ThrowsAny<OperationCanceledException>(() => FlatNasSearch.Create(evaluator, Options(9, new TreeEnsembleSurrogate(), 52, path)).Run(progress, cts.Token));
            Assert.Contains("\"surrogate\": \"fasttree(", File.ReadAllText(Path.Combine(path, ParetoSearchOptions.CheckpointFileName)));
            // A fresh surrogate instance: it is refit from the archive.
            var resumed = FlatNasSearch.Create(evaluator, Options(9, new TreeEnsembleSurrogate(), 52, path)).Run(); // resumes from the checkpoint
            Assert.Equal(uninterrupted.Archive.Select(e => e.Key), resumed.Archive.Select(e => e.Key));
            Assert.Equal(uninterrupted.Archive.SelectMany(e => e.Objectives), resumed.Archive.SelectMany(e => e.Objectives));
            Assert.Equal(uninterrupted.HypervolumeHistory, resumed.HypervolumeHistory);

            // The checkpoint of a surrogate search is refused by a search without one (and by another surrogate).
            var ex = Assert.Throws<InvalidOperationException>(() => FlatNasSearch.Create(evaluator, Options(9, null, 60, path)).Run());
            Assert.Contains("Surrogate is none but the checkpoint has fasttree(", ex.Message);
            var forest = new TreeEnsembleSurrogate(new TreeEnsembleSurrogateOptions { Kind = TreeEnsembleKind.RandomForest });
            Assert.Throws<InvalidOperationException>(() => FlatNasSearch.Create(evaluator, Options(9, forest, 60, path)).Run());

            // Without a surrogate the checkpoint has no surrogate field (written as before the option existed).
            string plainPath = Path.Combine(folder, "plain");
            FlatNasSearch.Create(evaluator, Options(9, null, 28, plainPath)).Run();
            Assert.DoesNotContain("surrogate", File.ReadAllText(Path.Combine(plainPath, ParetoSearchOptions.CheckpointFileName)), StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    private sealed class NoCheapMetrics : IMultiObjectiveEvaluator<Nb201Genotype>
    {
        public IReadOnlyList<string> MetricNames => FlatNasMetrics.Names;

        public IReadOnlyList<double> Evaluate(Nb201Genotype candidate, CancellationToken cancellationToken) => [1, 1, 0.1];
    }

    [Fact]
    public void InvalidSurrogateSettingsAreRefusedBeforeSearching()
    {
        var ex = Assert.Throws<ArgumentException>(() => FlatNasSearch.Create(new NoCheapMetrics(), Options(1, new TreeEnsembleSurrogate())));
        Assert.Contains("does not implement ICheapMetricsEvaluator", ex.Message);
        var options = Options(1, new TreeEnsembleSurrogate());
        options.Search.SurrogateGenerations = 0;
        Assert.Contains(options.Search.Validate(), e => e.StartsWith("SurrogateGenerations = 0 is invalid", StringComparison.Ordinal));
        var bad = Assert.Throws<ArgumentException>(() => new TreeEnsembleSurrogate(new TreeEnsembleSurrogateOptions { Trees = 0, Leaves = 1 }));
        Assert.Contains("Trees = 0 is invalid", bad.Message);
        Assert.Contains("Leaves = 1 is invalid", bad.Message);
        Assert.Throws<InvalidOperationException>(() => new TreeEnsembleSurrogate().Predict(new double[30]));
    }

    private sealed class SyncProgress(Action<ParetoSearchProgress> report) : IProgress<ParetoSearchProgress>
    {
        public void Report(ParetoSearchProgress value) => report(value);
    }
}
