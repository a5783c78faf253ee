using CsCheck;
using NasFlatness.Genotypes;

namespace NasFlatness.Landscape.Tests;

public sealed class FlatnessTests
{
    private static readonly Nb201Table Table = Nb201Table.Embedded;

    /// <summary>Scores by code built from the raw file, independent of the library's table.</summary>
    private static readonly Lazy<Dictionary<string, double>> s_rawCifar10 =
        new(() => TestData.Raw.ToDictionary(r => r.Arch, r => r.Cifar10));

    private static double RawScore(int code) => s_rawCifar10.Value[Nb201Genotype.FromCode(code).ToString()];

    private static (double Mean, double Std, double Min, double[] Scores) BruteFlatness(Nb201Genotype g, int radius)
    {
        var scores = NeighborhoodTests.BruteSphere(g, radius).Select(RawScore).ToArray();
        double mean = scores.Average();
        double std = Math.Sqrt(scores.Select(s => (s - mean) * (s - mean)).Average());
        return (mean, std, scores.Min(), scores);
    }

    [Theory]
    [InlineData(6111, 1)]
    [InlineData(6111, 2)]
    [InlineData(6111, 3)]
    [InlineData(0, 1)]
    [InlineData(857, 2)]
    [InlineData(12094, 3)]
    public void FlatnessMatchesBruteForce(int index, int radius)
    {
        var g = Table.GenotypeAt(index);
        var (mean, std, min, scores) = BruteFlatness(g, radius);
        var landscape = Nb201Landscape.FromTable(Table, Nb201Metrics.Cifar10TestAccuracy);
        var f = landscape.Flatness(g, radius);
        Assert.Equal(mean, f.NeighborMean, 1e-9);
        Assert.Equal(std, f.NeighborStd, 1e-9);
        Assert.Equal(min, f.NeighborMin);
        Assert.Equal(scores.Max(), f.NeighborMax);
        Assert.Equal(TestData.Raw[index].Cifar10 - mean, f.Gap, 1e-9);
        Assert.Equal(scores.Order(), f.NeighborScores.Order());
        Assert.False(f.IsSampled);

        var general = new LandscapeAnalyzer<Nb201Genotype>(Nb201NeighborhoodSpace.Instance, Table.Scorer(Nb201Metrics.Cifar10TestAccuracy));
        var fg = general.Flatness(g, radius);
        Assert.Equal(mean, fg.NeighborMean, 1e-9);
        Assert.Equal(std, fg.NeighborStd, 1e-9);

        var space = landscape.ComputeSpaceFlatness(radius);
        Assert.Equal(mean, space[g].NeighborMean, 1e-9);
        Assert.Equal(std, space[g].NeighborStd, 1e-9);
        Assert.Equal(min, space[g].NeighborMin);
        Assert.Equal(f.Gap, space.Gap[g.Code], 1e-9);
    }

    [Fact]
    public void WholeSpacePassAgreesWithPerArchitectureResults()
    {
        var landscape = Nb201Landscape.FromTable(Table, Nb201Metrics.Cifar100TestAccuracy);
        var space1 = landscape.ComputeSpaceFlatness(1);
        var space2 = landscape.ComputeSpaceFlatness(2);
        Gen.Int[0, Nb201Genotype.SpaceSize - 1].Sample(code =>
        {
            var g = Nb201Genotype.FromCode(code);
            var f1 = landscape.Flatness(g, 1);
            var f2 = landscape.Flatness(g, 2);
            Assert.Equal(f1.Statistics.NeighborMean, space1[g].NeighborMean, 1e-9);
            Assert.Equal(f1.Statistics.NeighborStd, space1[g].NeighborStd, 1e-9);
            Assert.Equal(f2.Statistics.NeighborMean, space2[g].NeighborMean, 1e-9);
            Assert.Equal(f2.Statistics.NeighborMax, space2[g].NeighborMax);
        }, iter: 50);
        var r0 = landscape.ComputeSpaceFlatness(0);
        Assert.All(Enumerable.Range(0, 100), c => Assert.Equal(0, r0.Gap[c]));
    }

