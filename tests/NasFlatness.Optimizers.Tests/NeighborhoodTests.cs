using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers.Tests;

public sealed class NeighborhoodRandomSearchTests
{
    private static double Cifar10Test(Nb201Genotype g) => Nb201Table.Embedded.Get(g).Cifar10TestAccuracy;

    private static IArchitectureScorer<Nb201Genotype> Scorer(Func<Nb201Genotype, double>? f = null) =>
        ArchitectureScorer.FromFunction<Nb201Genotype>(f ?? Cifar10Test, "cifar10-test");

    [Fact]
    public void NaRsIsReproducibleAndItsNeighbourhoodMeanIsTheTables()
    {
        var options = new NeighborhoodRandomSearchOptions { Budget = 500, Seed = 42 };
        var a = NeighborhoodRandomSearch.ForNb201(Scorer(), options).Run();
        var b = NeighborhoodRandomSearch.ForNb201(Scorer(), options).Run();
        Assert.Equal(a.Genotype, b.Genotype);
        Assert.Equal(a.NeighborhoodMean, b.NeighborhoodMean);
        Assert.Equal(a.Candidates.Select(c => c.Genotype), b.Candidates.Select(c => c.Genotype));

        // Independent oracle: the 24 single-edge changes, written out by hand, plus the centre.
        var ops = a.Genotype.Operations;
        double sum = Cifar10Test(a.Genotype);
        int n = 1;
        for (int e = 0; e < 6; e++)
            for (int o = 0; o < 5; o++)
            {
                if (o == ops[e]) continue;
                var changed = ops.ToArray();
                changed[e] = o;
                sum += Cifar10Test(new Nb201Genotype(changed));
                n++;
            }
        Assert.Equal(25, n);
        Assert.Equal(sum / n, a.NeighborhoodMean, 10);
        Assert.Equal(Cifar10Test(a.Genotype), a.Score, 10);
        Assert.All(a.Candidates, c => Assert.True(c.NeighborhoodMean <= a.NeighborhoodMean));
        Assert.True(a.Evaluations <= 500);
        Assert.True(a.Evaluations > 400);

        var other = NeighborhoodRandomSearch.ForNb201(Scorer(), new NeighborhoodRandomSearchOptions { Budget = 500, Seed = 43 }).Run();
        Assert.NotEqual(a.Candidates.Select(c => c.Genotype), other.Candidates.Select(c => c.Genotype));
    }

    [Fact]
    public void BudgetAccountingModes()
    {
        int calls = 0;
        var counting = Scorer(g => { calls++; return Cifar10Test(g); });
        var byEvaluations = NeighborhoodRandomSearch.ForNb201(counting, new NeighborhoodRandomSearchOptions { Budget = 100, Seed = 1 }).Run();
        Assert.Equal(calls, byEvaluations.Evaluations);
        Assert.True(byEvaluations.Evaluations <= 100);
        Assert.Equal(4, byEvaluations.Candidates.Count); // 25 evaluations each, no overlaps at this size

        var byCandidates = NeighborhoodRandomSearch.ForNb201(Scorer(), new NeighborhoodRandomSearchOptions { Budget = 10, Seed = 1, Accounting = BudgetAccounting.Candidates }).Run();
        Assert.Equal(10, byCandidates.Candidates.Count);
        Assert.True(byCandidates.Evaluations > 100);

        var sampled = NeighborhoodRandomSearch.ForNb201(Scorer(), new NeighborhoodRandomSearchOptions { Budget = 60, Seed = 1, NeighborSampleSize = 5, IncludeCenter = false }).Run();
        Assert.All(sampled.Candidates, c => Assert.Equal(5, c.NeighborCount));
        Assert.Equal(10, sampled.Candidates.Count);

        Assert.Throws<ArgumentException>(() => NeighborhoodRandomSearch.ForNb201(Scorer(), new NeighborhoodRandomSearchOptions { Budget = 10 }).Run());
        Assert.Throws<ArgumentException>(() => NeighborhoodRandomSearch.ForNb201(Scorer(), new NeighborhoodRandomSearchOptions { Radius = 0 }));
    }

    [Fact]
    public void PlainRandomSearchPicksTheBestSampledScore()
    {
        var result = NeighborhoodRandomSearch.ForNb201(Scorer(), NeighborhoodRandomSearchOptions.PlainRandomSearch(budget: 200, seed: 3)).Run();
        Assert.Equal(200, result.Evaluations);
        Assert.Equal(result.Candidates.Max(c => c.Score), result.Score);
        Assert.Equal(result.Score, result.NeighborhoodMean);
        Assert.Equal(result.Score, Cifar10Test(result.Genotype), 10);
    }
}

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
        var loss = nn.functional.cross_entropy(net.Forward(valid.Images, [alpha]), valid.Labels);
        foreach (var n in neighbors) loss = loss + nn.functional.cross_entropy(net.Forward(valid.Images, n), valid.Labels);
        var expected = torch.autograd.grad([loss / 4], [alpha])[0];
        Assert.True(torch.allclose(g1, expected, rtol: 1e-12, atol: 1e-14));

        var other = TestHelpers.Step(net, TestHelpers.RandomBatch(4), valid, globalStep: 18);
        var g3 = new NaDartsOptimizer(options).ComputeGradient(other, other.CurrentArchitecture())[0];
        var dartsGradient = new DartsFirstOrder().ComputeGradient(step, step.CurrentArchitecture())[0];
        Assert.False(torch.allclose(g1, dartsGradient));
        Assert.False(torch.allclose(g1, g3) && torch.allclose(g1, dartsGradient));
    }
}
