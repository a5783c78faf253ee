using NasFlatness.Genotypes;
using NasFlatness.MultiObjective;
using NasFlatness.MultiObjective.FlatNas;
using NasFlatness.MultiObjective.Nachos;
using NasFlatness.SearchSpaces.Nb201;
using Xunit.Abstractions;

namespace NasFlatness.MultiObjective.Tests;

/// <summary>
/// <see cref="ParetoSearch{T}"/> on the real NAS-Bench-201 table: objectives CIFAR-10 test error (%, from the table) and
/// parameters (M, from <see cref="Nb201ResourceModel"/>, C = 16, N = 5) with a 0.4 M limit as a penalty constraint.
/// </summary>
public sealed class ParetoSearchTests(ITestOutputHelper output)
{
    private const double ParameterLimit = 0.4; // M
    private static readonly Nb201ResourceModel Resources = new();

    /// <summary>Metrics: [CIFAR-10 test error in %, parameters in M]; counts calls.</summary>
    private sealed class TableEvaluator : IMultiObjectiveEvaluator<Nb201Genotype>
    {
        private readonly double[] _errorByCode = Nb201Table.Embedded.ValuesByCode(Nb201Metrics.Cifar10TestAccuracy).Select(a => 100 - a).ToArray();

        public IReadOnlyList<string> MetricNames { get; } = ["cifar10 test error %", "parameters M"];

        public List<string> Calls { get; } = [];

        public IReadOnlyList<double> Evaluate(Nb201Genotype candidate, CancellationToken cancellationToken)
        {
            Calls.Add(candidate.ToString());
            return [_errorByCode[candidate.Code], Resources.Parameters(candidate) / 1e6];
        }
    }

    /// <summary>Reports synchronously on the search's thread (unlike <see cref="Progress{T}"/>).</summary>
    private sealed class SyncProgress(Action<ParetoSearchProgress> report) : IProgress<ParetoSearchProgress>
    {
        public void Report(ParetoSearchProgress value) => report(value);
    }

    private static ISearchObjective[] Objectives() =>
        [new MetricObjective(0, "error %"), new PenaltyConstraint(1, ParameterLimit, name: "parameters M <= 0.4")];

    // The error reference is the worst possible (100 %); the parameter reference is the limit, so only feasible points count.
    private static readonly double[] Reference = [100, ParameterLimit];

    private static ParetoSearchOptions SmallSearch(int seed, int budget = 60) => new()
    {
        InitialSamples = 20,
        EvaluationsPerIteration = 8,
        PopulationSize = 20,
        MaxIterations = 100,
        Patience = 100,
        Budget = budget,
        HypervolumeReference = Reference,
        Seed = seed,
    };

    private static ParetoSearchOptions MediumSearch(int seed, int budget) => new()
    {
        InitialSamples = 30,
        EvaluationsPerIteration = 10,
        PopulationSize = 30,
        MaxIterations = 1000,
        Patience = 1000,
        Budget = budget,
        HypervolumeReference = Reference,
        Seed = seed,
    };

    private static ParetoSearchOptions RandomSearch(int seed, int budget = 60) => new()
    {
        InitialSamples = budget, // plain random search: the design of experiments is the whole budget
        Budget = budget,
        MaxIterations = 0,
        HypervolumeReference = Reference,
        Seed = seed,
    };

    private static ParetoSearch<Nb201Genotype> Search(ParetoSearchOptions options, TableEvaluator? evaluator = null) =>
        new(new Nb201CandidateEncoding(), evaluator ?? new TableEvaluator(), Objectives(), options);

    /// <summary>Hypervolume of the feasible (error, parameters) points of an archive, computed from the metrics.</summary>
    private static double FeasibleHypervolume(ParetoSearchResult<Nb201Genotype> result) =>
        Pareto.Hypervolume(result.Archive.Where(e => e.Metrics[1] <= ParameterLimit).Select(e => (IReadOnlyList<double>)[e.Metrics[0], e.Metrics[1]]).ToArray(), Reference);

