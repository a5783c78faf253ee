using NasFlatness.Data;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Tests;

/// <summary>
/// <see cref="Nb201Options.NodeBatchNorm"/>: DARTS-PRIME's affine-free BatchNorm after each node's sum. Oracle: the batch
/// normalisation of each captured node sum computed independently in float64.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class Nb201NodeBatchNormTests
{
    private static Supernet Build(bool? nodeBatchNorm, bool track = true)
    {
        torch.manual_seed(11);
        var options = new Nb201Options { Channels = 4, CellsPerStage = 1, TrackRunningStats = track };
        if (nodeBatchNorm is bool on) options.NodeBatchNorm = on;
        return new Nb201SearchSpace(options).CreateSupernet(DatasetInfo.Cifar10);
    }

    [Fact]
    public void EveryNodeIsBatchNormalisedInTraining()
    {
        using var scope = torch.NewDisposeScope();
        using var net = Build(true);
        net.train();
        var seen = new List<(int Node, Tensor Sum, Tensor Normalized)>();
        var cells = net.modules().OfType<Nb201SearchCell>().ToArray();
        Assert.Equal(3, cells.Length);
        foreach (var cell in cells) cell.NodeObserver = (node, sum, normalized) => seen.Add((node, sum.detach().to(float64).clone(), normalized.detach().to(float64).clone()));
        using var x = torch.randn([6, 3, 32, 32], generator: new torch.Generator(2));
        using var y = net.forward(x);
        Assert.Equal(9, seen.Count); // nodes 1, 2, 3 of each of the three cells
        Assert.Equal([1, 2, 3, 1, 2, 3, 1, 2, 3], seen.Select(s => s.Node));
        foreach (var (_, sum, normalized) in seen)
        {
            var mean = sum.mean([0, 2, 3], keepdim: true);
            var variance = (sum - mean).square().mean([0, 2, 3], keepdim: true); // biased, as BatchNorm normalises
            var expected = (sum - mean) / (variance + 1e-5).sqrt();
            Assert.True(torch.allclose(normalized, expected, rtol: 1e-4, atol: 1e-4));
            Assert.True(normalized.mean([0, 2, 3]).abs().max().item<double>() < 1e-5);
            var unit = variance / (variance + 1e-5);                                   // the per-channel variance after BN
            Assert.True((normalized.var([0, 2, 3], unbiased: false) - unit.flatten()).abs().max().item<double>() < 1e-4);
            Assert.True(unit.min().item<double>() > 0.99);
        }
        Assert.True(double.IsFinite(y.sum().item<float>()));
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void OffIsTheSupernetOfToday()
    {
        using var scope = torch.NewDisposeScope();
        using var today = Build(null);
        using var off = Build(false);
        using var on = Build(true);
        Assert.False(new Nb201Options().NodeBatchNorm);
        Assert.Equal(today.state_dict().Keys, off.state_dict().Keys);
        Assert.DoesNotContain(off.state_dict().Keys, k => k.Contains("nodeBn", StringComparison.Ordinal));
        Assert.Contains(on.state_dict().Keys, k => k.Contains("nodeBn", StringComparison.Ordinal)); // running statistics only
        // Same seed → the same weights and α: the node BatchNorms draw nothing.
        var onParameters = on.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in today.named_parameters()) Assert.True(Same(p, onParameters[name]), name);
        Assert.Equal(today.parameters().Count(), on.parameters().Count());
        int calls = 0;
        foreach (var cell in off.modules().OfType<Nb201SearchCell>()) cell.NodeObserver = (_, _, _) => calls++;
        using var x = torch.randn([4, 3, 32, 32], generator: new torch.Generator(3));
        Assert.True(Same(today.forward(x), off.forward(x)));
        Assert.Equal(0, calls);
        Assert.False(Same(today.forward(x), on.forward(x)));
        var invalid = Assert.Throws<ArgumentException>(() => new Nb201SearchSpace(new Nb201Options { PartialChannels = true, NodeBatchNorm = true }));
        Assert.Contains("NodeBatchNorm = true is invalid", invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DartsClampSwitchesItOnAndSearches()
    {
        var registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces(new Nb201Options { Channels = 4, CellsPerStage = 1 }).AddBuiltInMethods();
        Assert.True(MethodPresets.Get("darts-clamp").SupernetVariant.HasFlag(SupernetFeatures.NodeBatchNorm));
        Assert.False(MethodPresets.Get("darts-prime").SupernetVariant.HasFlag(SupernetFeatures.NodeBatchNorm));
        Assert.True(MethodPresets.Get("darts-clamp").WithA2M().SupernetVariant.HasFlag(SupernetFeatures.NodeBatchNorm));
        Assert.False(Assert.IsType<Nb201SearchSpace>(registry.CreateRunner(new SearchComposition { Method = "darts-prime" }).SearchSpace).Options.NodeBatchNorm);
        var runner = registry.CreateRunner(new SearchComposition { Method = "darts-clamp" }, new SearchOptions { Epochs = 1, BatchSize = 16, Seed = 3, EpochValidationBatches = 1 });
        Assert.True(Assert.IsType<Nb201SearchSpace>(runner.SearchSpace).Options.NodeBatchNorm);
        using var data = new CifarSearchData(TestData.Cifar10Train, new CifarSearchDataOptions { MaxTrainExamples = 32, MaxValidationExamples = 32 });
        var result = runner.Run(data);
        var epoch = Assert.Single(result.Epochs);
        Assert.True(double.IsFinite(epoch.TrainLoss) && double.IsFinite(epoch.ValidationLoss));
        Assert.Equal(2, epoch.ArchitectureUpdates);
    }
}
