using NasFlatness.Evaluation;
using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Tests;

/// <summary>
/// Oracles: docs/spec/secondary-methods.md §6 (hand-derived from the network structure), and <see cref="NetworkSize"/>
/// measuring the built networks (parameters counted, MACs hooked per layer).
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class Nb201ResourceModelTests
{
    // Row 6111 of shared/data/nb201/nb201_hp200_test_acc.csv (the best CIFAR-10 cell): the last edge is nor_conv_1x1.
    private const string Best6111 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|";

    private static Nb201Genotype All(int op) => new([op, op, op, op, op, op]);

    [Fact]
    public void DefaultNetworkHasTheHandDerivedConstants()
    {
        var model = new Nb201ResourceModel();
        Assert.Equal(73_306, model.FixedParameters);
        Assert.Equal(7_783_040, model.FixedMultiplyAccumulates);
        Assert.Equal(243_040, model.ParametersPerConv3x3Edge);
        Assert.Equal(28_000, model.ParametersPerConv1x1Edge);
        Assert.Equal(35_389_440, model.MultiplyAccumulatesPerConv3x3Edge);
        Assert.Equal(3_932_160, model.MultiplyAccumulatesPerConv1x1Edge);
    }

    [Fact]
    public void ExactCountsMatchTheTableOfSection6()
    {
        var model = new Nb201ResourceModel();
        Assert.Equal(73_306, model.Parameters(All(0)));
        Assert.Equal(7_783_040, model.MultiplyAccumulates(All(0)));
        Assert.Equal(1_531_546, model.Parameters(All(3)));
        Assert.Equal(220_119_680, model.MultiplyAccumulates(All(3)));
        Assert.Equal(241_306, model.Parameters(All(2)));
        Assert.Equal(31_376_000, model.MultiplyAccumulates(All(2)));
        var best = Nb201Genotype.Parse(Best6111);
        Assert.Equal([3, 3, 3, 1, 3, 2], best.Operations); // four 3×3 edges and one 1×1
        Assert.Equal(1_073_466, model.Parameters(best));
        Assert.Equal(153_272_960, model.MultiplyAccumulates(best));
        // skip, pool and none edges cost nothing.
        Assert.Equal(73_306, model.Parameters(All(1)));
        Assert.Equal(73_306, model.Parameters(All(4)));
        // 100 classes: the linear layer grows by 90·4C + 90 = 5,850 parameters.
        Assert.Equal(73_306 + 5_850, new Nb201ResourceModel(dataset: DatasetInfo.Cifar100).Parameters(All(0)));
    }

    [Fact]
    public void ExpectedParametersAtUniformWeightsAndTheirGradient()
    {
        using var scope = torch.NewDisposeScope();
        var model = new Nb201ResourceModel();
        var p = torch.full([6, 5], 0.2, dtype: float64).requires_grad_(true);
        var expected = model.ExpectedParameters(p);
        Assert.Equal(398_554.0, expected.item<double>(), 6);
        var grad = torch.autograd.grad([expected], [p])[0];
        for (int e = 0; e < 6; e++)
        {
            Assert.Equal(0.0, grad[e, 0].item<double>());
            Assert.Equal(0.0, grad[e, 1].item<double>());
            Assert.Equal(28_000.0, grad[e, 2].item<double>());
            Assert.Equal(243_040.0, grad[e, 3].item<double>());
            Assert.Equal(0.0, grad[e, 4].item<double>());
        }
        // MACs: 7,783,040 + 6·0.2·(35,389,440 + 3,932,160) = 54,968,960.
        var macs = model.ExpectedMultiplyAccumulates(p);
        Assert.Equal(54_968_960.0, macs.item<double>(), 4);
        var macGrad = torch.autograd.grad([macs], [p])[0];
        Assert.Equal(35_389_440.0, macGrad[5, 3].item<double>());
        Assert.Equal(3_932_160.0, macGrad[0, 2].item<double>());
    }

    [Fact]
    public void ExpectedCostsAtOneHotWeightsEqualTheExactCounts()
    {
        using var scope = torch.NewDisposeScope();
        var model = new Nb201ResourceModel(new Nb201Options { Channels = 8, CellsPerStage = 2 }, DatasetInfo.Cifar100);
        var genotype = Nb201Genotype.Parse(Best6111);
        var oneHot = torch.zeros([6, 5], dtype: float64);
        for (int e = 0; e < 6; e++) oneHot[e, genotype.Operations[e]] = torch.tensor(1.0, dtype: float64);
        Assert.Equal(model.Parameters(genotype), model.ExpectedParameters(oneHot).item<double>());
        Assert.Equal(model.MultiplyAccumulates(genotype), model.ExpectedMultiplyAccumulates(oneHot).item<double>());
    }

    [Fact]
    public void RejectsWrongShapesAndImageSizes()
    {
        using var scope = torch.NewDisposeScope();
        var model = new Nb201ResourceModel();
        Assert.Throws<ArgumentException>(() => model.ExpectedParameters(torch.zeros([5, 5], dtype: float64)));
        Assert.Throws<ArgumentException>(() => model.ExpectedParameters(torch.zeros([6, 5], dtype: int64)));
        Assert.Throws<ArgumentException>(() => new Nb201ResourceModel(dataset: new DatasetInfo(3, 30, 32, 10)));
        Assert.Throws<ArgumentException>(() => new Nb201ResourceModel(new Nb201Options { Channels = 0 }));
    }

    public static TheoryData<int, int, string, string> Networks => new()
    {
        { 16, 5, "cifar10", Best6111 },
        { 16, 5, "cifar10", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|" },
        { 16, 5, "cifar10", "|skip_connect~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_1x1~2|" },
        { 16, 5, "cifar10", "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|" },
        { 8, 1, "cifar100", "|nor_conv_1x1~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|none~0|nor_conv_1x1~1|skip_connect~2|" },
        { 4, 2, "imagenet16", "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_1x1~2|" },
        { 12, 3, "cifar10", "|avg_pool_3x3~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_1x1~2|" },
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void ClosedFormEqualsNetworkSizeOfTheBuiltNetwork(int channels, int cellsPerStage, string datasetName, string arch)
    {
        var dataset = datasetName switch
        {
            "cifar10" => DatasetInfo.Cifar10,
            "cifar100" => DatasetInfo.Cifar100,
            _ => DatasetInfo.ImageNet16_120,
        };
        var options = new Nb201Options { Channels = channels, CellsPerStage = cellsPerStage };
        var genotype = Nb201Genotype.Parse(arch);
        var model = new Nb201ResourceModel(options, dataset);
        torch.manual_seed(0);
        using var net = new Nb201SearchSpace(options).CreateNetwork(genotype, dataset);
        var report = NetworkSize.Measure(net, [1, dataset.Channels, dataset.Height, dataset.Width]);
        Assert.Equal(0, report.UncountedLayers);
        Assert.Equal(NetworkSize.CountParameters(net), model.Parameters(genotype));
        Assert.Equal(report.Parameters, model.Parameters(genotype));
        Assert.Equal(report.MultiplyAccumulates, model.MultiplyAccumulates(genotype));
    }
}
