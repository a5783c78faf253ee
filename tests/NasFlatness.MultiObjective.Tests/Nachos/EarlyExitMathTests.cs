using NasFlatness.MultiObjective.Nachos;
using NasFlatness.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.MultiObjective.Tests.Nachos;

/// <summary>Hand-worked NACHOS oracles (docs/spec/secondary-methods.md §5.5) for the exit weights, the loss terms and the threshold rule.</summary>
[Collection(TorchCollection.Name)]
public sealed class EarlyExitMathTests
{
    private static Tensor Row(params double[] values) => torch.tensor(values, [1, values.Length], dtype: ScalarType.Float64);

    [Fact]
    public void ExitWeightsOfTheOracle()
    {
        using var scope = torch.NewDisposeScope();
        var w = EarlyExitLosses.ExitWeights(Row(0.6, 0.5, 1)).data<double>().ToArray();
        Assert.Equal([0.6, 0.2, 0.2], w.Select(v => Math.Round(v, 12)));
        Assert.Equal(1.0, w.Sum(), 12);
    }

    [Fact]
    public void ExpectedMacsAndViolationOfTheOracle()
    {
        using var scope = torch.NewDisposeScope();
        var w = EarlyExitLosses.ExitWeights(Row(0.6, 0.5, 1));
        double[] costs = [10e6, 20e6, 40e6];
        Assert.Equal(18e6, EarlyExitLosses.ExpectedCost(w, costs).item<double>(), 6);
        Assert.Equal(0.12, EarlyExitLosses.MacPenalty(w, costs, 15e6).item<double>(), 12);
        Assert.Equal(0.12, EarlyExitLosses.MacPenalty(w, costs, 15e6, codeCompatible: true).item<double>(), 12);
        // Last exit within the limit: no term at all; expected cost under the limit: zero.
        Assert.Equal(0.0, EarlyExitLosses.MacPenalty(w, costs, 50e6).item<double>());
        Assert.Equal(0.0, EarlyExitLosses.MacPenalty(w, costs, 19e6).item<double>(), 12);
    }

    [Fact]
    public void DifferentiableMacTermHasAGradientAndTheCodeCompatibleOneHasNone()
    {
        using var scope = torch.NewDisposeScope();
        var c = Row(0.6, 0.5, 1).requires_grad_();
        double[] costs = [10, 20, 40];
        var term = EarlyExitLosses.MacPenalty(EarlyExitLosses.ExitWeights(c), costs, 15);
        Assert.True(term.requires_grad);
        term.backward();
        // d/dc of Σ w_i cost_i / 25 with w = [c0, (1 − c0) c1, (1 − c0)(1 − c1)]:
        // d/dc0 = (10 − 20·c1 − 40·(1 − c1)) / 25 = (10 − 10 − 20) / 25 = −0.8; d/dc1 = (1 − c0)(20 − 40)/25 = −0.32.
        var g = c.grad!.data<double>().ToArray();
        Assert.Equal(-0.8, g[0], 12);
        Assert.Equal(-0.32, g[1], 12);

        var c2 = Row(0.6, 0.5, 1).requires_grad_();
        var code = EarlyExitLosses.MacPenalty(EarlyExitLosses.ExitWeights(c2), costs, 15, codeCompatible: true);
        Assert.False(code.requires_grad);
    }

    [Fact]
    public void PriorWeightsOfTheOracle()
    {
        using var scope = torch.NewDisposeScope();
        var targets = torch.tensor(new double[] { 1, 1, 1, 0 }, [4, 1], dtype: ScalarType.Float64);
        var w = EarlyExitLosses.PriorWeights(targets).data<double>().ToArray();
        Assert.Equal(4.0 / 6, w[0], 12);
        Assert.Equal(4.0 / 6, w[2], 12);
        Assert.Equal(2.0, w[3], 12);
        // A column with no wrong sample: ones get t/(2t) = 0.5, and nothing is NaN.
        var all = EarlyExitLosses.PriorWeights(torch.ones([4, 1], dtype: ScalarType.Float64)).data<double>().ToArray();
        Assert.All(all, v => Assert.Equal(0.5, v, 12));
    }

    [Fact]
    public void PriorClassificationAndSupportLossesMatchTheirFormulas()
    {
        using var scope = torch.NewDisposeScope();
        // 4 samples, 2 exits, 3 classes; labels 0, 1, 2, 0.
        var labels = torch.tensor(new long[] { 0, 1, 2, 0 });
        var l0 = torch.tensor(new double[] { 2, 0, 0, 0, 3, 0, 1, 0, 0, 0, 0, 4 }, [4, 3], dtype: ScalarType.Float64); // right, right, wrong, wrong
        var l1 = torch.tensor(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0 }, [4, 3], dtype: ScalarType.Float64); // all right
        double[] c0 = [0.9, 0.7, 0.2, 0.4];
        var c = torch.stack([torch.tensor(c0, dtype: ScalarType.Float64), torch.ones(4, dtype: ScalarType.Float64)], 1);