    [Fact]
    public void OracleBestCellUnderTheLimitIsIndex13987()
    {
        // Exhaustive over the table: the best CIFAR-10 accuracy among cells with at most 0.4 M parameters.
        var table = Nb201Table.Embedded;
        var best = Enumerable.Range(0, table.Count)
            .Where(i => Resources.Parameters(table.GenotypeAt(i)) <= 400_000)
            .MaxBy(i => table.GetValue(i, Nb201Metrics.Cifar10TestAccuracy));
        Assert.Equal(13987, best);
        Assert.Equal(93.60, table.GetValue(best, Nb201Metrics.Cifar10TestAccuracy), 2);
        Assert.Equal(372_346, Resources.Parameters(table.GenotypeAt(best)));
    }

    [Fact]
    public void ReturnsOnlyFeasiblePointsAndNeverReevaluates()
    {
        var evaluator = new TableEvaluator();
        var result = Search(SmallSearch(seed: 3), evaluator).Run();
        Assert.Equal(60, result.Evaluations);
        Assert.Equal(ParetoSearchStopReason.Budget, result.StopReason);
        Assert.Equal(evaluator.Calls.Count, evaluator.Calls.Distinct().Count());
        Assert.Equal(result.Archive.Count, result.Archive.Select(e => e.Key).Distinct().Count());
        Assert.Contains(result.Archive, e => e.IsFeasible);
        Assert.Contains(result.Archive, e => !e.IsFeasible); // the random start has infeasible cells too
        Assert.NotEmpty(result.Front);
        Assert.All(result.Front, e =>
        {
            Assert.True(e.IsFeasible);
            Assert.True(e.Metrics[1] <= ParameterLimit);
        });
        // The front is mutually non-dominated and no feasible archive member dominates a front member.
        foreach (var f in result.Front)
            Assert.DoesNotContain(result.Archive, e => e.IsFeasible && Pareto.Dominates(e.Objectives, f.Objectives));
        Assert.Equal(result.Iterations + 1, result.HypervolumeHistory.Count);
        Assert.True(result.HypervolumeHistory[^1] >= result.HypervolumeHistory[0]);
    }

    [Fact]
    public void WithNoFeasibleCandidateTheFrontIsTheLeastPenalisedOnes()
    {
        var objectives = new ISearchObjective[] { new MetricObjective(0), new PenaltyConstraint(1, limit: 0.01) }; // below every NB201 network
        var options = SmallSearch(seed: 1, budget: 30);
        options.HypervolumeReference = [100, 0.01];
        var result = new ParetoSearch<Nb201Genotype>(new Nb201CandidateEncoding(), new TableEvaluator(), objectives, options).Run();
        Assert.All(result.Archive, e => Assert.False(e.IsFeasible));
        Assert.NotEmpty(result.Front);
        Assert.All(result.HypervolumeHistory, hv => Assert.Equal(0.0, hv));
    }

