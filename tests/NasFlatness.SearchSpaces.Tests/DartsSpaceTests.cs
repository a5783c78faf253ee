using NasFlatness.Evaluation;
using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Darts;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Tests;

[Collection(TorchCollection.Name)]
public sealed class DartsSpaceTests(ITestOutputHelper output)
{
    private static readonly string[] Ops = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"];

    private static Tensor Alpha(params (int Edge, string Op, double Value)[] entries)
    {
        var a = new double[14 * 8];
        for (int e = 0; e < 14; e++) a[e * 8] = 10.0; // none dominates every edge: it must never be chosen
        foreach (var (edge, op, value) in entries) a[edge * 8 + Array.IndexOf(Ops, op)] = value;
        return torch.tensor(a, [14, 8]);
    }

    [Fact]
    public void DerivationPicksTheTwoStrongestEdgesPerNodeAndNeverNone()
    {
        // Node 0: edges 0,1 (inputs 0,1). Node 1: edges 2..4 (inputs 0,1,2). Node 2: edges 5..8. Node 3: edges 9..13.
        using var normal = Alpha((0, "sep_conv_3x3", 2), (1, "dil_conv_5x5", 3),
            (2, "max_pool_3x3", 1), (3, "skip_connect", 5), (4, "avg_pool_3x3", 4),
            (5, "sep_conv_5x5", 6), (6, "dil_conv_3x3", 0.5), (7, "sep_conv_3x3", 0.2), (8, "max_pool_3x3", 7),
            (9, "skip_connect", 1), (10, "skip_connect", 1), (11, "dil_conv_3x3", 2), (12, "sep_conv_3x3", 1.5), (13, "avg_pool_3x3", 0.1));
        using var reduce = Alpha();
        var g = DartsSearchSpace.Derive(normal, reduce);
        DartsEdge[] expected =
        [
            new("dil_conv_5x5", 1), new("sep_conv_3x3", 0),
            new("skip_connect", 1), new("avg_pool_3x3", 2),
            new("max_pool_3x3", 3), new("sep_conv_5x5", 0),
            new("dil_conv_3x3", 2), new("sep_conv_3x3", 3),
        ];
        Assert.Equal(expected, g.Normal);
        // All-equal reduce logits (besides none): ties go to the lower edge index, op = first non-none op.
        Assert.All(g.Reduce, e => Assert.Equal("max_pool_3x3", e.Operation));
        Assert.Equal([0, 1, 0, 1, 0, 1, 0, 1], g.Reduce.Select(e => e.Input));
    }

    [Fact]
    public void EdgeNormalisationWeightsChangeTheChosenEdges()
    {
        using var normal = Alpha((2, "sep_conv_3x3", 3), (3, "sep_conv_3x3", 2), (4, "sep_conv_3x3", 1));
        using var reduce = Alpha();
        var plain = DartsSearchSpace.Derive(normal, reduce);
        Assert.Equal([0, 1], plain.Normal.Skip(2).Take(2).Select(e => e.Input));
        var beta = new float[14];
        beta[2] = -5f; // node 1's edge from input 0 gets a tiny softmax(β) weight
        using var betaNormal = torch.tensor(beta);
        using var betaReduce = torch.zeros(14);
        var normalised = DartsSearchSpace.Derive(normal, reduce, DartsOperationSet.Standard, betaNormal, betaReduce);
        Assert.Equal([1, 2], normalised.Normal.Skip(2).Take(2).Select(e => e.Input));
        Assert.Equal(plain.Normal.Take(2), normalised.Normal.Take(2));
    }

    [Fact]
    public void NoNoneSpaceHasSevenColumnsAndMayPickAnyOperation()
    {
        var space = new DartsSearchSpace(new DartsSpaceOptions { Operations = DartsOperationSet.NoNone, Channels = 4, Cells = 3 });
        Assert.Equal(7, space.OperationNames.Count);
        Assert.DoesNotContain("none", space.OperationNames);
        using var net = (DartsSupernet)space.CreateSupernet(DatasetInfo.Cifar10);
        Assert.Equal(new long[] { 14, 7 }, net.AlphaNormal.shape);
        using var a = torch.zeros(14, 7);
        a[0, 0] = torch.tensor(5.0f); // column 0 is max_pool_3x3 here
        var g = DartsSearchSpace.Derive(a, torch.zeros(14, 7), DartsOperationSet.NoNone);
        Assert.Equal(new DartsEdge("max_pool_3x3", 0), g.Normal[0]);
    }

