using NasFlatness.Data;
using NasFlatness.Evaluation;
using NasFlatness.MultiObjective.Nachos;
using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.MultiObjective.Tests.Nachos;

/// <summary>The NB201 early-exit network: hook-measured per-exit MACs against the closed form, and the early-exit trainer.</summary>
[Collection(TorchCollection.Name)]
public sealed class Nb201EarlyExitTests
{
    private const string Best6111 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|";

    [Theory]
    [InlineData(16, 5, false)]
    [InlineData(8, 1, false)]
    [InlineData(8, 2, true)]
    public void PerExitMacsIncreaseAndEqualTheHookCounts(int channels, int cells, bool everyCell)
    {
        using var scope = torch.NewDisposeScope();
        var genotype = Nb201Genotype.Parse(Best6111);
        var options = new Nb201Options { Channels = channels, CellsPerStage = cells };
        var placement = new Nb201ExitPlacement(cells, Nb201ExitPlacement.Slots(cells, everyCell));
        torch.manual_seed(0);
        using var network = new Nb201EarlyExitNetwork(genotype, placement, options);
        var report = EarlyExitCosts.Measure(network, [1, 3, 32, 32]);
        Assert.Equal(0, report.UncountedLayers);
        Assert.Equal(network.ExpectedCumulativeMultiplyAccumulates, report.CumulativeMultiplyAccumulates);
        for (int i = 1; i < report.CumulativeMultiplyAccumulates.Count; i++)
            Assert.True(report.CumulativeMultiplyAccumulates[i - 1] < report.CumulativeMultiplyAccumulates[i],
                $"exit {i - 1} ({report.CumulativeMultiplyAccumulates[i - 1]}) is not cheaper than exit {i} ({report.CumulativeMultiplyAccumulates[i]}); pools [{string.Join(", ", network.PoolKernels)}]");

        // The final exit is the plain NB201 network: same MACs as the resource model and as NetworkSize on the final path.
        Assert.Equal(new Nb201ResourceModel(options).MultiplyAccumulates(genotype), report.CumulativeMultiplyAccumulates[^1]);
        var size = NetworkSize.Measure(network, [1, 3, 32, 32]);
        Assert.Equal(report.CumulativeMultiplyAccumulates[^1], size.MultiplyAccumulates);
        Assert.Equal(4 * (network.ExitCount - 1), size.UncountedLayers); // the EECs are not on the final path
    }

    [Fact]
    public void EarlyExitHeadMacsMatchAHandCount()
    {
        // C = 8, N = 1, exit after stage 1 at 32×32 with 8 channels: the pool is chosen so the exit is cheaper than the next.
        var model = new Nb201EarlyExitCostModel(new Nb201Options { Channels = 8, CellsPerStage = 1 });
        long unpooled = 32L * 32 * 9 * (8 * 32 + 32 * 64 + 64 * 128) + 128L * 32 * 32 * 11;
        Assert.Equal(unpooled, model.ExitClassifier(0, 1));
        long pooled4 = 8L * 8 * 9 * (8 * 32 + 32 * 64 + 64 * 128) + 128L * 8 * 8 * 11;
        Assert.Equal(pooled4, model.ExitClassifier(0, 4));
    }

    [Fact]
    public void ForwardIsThePlainNetworkAndExitsHaveConfidences()
    {
        using var scope = torch.NewDisposeScope();
        var genotype = Nb201Genotype.Parse(Best6111);
        var options = new Nb201Options { Channels = 4, CellsPerStage = 1 };
        torch.manual_seed(1);
        using var network = new Nb201EarlyExitNetwork(genotype, Nb201ExitPlacement.AfterStages(1), options);
        network.eval();
        var x = torch.randn(3, 3, 32, 32);
        var outputs = network.ForwardExits(x);
        Assert.Equal(3, outputs.Count);
        Assert.Equal(network.forward(x).data<float>().ToArray(), outputs[^1].Logits.data<float>().ToArray());
        Assert.All(outputs[^1].Confidence.data<float>().ToArray(), c => Assert.Equal(1f, c));
        foreach (var o in outputs.Take(2))
        {
            Assert.Equal([3L, 10L], o.Logits.shape);
            Assert.All(o.Confidence.data<float>().ToArray(), c => Assert.InRange(c, 0f, 1f));
        }
    }

    private static CifarClassificationData TinyCifar() =>
        new(TestData.Cifar10Train, TestData.Cifar10Test, new CifarClassificationDataOptions { MaxTrainExamples = 128, MaxTestExamples = 64 });

