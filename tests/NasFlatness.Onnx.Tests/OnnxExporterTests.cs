using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using NasFlatness.CustomSpace;
using NasFlatness.MultiObjective.Nachos;
using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Onnx.Tests;

[Collection(TorchCollection.Name)]
public sealed class OnnxExporterTests
{
    // Every NAS-Bench-201 operation, none included, each on a path to the output; the second leaves node 1 without inputs (zeros).
    private const string Nb201AllOps = "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|";
    private const string Nb201EmptyNode = "|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|";

    // Every DARTS operation in both cells (none, pools, skip = FactorizedReduce on reduction edges, sep and dil convs).
    private const string DartsAllOps =
        "Genotype(normal=[('sep_conv_5x5', 0), ('avg_pool_3x3', 1), ('none', 0), ('dil_conv_5x5', 2), ('max_pool_3x3', 1), ('skip_connect', 2), ('sep_conv_3x3', 3), ('dil_conv_3x3', 0)], normal_concat=range(2, 6), " +
        "reduce=[('avg_pool_3x3', 0), ('none', 1), ('skip_connect', 0), ('sep_conv_5x5', 2), ('dil_conv_3x3', 1), ('max_pool_3x3', 0), ('sep_conv_3x3', 4), ('none', 3)], reduce_concat=range(2, 6))";

    private static nn.Module<Tensor, Tensor> Nb201(string genotype, int seed)
    {
        torch.manual_seed(seed);
        var network = new Nb201SearchSpace(new Nb201Options { Channels = 4, CellsPerStage = 1 }).CreateNetwork(Nb201Genotype.Parse(genotype), DatasetInfo.Cifar10);
        OnnxParity.PrepareBatchNorms(network, seed);
        return network;
    }

    private static nn.Module<Tensor, Tensor> Darts(DartsGenotype genotype, int seed)
    {
        torch.manual_seed(seed);
        // 3 cells: normal, reduction, reduction (the last with a FactorizedReduce preprocessing); auxiliary head on but not exported.
        var space = new DartsSearchSpace(new DartsSpaceOptions { NetworkChannels = 4, NetworkCells = 3, AuxiliaryHead = true });
        var network = space.CreateNetwork(genotype, DatasetInfo.Cifar10);
        OnnxParity.PrepareBatchNorms(network, seed);
        return network;
    }

    [Theory]
    [InlineData(Nb201AllOps, true)]
    [InlineData(Nb201AllOps, false)]
    [InlineData(Nb201EmptyNode, true)]
    public void Nb201NetworkMatchesTorchSharp(string genotype, bool fold)
    {
        using var network = Nb201(genotype, 1);
        OnnxParity.ExportAndCompare(network, new OnnxExportOptions { FoldBatchNorm = fold }, $"NB201 {genotype} fold={fold}");
    }

    [Theory]
    [InlineData("DARTS_V2", true)]
    [InlineData(DartsAllOps, true)]
    [InlineData(DartsAllOps, false)]
    public void DartsNetworkMatchesTorchSharp(string genotype, bool fold)
    {
        var g = genotype.StartsWith("Genotype", StringComparison.Ordinal) ? DartsGenotype.Parse(genotype) : DartsGenotype.FromName(genotype);
        using var network = Darts(g, 2);
        OnnxParity.ExportAndCompare(network, new OnnxExportOptions { FoldBatchNorm = fold }, $"DARTS fold={fold}");
    }

    [Fact]
    public void VariedSpaceNetworkMatchesTorchSharp()
    {
        // Stage by stage: every operation, kernel sizes 7, 5 and 3, and 1/2/1 cells.
        int[] ops = [3, 0, 4, 1, 2, 3, /**/ 3, 2, 0, 4, 1, 1, /**/ 2, 3, 1, 0, 4, 3];
        int[] kernels = [7, 0, 0, 0, 0, 5, /**/ 3, 0, 0, 0, 0, 0, /**/ 0, 5, 0, 0, 0, 7];
        var genotype = new ZoDartsPlusPlusGenotype(ops, kernels, [1, 2, 1]);
        torch.manual_seed(3);
        using var network = new ZoDartsPlusPlusSearchSpace(new ZoDartsPlusPlusOptions { Channels = 4 }).CreateNetwork(genotype, DatasetInfo.Cifar10);
        OnnxParity.PrepareBatchNorms(network, 3);
        var model = OnnxParity.ExportAndCompare(network, what: "varied");
        using var session = OnnxParity.Session(model, GraphOptimizationLevel.ORT_DISABLE_ALL);
        Assert.Equal(genotype.ToString(), session.ModelMetadata.CustomMetadataMap[OnnxExporter.GenotypeKey]);
        Assert.Equal(ZoDartsPlusPlusGenotype.Space, session.ModelMetadata.CustomMetadataMap[OnnxExporter.SpaceKey]);
    }