    /// <summary>
    /// NSGA-II against plain random search at an equal budget of 150 evaluations (NSGA-II: 30 random, then 12 iterations of
    /// 10; random search: 150 random cells), over 20 seeds. The comparison is paired: with the same seed both draw the same
    /// first 30 cells. Hypervolume of the feasible (error %, parameters M) points against (100, 0.4).
    /// Asserted: the mean over the seeds is higher for NSGA-II, with the CNAS penalty alone and with feasibility-first parents;
    /// feasibility-first also wins on at least 15 of the 20 seeds (penalty alone won 14 when this was written; not asserted).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BeatsRandomSearchInHypervolumeAtEqualBudget(bool feasibilityFirst)
    {
        const int Seeds = 20, Budget = 150;
        double sumSearch = 0, sumRandom = 0;
        int wins = 0;
        double bestFeasibleError = double.PositiveInfinity;
        string bestKey = "";
        for (int seed = 0; seed < Seeds; seed++)
        {
            var options = MediumSearch(seed, Budget);
            options.FeasibilityFirst = feasibilityFirst;
            var search = Search(options).Run();
            var random = Search(RandomSearch(seed, Budget)).Run();
            Assert.Equal(Budget, search.Evaluations);
            Assert.Equal(Budget, random.Evaluations);
            Assert.Equal(random.Archive.Take(30).Select(e => e.Key), search.Archive.Take(30).Select(e => e.Key)); // paired start
            Assert.All(search.Front, e => Assert.True(e.IsFeasible));
            double hvSearch = FeasibleHypervolume(search), hvRandom = FeasibleHypervolume(random);
            sumSearch += hvSearch;
            sumRandom += hvRandom;
            if (hvSearch > hvRandom) wins++;
            var best = search.Front.MinBy(e => e.Metrics[0])!;
            if (best.Metrics[0] < bestFeasibleError) (bestFeasibleError, bestKey) = (best.Metrics[0], best.Key);
            output.WriteLine($"seed {seed}: HV NSGA-II {hvSearch:F4}, random {hvRandom:F4}; best feasible error {best.Metrics[0]:F2} % " +
                             $"(random {random.Front.Min(e => e.Metrics[0]):F2} %)");
        }
        // The oracle: index 13987, 93.60 % accuracy (6.40 % error) with 372,346 parameters, is the best cell under 0.4 M.
        output.WriteLine($"feasibility first {feasibilityFirst}: mean HV NSGA-II {sumSearch / Seeds:F4}, random {sumRandom / Seeds:F4}; " +
                         $"wins {wins}/{Seeds}; best feasible error over the seeds {bestFeasibleError:F2} % ({bestKey}, index " +
                         $"{Nb201Table.Embedded.IndexOf(new Nb201CandidateEncoding().FromKey(bestKey))}) vs the oracle 6.40 % (index 13987)");
        Assert.True(sumSearch > sumRandom, $"mean HV {sumSearch / Seeds} vs random {sumRandom / Seeds}");
        if (feasibilityFirst) Assert.True(wins >= 15, $"NSGA-II won on {wins} of {Seeds} seeds");
        Assert.True(bestFeasibleError >= 100 - 93.5967 - 1e-9); // nothing beats the exhaustive oracle
    }

    /// <summary>
    /// NACHOS-style: (error %, MACs M) with the φ-adaptive penalty on MACs ≤ 50 M (best cell within it: index 4659, 93.40 %).
    /// Same budget and seeds as above; asserted: only feasible points are returned and the mean hypervolume of the feasible
    /// (error, MACs) points against (100, 50) beats random search.
    /// </summary>
    [Fact]
    public void AdaptivePenaltySearchOnMacsBeatsRandomSearch()
    {
        const int Seeds = 20, Budget = 150;
        const double MacLimit = 50; // M MACs
        double[] reference = [100, MacLimit];
        var evaluator = new MacEvaluator();
        double sumSearch = 0, sumRandom = 0;
        for (int seed = 0; seed < Seeds; seed++)
        {
            ISearchObjective[] objectives = [new MetricObjective(0, "error %"), new AdaptivePenaltyObjective(1, MacLimit)];
            var options = MediumSearch(seed, Budget);
            options.HypervolumeReference = reference;
            var search = new ParetoSearch<Nb201Genotype>(new Nb201CandidateEncoding(), evaluator, objectives, options).Run();
            var randomOptions = RandomSearch(seed, Budget);
            randomOptions.HypervolumeReference = reference;
            var random = new ParetoSearch<Nb201Genotype>(new Nb201CandidateEncoding(), evaluator, objectives, randomOptions).Run();
            Assert.All(search.Front, e => Assert.True(e.Metrics[1] <= MacLimit));
            double Hv(ParetoSearchResult<Nb201Genotype> r) =>
                Pareto.Hypervolume(r.Archive.Where(e => e.Metrics[1] <= MacLimit).Select(e => (IReadOnlyList<double>)[e.Metrics[0], e.Metrics[1]]).ToArray(), reference);
            sumSearch += Hv(search);
            sumRandom += Hv(random);
        }
        output.WriteLine($"adaptive penalty: mean HV NSGA-II {sumSearch / Seeds:F2}, random {sumRandom / Seeds:F2}");
        Assert.True(sumSearch > sumRandom, $"mean HV {sumSearch / Seeds} vs random {sumRandom / Seeds}");
    }