    private static Nb201EarlyExitNetwork TinyNetwork()
    {
        torch.manual_seed(7);
        return new Nb201EarlyExitNetwork(Nb201Genotype.Parse(Best6111), Nb201ExitPlacement.AfterStages(1), new Nb201Options { Channels = 4, CellsPerStage = 1 });
    }

    private static EarlyExitTrainingOptions TinyOptions(string? directory) => new()
    {
        BackboneEpochs = 1,
        WarmupEpochs = 0,
        ExitEpochs = 1,
        BatchSize = 32,
        Seed = 3,
        CheckpointDirectory = directory,
    };

    private sealed class CancelAfter(int epochs, CancellationTokenSource source) : IProgress<EarlyExitProgress>
    {
        public void Report(EarlyExitProgress value)
        {
            if (value.CompletedEpoch is { } e && e.Epoch + 1 == epochs) source.Cancel();
        }
    }

    private static Dictionary<string, float[]> State(nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.Float32).data<float>().ToArray());

    [Fact]
    public void ResumedEarlyExitTrainingIsBitIdentical()
    {
        using var data = TinyCifar();
        var root = Path.Combine(Path.GetTempPath(), "nachos-resume-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var whole = TinyNetwork();
            var costs = whole.ExpectedCumulativeMultiplyAccumulates.Select(c => (double)c).ToArray();
            var options = TinyOptions(Path.Combine(root, "whole"));
            options.MacLimit = costs[^1] * 0.5;
            var full = new EarlyExitTrainer(options).Train(whole, costs, data);
            Assert.Equal(2, full.Epochs.Count);
            Assert.True(full.Epochs[1].SupportLoss > 0);
            Assert.True(full.Epochs[1].PriorLoss > 0);
            Assert.NotNull(full.SupportCentroids);

            using var interrupted = TinyNetwork();
            var split = TinyOptions(Path.Combine(root, "split"));
            split.MacLimit = options.MacLimit;
            using var source = new CancellationTokenSource();
            Assert.ThrowsAny<OperationCanceledException>(() =>
                new EarlyExitTrainer(split).Train(interrupted, costs, data, new CancelAfter(1, source), source.Token));
            using var resumed = TinyNetwork();
            var rest = new EarlyExitTrainer(split).Train(resumed, costs, data);
            Assert.Equal(2, rest.Epochs.Count);

            var a = State(whole);
            var b = State(resumed);
            Assert.Equal(a.Keys.Order(), b.Keys.Order());
            foreach (var (key, value) in a) Assert.True(value.AsSpan().SequenceEqual(b[key]), $"{key} differs after resuming");
            Assert.Equal(full.Epochs[1].Loss, rest.Epochs[1].Loss);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void ExitPhaseLeavesTheBackboneUntouched()
    {
        using var data = TinyCifar();
        using var backboneOnly = TinyNetwork();
        var costs = backboneOnly.ExpectedCumulativeMultiplyAccumulates.Select(c => (double)c).ToArray();
        var o1 = TinyOptions(null);
        o1.ExitEpochs = 0;
        new EarlyExitTrainer(o1).Train(backboneOnly, costs, data);
        using var both = TinyNetwork();
        new EarlyExitTrainer(TinyOptions(null)).Train(both, costs, data);
        var a = State(backboneOnly);
        var b = State(both);
        var backboneKeys = a.Keys.Where(k => k.StartsWith("stem.", StringComparison.Ordinal) || k.StartsWith("layers.", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(backboneKeys);
        foreach (var key in backboneKeys) Assert.True(a[key].AsSpan().SequenceEqual(b[key]), $"{key} changed in the exit phase");
        var exitKeys = a.Keys.Where(k => k.StartsWith("exits.", StringComparison.Ordinal)).ToArray();
        Assert.Contains(exitKeys, k => !a[k].AsSpan().SequenceEqual(b[k]));

        // Thresholds tuned on the trained network: fractions sum to 1 and the average MACs recompute.
        var predictions = EarlyExitPredictions.Collect(both, data, EvaluationSplit.Test, 64, torch.CPU);
        var tuned = new ExitThresholdTuner(new ExitThresholdTunerOptions { MacLimit = costs[^1] * 0.5 }).Tune(predictions, costs);
        Assert.Equal(1.0, tuned.Final.ExitFractions.Sum(), 12);
        Assert.Equal(tuned.Final.ExitFractions.Select((f, i) => f * costs[i]).Sum(), tuned.Final.AverageMultiplyAccumulates, 3);
    }
}