    [Fact]
    public void EarlyExitNetworkExportsEveryExitAndTheExitDecision()
    {
        torch.manual_seed(4);
        var genotype = Nb201Genotype.Parse(Nb201AllOps);
        var placement = Nb201ExitPlacement.AfterStages(1);
        using var network = new Nb201EarlyExitNetwork(genotype, placement, new Nb201Options { Channels = 4, CellsPerStage = 1 });
        OnnxParity.PrepareBatchNorms(network, 4);

        // TorchSharp: every exit's logits and confidence.
        int exits = network.ExitCount, classes = network.ClassCount;
        var torchLogits = new float[exits][];
        var torchConfidence = new double[Cifar64.Count * exits];
        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            var outputs = network.ForwardExits(Cifar64.Tensor());
            for (int e = 0; e < exits; e++)
            {
                torchLogits[e] = outputs[e].Logits.contiguous().data<float>().ToArray();
                var c = outputs[e].Confidence.to(float64).data<double>().ToArray();
                for (int i = 0; i < Cifar64.Count; i++) torchConfidence[i * exits + e] = c[i];
            }
        }
        // Thresholds at the medians of the cumulative exit weights, so that images leave at every exit.
        var cumulative = Enumerable.Range(0, Cifar64.Count)
            .Select(i => EarlyExitLosses.CumulativeExitWeights(torchConfidence.AsSpan(i * exits, exits))).ToArray();
        double[] thresholds = [.. Enumerable.Range(0, exits - 1).Select(e => Median(cumulative.Select(w => w[e])))];
        var model = OnnxParity.ExportAndCompare(network, new OnnxExportOptions { ExitThresholds = thresholds }, "early exit");

        // The exit each image leaves at under ExitThresholdTuner's rule.
        var predictions = new EarlyExitPredictions(torchConfidence, new bool[Cifar64.Count * exits], exits);
        var expectedExit = ExitThresholdTuner.ExitOf(predictions, thresholds);
        Assert.True(expectedExit.Distinct().Count() > 1, "the test needs images leaving at different exits");