    [Fact]
    public void ExpensiveScorersAreCalledOncePerDistinctArchitecture()
    {
        var calls = new Dictionary<int, int>();
        var scorer = ArchitectureScorer.FromFunction<Nb201Genotype>(g =>
        {
            calls[g.Code] = calls.GetValueOrDefault(g.Code) + 1;
            return g.Operations.Count(o => o == 3);
        }, "number of 3x3 convs");
        var analyzer = new LandscapeAnalyzer<Nb201Genotype>(Nb201NeighborhoodSpace.Instance, scorer);
        var a = Nb201Genotype.FromCode(100);
        analyzer.Flatness(a, 1);
        analyzer.Flatness(a, 2);
        analyzer.Flatness(a.With(0, (a.Operations[0] + 1) % 5), 1);
        analyzer.PathProfile(a, Nb201Genotype.FromCode(15_000));
        Assert.All(calls.Values, n => Assert.Equal(1, n));
        Assert.Equal(calls.Count, analyzer.EvaluatedCount);
        Assert.True(calls.Count > 265);
    }

    [Fact]
    public void FunctionScorerFlatnessMatchesClosedForm()
    {
        // Score = number of edges with op 3. Centre: m edges with op 3, the rest op 1. Of its 24 radius-1
        // neighbours, the 4m that change an op-3 edge score m − 1; of the 4(6 − m) that change an op-1 edge,
        // (6 − m) switch it to 3 and score m + 1, the others score m. Mean = m + ((6 − m) − 4m)/24.
        var analyzer = new LandscapeAnalyzer<Nb201Genotype>(Nb201NeighborhoodSpace.Instance,
            ArchitectureScorer.FromFunction<Nb201Genotype>(g => g.Operations.Count(o => o == 3)));
        foreach (int m in new[] { 0, 2, 6 })
        {
            var ops = Enumerable.Range(0, 6).Select(e => e < m ? 3 : 1).ToArray();
            var f = analyzer.Flatness(TestData.G(ops), 1);
            Assert.Equal(m + ((6.0 - m) - 4.0 * m) / 24.0, f.NeighborMean, 1e-12);
            Assert.Equal(m - f.NeighborMean, f.Gap, 1e-12);
        }
    }

    [Theory]
    [InlineData("cifar10", 1)]
    [InlineData("cifar100", 2)]
    [InlineData("ImageNet16-120", 3)]
    public void ClassNeighbourDistributionsMatchBruteForce(string dataset, int radius)
    {
        var metric = Nb201Metrics.TestAccuracy(dataset);
        var landscape = Nb201Landscape.FromTable(Table, metric);
        foreach (var cls in Nb201AccuracyClasses.For(metric))
        {
            var d = landscape.ClassNeighborDistribution(cls, radius);
            var members = Enumerable.Range(0, Table.Count).Where(i => Table.GetValue(i, metric) >= cls.Lower && Table.GetValue(i, metric) <= cls.Upper).ToList();
            Assert.Equal(members.Count, d.MemberCount);
            Assert.Equal(members.Count * Nb201NeighborhoodSpace.SphereSize(radius), d.NeighborScores.Count);
            var expected = members.SelectMany(i => Nb201NeighborhoodSpace.Instance.Sphere(Table.GenotypeAt(i), radius))
                .Select(n => Table.GetValue(n, metric)).ToArray();
            Assert.Equal(expected.Average(), d.Mean, 1e-9);
            Assert.Equal(expected.Order(), d.NeighborScores.Order());
            // The general analyzer pools the same values.
            var general = new LandscapeAnalyzer<Nb201Genotype>(Nb201NeighborhoodSpace.Instance, Table.Scorer(metric));
            Assert.Equal(d.Mean, general.ClassNeighborDistribution(Table.Architectures, cls, radius).Mean, 1e-9);
        }
    }