    /// <summary>Metrics: [CIFAR-10 test error in %, MACs in M].</summary>
    private sealed class MacEvaluator : IMultiObjectiveEvaluator<Nb201Genotype>
    {
        private readonly double[] _errorByCode = Nb201Table.Embedded.ValuesByCode(Nb201Metrics.Cifar10TestAccuracy).Select(a => 100 - a).ToArray();

        public IReadOnlyList<string> MetricNames { get; } = ["cifar10 test error %", "MACs M"];

        public IReadOnlyList<double> Evaluate(Nb201Genotype candidate, CancellationToken cancellationToken) =>
            [_errorByCode[candidate.Code], Resources.MultiplyAccumulates(candidate) / 1e6];
    }

    /// <summary>Metrics: [CIFAR-10 test error in %, a synthetic robustness R, parameters in M]. R is made up (the table has none):
    /// 0.5 per <c>skip_connect</c> edge plus 0.1 per <c>avg_pool_3x3</c> edge, plus 0.2.</summary>
    private sealed class FlatNasLiteEvaluator : IMultiObjectiveEvaluator<Nb201Genotype>
    {
        private readonly double[] _errorByCode = Nb201Table.Embedded.ValuesByCode(Nb201Metrics.Cifar10TestAccuracy).Select(a => 100 - a).ToArray();

        public IReadOnlyList<string> MetricNames { get; } = ["error %", "R", "parameters M"];

        public IReadOnlyList<double> Evaluate(Nb201Genotype candidate, CancellationToken cancellationToken) =>
            [_errorByCode[candidate.Code], 0.2 + 0.5 * candidate.Operations.Count(o => o == 1) + 0.1 * candidate.Operations.Count(o => o == 4),
             Resources.Parameters(candidate) / 1e6];
    }

    /// <summary>Records the population sizes it is prepared with.</summary>
    private sealed class SpyObjective : ISearchObjective
    {
        public List<int> Prepared { get; } = [];

        public string Name => "spy";

        public void Prepare(IReadOnlyList<IReadOnlyList<double>> population) => Prepared.Add(population.Count);

        public double Value(IReadOnlyList<double> metrics) => 0;
    }

    [Fact]
    public void FlatNasLiteRescoresTheArchiveWithAlphaNormEveryIteration()
    {
        var robust = new RobustTop1Objective(errorIndex: 0, robustnessIndex: 1, alpha: 0.5);
        var spy = new SpyObjective();
        ISearchObjective[] objectives = [robust, new TinyMlObjective(new PenaltyConstraint(2, ParameterLimit)), spy];
        var options = SmallSearch(seed: 5);
        options.HypervolumeReference = [100, ParameterLimit, 1];
        var result = new ParetoSearch<Nb201Genotype>(new Nb201CandidateEncoding(), new FlatNasLiteEvaluator(), objectives, options).Run();

        // Prepared with the whole archive: after the design of experiments (20), then per iteration before breeding and after
        // evaluating (20, 28, 28, 36, ...), and once more for the result.
        Assert.Equal([20, 20, 28, 28, 36, 36, 44, 44, 52, 52, 60, 60], spy.Prepared);
        // The result is scored with α_norm = mean(err) / mean(R) over the final archive, computed here independently.
        double alphaNorm = result.Archive.Average(e => e.Metrics[0]) / result.Archive.Average(e => e.Metrics[1]);
        Assert.Equal(alphaNorm, robust.AlphaNorm, 12);
        Assert.All(result.Archive, e => Assert.Equal(0.5 * e.Metrics[0] + alphaNorm * 0.5 * e.Metrics[1], e.Objectives[0], 9));
        Assert.All(result.Front, e => Assert.True(e.Metrics[2] <= ParameterLimit));
    }

