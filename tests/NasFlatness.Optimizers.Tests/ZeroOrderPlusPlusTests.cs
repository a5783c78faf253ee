using NasFlatness.Data;
using NasFlatness.Search;
using NasFlatness.SearchSpaces;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers.Tests;

/// <summary>ZO-DARTS++ in the size-variable space: the switch through the extension points, the penalty, the presets, resume across the switch.</summary>
[Collection(TorchCollection.Name)]
public sealed class ZeroOrderPlusPlusTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("nasflat-zopp-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_temp, recursive: true); } catch (IOException) { }
    }

    private static ZoDartsPlusPlusSearchSpace Space() => new(new ZoDartsPlusPlusOptions { Channels = 4, CellsPerStage = 2, SwitchEpoch = 1 });

    private static double SquaredDistance(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b) =>
        a.Zip(b).Sum(x => (x.First.detach().to(float64) - x.Second.detach().to(float64)).square().sum().item<double>());

    [Fact]
    public void DirectionsSpanTheActiveTensorsOnly()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        using var net = (ZoDartsPlusPlusSupernet)Space().CreateSupernet(DatasetInfo.Cifar10);
        var state = new WeightOptimizerState(0.1, 0.9, 0);
        using var zo = new ZeroOrderDarts();
        var seen = new List<long>();
        zo.DirectionOverride = (step, active) =>
        {
            seen.Add(active.Sum(a => a.numel()));
            return ZeroOrderDarts.RandomDirection(0, step, active);
        };
        zo.OnEpochStarting(new EpochStart(SearchClock.At(0, 3, 0, 4), 0.1, net, SoftmaxActivation.Instance) { WeightOptimizer = state });
        var alpha = net.ArchitectureParameters();
        var shadow = zo.Shadow!.ArchitectureParameters();
        double mu = zo.PerturbationSize;
        Assert.Equal(0.005 * Math.Sqrt(alpha[0].detach().to(float64).square().sum().item<double>()), mu, 15);
        Assert.Equal(mu * mu, SquaredDistance([alpha[0]], [shadow[0]]), 12);
        Assert.Equal(0.0, SquaredDistance(alpha.Skip(1).ToArray(), shadow.Skip(1).ToArray())); // α_mix, α_exit untouched before the switch

        net.OnEpochStarting(new EpochStart(SearchClock.At(1, 3, 0, 4), 0.1, net, SoftmaxActivation.Instance));
        zo.OnEpochStarting(new EpochStart(SearchClock.At(1, 3, 0, 4), 0.1, net, SoftmaxActivation.Instance) { WeightOptimizer = state });
        shadow = zo.Shadow!.ArchitectureParameters();
        Assert.Equal([90L, 150L], seen); // 90 + 54 + 3·N (153 with the code's N = 3)
        Assert.True(((ZoDartsPlusPlusSupernet)zo.Shadow).Switched);
        Assert.Equal(zo.PerturbationSize * zo.PerturbationSize, SquaredDistance(alpha, shadow), 12);
        Assert.All(Enumerable.Range(1, 2), i => Assert.True(SquaredDistance([alpha[i]], [shadow[i]]) > 0));
    }

    [Fact]
    public void PenaltyIsFifteenOverTauTimesTheBudgetExcessFromTheSwitch()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(4);
        using var net = (ZoDartsPlusPlusSupernet)Space().CreateSupernet(DatasetInfo.Cifar10);
        var activation = SparsemaxActivation.MedMnist();
        activation.OnEpochStarting(new EpochStart(SearchClock.At(12, 50, 0, 1), 0.1, net, activation)); // the runner does this every epoch
        var penalty = ZeroOrderPlusPlusPresets.Penalty(ParameterBudgetSize.Small);
        var batch = TestHelpers.RandomImages(1, 2);
        Assert.Null(penalty.LossTerm(net.ArchitectureParameters(), TestHelpers.Step(net, batch, batch, epoch: 12, activation: activation))); // not switched yet
        net.Switch();
        var step = TestHelpers.Step(net, batch, batch, epoch: 12, activation: activation);
        var term = penalty.LossTerm(net.ArchitectureParameters(), step)!;
        // Independent: τ_12 = 1.5·0.75² = 0.84375; P from the closed form at sparsemax(α/τ); U = P20 of the supernet's model.
        double tau = 1.5 * 0.75 * 0.75;
        var p = net.ArchitectureParameters().Select(a => SparsemaxActivation.Sparsemax(a.detach().to(float64) / tau)).ToArray();
        double expected = net.ResourceModel.ExpectedParameters(p[0], p[1], p[2]).item<double>();
        double upper = net.ResourceModel.Budget(ParameterBudgetSize.Small).Upper;
        Assert.True(expected > upper);
        Assert.Equal(15 / tau * (expected - upper) / 1e6, term.item<float>(), 5);
        Assert.Equal(15 / tau, penalty.LambdaAt(step), 12);
        Assert.Equal((0.0, 1e9), ZeroOrderPlusPlusPresets.Penalty(0, 1e9).BudgetAt(step));
        Assert.Equal(0f, ZeroOrderPlusPlusPresets.Penalty(0, 1e9).LossTerm(net.ArchitectureParameters(), step)!.item<float>()); // inside the budget
        using var plain = new SearchSpaces.Nb201.Nb201SearchSpace(new SearchSpaces.Nb201.Nb201Options { Channels = 2, CellsPerStage = 1 }).CreateSupernet(DatasetInfo.Cifar10);
        var error = Assert.Throws<InvalidOperationException>(() => penalty.LossTerm(plain.ArchitectureParameters(), TestHelpers.Step(plain, batch, batch)));
        Assert.Contains(nameof(IParameterBudgetModel), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PresetsComposeZoDartsPlusPlus()
    {
        var registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces().AddBuiltInMethods();
        var runner = registry.CreateRunner(new SearchComposition { SearchSpace = "nas-bench-201-varied", Method = "zo-darts++-medium" });
        Assert.IsType<ZoDartsPlusPlusSearchSpace>(runner.SearchSpace);
        Assert.IsType<ZeroOrderDarts>(runner.Optimizer);
        Assert.Equal(0.75, Assert.IsType<SparsemaxActivation>(runner.Activation).Decay);
        Assert.Equal(10, Assert.IsType<EveryKStepsSchedule>(runner.Schedule).K);
        var penalty = Assert.IsType<ResourcePenaltyRegularizer>(Assert.Single(runner.Regularizers));
        Assert.Equal(ParameterBudgetSize.Medium, penalty.Options.Budget);
        Assert.Equal(15.0, penalty.Options.TemperatureScaledLambda);
        Assert.Equal((256, 0.1, 1.5e-2), (runner.Options.BatchSize, runner.Options.WeightLearningRate, runner.Options.ArchitectureLearningRate));
        Assert.Empty(registry.CreateRunner(new SearchComposition { SearchSpace = "nas-bench-201-varied", Method = "zodarts++" }).Regularizers);
        Assert.Equal("zo-darts++-large", registry.Presets.Get("zo-darts++-large").Name);
        Assert.Contains("zo-darts++-small", registry.Presets.Names);
    }

    private static SearchOptions Options() => new()
    {
        Epochs = 3,
        BatchSize = 16,
        Seed = 1,
        ArchitectureLearningRate = 1.5e-2,
        EpochValidationBatches = 1,
    };

    private static SearchRunner Runner(SearchOptions options) =>
        new(Space(), new ZeroOrderDarts(new ZeroOrderDartsOptions { Seed = 2 }), [ZeroOrderPlusPlusPresets.Penalty(0, 1_000)], options)
        {
            Activation = new SparsemaxActivation(1.0, 0.5, 1),
            Schedule = new EveryKStepsSchedule(2),
        };

    private static double[] Flat(EpochRecord e, int tensor) => e.Architecture[tensor].SelectMany(r => r).ToArray();

    [Fact]
    public void TinySearchCrossesTheSwitchAndResumesBitIdentically()
    {
        using var data = new CifarSearchData(TestData.Cifar10Train, new CifarSearchDataOptions { MaxTrainExamples = 64, MaxValidationExamples = 64 });
        var uninterrupted = Runner(Options()).Run(data);
        Assert.All(uninterrupted.Epochs, e => Assert.Equal(2, e.ArchitectureUpdates));
        // The initial α_mix and α_exit (the runner seeds torch before it builds the supernet).
        torch.manual_seed(1);
        using var initial = (ZoDartsPlusPlusSupernet)Space().CreateSupernet(DatasetInfo.Cifar10);
        var initialMix = initial.AlphaMix.detach().to(float64).data<double>().ToArray();
        var initialExit = initial.AlphaExit.detach().to(float64).data<double>().ToArray();
        var (e0, e1, e2) = (uninterrupted.Epochs[0], uninterrupted.Epochs[1], uninterrupted.Epochs[2]);
        Assert.Equal(initialMix, Flat(e0, 1));
        Assert.Equal(initialExit, Flat(e0, 2));
        Assert.NotEqual(initial.Alpha.detach().to(float64).data<double>().ToArray(), Flat(e0, 0)); // α moved before the switch
        Assert.NotEqual(initialMix, Flat(e1, 1));                                                   // α_mix and α_exit move from it
        Assert.NotEqual(initialExit, Flat(e1, 2));
        Assert.NotEqual(Flat(e1, 1), Flat(e2, 1));
        var before = (Genotypes.ZoDartsPlusPlusGenotype)e0.Genotype;
        Assert.Equal([2, 2, 2], before.CellsPerStage);
        Assert.All(before.Kernels.Where(k => k != 0), k => Assert.Equal(7, k));
        output.WriteLine(string.Join(Environment.NewLine, uninterrupted.Epochs.Select(e => $"{e.Epoch}: loss {e.TrainLoss:F4}, mean max p {e.MeanMaxWeight:F4}, {e.Genotype}")));

        foreach (var (cancelEpoch, folder) in new[] { (1, "across"), (2, "after") })
        {
            var options = Options();
            options.CheckpointDirectory = Path.Combine(_temp, folder);
            using var cts = new CancellationTokenSource();
            var progress = new SyncProgress(p =>
            {
                if (p.Epoch == cancelEpoch && p.Step == 2) cts.Cancel();
            });
            Assert.Throws<OperationCanceledException>(() => Runner(options).Run(data, progress, cts.Token));
            var resumed = Runner(options).Run(data);
            Assert.Equal(uninterrupted.Genotype, resumed.Genotype);
            for (int e = 0; e < 3; e++)
            {
                var (u, r) = (uninterrupted.Epochs[e], resumed.Epochs[e]);
                for (int t = 0; t < 3; t++) Assert.Equal(Flat(u, t), Flat(r, t));
                Assert.Equal(u.TrainLoss, r.TrainLoss);
                Assert.Equal(u.ValidationLoss, r.ValidationLoss);
                Assert.Equal(u.Genotype, r.Genotype);
            }
        }
    }
}
