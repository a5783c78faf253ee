using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers.Tests;

[Collection(TorchCollection.Name)]
public sealed class BetaDecayTests
{
    [Theory]
    [InlineData(6, 5, 1)]
    [InlineData(14, 8, 2)]
    public void GradientIsSoftmaxOverEdgeCount(int edges, int ops, int seed)
    {
        using var scope = torch.NewDisposeScope();
        var alpha = (torch.randn([edges, ops], dtype: float64, generator: new torch.Generator((ulong)seed)) * 2).requires_grad_(true);
        var grad = torch.autograd.grad([BetaDecayRegularizer.Loss(alpha)], [alpha])[0];
        var expected = alpha.detach().softmax(-1) / edges;
        Assert.True(torch.allclose(grad, expected, rtol: 1e-12, atol: 1e-15));

        // Independently, by central differences on the plain formula (1/E)·Σ_e log Σ_o exp(α_eo).
        var a = alpha.detach().clone();
        var values = a.data<double>().ToArray();
        double F(double[] v)
        {
            double total = 0;
            for (int e = 0; e < edges; e++)
            {
                double s = 0;
                for (int o = 0; o < ops; o++) s += Math.Exp(v[e * ops + o]);
                total += Math.Log(s);
            }
            return total / edges;
        }
        var g = grad.data<double>().ToArray();
        const double h = 1e-6;
        for (int i = 0; i < values.Length; i++)
        {
            var plus = (double[])values.Clone(); plus[i] += h;
            var minus = (double[])values.Clone(); minus[i] -= h;
            Assert.Equal((F(plus) - F(minus)) / (2 * h), g[i], tolerance: 1e-8);
        }
        Assert.Equal(F(values), BetaDecayRegularizer.Loss(a).item<double>(), 12);
    }

    [Fact]
    public void ScheduleValues()
    {
        Assert.Equal(0.0, BetaDecaySchedule.Default.At(0));
        Assert.Equal(5.0, BetaDecaySchedule.Default.At(10));
        Assert.Equal(24.5, BetaDecaySchedule.Default.At(49));
        Assert.Equal(49.5, BetaDecaySchedule.Default.At(99));
        var ramp = BetaDecaySchedule.Linear(maxLambda: 50, epochs: 100);
        for (int t = 0; t < 100; t += 7) Assert.Equal(0.5 * t, ramp.At(t), 12);
        Assert.Equal(10.0, BetaDecaySchedule.Linear(10, 5).At(5), 12);
        Assert.Equal(1.0 + 2.0 * 3, new BetaDecaySchedule(slopePerEpoch: 2, start: 1).At(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BetaDecaySchedule(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => BetaDecaySchedule.Linear(50, 0));
    }

    [Fact]
    public void LossTermIsLambdaTimesTheSumOverOpMixtureBlocksAndSkipsVectors()
    {
        using var scope = torch.NewDisposeScope();
        using var net = new TinyLinearSupernet(1);
        var reg = new BetaDecayRegularizer();
        var normal = torch.randn([14, 8], dtype: float64);
        var reduce = torch.randn([14, 8], dtype: float64);
        var edgeBeta = torch.randn([14], dtype: float64);

        var at0 = TestHelpers.Step(net, TestHelpers.RandomBatch(1), TestHelpers.RandomBatch(2), epoch: 0);
        Assert.Null(reg.LossTerm([normal], at0)); // λ_0 = 0

        var at8 = TestHelpers.Step(net, TestHelpers.RandomBatch(1), TestHelpers.RandomBatch(2), epoch: 8);
        var term = reg.LossTerm([normal, reduce, edgeBeta], at8)!;
        double expected = 4.0 * (normal.logsumexp(1).mean().item<double>() + reduce.logsumexp(1).mean().item<double>());
        Assert.Equal(expected, term.item<double>(), 12);
        Assert.Null(reg.LossTerm([edgeBeta], at8));
    }

    [Fact]
    public void ValidationLossIncludesTheTerm()
    {
        using var scope = torch.NewDisposeScope();
        using var net = new TinyLinearSupernet(3);
        var reg = new BetaDecayRegularizer();
        var valid = TestHelpers.RandomBatch(2);
        var plain = TestHelpers.Step(net, TestHelpers.RandomBatch(1), valid, epoch: 4);
        var regularized = TestHelpers.Step(net, TestHelpers.RandomBatch(1), valid, epoch: 4, regularizers: [reg]);
        var a = plain.CurrentArchitecture();
        double difference = regularized.ValidationLoss(a).item<double>() - plain.ValidationLoss(a).item<double>();
        Assert.Equal(2.0 * a[0].logsumexp(1).mean().item<double>(), difference, 10);
    }
}