    [Fact]
    public void SameSeedGivesTheSameArchive()
    {
        var a = Search(SmallSearch(seed: 7)).Run();
        var b = Search(SmallSearch(seed: 7)).Run();
        Assert.Equal(a.Archive.Select(e => e.Key), b.Archive.Select(e => e.Key));
        var c = Search(SmallSearch(seed: 8)).Run();
        Assert.NotEqual(a.Archive.Select(e => e.Key), c.Archive.Select(e => e.Key));
    }

    [Fact]
    public void StopsAfterPatienceIterationsWithoutImprovement()
    {
        // A constant evaluator: the hypervolume never improves after the design of experiments.
        var constant = new ConstantEvaluator();
        var options = SmallSearch(seed: 2, budget: 1000);
        options.Patience = 3;
        var result = new ParetoSearch<Nb201Genotype>(new Nb201CandidateEncoding(), constant, Objectives(), options).Run();
        Assert.Equal(ParetoSearchStopReason.NoImprovement, result.StopReason);
        Assert.Equal(3, result.Iterations);
        Assert.Equal(20 + 3 * 8, result.Evaluations);
    }

    private sealed class ConstantEvaluator : IMultiObjectiveEvaluator<Nb201Genotype>
    {
        public IReadOnlyList<string> MetricNames { get; } = ["error", "params"];

        public IReadOnlyList<double> Evaluate(Nb201Genotype candidate, CancellationToken cancellationToken) => [10.0, 0.2];
    }