    [Fact]
    public void SupernetRunsWithGivenArchitectureAndHasTheExpectedParameters()
    {
        torch.manual_seed(1);
        var space = new DartsSearchSpace(new DartsSpaceOptions { Channels = 4, Cells = 5 });
        using var net = (DartsSupernet)space.CreateSupernet(DatasetInfo.Cifar10);
        Assert.Equal(2, net.ArchitectureParameters().Count);
        Assert.Equal(new long[] { 14, 8 }, net.AlphaReduce.shape);
        Assert.True(net.AlphaNormal.abs().max().item<float>() < 0.01f); // 1e-3·N(0,1)
        var archHandles = net.ArchitectureParameters().Select(p => p.Handle).ToHashSet();
        Assert.DoesNotContain(net.WeightParameters(), p => archHandles.Contains(p.Handle));
        net.eval();
        using var x = torch.randn(2, 3, 32, 32);
        using var own = net.forward(x);
        Assert.Equal(new long[] { 2, 10 }, own.shape);
        using var same = net.Forward(x, [net.AlphaNormal.detach(), net.AlphaReduce.detach()], SoftmaxActivation.Instance);
        Assert.True(own.allclose(same, 1e-6, 1e-6));
        using var other = net.Forward(x, [torch.randn(14, 8) * 3, torch.randn(14, 8) * 3], SoftmaxActivation.Instance);
        Assert.False(own.allclose(other, 1e-4, 1e-4));
        Assert.Throws<ArgumentException>(() => net.Forward(x, [torch.zeros(14, 7), torch.zeros(14, 7)], SoftmaxActivation.Instance));
        Assert.IsType<DartsGenotype>(net.DeriveGenotype(SoftmaxActivation.Instance));
        // Affine-free cells: every BN in the cells has no parameters; the stem BN is affine (2·3C) as in the reference code.
        long expectedClassifier = 4 * 16 * 10 + 10;
        Assert.Equal(expectedClassifier, net.named_parameters().Where(p => p.name.StartsWith("classifier", StringComparison.Ordinal)).Sum(p => p.parameter.numel()));
    }

    [Fact]
    public void PartialChannelsOneAndNoEdgeNormalisationEqualThePlainSupernet()
    {
        var options = new DartsSpaceOptions { Channels = 4, Cells = 3 };
        torch.manual_seed(5);
        using var plain = new DartsSearchSpace(options).CreateSupernet(DatasetInfo.Cifar10);
        torch.manual_seed(77);
        var pcOptions = options.Clone();
        pcOptions.PartialChannels = 1;
        pcOptions.EdgeNormalization = false;
        using var pc = new DartsSearchSpace(pcOptions).CreateSupernet(DatasetInfo.Cifar10);
        pc.load_state_dict(plain.state_dict());
        using var x = torch.randn(3, 3, 32, 32);
        using var a = plain.forward(x);
        using var b = pc.forward(x);
        Assert.True(a.allclose(b, 1e-6, 1e-6));
    }

    [Fact]
    public void PartialChannelEdgeMixesOneKthAndShufflesTheBypass()
    {
        var names = DartsOperations.Names(DartsOperationSet.Standard);
        using var pcEdge = new DartsMixedOp(names, 8, 1, 4, true);
        using var smallEdge = new DartsMixedOp(names, 2, 1, 1, true);
        Assert.Equal(smallEdge.parameters().Sum(p => p.numel()), pcEdge.parameters().Sum(p => p.numel()));
        using var x = torch.randn(2, 8, 6, 6);
        var w = torch.softmax(torch.randn(8), 0).unbind(0);
        using var y = pcEdge.Forward(x, w);
        Assert.Equal(x.shape, y.shape);
        // Order after shuffle with 4 groups: y0, x2, x4, x6, y1, x3, x5, x7.
        int[] outChannel = [1, 2, 3, 5, 6, 7];
        int[] inChannel = [2, 4, 6, 3, 5, 7];
        for (int i = 0; i < outChannel.Length; i++) Assert.True(y[.., outChannel[i]].eq(x[.., inChannel[i]]).all().item<bool>());

        using var reduceEdge = new DartsMixedOp(names, 8, 2, 4, true);
        using var yr = reduceEdge.Forward(x, w);
        Assert.Equal(new long[] { 2, 8, 3, 3 }, yr.shape);
        using var pooled = nn.functional.max_pool2d(x[.., 2..3], 2, 2);
        Assert.True(yr[.., 1..2].eq(pooled).all().item<bool>());
    }

