using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Tests;

[Collection(TorchCollection.Name)]
public sealed class Nb201SpaceTests
{
    [Theory]
    [InlineData(1, 4 * 4, true)]      // skip_connect: identity, no parameters
    [InlineData(2, 4 * 4 + 2 * 4, true)] // nor_conv_1x1: C·C conv + affine BN (2C)
    [InlineData(3, 9 * 4 * 4 + 2 * 4, true)]
    [InlineData(4, 0, true)]          // avg_pool_3x3: no parameters
    public void OperationsKeepTheShapeAndHaveTheExpectedParameters(int op, int expectedParamsWhenAffine, bool affine)
    {
        using var module = Nb201Operations.Create(op, 4, affine, trackRunningStats: true)!;
        using var x = torch.randn(2, 4, 8, 8);
        using var y = module.forward(x);
        Assert.Equal(x.shape, y.shape);
        long expected = op == 1 ? 0 : expectedParamsWhenAffine;
        Assert.Equal(expected, module.parameters().Sum(p => p.numel()));
        Assert.Null(Nb201Operations.Create(0, 4, affine, true));
    }

    [Fact]
    public void AvgPoolDoesNotCountPadding()
    {
        using var module = Nb201Operations.Create(Nb201Operations.AvgPool, 1, false, true)!;
        using var x = torch.ones(1, 1, 3, 3);
        using var y = module.forward(x);
        // With count_include_pad=false a corner averages 4 ones -> 1 (with padding counted it would be 4/9).
        Assert.Equal(1.0f, y[0, 0, 0, 0].item<float>(), 6);
    }

    [Fact]
    public void ResidualBlockHalvesTheImageAndDoublesChannels()
    {
        using var block = new NasFlatness.SearchSpaces.Operations.ResNetBasicBlock(4, 8);
        using var x = torch.randn(2, 4, 8, 8);
        using var y = block.forward(x);
        Assert.Equal(new long[] { 2, 8, 4, 4 }, y.shape);
        // a: 9·4·8 + BN 16; b: 9·8·8 + BN 16; shortcut 1×1: 4·8.
        Assert.Equal(9 * 4 * 8 + 16 + 9 * 8 * 8 + 16 + 4 * 8, block.parameters().Sum(p => p.numel()));
    }

    /// <summary>Parameter count of the discrete network computed by hand from the layer shapes of docs/spec/algorithms.md §1.1.</summary>
    private static long HandCount(Nb201Genotype g, int c, int n, int classes)
    {
        long total = 3 * c * 9 + 2 * c; // stem conv + affine BN
        for (int stage = 0; stage < 3; stage++)
        {
            long ch = (long)c << stage;
            if (stage > 0)
            {
                long cin = ch / 2;
                total += 9 * cin * ch + 2 * ch + 9 * ch * ch + 2 * ch + cin * ch;
            }
            long cell = 0;
            foreach (var op in g.Operations)
            {
                cell += op switch
                {
                    2 => ch * ch + 2 * ch,
                    3 => 9 * ch * ch + 2 * ch,
                    _ => 0,
                };
            }
            total += n * cell;
        }
        total += 2 * 4 * c + 4 * c * classes + classes; // head BN + Linear
        return total;
    }

    [Theory]
    [InlineData("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|", 16, 5)] // best CIFAR-10 cell (index 6111)
    [InlineData("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|", 16, 5)]
    [InlineData("|nor_conv_1x1~0|+|none~0|avg_pool_3x3~1|+|nor_conv_3x3~0|none~1|nor_conv_1x1~2|", 8, 2)]
    public void DiscreteNetworkParameterCountEqualsTheHandCount(string arch, int c, int n)
    {
        var g = Nb201Genotype.Parse(arch);
        var space = new Nb201SearchSpace(new Nb201Options { Channels = c, CellsPerStage = n });
        using var net = space.CreateNetwork(g, DatasetInfo.Cifar10);
        Assert.Equal(HandCount(g, c, n, 10), net.parameters().Sum(p => p.numel()));
        using var x = torch.randn(2, 3, 32, 32);
        net.eval();
        using var y = net.forward(x);
        Assert.Equal(new long[] { 2, 10 }, y.shape);
    }