        // Prior: targets [1, 1, 0, 0] on exit 0 → weights 4/(2·2) = 1 each; mean BCE over the 4 entries of exit 0.
        double[] y = [1, 1, 0, 0];
        double bce = Enumerable.Range(0, 4).Average(i => -(y[i] * Math.Log(c0[i]) + (1 - y[i]) * Math.Log(1 - c0[i])));
        Assert.Equal(bce, EarlyExitLosses.PriorLoss(c, [l0, l1], labels).item<double>(), 10);

        // Classification: Σ_i mean_b(w_bi · CE_bi).
        var w = EarlyExitLosses.ExitWeights(c);
        var ce0 = nn.functional.cross_entropy(l0, labels, reduction: nn.Reduction.None).data<double>().ToArray();
        var ce1 = nn.functional.cross_entropy(l1, labels, reduction: nn.Reduction.None).data<double>().ToArray();
        double cls = Enumerable.Range(0, 4).Average(b => c0[b] * ce0[b]) + Enumerable.Range(0, 4).Average(b => (1 - c0[b]) * ce1[b]);
        Assert.Equal(cls, EarlyExitLosses.ClassificationLoss([l0, l1], labels, w).item<double>(), 10);

        // Support: mean over samples and exits of (c − centroid[y])².
        var centroids = torch.tensor(new double[] { 0.5, 1, 0.6, 1, 0.1, 1 }, [3, 2], dtype: ScalarType.Float64);
        double[] cy = [0.5, 0.6, 0.1, 0.5];
        double support = Enumerable.Range(0, 4).Average(b => (c0[b] - cy[b]) * (c0[b] - cy[b]) / 2);
        Assert.Equal(support, EarlyExitLosses.SupportLoss(c, labels, centroids).item<double>(), 12);
    }

    [Fact]
    public void CumulativeRuleAndAverageMacsOfTheOracle()
    {
        Assert.Equal([0.6, 0.8, 1.0], EarlyExitLosses.CumulativeExitWeights([0.6, 0.5, 1]).Select(v => Math.Round(v, 12)));
        var single = new EarlyExitPredictions([0.6, 0.5, 1], [true, true, true], 3);
        Assert.Equal(1, ExitThresholdTuner.ExitOf(single, [0.7, 0.7, 1])[0]); // the second exit

        // 5 samples leave at exit 0, 3 at exit 1, 2 at the last: fractions [0.5, 0.3, 0.2] × costs [10, 20, 40] M = 19 M.
        var confidences = new List<double>();
        for (int s = 0; s < 10; s++) confidences.AddRange(s < 5 ? [0.9, 0.1, 1] : s < 8 ? [0.1, 0.9, 1] : [0.1, 0.1, 1]);
        var predictions = new EarlyExitPredictions(confidences, Enumerable.Repeat(true, 30).ToArray(), 3);
        var evaluation = ExitThresholdTuner.Evaluate(predictions, [0.7, 0.7], [10e6, 20e6, 40e6]);
        Assert.Equal([5, 3, 2], evaluation.ExitCounts);
        Assert.Equal(19e6, evaluation.AverageMultiplyAccumulates, 3);
        Assert.Equal(1.0, evaluation.ExitFractions.Sum(), 12);
    }

    /// <summary>Random predictions of a synthetic 4-exit net: confidences uniform, early exits less often right than later ones.</summary>
    private static EarlyExitPredictions Synthetic(int seed, int samples = 400)
    {
        var random = new Random(seed);
        var c = new List<double>();
        var ok = new List<bool>();
        double[] accuracy = [0.55, 0.7, 0.8, 0.9];
        for (int s = 0; s < samples; s++)
        {
            for (int i = 0; i < 4; i++)
            {
                c.Add(i == 3 ? 1 : random.NextDouble());
                ok.Add(random.NextDouble() < accuracy[i]);
            }
        }
        return new EarlyExitPredictions(c, ok, 4);
    }

    [Fact]
    public void FractionsSumToOneAndAverageMacsMatchAnIndependentRecomputation()
    {
        double[] costs = [5e6, 12e6, 30e6, 60e6];
        for (int seed = 0; seed < 5; seed++)
        {
            var p = Synthetic(seed);
            double[] eps = [0.7, 0.5, 0.3, 1];
            var e = ExitThresholdTuner.Evaluate(p, eps, costs);
            Assert.Equal(1.0, e.ExitFractions.Sum(), 12);
            // Independent: walk each sample's exits with the running product of (1 − c).
            double total = 0;
            int correct = 0;
            for (int s = 0; s < p.Count; s++)
            {
                double reach = 1, cumulative = 0;
                int chosen = 3;
                for (int i = 0; i < 3; i++)
                {
                    cumulative += p.Confidence(s, i) * reach;
                    reach *= 1 - p.Confidence(s, i);
                    if (cumulative >= eps[i]) { chosen = i; break; }
                }
                total += costs[chosen];
                if (p.IsCorrect(s, chosen)) correct++;
            }
            Assert.Equal(total / p.Count, e.AverageMultiplyAccumulates, 3);
            Assert.Equal((double)correct / p.Count, e.Accuracy, 12);
        }
    }

    [Fact]
    public void RepairLowersAverageMacsMonotonicallyAndStopsAtTheFirstFeasibleThresholds()
    {
        var p = Synthetic(1);
        double[] costs = [5e6, 12e6, 30e6, 60e6];
        var unconstrained = new ExitThresholdTuner().Tune(p, costs);
        double start = unconstrained.Final.AverageMultiplyAccumulates;
        double limit = start * 0.7;
        var result = new ExitThresholdTuner(new ExitThresholdTunerOptions { MacLimit = limit }).Tune(p, costs);
        Assert.NotEmpty(result.RepairSteps);
        double previous = result.BestOfGrid.AverageMultiplyAccumulates;
        var thresholds = result.BestOfGrid.Thresholds.ToArray();
        foreach (var step in result.RepairSteps)
        {
            Assert.True(step.AverageMultiplyAccumulates <= previous, $"{step} is not cheaper than {previous}");
            // Exactly one threshold was lowered, by 0.1, at the highest exit index that still could be, second-last first.
            var lowered = Enumerable.Range(0, 4).Where(i => Math.Abs(step.Thresholds[i] - thresholds[i]) > 1e-12).ToArray();
            Assert.Single(lowered);
            Assert.Equal(thresholds[lowered[0]] - 0.1, step.Thresholds[lowered[0]], 9);
            Assert.True(lowered[0] <= 2);
            thresholds = [.. step.Thresholds];
            previous = step.AverageMultiplyAccumulates;
        }
        Assert.Equal(2, Enumerable.Range(0, 4).First(i => Math.Abs(result.RepairSteps[0].Thresholds[i] - result.BestOfGrid.Thresholds[i]) > 1e-12));
        Assert.True(result.MeetsMacLimit);
        Assert.True(result.Final.AverageMultiplyAccumulates <= limit);
        Assert.All(result.RepairSteps.Take(result.RepairSteps.Count - 1), s => Assert.True(s.AverageMultiplyAccumulates > limit));
        Assert.Same(result.RepairSteps[^1], result.Final);
    }

    [Fact]
    public void RepairNeverAcceptsAStepThatBreaksTheAccuracyConstraint()
    {
        var p = Synthetic(2);
        double[] costs = [5e6, 12e6, 30e6, 60e6];
        var best = new ExitThresholdTuner().Tune(p, costs).Final;
        // An impossible MAC limit with the accuracy floor at the grid's best accuracy minus a little.
        var options = new ExitThresholdTunerOptions { MacLimit = 1, MinimumAccuracy = best.Accuracy - 0.02 };
        var result = new ExitThresholdTuner(options).Tune(p, costs);
        Assert.All(result.RepairSteps, s => Assert.True(s.Accuracy >= options.MinimumAccuracy));
        Assert.False(result.MeetsMacLimit);
        Assert.True(result.MeetsAccuracy);
        Assert.All(result.Final.Thresholds.Take(3), t => Assert.True(t >= 0.1 - 1e-9));
    }

    [Fact]
    public void GridUsesAtLeast07AtTheFirstExitAndPicksTheMostAccurate()
    {
        var p = Synthetic(3);
        var result = new ExitThresholdTuner().Tune(p, [1, 2, 3, 4]);
        Assert.Equal(7, result.Grid.Count);
        Assert.All(result.Grid, g => Assert.True(g.Thresholds[0] >= 0.7));
        Assert.Equal(result.Grid.Max(g => g.Accuracy), result.BestOfGrid.Accuracy);
        Assert.Equal(0.8, result.Grid[^1].Thresholds[0], 12);
        Assert.Equal(0.7, result.Grid[0].Thresholds[0], 12);
        Assert.Equal(0.1, result.Grid[0].Thresholds[1], 12);
    }

    [Fact]
    public void OptionsAreValidated()
    {
        Assert.Contains(new EarlyExitTrainingOptions { SupportFraction = 1.5 }.Validate(), e => e.Contains(nameof(EarlyExitTrainingOptions.SupportFraction)));
        Assert.Contains(new EarlyExitTrainingOptions { BackboneEpochs = 0, WarmupEpochs = 0, ExitEpochs = 0 }.Validate(), e => e.Contains(nameof(EarlyExitTrainingOptions.TotalEpochs)));
        Assert.Throws<ArgumentException>(() => new EarlyExitTrainer(new EarlyExitTrainingOptions { MacLimit = -1 }));
        Assert.Throws<ArgumentException>(() => new ExitThresholdTuner(new ExitThresholdTunerOptions { Grid = [] }));
    }
}