    [Fact]
    public void PcDartsSupernetHasBetaAndEdgeWeightsInTheForward()
    {
        torch.manual_seed(2);
        var space = new DartsSearchSpace(new DartsSpaceOptions { Channels = 8, Cells = 3, PartialChannels = 4, EdgeNormalization = true });
        using var net = (DartsSupernet)space.CreateSupernet(DatasetInfo.Cifar10);
        var arch = net.ArchitectureParameters();
        Assert.Equal(4, arch.Count);
        Assert.Equal(new long[] { 14 }, net.BetaNormal!.shape);
        net.eval();
        using var x = torch.randn(2, 3, 32, 32);
        using var a = net.Forward(x, [arch[0], arch[1], torch.zeros(14), torch.zeros(14)], SoftmaxActivation.Instance);
        var skewed = torch.zeros(14);
        skewed[0] = torch.tensor(8f);
        using var b = net.Forward(x, [arch[0], arch[1], skewed, torch.zeros(14)], SoftmaxActivation.Instance);
        Assert.False(a.allclose(b, 1e-5, 1e-5));
        Assert.Throws<ArgumentException>(() => net.Forward(x, [arch[0], arch[1]], SoftmaxActivation.Instance));
        Assert.Throws<ArgumentException>(() => new DartsSearchSpace(new DartsSpaceOptions { Channels = 6, PartialChannels = 4 }));
    }

    private static long OpParams(string op, long c, bool strided) => op switch
    {
        "sep_conv_3x3" => 2 * (9 * c + c * c + 2 * c),
        "sep_conv_5x5" => 2 * (25 * c + c * c + 2 * c),
        "dil_conv_3x3" => 9 * c + c * c + 2 * c,
        "dil_conv_5x5" => 25 * c + c * c + 2 * c,
        "skip_connect" => strided ? c * c + 2 * c : 0, // FactorizedReduce on stride-2 edges
        _ => 0, // pools, none
    };

    /// <summary>
    /// Parameter count of a DARTS evaluation network from the layer shapes of quark0/darts model.py, written
    /// independently of the library: stem, per cell the two preprocessing layers (ReLUConvBN and FactorizedReduce
    /// both hold Cin·C conv weights + 2C BN), the eight operations, and the classifier; plus the auxiliary head.
    /// </summary>
    private static (long WithoutAux, long Aux) HandCount(DartsGenotype g, long c, int layers, int classes, bool imageNet)
    {
        long total, cpp, cp;
        if (!imageNet)
        {
            total = 3 * (3 * c) * 9 + 2 * (3 * c);
            cpp = cp = 3 * c;
        }
        else
        {
            total = 3 * (c / 2) * 9 + 2 * (c / 2) + (c / 2) * c * 9 + 2 * c + c * c * 9 + 2 * c;
            cpp = cp = c;
        }
        long cc = c, auxChannels = 0;
        for (int i = 0; i < layers; i++)
        {
            bool reduction = i == layers / 3 || i == 2 * layers / 3;
            if (reduction) cc *= 2;
            total += cpp * cc + 2 * cc + cp * cc + 2 * cc;
            foreach (var e in reduction ? g.Reduce : g.Normal) total += OpParams(e.Operation, cc, reduction && e.Input < 2);
            cpp = cp;
            cp = 4 * cc;
            if (i == 2 * layers / 3) auxChannels = cp;
        }
        total += cp * classes + classes;
        long aux = auxChannels * 128 + 2 * 128 + 128 * 768 * 4 + (imageNet ? 0 : 2 * 768) + 768 * classes + classes;
        return (total, aux);
    }

    [Theory]
    [InlineData("DARTS_V2")]
    [InlineData("DARTS_V1")]
    [InlineData("PC_DARTS")]
    public void CifarEvaluationNetworkParameterCountMatchesTheHandFormula(string name)
    {
        var g = DartsGenotype.FromName(name);
        using var net = new DartsSearchSpace().CreateDartsNetwork(g, DatasetInfo.Cifar10);
        var (withoutAux, aux) = HandCount(g, 36, 20, 10, imageNet: false);
        long counted = NetworkSize.CountParameters(net, excludeAuxiliary: true);
        output.WriteLine($"{name} CIFAR C=36, 20 cells: {counted:N0} parameters without auxiliary head ({counted + aux:N0} with)");
        Assert.Equal(withoutAux, counted);
        Assert.Equal(withoutAux + aux, NetworkSize.CountParameters(net));
        Assert.InRange(counted, 3_000_000, 3_900_000); // papers: DARTS 3.3 M, PC-DARTS 3.6 M
    }

