using NasFlatness.Advanced;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static NasFlatness.Optimizers.Tests.TensorAssert;

namespace NasFlatness.Optimizers.Tests;

[Collection(TorchCollection.Name)]
public sealed class A2MTests
{
    private static ArchitectureStep DummyStep() =>
        TestHelpers.Step(new TinyLinearSupernet(0), TestHelpers.RandomBatch(1), TestHelpers.RandomBatch(2));

    [Theory]
    [InlineData(1e-2, 1e-2, 11)]
    [InlineData(1e-1, 1e-2, 12)]
    [InlineData(0.5, 1e-3, 13)]
    public void GradientOnAQuadraticEqualsTheClosedForm(double rho, double epsilon, int seed)
    {
        using var scope = torch.NewDisposeScope();
        var g = new torch.Generator((ulong)seed);
        // Two architecture tensors (α [6, 5] and a β-like [6]) perturbed jointly: a 36-dimensional quadratic.
        const int n = 36;
        var m = torch.randn([n, n], dtype: float64, generator: g);
        var q = (m + m.t()) / 2;                    // symmetric, indefinite
        var b = torch.randn([n], dtype: float64, generator: g);
        var alpha = torch.randn([6, 5], dtype: float64, generator: g);
        var beta = torch.randn([6], dtype: float64, generator: g);
        var calls = new List<double[]>();
        ArchitectureGradientFunction inner = a =>
        {
            Assert.Equal(2, a.Count);
            var flat = torch.cat([a[0].detach().flatten(), a[1].detach().flatten()]);
            calls.Add(flat.data<double>().ToArray());
            var grad = q.matmul(flat) + b;
            return [grad.narrow(0, 0, 30).view(6, 5), grad.narrow(0, 30, 6)];
        };
        var before = new[] { alpha.clone(), beta.clone() };

        var result = new A2MRegularizer(new A2MOptions { Rho = rho, FiniteDifferenceStep = epsilon }).Gradient(DummyStep(), [alpha, beta], inner);

        var x = torch.cat([alpha.flatten(), beta.flatten()]);
        var eye = torch.eye(n, dtype: float64);
        var expected = (eye + rho * q).matmul(q.matmul(x + rho * (q.matmul(x) + b)) + b);
        var actual = torch.cat([result[0].flatten(), result[1].flatten()]);
        double scale = expected.abs().max().item<double>();
        double error = (actual - expected).abs().max().item<double>();
        Assert.True(error <= 1e-11 * Math.Max(1, scale) / Math.Min(1, epsilon), $"max error {error} (scale {scale})");

        // Four passes: at α, at α̃ = α + ρg, at α̃ ± εg̃ — and α itself untouched.
        Assert.Equal(4, calls.Count);
        Assert.Equal(x.data<double>().ToArray(), calls[0]);
        var gAt = q.matmul(x) + b;
        Assert.True(torch.allclose(torch.tensor(calls[1], dtype: float64), x + rho * gAt, rtol: 1e-14, atol: 1e-14));
        Assert.True(Same(alpha, before[0]) && Same(beta, before[1]));
    }

    [Fact]
    public void ReportsGradientNorms()
    {
        using var scope = torch.NewDisposeScope();
        var a2m = new A2MRegularizer(new A2MOptions { Rho = 0.1 });
        var alpha = torch.ones([2, 3], dtype: float64);
        // ℓ(α) = ½‖α‖² → g = α, g̃ = (1 + ρ)α.
        a2m.Gradient(DummyStep(), [alpha], a => [a[0].detach().clone()]);
        Assert.Equal(Math.Sqrt(6), a2m.LastGradientNorm, 12);
        Assert.Equal(1.1 * Math.Sqrt(6), a2m.LastPerturbedGradientNorm, 12);
    }

    [Fact]
    public void RejectsInvalidOptionsAndSecondOrderHosts()
    {
        Assert.Throws<ArgumentException>(() => new A2MRegularizer(new A2MOptions { FiniteDifferenceStep = 0 }));
        Assert.Throws<ArgumentException>(() => new A2MRegularizer(new A2MOptions { Rho = double.NaN }));
        Assert.True(new A2MRegularizer().RequiresFirstOrderOptimizer);
        var ex = Assert.Throws<ArgumentException>(() => new SearchRunner(new Nb201SearchSpace(), new DartsSecondOrder(), [new A2MRegularizer()]));
        Assert.Contains("first-order", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1e-1, A2MOptions.ForSpace("darts").Rho);
        Assert.Equal(1e-2, A2MOptions.ForSpace(Nb201SearchSpace.SpaceName).Rho);
    }

