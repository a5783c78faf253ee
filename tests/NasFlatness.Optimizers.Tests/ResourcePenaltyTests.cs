using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers.Tests;

[Collection(TorchCollection.Name)]
public sealed class ResourcePenaltyTests
{
    private static readonly Nb201ResourceModel Model = new();

    private static ResourcePenaltyRegularizer Penalty(double lower, double upper, double lambda = 2.0, int start = 0) =>
        new(p => Model.ExpectedParameters(p[0]), new ResourcePenaltyOptions { Lower = lower, Upper = upper, Lambda = lambda, StartEpoch = start });

    private static ArchitectureStep Step(Supernet net, int epoch = 0, IArchitectureActivation? activation = null) =>
        new(net, default, default, new WeightOptimizerState(0.1, 0.9, 0), activation ?? SoftmaxActivation.Instance, SearchClock.At(epoch, 50, 0, 1));

    private static Supernet Net() => new Nb201SearchSpace(new Nb201Options { Channels = 4, CellsPerStage = 1 }).CreateSupernet(DatasetInfo.Cifar10);

    [Fact]
    public void ExpectedParametersAtUniformWeights()
    {
        using var net = Net();
        var p = Penalty(0, 1e9).ExpectedCost([torch.zeros([6, 5], dtype: float64)], Step(net));
        Assert.Equal(398_554.0, p.item<double>(), 6);
    }

    [Theory]
    [InlineData(300_000, 600_000, 0)]   // inside: no term, no gradient
    [InlineData(0, 300_000, 1)]         // above U
    [InlineData(500_000, 900_000, -1)]  // below L
    public void GradientIsTheBudgetSignTimesDpDpTimesTheSoftmaxJacobian(double lower, double upper, int sign)
    {
        using var net = Net();
        var g = new torch.Generator(4);
        var alpha = (torch.randn([6, 5], dtype: float64, generator: g) * 0.1).requires_grad_(true); // P stays near 398,554
        var penalty = Penalty(lower, upper);
        var step = Step(net);
        var term = penalty.LossTerm([alpha], step);
        Assert.NotNull(term);
        double value = term!.item<double>();
        double expectedParams = penalty.ExpectedCost([alpha.detach()], step).item<double>();
        Assert.Equal(2.0 * (Math.Max(expectedParams - upper, 0) + Math.Max(lower - expectedParams, 0)) / 1e6, value, 12);
        var grad = torch.autograd.grad([term], [alpha])[0];

        // Formula: sign·λ/1e6·J_softmax(α_e)ᵀ·∂P/∂p_e with ∂P/∂p_e = [0, 0, 28,000, 243,040, 0] per edge.
        var dPdp = torch.tensor(new double[] { 0, 0, 28_000, 243_040, 0 }, dtype: float64);
        var p = alpha.detach().softmax(-1);
        for (int e = 0; e < 6; e++)
        {
            var pe = p[e];
            var jacobian = torch.diag(pe) - torch.outer(pe, pe);
            var expected = jacobian.t().matmul(dPdp) * (sign * 2.0 / 1e6);
            Assert.True(torch.allclose(grad[e], expected, rtol: 1e-10, atol: 1e-15), $"edge {e}: {grad[e].str()} vs {expected.str()}");
        }
        // Finite differences of the term.
        const double h = 1e-6;
        for (int i = 0; i < 30; i += 7)
        {
            double Term(double delta)
            {
                var a = alpha.detach().clone();
                a.view(-1)[i] += delta;
                return penalty.LossTerm([a], step)!.item<double>();
            }
            Assert.Equal((Term(h) - Term(-h)) / (2 * h), grad.view(-1)[i].item<double>(), 9);
        }
    }

    [Fact]
    public void PenaltyUsesTheSearchsActivationAndStartsAtItsEpoch()
    {
        using var net = Net();
        var alpha = torch.zeros([6, 5], dtype: float64);
        alpha[.., 3] = 3; // sparsemax(α/1.5): k = 2 gives 1 + 0 > 2? no, so the 3×3 convolution takes everything
        var sparsemax = new SparsemaxActivation();
        var penalty = Penalty(0, 1e9);
        Assert.Equal(73_306 + 6 * 243_040.0, penalty.ExpectedCost([alpha], Step(net, activation: sparsemax)).item<double>(), 6); // = 1,531,546
        Assert.Null(Penalty(0, 1, start: 20).LossTerm([alpha], Step(net, epoch: 19)));
        Assert.NotNull(Penalty(0, 1, start: 20).LossTerm([alpha], Step(net, epoch: 20)));
        var ex = Assert.Throws<ArgumentException>(() => Penalty(5, 1));
        Assert.Contains("Upper = 1 is invalid", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Lambda = -1 is invalid", Assert.Throws<ArgumentException>(() => Penalty(0, 1, lambda: -1)).Message, StringComparison.Ordinal);
    }
}