    [Fact]
    public void KilledSearchResumesToTheSameArchive()
    {
        string folder = Path.Combine(Path.GetTempPath(), "nasflatness-pareto-" + Guid.NewGuid().ToString("N"));
        try
        {
            var uninterrupted = Search(SmallSearch(seed: 11, budget: 84)).Run();
            Assert.Equal(8, uninterrupted.Iterations);

            var options = SmallSearch(seed: 11, budget: 84);
            options.CheckpointDirectory = folder;
            using var cts = new CancellationTokenSource();
            var reports = new List<ParetoSearchProgress>();
            var progress = new SyncProgress(p =>
            {
                reports.Add(p);
                if (p.Iteration == 3) cts.Cancel(); // "killed" after the checkpoint of iteration 3
            });
            Assert.ThrowsAny<OperationCanceledException>(() => Search(options).Run(progress, cts.Token));
            Assert.Equal([0, 1, 2, 3], reports.Select(r => r.Iteration));
            Assert.True(File.Exists(options.CheckpointFile));
            Assert.False(File.Exists(options.CheckpointFile + ".tmp"));

            var evaluator = new TableEvaluator();
            var resumed = Search(options, evaluator).Run(); // resumes from the checkpoint
            Assert.Equal(uninterrupted.Archive.Select(e => e.Key), resumed.Archive.Select(e => e.Key));
            Assert.Equal(uninterrupted.Archive.Select(e => e.Iteration), resumed.Archive.Select(e => e.Iteration));
            Assert.Equal(uninterrupted.Archive.SelectMany(e => e.Metrics), resumed.Archive.SelectMany(e => e.Metrics));
            Assert.Equal(uninterrupted.HypervolumeHistory, resumed.HypervolumeHistory);
            Assert.Equal(uninterrupted.Front.Select(e => e.Key), resumed.Front.Select(e => e.Key));
            Assert.Equal(84 - (20 + 3 * 8), evaluator.Calls.Count); // only the iterations after the checkpoint were evaluated

            // A checkpoint of another search is refused.
            var other = SmallSearch(seed: 12, budget: 84);
            other.CheckpointDirectory = options.CheckpointDirectory;
            var error = Assert.Throws<InvalidOperationException>(() => Search(other).Run());
            Assert.Contains("Seed", error.Message);

            // ResumeFromCheckpoint = false starts over (same archive as a search without a checkpoint) and overwrites it.
            other.ResumeFromCheckpoint = false;
            var fresh = Search(other).Run();
            Assert.Equal(Search(SmallSearch(seed: 12, budget: 84)).Run().Archive.Select(e => e.Key), fresh.Archive.Select(e => e.Key));
            Assert.Contains("\"seed\": 12", File.ReadAllText(options.CheckpointFile!));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A non-NB201 space: the integers 0..9, to show the search is generic and stops when the space runs out.</summary>
    private sealed class DigitEncoding : ICandidateEncoding<int>
    {
        public int Sample(Random random) => random.Next(10);

        public int Crossover(int first, int second, Random random) => (first + second) / 2;

        public int Mutate(int candidate, Random random) => (candidate + 1 + random.Next(9)) % 10;

        public string Key(int candidate) => candidate.ToString(System.Globalization.CultureInfo.InvariantCulture);

        public int FromKey(string key) => int.Parse(key, System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed class DigitEvaluator : IMultiObjectiveEvaluator<int>
    {
        public IReadOnlyList<string> MetricNames { get; } = ["x", "9 - x"];

        public IReadOnlyList<double> Evaluate(int candidate, CancellationToken cancellationToken) => [candidate, 9 - candidate];
    }

    [Fact]
    public void GenericSearchStopsWhenTheSpaceIsExhausted()
    {
        var options = new ParetoSearchOptions { InitialSamples = 4, EvaluationsPerIteration = 3, PopulationSize = 4, Budget = 50, HypervolumeReference = [10, 10] };
        var result = new ParetoSearch<int>(new DigitEncoding(), new DigitEvaluator(), [new MetricObjective(0), new MetricObjective(1)], options).Run();
        Assert.Equal(ParetoSearchStopReason.SpaceExhausted, result.StopReason);
        Assert.Equal(Enumerable.Range(0, 10), result.Archive.Select(e => e.Candidate).Order());
        Assert.Equal(10, result.Front.Count); // (x, 9 − x) is a line: every point is non-dominated
        // Staircase of the ten points against (10, 10): Σ_{x=0..9} (10 − x)·1 = 55.
        Assert.Equal(55.0, result.HypervolumeHistory[^1], 12);
    }

    [Fact]
    public void OptionsAreValidated()
    {
        var options = SmallSearch(seed: 0);
        options.HypervolumeReference = null;
        Assert.Contains("HypervolumeReference", Assert.Throws<ArgumentException>(() => Search(options)).Message);
        options = SmallSearch(seed: 0);
        options.HypervolumeReference = [1, 2, 3];
        Assert.Throws<ArgumentException>(() => Search(options));
        options = SmallSearch(seed: 0, budget: 5);
        Assert.Contains("Budget", Assert.Throws<ArgumentException>(() => Search(options)).Message);
    }

    [Fact]
    public void Nb201EncodingRoundTripsKeysAndAlwaysMutates()
    {
        var encoding = new Nb201CandidateEncoding();
        var random = new Random(4);
        for (int i = 0; i < 500; i++)
        {
            var a = encoding.Sample(random);
            var b = encoding.Sample(random);
            Assert.Equal(a, encoding.FromKey(encoding.Key(a)));
            Assert.NotEqual(a, encoding.Mutate(a, random));
            var child = encoding.Crossover(a, b, random);
            for (int e = 0; e < Nb201Genotype.EdgeCount; e++)
                Assert.True(child.Operations[e] == a.Operations[e] || child.Operations[e] == b.Operations[e]);
        }
        Assert.Equal("333132", encoding.Key(Nb201Genotype.Parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|")));
        Assert.Throws<FormatException>(() => encoding.FromKey("33313"));
        Assert.Throws<FormatException>(() => encoding.FromKey("333135"));
    }
}
