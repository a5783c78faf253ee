using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers.Tests;

[Collection(TorchCollection.Name)]
public sealed class SparsemaxTests
{
    private static readonly double[] Z = [1, 0.5, 0.2, -1];

    private static double[] Activate(double[] z, double tau) =>
        new SparsemaxActivation(tau, 1.0).Activate(torch.tensor(z, dtype: float64)).data<double>().ToArray();

    [Theory]
    [InlineData(1.0, new[] { 0.75, 0.25, 0, 0 })]
    [InlineData(2.0, new[] { 0.55, 0.30, 0.15, 0 })]
    [InlineData(0.5, new[] { 1.0, 0, 0, 0 })] // boundary k = 2: 1 + 2·1 = 3 is not > 3
    public void HandWorkedValues(double tau, double[] expected)
    {
        var p = Activate(Z, tau);
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], p[i], 12);
        Assert.Equal(0.0, p[3]); // exact zero, not a tiny positive number
    }

    [Fact]
    public void EqualScoresGiveTheUniformDistribution()
    {
        Assert.All(Activate(new double[5], 1.5), v => Assert.Equal(0.2, v, 15));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.0)]
    [InlineData(0.7)]
    public void AutogradJacobianIsTheSupportFormulaOverTau(double tau)
    {
        var z = torch.tensor(Z, dtype: float64).requires_grad_(true);
        var p = new SparsemaxActivation(tau, 1.0).Activate(z);
        var values = p.detach().data<double>().ToArray();
        var support = Enumerable.Range(0, 4).Where(i => values[i] > 0).ToArray();
        for (int i = 0; i < 4; i++)
        {
            var row = torch.autograd.grad([p[i]], [z], retain_graph: true)[0].data<double>().ToArray();
            for (int j = 0; j < 4; j++)
            {
                double expected = support.Contains(i) && support.Contains(j) ? ((i == j ? 1 : 0) - 1.0 / support.Length) / tau : 0;
                Assert.Equal(expected, row[j], 12);
            }
        }
        if (tau == 1.0)
        {
            // The oracle of docs/spec/secondary-methods.md §2.6: [[0.5, −0.5], [−0.5, 0.5]] on the first two operations.
            var first = torch.autograd.grad([p[0]], [z], retain_graph: true)[0].data<double>().ToArray();
            Assert.Equal([0.5, -0.5, 0, 0], first.Select(v => Math.Round(v, 12)).ToArray());
        }
    }

    [Fact]
    public void RowsAreSimplexProjectionsComputedIndependently()
    {
        var g = new torch.Generator(3);
        var logits = torch.randn([40, 5], dtype: float64, generator: g) * 2;
        foreach (double tau in new[] { 0.3, 1.0, 1.5, 4.0 })
        {
            var p = new SparsemaxActivation(tau, 1.0).Activate(logits);
            var rows = p.data<double>().ToArray();
            var z = logits.data<double>().ToArray();
            for (int r = 0; r < 40; r++)
            {
                var row = rows.AsSpan(r * 5, 5).ToArray();
                Assert.All(row, v => Assert.True(v >= 0));
                Assert.Equal(1.0, row.Sum(), 12);
                // Independent oracle: bisection for θ with Σ max(z/τ − θ, 0) = 1.
                var scaled = z.AsSpan(r * 5, 5).ToArray().Select(v => v / tau).ToArray();
                double lo = scaled.Max() - 1, hi = scaled.Max();
                for (int it = 0; it < 200; it++)
                {
                    double mid = (lo + hi) / 2;
                    if (scaled.Sum(v => Math.Max(v - mid, 0)) > 1) lo = mid; else hi = mid;
                }
                for (int i = 0; i < 5; i++) Assert.Equal(Math.Max(scaled[i] - lo, 0), row[i], 10);
            }
        }
    }

    [Fact]
    public void TemperatureIsAPureFunctionOfTheEpoch()
    {
        var nb = new SparsemaxActivation();
        Assert.Equal((1.5, 0.9, 5), (nb.InitialTemperature, nb.Decay, nb.DecayEveryEpochs));
        for (int t = 0; t < 5; t++) Assert.Equal(1.5, nb.TemperatureAt(t), 12);
        Assert.Equal(1.35, nb.TemperatureAt(5), 12);
        Assert.Equal(1.215, nb.TemperatureAt(10), 12);
        for (int t = 45; t < 50; t++) Assert.Equal(0.5811, nb.TemperatureAt(t), 4);
        var med = SparsemaxActivation.MedMnist();
        for (int t = 45; t < 50; t++) Assert.Equal(0.1126, med.TemperatureAt(t), 4);

        Assert.Equal(1.5, nb.Temperature);
        using var net = new TinyLinearSupernet(1);
        nb.OnEpochStarting(new EpochStart(SearchClock.At(12, 50, 0, 10), 0.1, net, nb));
        Assert.Equal(1.215, nb.Temperature, 12);
        nb.OnEpochStarting(new EpochStart(SearchClock.At(3, 50, 0, 10), 0.1, net, nb)); // no hidden state: going back is fine
        Assert.Equal(1.5, nb.Temperature, 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SparsemaxActivation(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SparsemaxActivation(1.5, 1.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SparsemaxActivation(1.5, 0.9, 0));
    }

    [Fact]
    public void Nb201SupernetMixesWithExactZeros()
    {
        using var net = new Nb201SearchSpace(new Nb201Options { Channels = 4, CellsPerStage = 1 }).CreateSupernet(DatasetInfo.Cifar10);
        var sparsemax = new SparsemaxActivation(1.0, 1.0);
        var g = new torch.Generator(5);
        var alpha = (torch.randn([6, 5], generator: g) * 2).requires_grad_(true);
        var p = net.MixingWeights([alpha], sparsemax)[0].detach();
        var zeros = p.eq(0);
        Assert.True(zeros.sum().item<long>() > 0, "no exact zero in the sparsemax weights");
        Assert.Equal(Nb201SearchSpace.Derive(alpha).ToString(), net.DeriveGenotype([alpha], sparsemax).ToString()); // monotone: argmax unchanged

        var x = torch.randn([2, 3, 32, 32], generator: g);
        var output = net.Forward(x, [alpha], sparsemax);
        var grad = torch.autograd.grad([output.sum()], [alpha])[0];
        Assert.Equal(0.0, grad.masked_select(zeros).abs().max().item<float>()); // operations outside the support get no gradient
        Assert.True(grad.masked_select(zeros.logical_not()).abs().max().item<float>() > 0);

        // Lowering the logits of zero-weight operations changes nothing: they are not in the mixture.
        var lowered = torch.where(zeros, alpha.detach() - 3, alpha.detach());
        using (torch.no_grad())
            Assert.True(TensorAssert.Same(output.detach(), net.Forward(x, [lowered], sparsemax)));

        // Under softmax the same operations do receive gradient.
        var softGrad = torch.autograd.grad([net.Forward(x, [alpha], SoftmaxActivation.Instance).sum()], [alpha])[0];
        Assert.True(softGrad.masked_select(zeros).abs().max().item<float>() > 0);
    }

    [Fact]
    public void DartsEdgeScoresUseTheSparsemaxWeights()
    {
        using var net = (DartsSupernet)new DartsSearchSpace(new DartsSpaceOptions { Channels = 4, Cells = 3 }).CreateSupernet(DatasetInfo.Cifar10);
        var normal = torch.zeros([14, 8], dtype: float64);
        var reduce = torch.zeros([14, 8], dtype: float64);
        // Node 1 (edges 2, 3, 4 from inputs 0, 1, 2). Edge 2: none 3, max_pool 1.5 → softmax 0.147 beats the uniform edge 3 (0.125),
        // but sparsemax(·/1.5) = [1, 0, …] puts all mass on none (score 0). Edge 4: sep_conv_3x3 at 3, the strongest edge either way.
        normal[2, 0] = 3; normal[2, 1] = 1.5;
        normal[4, 4] = 3;
        var sparsemax = new SparsemaxActivation();
        var derived = (DartsGenotype)net.DeriveGenotype([normal, reduce], sparsemax);
        var expected = DartsSearchSpace.DeriveFromWeights(sparsemax.Activate(normal), sparsemax.Activate(reduce));
        Assert.Equal(expected.ToString(), derived.ToString());
        Assert.Equal([2, 1], new[] { derived.Normal[2].Input, derived.Normal[3].Input });
        Assert.Equal("sep_conv_3x3", derived.Normal[2].Operation);

        var soft = (DartsGenotype)net.DeriveGenotype([normal, reduce], SoftmaxActivation.Instance);
        Assert.Equal([2, 0], new[] { soft.Normal[2].Input, soft.Normal[3].Input });
        Assert.Equal(DartsSearchSpace.Derive(normal, reduce).ToString(), soft.ToString());
    }
}
