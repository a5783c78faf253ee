using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using Xunit;

namespace NasFlatness.Landscape.Tests;

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