    [Fact]
    public void ForwardWithFixedArchitectureGivesTheSameOutputAndNoGradientToAlpha()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        using var net = new Nb201SearchSpace(new Nb201Options { Channels = 4, CellsPerStage = 1 }).CreateSupernet(DatasetInfo.Cifar10);
        net.to(float64);
        net.eval(); // running statistics: both passes see the same BN state
        var alpha = Assert.Single(net.ArchitectureParameters());
        using (torch.no_grad()) alpha.copy_(torch.randn(6, 5, dtype: float64));
        var x = torch.randn(3, 3, 16, 16, dtype: float64);
        var full = net.forward(x);
        var held = net.ForwardFixedArchitecture(x, SoftmaxActivation.Instance);
        Assert.True((full - held).abs().max().item<double>() < 1e-12);
        Assert.True(full.requires_grad && held.requires_grad);
        var weights = net.WeightParameters().ToArray();
        var fromFull = torch.autograd.grad([full.sum()], [alpha, .. weights]);
        var fromHeld = torch.autograd.grad([held.sum()], [alpha, .. weights], allow_unused: true);
        Assert.True(fromFull[0].abs().sum().item<double>() > 0);
        Assert.True(fromHeld[0] is null || fromHeld[0].IsInvalid); // α is not in the fixed-architecture graph
        for (int i = 1; i < fromFull.Count; i++)
            Assert.True((fromFull[i] - fromHeld[i]).abs().max().item<double>() < 1e-12);
        Assert.True(alpha.requires_grad); // α itself is untouched
    }

    [Theory]
    [InlineData("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", 1.53)]
    [InlineData("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", 0.07)]
    public void PaperShapeSpansTheBenchmarksParameterRange(string arch, double expectedMillions)
    {
        // The NAS-Bench-201 paper gives CIFAR-10 networks (C=16, N=5) from 0.07 M to 1.53 M parameters:
        // the smallest is a cell without convolutions, the largest has 3×3 convolutions on all six edges.
        var g = Nb201Genotype.Parse(arch);
        using var net = new Nb201SearchSpace().CreateNetwork(g, DatasetInfo.Cifar10);
        long count = net.parameters().Sum(p => p.numel());
        Assert.Equal(HandCount(g, 16, 5, 10), count);
        Assert.Equal(expectedMillions, Math.Round(count / 1e6, 2));
    }

    [Fact]
    public void SupernetSeparatesAlphaFromWeights()
    {
        var space = new Nb201SearchSpace(new Nb201Options { Channels = 4, CellsPerStage = 1 });
        using var net = space.CreateSupernet(DatasetInfo.Cifar10);
        var alpha = Assert.Single(net.ArchitectureParameters());
        Assert.Equal(new long[] { 6, 5 }, alpha.shape);
        Assert.InRange(alpha.abs().max().item<float>(), 0f, 0.01f); // 1e-3·N(0,1)
        var weights = net.WeightParameters().ToList();
        Assert.DoesNotContain(weights, w => w.Handle == alpha.Handle);
        Assert.Equal(net.parameters().Count(), weights.Count + 1);
        // Cell BNs are affine-free: cell parameters are conv weights only (4 conv ops per... 2 per edge).
        using var x = torch.randn(2, 3, 32, 32);
        using var y = net.forward(x);
        Assert.Equal(new long[] { 2, 10 }, y.shape);
    }

    [Fact]
    public void SupernetWithOneHotAlphaMatchesTheDiscreteCellMath()
    {
        // With α strongly favouring skip_connect everywhere, every edge ≈ identity: node1 = x, node2 = 2x, node3 = x + x + 2x = 4x.
        var space = new Nb201SearchSpace(new Nb201Options { Channels = 2, CellsPerStage = 1 });
        using var net = (Nb201Supernet)space.CreateSupernet(DatasetInfo.Cifar10);
        using var logits = torch.full(6, 5, -1e4f);
        logits[.., 1] = torch.tensor(0f);
        var cell = net.named_modules().Select(m => m.module).OfType<Nb201SearchCell>().First();
        using var weights = logits.softmax(-1);
        using var x = torch.randn(1, 2, 4, 4);
        using var y = cell.Forward(x, new Nb201MixingWeights(weights, 2));
        Assert.True(torch.allclose(y, x * 4, 1e-5, 1e-5));
    }

    [Fact]
    public void DerivationTakesTheArgmaxPerEdgeIncludingNone()
    {
        double[,] a =
        {
            { 0.9, 0.1, 0.2, 0.3, 0.4 },   // none wins
            { 0.0, 0.5, 0.1, 0.1, 0.1 },   // skip
            { 0.0, 0.0, 0.0, 2.0, 0.0 },   // conv3x3
            { -1, -2, -3, -4, -0.5 },      // avg pool (largest of negatives)
            { 0.3, 0.3, 0.1, 0.0, 0.0 },   // tie none/skip -> lower index (none)
            { 0.0, 0.0, 0.7, 0.0, 0.0 },   // conv1x1
        };
        using var alpha = torch.tensor(a.Cast<double>().ToArray(), [6, 5]);
        var g = Nb201SearchSpace.Derive(alpha);
        Assert.Equal("|none~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|", g.ToString());
        Assert.Throws<ArgumentException>(() => Nb201SearchSpace.Derive(torch.zeros(5, 5)));
    }

    [Fact]
    public void NeighborsAreTheTwentyFourSingleOpChanges()
    {
        var space = new Nb201SearchSpace();
        var g = Nb201Genotype.Parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|");
        var neighbors = space.Neighbors(g).Cast<Nb201Genotype>().ToList();
        Assert.Equal(24, neighbors.Count);
        Assert.Equal(24, neighbors.Distinct().Count());
        Assert.All(neighbors, n => Assert.Equal(1, n.DistanceTo(g)));
    }

    [Fact]
    public void DatasetsThatDoNotFitGetAClearError()
    {
        var space = new Nb201SearchSpace();
        var ex = Assert.Throws<ArgumentException>(() => space.Validate(new DatasetInfo(3, 30, 30, 10)));
        Assert.Contains("multiples of 4", ex.Message);
        Assert.Contains("30×30", ex.Message);
        Assert.Contains("at least 2", Assert.Throws<ArgumentException>(() => space.Validate(new DatasetInfo(3, 32, 32, 1))).Message);
        Assert.Contains("Channels = 0", Assert.Throws<ArgumentException>(() => new Nb201SearchSpace(new Nb201Options { Channels = 0 })).Message);
    }
}
