using NasFlatness.Evaluation;
using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;
using NasFlatness.Testing;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Tests;

/// <summary>
/// The ZO-DARTS++ size-variable space. Oracles: the parameter count of the built network (<see cref="NetworkSize"/>), a hand count of a
/// small network, a hand-evaluated expectation, and independent sampling frequencies.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class ZoDartsPlusPlusTests(ITestOutputHelper output)
{
    private const string Example =
        "cells=3 |nor_conv_7x7~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2| / " +
        "cells=2 |nor_conv_5x5~0|+|nor_conv_5x5~0|none~1|+|skip_connect~0|skip_connect~1|nor_conv_1x1~2| / " +
        "cells=1 |avg_pool_3x3~0|+|nor_conv_3x3~0|nor_conv_7x7~1|+|none~0|none~1|none~2|";

    private static readonly DatasetInfo Mnist28 = new(1, 28, 28, 11);

    private static IEnumerable<ZoDartsPlusPlusGenotype> RandomGenotypes(int count, int seed, int cells = 3)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++) yield return ZoDartsPlusPlusResourceModel.RandomGenotype(random, cells);
    }

    [Fact]
    public void GenotypeTextRoundTrips()
    {
        var g = ZoDartsPlusPlusGenotype.Parse(Example);
        Assert.Equal(Example, g.ToString());
        Assert.Equal([3, 1, 2, 0, 4, 3], g.Operations.Take(6));
        Assert.Equal([7, 0, 0, 0, 0, 3], g.Kernels.Take(6));
        Assert.Equal([3, 2, 1], g.CellsPerStage);
        Assert.Equal(5, g.Kernels[6]);
        foreach (var r in RandomGenotypes(200, 3))
        {
            var back = ZoDartsPlusPlusGenotype.Parse(r.ToString());
            Assert.Equal(r, back);
            Assert.Equal(r.GetHashCode(), back.GetHashCode());
            Assert.Equal(r, GenotypeFormats.Parse(ZoDartsPlusPlusGenotype.Space, r.ToString()));
            Assert.Equal(r, new ZoDartsPlusPlusSearchSpace().Parse(r.ToString()));
        }
        var json = System.Text.Json.JsonSerializer.Serialize<Genotype>(g);
        Assert.Equal(g, System.Text.Json.JsonSerializer.Deserialize<Genotype>(json));
        Assert.Throws<GenotypeFormatException>(() => ZoDartsPlusPlusGenotype.Parse(Example.Replace(" / cells=1", " + cells=1", StringComparison.Ordinal)));
        Assert.Throws<GenotypeFormatException>(() => ZoDartsPlusPlusGenotype.Parse(Example.Replace("cells=2", "cells=0", StringComparison.Ordinal)));
        Assert.Throws<GenotypeFormatException>(() => ZoDartsPlusPlusGenotype.Parse(Example.Replace("nor_conv_5x5~0|+", "kernel_variable_conv~0|+", StringComparison.Ordinal)));
        Assert.Throws<GenotypeFormatException>(() => ZoDartsPlusPlusGenotype.Parse(Example.Replace("nor_conv_7x7~0", "nor_conv_9x9~0", StringComparison.Ordinal)));
        Assert.Throws<ArgumentException>(() => new ZoDartsPlusPlusGenotype(g.Operations, [.. g.Kernels.Select(k => k == 7 ? 4 : k)], g.CellsPerStage));
    }

    [Fact]
    public void ExactParametersOfASmallNetworkMatchAHandCount()
    {
        // C = 4, N = 2, 1×8×8 images, 3 classes. Stage 0 (4 ch): a 1×1 and a 7×7 edge, 2 cells; stage 1 (8 ch): a 5×5 edge, 1 cell;
        // stage 2 (16 ch): a 3×3 edge, 2 cells. Fixed: stem 9·1·4 + 2·4 = 44; reduction 4→8: 288 + 16 + 576 + 16 + 32 = 928;
        // reduction 8→16: 1152 + 32 + 2304 + 32 + 128 = 3648; head 2·16 + 16·3 + 3 = 83 → 4,703.
        // Edges: 1×1@4 = 16 + 8 = 24, 7×7@4 = 784 + 8 = 792 → 2·816 = 1,632; 5×5@8 = 1600 + 16 = 1,616; 3×3@16 = 2304 + 32 = 2,336 → 2·2,336 = 4,672.
        var g = ZoDartsPlusPlusGenotype.Parse(
            "cells=2 |nor_conv_1x1~0|+|nor_conv_7x7~0|none~1|+|skip_connect~0|none~1|avg_pool_3x3~2| / " +
            "cells=1 |none~0|+|none~0|nor_conv_5x5~1|+|skip_connect~0|none~1|none~2| / " +
            "cells=2 |nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|");
        var options = new ZoDartsPlusPlusOptions { Channels = 4, CellsPerStage = 2 };
        var dataset = new DatasetInfo(1, 8, 8, 3);
        var model = new ZoDartsPlusPlusResourceModel(options, dataset);
        Assert.Equal(4_703, model.FixedParameters);
        Assert.Equal(4_703 + 1_632 + 1_616 + 4_672, model.Parameters(g));
        using var net = new ZoDartsPlusPlusSearchSpace(options).CreateNetwork(g, dataset);
        Assert.Equal(model.Parameters(g), NetworkSize.CountParameters(net));
    }

    [Fact]
    public void ExactParametersEqualTheBuiltNetworks()
    {
        foreach (var (dataset, cells) in new[] { (DatasetInfo.Cifar10, 3), (Mnist28, 3), (DatasetInfo.Cifar100, 2) })
        {
            var options = new ZoDartsPlusPlusOptions { CellsPerStage = cells };
            var space = new ZoDartsPlusPlusSearchSpace(options);
            var model = space.ResourceModel(dataset);
            foreach (var g in RandomGenotypes(6, cells, cells).Append(ZoDartsPlusPlusGenotype.Parse(Example)))
            {
                using var net = space.CreateNetwork(g, dataset);
                Assert.Equal(NetworkSize.CountParameters(net), model.Parameters(g));
            }
        }
    }

    private static Tensor OneHot(IEnumerable<int> index, int columns) =>
        nn.functional.one_hot(torch.tensor(index.Select(i => (long)i).ToArray()), columns).to(float64);

    [Fact]
    public void ExpectedParametersAtOneHotWeightsAreExact()
    {
        using var scope = torch.NewDisposeScope();
        var model = new ZoDartsPlusPlusResourceModel(dataset: Mnist28);
        foreach (var g in RandomGenotypes(20, 11))
        {
            var p = OneHot(g.Operations, 5);
            var m = OneHot(g.Kernels.Select(k => k == 0 ? 0 : ZoDartsPlusPlusGenotype.KernelSizes.IndexOf(k)), 3);
            var e = OneHot(g.CellsPerStage.Select(c => c - 1), 3);
            Assert.Equal(model.Parameters(g), model.ExpectedParameters(p, m, e).item<double>());
        }
    }

    [Fact]
    public void ExpectedParametersAtUniformWeightsMatchAHandEvaluation()
    {
        using var scope = torch.NewDisposeScope();
        // The small case above (C = 4, N = 2, 1×8×8, 3 classes) with p = 1/5, mix = 1/3, exit = 1/2 (1.5 cells expected):
        // stage 0: 6·0.2·((792 + 408 + 152)/3 + 24)·1.5 = 854.4; stage 1: 6·0.2·((3152 + 1616 + 592)/3 + 80)·1.5 = 3,360;
        // stage 2: 6·0.2·((12576 + 6432 + 2336)/3 + 288)·1.5 = 13,324.8; plus 4,703 fixed = 22,242.2.
        var model = new ZoDartsPlusPlusResourceModel(new ZoDartsPlusPlusOptions { Channels = 4, CellsPerStage = 2 }, new DatasetInfo(1, 8, 8, 3));
        var p = torch.full([18, 5], 0.2, dtype: float64).requires_grad_(true);
        var m = torch.full([18, 3], 1.0 / 3, dtype: float64);
        var e = torch.full([3, 2], 0.5, dtype: float64).requires_grad_(true);
        var expected = model.ExpectedParameters(p, m, e);
        Assert.Equal(22_242.2, expected.item<double>(), 6);
        expected.backward();
        // ∂P/∂p[e, 1×1] of a stage-0 edge = 1.5·24 = 36; ∂P/∂exit[0, 1] = 2·569.6 = 1,139.2.
        Assert.Equal(36.0, p.grad![0, ZoDartsPlusPlusGenotype.Conv1x1].item<double>(), 9);
        Assert.Equal(1_139.2, e.grad![0, 1].item<double>(), 6);
        // Monte Carlo under the same distributions agrees (independent of the closed form).
        var sampler = new Random(5);
        var small = new ZoDartsPlusPlusResourceModel(new ZoDartsPlusPlusOptions { Channels = 4, CellsPerStage = 2 }, new DatasetInfo(1, 8, 8, 3));
        double mean = Enumerable.Range(0, 40_000).Average(_ => (double)small.Parameters(ZoDartsPlusPlusResourceModel.RandomGenotype(sampler, 2)));
        Assert.InRange(mean, 22_242.2 * 0.99, 22_242.2 * 1.01);
    }

    [Fact]
    public void ArchitectureTensorsSwitchOnAtTheSwitchEpoch()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(0);
        using var net = (ZoDartsPlusPlusSupernet)new ZoDartsPlusPlusSearchSpace(new ZoDartsPlusPlusOptions { Channels = 4, CellsPerStage = 2, SwitchEpoch = 1 })
            .CreateSupernet(Mnist28);
        Assert.Equal([[18, 5], [18, 3], [3, 2]], net.ArchitectureParameters().Select(a => a.shape).ToArray());
        Assert.Equal([true, false, false], Enumerable.Range(0, 3).Select(net.IsArchitectureTensorActive).ToArray());
        var x = torch.randn(2, 1, 28, 28);
        // Before the switch α_mix and α_exit take no part in the forward pass.
        var loss = net.forward(x).square().sum();
        var grads = torch.autograd.grad([loss], [.. net.ArchitectureParameters()], allow_unused: true);
        Assert.True(grads[0] is { } g0 && !g0.IsInvalid && g0.abs().sum().item<float>() > 0);
        Assert.True(grads[1] is null || grads[1].IsInvalid);
        Assert.Equal("cells=2 ", net.DeriveGenotype(SoftmaxActivation.Instance).ToString()[..8]);

        net.OnEpochStarting(new EpochStart(SearchClock.At(0, 3, 0, 1), 0.1, net, SoftmaxActivation.Instance));
        Assert.False(net.Switched);
        net.OnEpochStarting(new EpochStart(SearchClock.At(1, 3, 0, 1), 0.1, net, SoftmaxActivation.Instance));
        Assert.True(net.Switched);
        Assert.Equal([true, true, true], Enumerable.Range(0, 3).Select(net.IsArchitectureTensorActive).ToArray());
        var named = net.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var w7 = named["cells.0.conv7.0.conv.weight"];
        Assert.True(torch.equal(w7[.., .., 2..5, 2..5], named["cells.0.conv3.0.conv.weight"]).all().item<bool>());
        Assert.True(torch.equal(w7[.., .., 1..6, 1..6], named["cells.0.conv5.0.conv.weight"]).all().item<bool>());
        loss = net.forward(x).square().sum();
        grads = torch.autograd.grad([loss], [.. net.ArchitectureParameters()], allow_unused: true);
        Assert.All(grads, g => Assert.True(g.abs().sum().item<float>() > 0));
        // A clone carries the switch (a buffer).
        using var copy = net.Clone();
        Assert.True(((ZoDartsPlusPlusSupernet)copy).Switched);
    }

    [Fact]
    public void SampledDerivationIsReproducibleAndFollowsTheDistributions()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(0);
        var options = new ZoDartsPlusPlusOptions { Channels = 2, CellsPerStage = 3, SwitchEpoch = 0, DerivationSeed = 7 };
        using var net = (ZoDartsPlusPlusSupernet)new ZoDartsPlusPlusSearchSpace(options).CreateSupernet(DatasetInfo.Cifar10);
        net.Switch();
        // Softmax of these logits: only columns 1 and 3 carry weight (others −∞); kernels 5 and 3; exits 2 and 3.
        var a = torch.full([18, 5], double.NegativeInfinity, dtype: float32);
        a[.., 1] = torch.tensor(0f);
        a[.., 3] = torch.tensor(0f);
        var m = torch.tensor(new float[] { float.NegativeInfinity, 0, 0 }).repeat(18, 1);
        var e = torch.tensor(new float[] { float.NegativeInfinity, 0, 0 }).repeat(3, 1);
        var first = (ZoDartsPlusPlusGenotype)net.DeriveGenotype([a, m, e], SoftmaxActivation.Instance);
        Assert.Equal(first, net.DeriveGenotype([a, m, e], SoftmaxActivation.Instance));
        Assert.All(first.Operations, o => Assert.Contains(o, new[] { 1, 3 }));
        Assert.All(first.CellsPerStage, c => Assert.Contains(c, new[] { 2, 3 }));
        // Frequencies over seeds: about half of the edges pick each column, kernels 5/3 about half each.
        int conv = 0, five = 0, draws = 0;
        for (int seed = 0; seed < 200; seed++)
        {
            var g = ZoDartsPlusPlusSupernet.Sample(Rows(a.softmax(-1)), Rows(m.softmax(-1)), Rows(e.softmax(-1)), new Random(seed), 3);
            conv += g.Operations.Count(o => o == 3);
            five += g.Kernels.Count(k => k == 5);
            draws += 18;
        }
        Assert.InRange(conv / (double)draws, 0.45, 0.55);
        Assert.InRange(five / (double)conv, 0.43, 0.57);
        // Argmax derivation: the largest logit; before the switch 7×7 kernels and N cells.
        var argmax = ZoDartsPlusPlusSupernet.Choose(Rows(a.softmax(-1)), null, null, 3);
        Assert.All(argmax.Operations, o => Assert.Equal(1, o));
        Assert.Equal([3, 3, 3], argmax.CellsPerStage);
        output.WriteLine(first.ToString());
    }

    private static double[][] Rows(Tensor t)
    {
        var v = t.to(float64).data<double>().ToArray();
        int cols = (int)t.shape[1];
        return Enumerable.Range(0, (int)t.shape[0]).Select(r => v.AsSpan(r * cols, cols).ToArray()).ToArray();
    }

    [Fact]
    public void TheNetworkTrainsWithTheEvaluationTrainer()
    {
        var space = new ZoDartsPlusPlusSearchSpace(new ZoDartsPlusPlusOptions { Channels = 4 });
        using var net = space.CreateNetwork(ZoDartsPlusPlusGenotype.Parse(Example), Mnist28);
        using var data = new RandomData(Mnist28);
        var result = new EvaluationTrainer(new EvaluationOptions { Epochs = 1, BatchSize = 4, TestBatchSize = 4, Augment = false, DropPathProbability = 0 })
            .Train(net, data);
        Assert.Single(result.Epochs);
        Assert.True(double.IsFinite(result.Epochs[0].TrainLoss));
    }

    [Fact]
    public void RegistryHasTheSpaceAndBudgetsAreOrdered()
    {
        var registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces();
        Assert.IsType<ZoDartsPlusPlusSearchSpace>(registry.SearchSpaces.Create("nas-bench-201-varied"));
        foreach (var dataset in new[] { DatasetInfo.Cifar10, DatasetInfo.Cifar100, Mnist28, new DatasetInfo(1, 28, 28, 2), new DatasetInfo(3, 28, 28, 8) })
        {
            var model = new ZoDartsPlusPlusResourceModel(dataset: dataset);
            var (s, m, l) = (model.Budget(ParameterBudgetSize.Small), model.Budget(ParameterBudgetSize.Medium), model.Budget(ParameterBudgetSize.Large));
            output.WriteLine($"{dataset}: fixed {model.FixedParameters:N0}; small [{s.Lower:N0}, {s.Upper:N0}], medium [{m.Lower:N0}, {m.Upper:N0}], large [{l.Lower:N0}, {l.Upper:N0}]");
            Assert.True(0 == s.Lower && s.Upper <= m.Lower && m.Lower <= m.Upper && m.Upper <= l.Lower && l.Lower <= l.Upper);
            // Independent check of P20: the fraction of fresh samples at or below it is close to 20 %.
            var fresh = model.SampleParameterCounts(5_000, 99);
            Assert.InRange(fresh.Count(c => c <= s.Upper) / 5_000.0, 0.17, 0.23);
            Assert.InRange(fresh.Count(c => c <= m.Upper) / 5_000.0, 0.57, 0.63);
        }
    }

    private sealed class RandomData(DatasetInfo info) : IClassificationDataset
    {
        public DatasetInfo Info => info;

        public int Count(EvaluationSplit split) => 8;

        public Batch GetBatch(EvaluationSplit split, ReadOnlySpan<int> indices, bool augment, Random random, Device device) =>
            new(torch.randn(indices.Length, info.Channels, info.Height, info.Width), torch.randint(info.ClassCount, [indices.Length]));

        public void Dispose()
        {
        }
    }
}