    [Fact]
    public void StepLeavesAlphaUntouchedExceptForTheAdamStep()
    {
        using var scope = torch.NewDisposeScope();
        using var net = new TinyLinearSupernet(5);
        var alpha = net.ArchitectureParameters()[0];
        var before = alpha.detach().clone();
        var step = TestHelpers.Step(net, TestHelpers.RandomBatch(6), TestHelpers.RandomBatch(7));
        var a2m = new A2MRegularizer(new A2MOptions { Rho = 0.5, FiniteDifferenceStep = 1e-2 });
        var optimizer = new DartsFirstOrder();

        // The gradient computation itself never writes into α (bit for bit).
        var gradient = ArchitectureStepper.Compose(step, optimizer, [a2m])(step.CurrentArchitecture())[0].detach().clone();
        Assert.True(Same(alpha.detach(), before));
        Assert.True(alpha.grad is null || alpha.grad.IsInvalid || Same(alpha.grad, torch.zeros_like(alpha)));

        // One runner step = exactly one Adam step with that gradient (first Adam step, coupled weight decay).
        const double lr = 3e-4, b1 = 0.5, b2 = 0.999, eps = 1e-8, wd = 1e-3;
        using var adam = torch.optim.Adam([alpha], lr, b1, b2, eps, wd);
        ArchitectureStepper.Step(step, optimizer, [a2m], [alpha], adam);
        var gp = gradient + wd * before;
        var mHat = (1 - b1) * gp / (1 - b1);
        var vHat = (1 - b2) * gp.square() / (1 - b2);
        var expected = before - lr * mHat / (vHat.sqrt() + eps);
        Assert.True(torch.allclose(alpha.detach(), expected, rtol: 0, atol: 1e-15), "α after the step is not α − Adam(G)");
        Assert.False(Same(alpha.detach(), before));
    }

    [Fact]
    public void LossShapingRegularizersEnterAllFourPasses()
    {
        using var scope = torch.NewDisposeScope();
        using var net = new TinyLinearSupernet(8);
        var valid = TestHelpers.RandomBatch(9);
        var beta = new BetaDecayRegularizer();
        var a2m = new A2MRegularizer(new A2MOptions { Rho = 0.3, FiniteDifferenceStep = 1e-3 });
        const int epoch = 6; // λ = 3
        var step = TestHelpers.Step(net, TestHelpers.RandomBatch(10), valid, epoch: epoch, regularizers: [beta, a2m]);
        var composed = ArchitectureStepper.Compose(step, new DartsFirstOrder(), [beta, a2m])(step.CurrentArchitecture())[0];

        // Independent oracle: ℓ(α) = CE(f(α)) + 3·mean_e logsumexp(α_e), written out here, A²M formula by hand.
        var weights = net.WeightParameters().Select(w => w.detach()).ToArray();
        Tensor Grad(Tensor a)
        {
            var x = a.detach().clone().requires_grad_(true);
            var loss = nn.functional.cross_entropy(TinyLinearSupernet.Functional(valid.Images, x, weights), valid.Labels) + 3.0 * x.logsumexp(1).mean();
            return torch.autograd.grad([loss], [x])[0].detach();
        }
        var a0 = net.ArchitectureParameters()[0].detach().clone();
        var g = Grad(a0);
        var tilde = a0 + 0.3 * g;
        var gt = Grad(tilde);
        var expected = gt + 0.3 * (Grad(tilde + 1e-3 * gt) - Grad(tilde - 1e-3 * gt)) / 2e-3;
        Assert.True(torch.allclose(composed, expected, rtol: 1e-10, atol: 1e-12));

        var withoutBeta = ArchitectureStepper.Compose(TestHelpers.Step(net, TestHelpers.RandomBatch(10), valid, epoch: epoch, regularizers: [a2m]),
            new DartsFirstOrder(), [a2m])(step.CurrentArchitecture())[0];
        Assert.False(torch.allclose(composed, withoutBeta, rtol: 1e-6, atol: 1e-8));
    }

    [Fact]
    public void OnATinyNb201SupernetMakesFourValidationPassesAndDiffersFromDarts()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(21);
        using var inner = new Nb201SearchSpace(new Nb201Options { Channels = 4, CellsPerStage = 1 }).CreateSupernet(DatasetInfo.Cifar10);
        using var net = new CountingSupernet(inner);
        using (torch.no_grad()) net.ArchitectureParameters()[0].copy_(torch.randn(6, 5) * 0.5);
        var before = net.ArchitectureParameters()[0].detach().clone();
        var step = TestHelpers.Step(net, TestHelpers.RandomImages(1), TestHelpers.RandomImages(2));

        net.Forwards = 0;
        var darts = ArchitectureStepper.Compose(step, new DartsFirstOrder(), [])(step.CurrentArchitecture())[0];
        Assert.Equal(1, net.Forwards);

        net.Forwards = 0;
        var a2m = new A2MRegularizer(new A2MOptions { Rho = 1.0 });
        var g = ArchitectureStepper.Compose(step, new DartsFirstOrder(), [a2m])(step.CurrentArchitecture())[0];
        Assert.Equal(4, net.Forwards);
        Assert.True(Same(net.ArchitectureParameters()[0].detach(), before));
        Assert.True(g.isfinite().all().item<bool>());
        Assert.False(torch.allclose(g, darts, rtol: 1e-3, atol: 1e-6));
        Assert.True(a2m.LastGradientNorm > 0);
    }

    [Fact]
    public void ComposesWithThePartialChannelSupernetPerturbingAlphaAndBetaJointly()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(22);
        using var net = new Nb201SearchSpace(new Nb201Options { Channels = 8, CellsPerStage = 1, PartialChannels = true }).CreateSupernet(DatasetInfo.Cifar10);
        var step = TestHelpers.Step(net, TestHelpers.RandomImages(3), TestHelpers.RandomImages(4), epoch: 4, regularizers: [new BetaDecayRegularizer()]);
        var g = ArchitectureStepper.Compose(step, new DartsFirstOrder(), [new BetaDecayRegularizer(), new A2MRegularizer()])(step.CurrentArchitecture());
        Assert.Equal(2, g.Count);
        Assert.Equal([6L, 5L], g[0].shape);
        Assert.Equal([6L], g[1].shape);
        Assert.True(g[1].abs().sum().item<float>() > 0);
    }
}