        using var session = OnnxParity.Session(model, GraphOptimizationLevel.ORT_ENABLE_ALL);
        var onnx = OnnxParity.Run(session);
        for (int e = 0; e < exits - 1; e++)
        {
            OnnxParity.AssertSameLogits(torchLogits[e], (float[])onnx[OnnxExporter.EarlyExitLogits(e)], classes, $"exit {e}");
            var confidence = (float[])onnx[OnnxExporter.EarlyExitConfidence(e)];
            for (int i = 0; i < Cifar64.Count; i++) Assert.Equal(torchConfidence[i * exits + e], confidence[i], 1e-5);
        }
        var exit = (long[])onnx[OnnxExporter.ExitOutput];
        var exitLogits = (float[])onnx[OnnxExporter.ExitLogitsOutput];
        for (int i = 0; i < Cifar64.Count; i++)
        {
            Assert.Equal(expectedExit[i], exit[i]);
            var expected = torchLogits[expectedExit[i]].AsSpan(i * classes, classes).ToArray();
            OnnxParity.AssertSameLogits(expected, exitLogits.AsSpan(i * classes, classes).ToArray(), classes, $"image {i} at exit {exit[i]}");
        }
    }

    /// <summary>The midpoint of the two middle values (away from every sample, so float rounding cannot flip a decision).</summary>
    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    [Fact]
    public void CustomSpaceNetworkExportsThroughARegisteredExporter()
    {
        var space = new TinySearchSpace(new TinySearchSpaceOptions { Channels = 4, Cells = 2 });
        torch.manual_seed(5);
        using var network = space.CreateNetwork(space.Parse("tiny[conv_3x3,skip_connect,avg_pool_3x3]"), DatasetInfo.Cifar10);
        OnnxParity.PrepareBatchNorms(network, 5);

        // Without an exporter for its own type the network is refused, naming the type and the way out.
        var refused = Assert.Throws<NotSupportedException>(() => OnnxExporter.ExportToBytes(network, [3, 32, 32]));
        Assert.Contains(typeof(TinyNetwork).FullName!, refused.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(IOnnxExportable), refused.Message, StringComparison.Ordinal);

        // The sample's wiring (TinyNetwork.forward): stem, then per cell node1 = op0(node0), node2 = op1(node0) + op2(node1), head.
        var options = new OnnxExportOptions { SpaceName = TinySearchSpace.SpaceName };
        options.Exporters[typeof(TinyNetwork)] = (graph, module, input) =>
        {
            var x = graph.Child(module, "stem", input);
            foreach (var cell in OnnxGraphBuilder.Children(OnnxGraphBuilder.ChildModule(module, "cells")))
            {
                var ops = OnnxGraphBuilder.Children(cell);
                var nodes = new string?[3];
                nodes[0] = x;
                for (int e = 0; e < TinyGenotype.EdgeCount; e++)
                {
                    var term = graph.Module(ops[e], nodes[TinyOperations.Source[e]]!);
                    int target = TinyOperations.Target[e];
                    nodes[target] = nodes[target] is null ? term : graph.Add(nodes[target]!, term);
                }
                x = nodes[2]!;
            }
            return graph.Child(module, "head", x);
        };
        OnnxParity.ExportAndCompare(network, options, "custom space");
    }

    /// <summary>A user block with its own ONNX nodes: y = relu(x) · s.</summary>
    private sealed class ScaledRelu(float scale) : nn.Module<Tensor, Tensor>(nameof(ScaledRelu)), IOnnxExportable
    {
        public override Tensor forward(Tensor input) => nn.functional.relu(input) * scale;

        public string ExportOnnx(OnnxGraphBuilder graph, string input) =>
            graph.Node("Mul", [graph.Relu(input), graph.Floats([scale], [], "scale")]);
    }

    [Fact]
    public void UserNetworkOfPublicBlocksAndAnExportableBlockMatches()
    {
        torch.manual_seed(6);
        using var network = nn.Sequential(
            ("stem", new Stem(3, 8)),
            ("sep", new SepConv(8, 8, 3, 2, 1, affine: true, trackRunningStats: true)),
            ("custom", new ScaledRelu(0.7f)),
            ("conv", nn.Conv2d(8, 6, 3, padding: 1)),
            ("bn", nn.BatchNorm2d(6)),
            ("relu", nn.ReLU()),
            ("head", new ClassifierHead(6, 10)));
        OnnxParity.PrepareBatchNorms(network, 6);
        OnnxParity.ExportAndCompare(network, what: "user network");
    }

    [Fact]
    public void UnknownModuleIsAnErrorNamingItsType()
    {
        using var network = nn.Sequential(("stem", new Stem(3, 8)), ("gelu", nn.GELU()), ("head", new ClassifierHead(8, 10)));
        var error = Assert.Throws<NotSupportedException>(() => OnnxExporter.ExportToBytes(network, [3, 32, 32]));
        Assert.Contains("TorchSharp.Modules.GELU", error.Message, StringComparison.Ordinal);
        Assert.Contains("IOnnxExportable", error.Message, StringComparison.Ordinal);
        Assert.Contains("OnnxExportOptions.Exporters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelCarriesMetadataOpsetAndADynamicBatchAxis()
    {
        using var network = Nb201(Nb201AllOps, 7);
        string[] labels = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];
        var hash = new string('a', 40) + "0123456789abcdef01234567";
        var options = new OnnxExportOptions
        {
            InputName = "images", OutputName = "scores", RunManifestSha256 = hash, ClassLabels = labels,
            InputMean = [0.4914f, 0.4822f, 0.4465f], InputStd = [0.2470f, 0.2435f, 0.2616f],
        };
        var bytes = OnnxExporter.ExportToBytes(network, [3, 32, 32], options);
        using var session = OnnxParity.Session(bytes, GraphOptimizationLevel.ORT_ENABLE_ALL);
        var meta = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal(Nb201Genotype.Parse(Nb201AllOps).ToString(), meta[OnnxExporter.GenotypeKey]);
        Assert.Equal(Nb201Genotype.Space, meta[OnnxExporter.SpaceKey]);
        Assert.Equal(hash, meta[OnnxExporter.ManifestKey]);
        Assert.Equal(labels, JsonSerializer.Deserialize<string[]>(meta[OnnxExporter.LabelsKey]));
        Assert.Equal(options.InputMean, JsonSerializer.Deserialize<float[]>(meta[OnnxExporter.MeanKey]));
        Assert.Equal(options.InputStd, JsonSerializer.Deserialize<float[]>(meta[OnnxExporter.StdKey]));
        Assert.False(string.IsNullOrEmpty(meta[OnnxExporter.VersionKey]));
        Assert.Equal("NasFlatness", session.ModelMetadata.ProducerName);

        // One input and one output, named; the batch axis is symbolic (-1) and the rest fixed.
        var input = Assert.Single(session.InputMetadata);
        Assert.Equal("images", input.Key);
        Assert.Equal([-1, 3, 32, 32], input.Value.Dimensions);
        Assert.Equal("batch", input.Value.SymbolicDimensions[0]);
        var output = Assert.Single(session.OutputMetadata);
        Assert.Equal("scores", output.Key);
        Assert.Equal([-1, 10], output.Value.Dimensions);

        // Batch 1 and 64 from the same model give the same first row.
        var one = (float[])OnnxParity.Run(session, 1, "images")["scores"];
        var many = (float[])OnnxParity.Run(session, 64, "images")["scores"];
        Assert.Equal(10, one.Length);
        Assert.Equal(640, many.Length);
        for (int c = 0; c < 10; c++) Assert.Equal(many[c], one[c], 1e-5f);

        // The opset is 17 (read back from the bytes with the generated classes).
        var model = global::Onnx.ModelProto.Parser.ParseFrom(bytes);
        Assert.Equal(17, Assert.Single(model.OpsetImport).Version);
    }

    [Fact]
    public void BadInputIsRefusedBeforeAnythingIsWritten()
    {
        using var network = Nb201(Nb201AllOps, 8);
        using var stream = new MemoryStream();
        var shape = Assert.Throws<ArgumentException>(() => OnnxExporter.Export(network, [3, 7], stream));
        Assert.Contains("[C, H, W]", shape.Message, StringComparison.Ordinal);
        var labels = Assert.Throws<ArgumentException>(() => OnnxExporter.Export(network, [3, 32, 32], stream, new OnnxExportOptions { ClassLabels = ["cat", "dog"] }));
        Assert.Contains("2 labels", labels.Message, StringComparison.Ordinal);
        var opset = Assert.Throws<ArgumentException>(() => OnnxExporter.Export(network, [3, 32, 32], stream, new OnnxExportOptions { Opset = 12 }));
        Assert.Contains("Opset = 12", opset.Message, StringComparison.Ordinal);
        var thresholds = Assert.Throws<ArgumentException>(() => OnnxExporter.Export(network, [3, 32, 32], stream, new OnnxExportOptions { ExitThresholds = [0.5] }));
        Assert.Contains("early-exit", thresholds.Message, StringComparison.Ordinal);
        var channels = Assert.Throws<ArgumentException>(() => OnnxExporter.Export(network, [1, 32, 32], stream));
        Assert.Contains("does not run on inputs of shape", channels.Message, StringComparison.Ordinal);
        Assert.Equal(0, stream.Length);

        // A network in training mode is exported in eval mode and left in training mode.
        network.train();
        OnnxExporter.Export(network, [3, 32, 32], stream);
        Assert.True(network.training);
        Assert.True(stream.Length > 0);
    }
}