    [Fact]
    public void ClassANeighboursAreBetterThanClassCNeighbours()
    {
        // The A²M finding: neighbours of good architectures concentrate at high accuracy.
        var landscape = Nb201Landscape.FromTable(Table, Nb201Metrics.Cifar10TestAccuracy);
        var classes = Nb201AccuracyClasses.Cifar10;
        for (int r = 1; r <= 3; r++)
        {
            double a = landscape.ClassNeighborDistribution(classes[0], r).Mean;
            double c = landscape.ClassNeighborDistribution(classes[2], r).Mean;
            Assert.True(a > c, $"r={r}: class A neighbour mean {a} should exceed class C's {c}");
        }
    }

    [Fact]
    public void SummaryMatchesIndependentComputation()
    {
        var landscape = Nb201Landscape.FromTable(Table, Nb201Metrics.Cifar10TestAccuracy);
        var options = new FlatRegionOptions { NeighborMeanQuantile = 0.8, TopK = 25, MaxGap = 2.0 };
        var summary = landscape.Summarize(1, options);
        var space = landscape.ComputeSpaceFlatness(1);
        var scores = space.Scores.ToArray();
        var means = space.NeighborMean.ToArray();
        // Independent Spearman: rank with ties averaged, then Pearson.
        Assert.Equal(ReferenceSpearman(scores, means), summary.SpearmanScoreVsNeighborMean, 1e-9);
        var sorted = means.Order().ToArray();
        double pos = 0.8 * (sorted.Length - 1);
        double threshold = sorted[(int)pos] + (pos - (int)pos) * (sorted[(int)pos + 1] - sorted[(int)pos]);
        Assert.Equal(threshold, summary.FlatThreshold, 1e-12);
        bool Flat(int c) => means[c] >= threshold && scores[c] - means[c] <= 2.0;
        Assert.Equal(Enumerable.Range(0, scores.Length).Count(Flat), summary.FlatCount);
        var top = Enumerable.Range(0, scores.Length).OrderByDescending(c => scores[c]).Take(25);
        Assert.Equal(top.Count(Flat), summary.TopKInFlatRegion);
        Assert.Equal(25, summary.TopK);
        Assert.True(summary.SpearmanScoreVsNeighborMean > 0.5);
        // The general analyzer gives the same summary on a subset.
        var subset = Enumerable.Range(0, 300).Select(i => Table.GenotypeAt(i * 50)).ToList();
        var general = new LandscapeAnalyzer<Nb201Genotype>(Nb201NeighborhoodSpace.Instance, Table.Scorer(Nb201Metrics.Cifar10TestAccuracy));
        var gs = general.Summarize(subset, 1, options);
        Assert.Equal(ReferenceSpearman(subset.Select(g => scores[g.Code]).ToArray(), subset.Select(g => means[g.Code]).ToArray()), gs.SpearmanScoreVsNeighborMean, 1e-9);
    }

    [Fact]
    public void SpearmanOnHandWorkedExamples()
    {
        // No ties: ρ = 1 − 6Σd²/(n(n²−1)); x ranks 1..5, y ranks 2,1,4,3,5 → Σd² = 4 → ρ = 1 − 24/120 = 0.8.
        Assert.Equal(0.8, SummaryStatistics.Spearman([1, 2, 3, 4, 5], [20, 10, 40, 30, 50]), 1e-12);
        // Ties: x = [1, 2, 2, 3] ranks 1, 2.5, 2.5, 4; y = [1, 2, 3, 4] → Pearson of ranks = 0.9486832980505138.
        Assert.Equal(0.9486832980505138, SummaryStatistics.Spearman([1, 2, 2, 3], [1, 2, 3, 4]), 1e-12);
        Assert.Equal(-1, SummaryStatistics.Spearman([1, 2, 3], [3, 2, 1]), 1e-12);
    }