    [Fact]
    public void NetworkSizeReportsDartsV2Macs()
    {
        var g = DartsGenotype.DartsV2;
        using var cifar = new DartsSearchSpace().CreateDartsNetwork(g, DatasetInfo.Cifar10);
        var report = NetworkSize.Measure(cifar, [1, 3, 32, 32]);
        output.WriteLine($"DARTS_V2 CIFAR: {report}");
        Assert.Equal(HandCount(g, 36, 20, 10, false).WithoutAux, report.ParametersWithoutAuxiliary);
        Assert.InRange(report.MultiplyAccumulates, 400_000_000, 700_000_000);
        Assert.Equal(3, report.UncountedLayers); // the auxiliary head (two convolutions and a linear layer) does not run in inference
        Assert.True(cifar.training);

        var imageNetSpace = new DartsSearchSpace(DartsSpaceOptions.ImageNetMobile());
        var imageNetInfo = new DatasetInfo(3, 224, 224, 1000);
        using var imageNet = imageNetSpace.CreateDartsNetwork(g, imageNetInfo);
        var (withoutAux, aux) = HandCount(g, 48, 14, 1000, imageNet: true);
        var inReport = NetworkSize.Measure(imageNet, [1, 3, 224, 224]);
        output.WriteLine($"DARTS_V2 ImageNet mobile: {inReport} ({inReport.ParametersWithoutAuxiliary:N0} / {inReport.Parameters:N0} parameters, {inReport.MultiplyAccumulates:N0} MACs)");
        Assert.Equal(withoutAux, inReport.ParametersWithoutAuxiliary);
        Assert.Equal(aux, inReport.AuxiliaryParameters);
        Assert.InRange(inReport.MultiplyAccumulates, 450_000_000, 650_000_000); // paper: 574 M
    }

    [Fact]
    public void MacsOfASmallNetworkMatchTheHandCount()
    {
        using var net = nn.Sequential(nn.Conv2d(3, 4, 3, padding: 1, bias: false), nn.Conv2d(4, 4, 3, stride: 2, padding: 1, groups: 2), nn.Flatten(), nn.Linear(4 * 4 * 4, 5));
        var report = NetworkSize.Measure(net, [2, 3, 8, 8]);
        long expected = 8 * 8 * 4 * 3 * 9 + 4 * 4 * 4 * 2 * 9 + 5 * 64;
        Assert.Equal(expected, report.MultiplyAccumulates);
        Assert.Equal(4 * 3 * 9 + 4 * 2 * 9 + 4 + 64 * 5 + 5, report.Parameters);
    }

    [Fact]
    public void EvaluationNetworkGivesAuxiliaryLogitsOnlyInTraining()
    {
        torch.manual_seed(4);
        var space = new DartsSearchSpace(new DartsSpaceOptions { NetworkChannels = 8, NetworkCells = 5 });
        using var net = space.CreateDartsNetwork(DartsGenotype.PcDarts, DatasetInfo.Cifar10);
        net.DropPathProbability = 0.3;
        using var x = torch.randn(4, 3, 32, 32);
        var (logits, aux) = net.ForwardWithAuxiliary(x);
        Assert.Equal(new long[] { 4, 10 }, logits.shape);
        Assert.NotNull(aux);
        Assert.Equal(new long[] { 4, 10 }, aux!.shape);
        net.eval();
        var (evalLogits, evalAux) = net.ForwardWithAuxiliary(x);
        Assert.Null(evalAux);
        using var again = net.forward(x);
        Assert.True(evalLogits.allclose(again)); // no drop-path in eval: deterministic
    }

    [Theory]
    [InlineData(16, 16, true, "auxiliary head")]
    [InlineData(30, 30, true, "multiples of 4")]
    [InlineData(32, 32, false, null)]
    public void EvaluationNetworkRejectsImagesThatDoNotFit(int h, int w, bool aux, string? message)
    {
        var space = new DartsSearchSpace(new DartsSpaceOptions { NetworkChannels = 8, NetworkCells = 5, AuxiliaryHead = aux });
        var info = new DatasetInfo(3, h, w, 10);
        if (message is null)
        {
            space.ValidateNetwork(info);
            return;
        }
        var ex = Assert.Throws<ArgumentException>(() => space.CreateDartsNetwork(DartsGenotype.DartsV2, info));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => space.CreateNetwork(new Nb201Genotype([0, 1, 2, 3, 4, 0]), DatasetInfo.Cifar10));
        Assert.Throws<ArgumentException>(() => space.CreateSupernet(new DatasetInfo(3, 30, 30, 10)));
    }
}
