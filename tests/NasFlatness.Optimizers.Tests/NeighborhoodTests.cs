using NasFlatness.Genotypes;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers.Tests;

[Collection(TorchCollection.Name)]
public sealed class NaDartsTests
{
    [Fact]
    public void LogitSwapNeighboursChangeOneEdgeByAPermutation()
    {
        using var scope = torch.NewDisposeScope();
        var alpha = torch.randn([6, 5], dtype: float64).requires_grad_(true);
        var beta = torch.randn([6], dtype: float64);
        var neighbors = new LogitSwapNeighborhood().Neighbors([alpha, beta], 20, new Random(1));
        Assert.Equal(20, neighbors.Count);
        var top = alpha.detach().argmax(-1).data<long>().ToArray();
        foreach (var n in neighbors)
        {
            Assert.Same(beta, n[1]);
            var diff = (n[0].detach() - alpha.detach()).abs().sum(dim: 1).data<double>().ToArray();
            int changedEdge = Array.FindIndex(diff, d => d > 0);
            Assert.Single(diff, d => d > 0);
            var row = n[0].detach()[changedEdge].data<double>().ToArray();
            var original = alpha.detach()[changedEdge].data<double>().ToArray();
            Assert.Equal(original.OrderBy(v => v), row.OrderBy(v => v)); // a permutation of the row
            Assert.NotEqual(top[changedEdge], (long)Array.IndexOf(row, row.Max())); // the dominant op changed
            // Differentiable: the gradient of Σ neighbour is the permuted ones.
            var g = torch.autograd.grad([n[0].sum()], [alpha], retain_graph: true)[0];
            Assert.True(torch.allclose(g, torch.ones_like(g)));
        }
    }

    [Fact]
    public void GradientIsTheMeanOverCentreAndNeighboursAndIsReproducible()
    {
        using var scope = torch.NewDisposeScope();
        using var net = new TinyLinearSupernet(2);
        var valid = TestHelpers.RandomBatch(3);
        var step = TestHelpers.Step(net, TestHelpers.RandomBatch(4), valid, globalStep: 17);
        var options = new NaDartsOptions { NeighborCount = 3, Seed = 5 };
        var g1 = new NaDartsOptimizer(options).ComputeGradient(step, step.CurrentArchitecture())[0];
        var g2 = new NaDartsOptimizer(options).ComputeGradient(step, step.CurrentArchitecture())[0];
        Assert.True(TensorAssert.Same(g1, g2));

        // Oracle: the same neighbours (same seed/step), loss average differentiated in one go.
        var alpha = step.CurrentArchitecture()[0];
        var neighbors = new LogitSwapNeighborhood().Neighbors([alpha], 3, NaDartsOptimizer.StepRandom(5, 17));
        var loss = nn.functional.cross_entropy(net.Forward(valid.Images, [alpha], SoftmaxActivation.Instance), valid.Labels);
        foreach (var n in neighbors) loss = loss + nn.functional.cross_entropy(net.Forward(valid.Images, n, SoftmaxActivation.Instance), valid.Labels);
        var expected = torch.autograd.grad([loss / 4], [alpha])[0];
        Assert.True(torch.allclose(g1, expected, rtol: 1e-12, atol: 1e-14));

        var other = TestHelpers.Step(net, TestHelpers.RandomBatch(4), valid, globalStep: 18);
        var g3 = new NaDartsOptimizer(options).ComputeGradient(other, other.CurrentArchitecture())[0];
        var dartsGradient = new DartsFirstOrder().ComputeGradient(step, step.CurrentArchitecture())[0];
        Assert.False(torch.allclose(g1, dartsGradient));
        Assert.False(torch.allclose(g1, g3) && torch.allclose(g1, dartsGradient));
    }
}