    [Fact]
    public void SampledNeighbourhoodsForSpacesThatCannotEnumerate()
    {
        var space = new NotEnumerable();
        var scorer = Table.Scorer(Nb201Metrics.Cifar10TestAccuracy);
        Assert.Contains("SampleCount", Assert.Throws<ArgumentException>(() => new LandscapeAnalyzer<Nb201Genotype>(space, scorer)).Message);
        var analyzer = new LandscapeAnalyzer<Nb201Genotype>(space, scorer, new LandscapeOptions { SampleCount = 30, Seed = 1 });
        var g = Table.GenotypeAt(6111);
        var f = analyzer.Flatness(g, 3);
        Assert.True(f.IsSampled);
        Assert.Equal(30, f.Neighbors.Count);
        Assert.Equal(30, f.Neighbors.Distinct().Count());
        Assert.All(f.Neighbors, n => Assert.Equal(3, n.DistanceTo(g)));
        Assert.Equal(f.NeighborScores, analyzer.Flatness(g, 3).NeighborScores); // drawn once, reused
        Assert.Equal(f.Neighbors.Select(scorer.Score).Average(), f.NeighborMean, 1e-9);
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        var landscape = Nb201Landscape.FromTable(Table, Nb201Metrics.Cifar10TestAccuracy);
        Assert.Throws<ArgumentOutOfRangeException>(() => landscape.Flatness(Table.GenotypeAt(0), 7));
        Assert.Throws<ArgumentOutOfRangeException>(() => landscape.ComputeSpaceFlatness(-1));
        Assert.Throws<ArgumentException>(() => landscape.Summarize(1, new FlatRegionOptions { NeighborMeanQuantile = 1.5 }));
        Assert.Throws<ArgumentException>(() => new AccuracyClass("A", 2, 1));
        Assert.Throws<ArgumentException>(() => Nb201AccuracyClasses.For(Nb201Metrics.Cifar10ValidTrainLoss));
        Assert.Throws<ArgumentException>(() => Nb201Metrics.TestAccuracy("mnist"));
        Assert.Throws<ArgumentException>(() => new LandscapeOptions { SampleCount = 0 }.Validate());
    }

    [Fact]
    public void FromScorerEqualsFromTable()
    {
        var fromTable = Nb201Landscape.FromTable(Table, Nb201Metrics.ImageNet16TestAccuracy);
        int last = 0;
        var fromScorer = Nb201Landscape.FromScorer(Table.Scorer(Nb201Metrics.ImageNet16TestAccuracy), new SyncProgress(n => last = n));
        Assert.Equal(fromTable.ScoresByCode, fromScorer.ScoresByCode);
        Assert.Equal(15_625, last);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => Nb201Landscape.FromScorer(Table.Scorer(Nb201Metrics.ImageNet16TestAccuracy), cancellationToken: cts.Token));
    }

    private static double ReferenceSpearman(double[] x, double[] y)
    {
        static double[] Rank(double[] v)
        {
            var r = new double[v.Length];
            var groups = v.Select((value, i) => (value, i)).GroupBy(p => p.value).OrderBy(g => g.Key);
            int seen = 0;
            foreach (var g in groups)
            {
                int n = g.Count();
                double avg = seen + (n + 1) / 2.0;
                foreach (var (_, i) in g) r[i] = avg;
                seen += n;
            }
            return r;
        }
        var rx = Rank(x);
        var ry = Rank(y);
        double mx = rx.Average(), my = ry.Average();
        double sxy = rx.Zip(ry).Sum(p => (p.First - mx) * (p.Second - my));
        return sxy / Math.Sqrt(rx.Sum(a => (a - mx) * (a - mx)) * ry.Sum(b => (b - my) * (b - my)));
    }

    private sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }

    private sealed class NotEnumerable : INeighborhoodSpace<Nb201Genotype>
    {
        public string Name => "pretend-too-large";

        public bool CanEnumerate => false;

        public int Distance(Nb201Genotype a, Nb201Genotype b) => a.DistanceTo(b);

        public IEnumerable<Nb201Genotype> Neighbors(Nb201Genotype genotype) => Nb201NeighborhoodSpace.Instance.Neighbors(genotype);
    }
}
