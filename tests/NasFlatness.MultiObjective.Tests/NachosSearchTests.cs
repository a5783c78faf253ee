using NasFlatness.Genotypes;
using NasFlatness.MultiObjective;
using NasFlatness.MultiObjective.FlatNas;
using NasFlatness.MultiObjective.Nachos;
using NasFlatness.SearchSpaces.Nb201;
using Xunit.Abstractions;

namespace NasFlatness.MultiObjective.Tests;

/// <summary>The NACHOS search wiring: encoding, objectives (adaptive penalty, accuracy constraint) and a table-based search.</summary>
public sealed class NachosSearchTests(ITestOutputHelper output)
{
    private const string Best6111 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|";

    [Fact]
    public void AdaptivePenaltyOfTheOracle()
    {
        var objectives = NachosSearch.Objectives(new NachosSearchOptions { MacLimit = 2.7 });
        var macs = Assert.IsType<AdaptivePenaltyObjective>(objectives[1]);
        // φ = 0.5: one of two members within 2.7 M.
        double[] feasible = [10, 2.0, 5, 1, 0], infeasible = [10, 3.0, 5, 1, 0];
        macs.Prepare([feasible, infeasible]);
        Assert.Equal(0.5, macs.FeasibleFraction);
        double expected = 1.5 + 0.15e10;
        Assert.Equal(expected, macs.Value(infeasible), expected * 1e-12);
        Assert.Equal(1.0, macs.Value(feasible), 12);
        Assert.IsType<MetricObjective>(objectives[0]);

        var constrained = NachosSearch.Objectives(new NachosSearchOptions { MacLimit = 2.7, MinimumAccuracy = 0.65 });
        var error = Assert.IsType<PenaltyConstraint>(constrained[0]);
        Assert.Equal(35, error.Limit, 12);
        Assert.Equal(30, error.Value([30, 1]), 12);
        Assert.Equal(40 + 5e10, error.Value([40, 1]), 1);
    }

    [Fact]
    public void EncodingRoundTripsAndAlwaysPlacesAnExit()
    {
        var encoding = new NachosCandidateEncoding(3);
        var random = new Random(4);
        for (int i = 0; i < 300; i++)
        {
            var a = encoding.Sample(random);
            var b = encoding.Sample(random);
            foreach (var c in new[] { a, encoding.Crossover(a, b, random), encoding.Mutate(a, random) })
            {
                Assert.True(c.EarlyExitCount >= 1);
                Assert.Equal(c, encoding.FromKey(encoding.Key(c)));
            }
            Assert.NotEqual(encoding.Key(a), encoding.Key(encoding.Mutate(a, random)));
        }
        Assert.Equal("333132-101", encoding.Key(new NachosCandidate(Nb201Genotype.Parse(Best6111), [true, false, true])));
        Assert.Throws<FormatException>(() => encoding.FromKey("333132-000"));
        Assert.Throws<FormatException>(() => encoding.FromKey("333132-10"));
    }

    [Fact]
    public void TableEvaluatorPricesExitsExactlyAndItsFractionsSumToOne()
    {
        var evaluator = new Nb201TableNachosEvaluator();
        var genotype = Nb201Genotype.Parse(Best6111);
        var candidate = new NachosCandidate(genotype, [true, true]);
        var metrics = evaluator.Evaluate(candidate, default);
        var costs = new Nb201EarlyExitCostModel().CumulativeCosts(genotype, Nb201ExitPlacement.AfterStages(5));
        Assert.Equal(new Nb201ResourceModel().MultiplyAccumulates(genotype), costs[^1]); // 153,272,960
        Assert.Equal(153_272_960, costs[^1]);
        Assert.True(costs[0] < costs[1] && costs[1] < costs[2]);
        double[] fractions = [0.4, 0.24, 0.36];
        Assert.Equal(fractions, metrics.Skip(NachosMetrics.FirstFraction).Select(v => Math.Round(v, 12)));
        Assert.Equal(fractions.Select((f, i) => f * costs[i]).Sum() / 1e6, metrics[NachosMetrics.AverageMacs], 9);
        Assert.Equal(153.27296, metrics[NachosMetrics.FullMacs], 9);
        double finalError = 100 - Nb201Table.Embedded.GetValue(genotype, Nb201Metrics.Cifar10TestAccuracy);
        double error = fractions.Select((f, i) => f * (finalError + 30 * (1 - (double)costs[i] / costs[^1]))).Sum();
        Assert.Equal(error, metrics[NachosMetrics.Error], 9);
    }

    private static ParetoSearchOptions Small(int seed) => new()
    {
        InitialSamples = 20,
        EvaluationsPerIteration = 8,
        PopulationSize = 20,
        MaxIterations = 100,
        Patience = 100,
        Budget = 100,
        Seed = seed,
    };

    [Fact]
    public void TableSearchReturnsOnlyAdmissiblePointsWhenSomeExist()
    {
        var evaluator = new Nb201TableNachosEvaluator();
        for (int seed = 0; seed < 3; seed++)
        {
            var options = new NachosSearchOptions { MacLimit = 60, MinimumAccuracy = 0.85, Search = Small(seed) };
            var result = NachosSearch.Create(evaluator, evaluator.Slots.Count, options).Run();
            Assert.Equal(100, result.Evaluations);
            Assert.Equal(result.Archive.Count, result.Archive.Select(e => e.Key).Distinct().Count());
            Assert.Contains(result.Archive, e => e.IsFeasible);
            Assert.NotEmpty(result.Front);
            Assert.All(result.Front, e =>
            {
                Assert.True(e.IsFeasible);
                Assert.True(e.Metrics[NachosMetrics.AverageMacs] <= 60);
                Assert.True(e.Metrics[NachosMetrics.Error] <= 15 + 1e-9);
            });
            Assert.All(result.Archive, e =>
            {
                Assert.True(e.Candidate.EarlyExitCount >= 1);
                Assert.Equal(1.0, e.Metrics.Skip(NachosMetrics.FirstFraction).Sum(), 12);
            });
            output.WriteLine($"seed {seed}: {result.Archive.Count(e => e.IsFeasible)} admissible of {result.Evaluations}; front " +
                string.Join("; ", result.Front.Select(e => $"{e.Key} err {e.Metrics[0]:F2} % avg {e.Metrics[1]:F1} M")));
        }
    }

    [Fact]
    public void WithoutConstraintsTheFrontReachesCheaperPointsThanTheLimit()
    {
        // The "noconstraints" ablation: MACs minimised as they are; the reference point must then be given.
        var evaluator = new Nb201TableNachosEvaluator();
        var result = NachosSearch.Create(evaluator, 2, new NachosSearchOptions { Search = Small(1) }, macReference: 250).Run();
        Assert.All(result.Archive, e => Assert.True(e.IsFeasible));
        Assert.Contains(result.Front, e => e.Metrics[NachosMetrics.AverageMacs] > 60);
        Assert.Throws<ArgumentException>(() => NachosSearch.Create(evaluator, 2, new NachosSearchOptions { Search = Small(1) }));
        Assert.Throws<ArgumentException>(() => NachosSearch.Create(evaluator, 3, new NachosSearchOptions { MacLimit = 60, Search = Small(1) }));
    }
}
