using NasFlatness.Optimizers;
using NasFlatness.Search;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Tests;

[Collection(TorchCollection.Name)]
public sealed class DartsGradientTests
{
    private static Batch RandomBatch(int seed, int n = 8)
    {
        var g = new torch.Generator((ulong)seed);
        return new Batch(torch.randn([n, TinyLinearSupernet.Features], dtype: float64, generator: g),
            torch.randint(TinyLinearSupernet.Classes, [n], generator: g));
    }

    [Fact]
    public void FirstOrderGradientMatchesCentralDifferences()
    {
        using var net = new TinyLinearSupernet(1);
        var train = RandomBatch(2);
        var valid = RandomBatch(3);
        var step = new ArchitectureStep(net, train, valid, new WeightOptimizerState(0.1, 0.9, 3e-4), SoftmaxActivation.Instance);
        var g = new DartsFirstOrder().ComputeGradient(step, step.CurrentArchitecture())[0].data<double>().ToArray();

        var alpha = net.Alpha().detach().clone();
        const double h = 1e-6;
        for (int i = 0; i < alpha.numel(); i++)
        {
            double Loss(double delta)
            {
                var a = alpha.clone();
                a.view(-1)[i] += delta;
                return nn.functional.cross_entropy(net.Forward(valid.Images, [a], SoftmaxActivation.Instance), valid.Labels).item<double>();
            }
            Assert.Equal((Loss(h) - Loss(-h)) / (2 * h), g[i], 7);
        }
    }

    [Fact]
    public void SecondOrderHypergradientMatchesDoubleBackward()
    {
        using var net = new TinyLinearSupernet(4);
        var train = RandomBatch(5);
        var valid = RandomBatch(6);
        var weights = net.WeightParameters().ToArray();
        var momentum = weights.Select((w, i) => (Tensor?)(torch.randn_like(w) * 0.1)).ToArray();
        const double eta = 0.05, mu = 0.9, wd = 3e-4;
        var state = new WeightOptimizerState(eta, mu, wd, () => momentum);
        var step = new ArchitectureStep(net, train, valid, state, SoftmaxActivation.Instance);
        var before = weights.Select(w => w.detach().clone()).ToArray();

        var fd = new DartsSecondOrder().ComputeGradient(step, step.CurrentArchitecture())[0];

        // Oracle: differentiate L_val(w'(α), α) with w' = w − η(μm + ∇w L_tr(w, α) + λw) exactly (double backward).
        var alpha = net.Alpha().detach().clone().requires_grad_(true);
        var w = weights.Select(p => p.detach().clone().requires_grad_(true)).ToArray();
        var trainLoss = nn.functional.cross_entropy(TinyLinearSupernet.Functional(train.Images, alpha, w), train.Labels);
        var gw = torch.autograd.grad([trainLoss], w, retain_graph: true, create_graph: true);
        var unrolled = w.Select((wi, i) => wi - eta * (mu * momentum[i]! + gw[i] + wd * wi)).ToArray();
        var valLoss = nn.functional.cross_entropy(TinyLinearSupernet.Functional(valid.Images, alpha, unrolled), valid.Labels);
        var exact = torch.autograd.grad([valLoss], [alpha])[0];

        // The first-order part alone differs clearly, so the check is not trivially satisfied.
        var firstOrder = new DartsFirstOrder().ComputeGradient(step, step.CurrentArchitecture())[0];
        Assert.True((firstOrder - exact).abs().max().item<double>() > 1e-5);
        Assert.True(torch.allclose(fd, exact, rtol: 1e-5, atol: 1e-8), $"FD {fd.str()} vs exact {exact.str()}");
        // Weights are restored exactly.
        for (int i = 0; i < weights.Length; i++) Assert.Equal(0.0, (before[i] - weights[i]).abs().max().item<double>());
    }

    [Fact]
    public void SecondOrderWithoutMomentumBuffersUsesPlainSgd()
    {
        using var net = new TinyLinearSupernet(7);
        var train = RandomBatch(8);
        var valid = RandomBatch(9);
        const double eta = 0.1;
        var step = new ArchitectureStep(net, train, valid, new WeightOptimizerState(eta, 0.9, 0), SoftmaxActivation.Instance);
        var fd = new DartsSecondOrder().ComputeGradient(step, step.CurrentArchitecture())[0];

        var alpha = net.Alpha().detach().clone().requires_grad_(true);
        var w = net.WeightParameters().Select(p => p.detach().clone().requires_grad_(true)).ToArray();
        var gw = torch.autograd.grad([nn.functional.cross_entropy(TinyLinearSupernet.Functional(train.Images, alpha, w), train.Labels)], w, retain_graph: true, create_graph: true);
        var unrolled = w.Select((wi, i) => wi - eta * gw[i]).ToArray();
        var exact = torch.autograd.grad([nn.functional.cross_entropy(TinyLinearSupernet.Functional(valid.Images, alpha, unrolled), valid.Labels)], [alpha])[0];
        Assert.True(torch.allclose(fd, exact, rtol: 1e-5, atol: 1e-8));
    }

    [Fact]
    public void SecondOrderReadsTheSgdMomentumBuffersInParameterOrder()
    {
        using var net = new TinyLinearSupernet(10);
        var weights = net.WeightParameters().ToArray();
        using var sgd = torch.optim.SGD(weights, 0.1, 0.9, 0.0, 0.0, false);
        var train = RandomBatch(11);
        sgd.zero_grad();
        nn.functional.cross_entropy(net.forward(train.Images), train.Labels).backward();
        var grads = weights.Select(w => w.grad!.clone()).ToArray();
        sgd.step();
        var state = WeightOptimizerState.FromSgd(sgd, 0.1, 0.9, 0.0);
        var buffers = state.MomentumBuffers();
        Assert.Equal(weights.Length, buffers.Count);
        // After one step the buffer equals the gradient (dampening 0).
        for (int i = 0; i < weights.Length; i++) Assert.True(torch.allclose(buffers[i]!, grads[i]));
    }
}

internal static class TinyExtensions
{
    public static Tensor Alpha(this Supernet net) => net.ArchitectureParameters()[0];
}
