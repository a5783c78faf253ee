using CsCheck;
using NasFlatness.Genotypes;

namespace NasFlatness.Landscape.Tests;

public sealed class PathTests
{
    private static readonly Nb201Table Table = Nb201Table.Embedded;
    private static readonly Gen<int> Code = Gen.Int[0, Nb201Genotype.SpaceSize - 1];

    private static long Factorial(int k) => k <= 1 ? 1 : k * Factorial(k - 1);

    private static int Binomial(int n, int k) => Enumerable.Range(1, k).Aggregate(1, (acc, i) => acc * (n - k + i) / i);

    private static LandscapeAnalyzer<Nb201Genotype> Analyzer(BenchmarkMetric metric) =>
        new(Nb201NeighborhoodSpace.Instance, Table.Scorer(metric));

    [Fact]
    public void ThereAreKFactorialMonotonePathsAndEveryStepChangesOneEdgeTowardTheTarget()
    {
        var analyzer = Analyzer(Nb201Metrics.Cifar10TestAccuracy);
        Gen.Select(Code, Code).Sample((ca, cb) =>
        {
            var a = Nb201Genotype.FromCode(ca);
            var b = Nb201Genotype.FromCode(cb);
            int k = TestData.Hamming(a.Operations, b.Operations);
            var paths = analyzer.ShortestPaths(a, b);
            Assert.Equal(Factorial(k), paths.Count);
            Assert.Equal(paths.Count, paths.Select(p => string.Join(";", p.Select(g => g.Code))).Distinct().Count());
            foreach (var path in paths)
            {
                Assert.Equal(k + 1, path.Count);
                Assert.Equal(a, path[0]);
                Assert.Equal(b, path[^1]);
                for (int s = 1; s < path.Count; s++)
                {
                    var changed = Enumerable.Range(0, 6).Where(e => path[s].Operations[e] != path[s - 1].Operations[e]).ToList();
                    Assert.Single(changed);
                    Assert.Equal(b.Operations[changed[0]], path[s].Operations[changed[0]]);
                    Assert.NotEqual(b.Operations[changed[0]], path[s - 1].Operations[changed[0]]);
                }
            }
        }, iter: 40);
    }

    [Fact]
    public void LevelsHoldBinomiallyManyDistinctArchitecturesWithCorrectStatistics()
    {
        var analyzer = Analyzer(Nb201Metrics.Cifar100TestAccuracy);
        Gen.Select(Code, Code).Sample((ca, cb) =>
        {
            var a = Nb201Genotype.FromCode(ca);
            var b = Nb201Genotype.FromCode(cb);
            int k = a.DistanceTo(b);
            var profile = analyzer.PathProfile(a, b);
            Assert.Equal(k, profile.Distance);
            Assert.Equal(Factorial(k), profile.PathCount);
            var paths = analyzer.ShortestPaths(a, b);
            for (int l = 0; l <= k; l++)
            {
                var level = profile.Levels[l];
                Assert.Equal(Binomial(k, l), level.Architectures.Count);
                // Independent oracle: archs at distance l from a and k − l from b, by brute force.
                var brute = Enumerable.Range(0, Nb201Genotype.SpaceSize).Select(Nb201Genotype.FromCode)
                    .Where(c => TestData.Hamming(c.Operations, a.Operations) == l && TestData.Hamming(c.Operations, b.Operations) == k - l)
                    .Select(c => c.Code).Order();
                Assert.Equal(brute, level.Architectures.Select(c => c.Code).Order());
                Assert.Equal(paths.Select(p => p[l]).Distinct().Select(c => c.Code).Order(), level.Architectures.Select(c => c.Code).Order());
                // Mean over the code's duplicated per-path lists equals the mean over distinct archs.
                var perPath = paths.Select(p => Table.GetValue(p[l], Nb201Metrics.Cifar100TestAccuracy)).ToArray();
                Assert.Equal(perPath.Average(), level.Mean, 1e-9);
                double sd = Math.Sqrt(perPath.Select(x => (x - perPath.Average()) * (x - perPath.Average())).Average());
                Assert.Equal(sd, level.Std, 1e-9);
            }
            Assert.Equal(Table.GetValue(a, Nb201Metrics.Cifar100TestAccuracy), profile.Means[0]);
            Assert.Equal(Table.GetValue(b, Nb201Metrics.Cifar100TestAccuracy), profile.Means[^1]);
            Assert.Equal(0, profile.Stds[0]);
        }, iter: 15);
    }

    public static TheoryData<string, int, int> PaperPairs => new()
    {
        { "cifar10", 81, 1459 }, { "cifar10", 0, 163 }, { "cifar10", 40, 12094 },
        { "cifar100", 81, 11711 }, { "cifar100", 31, 7680 }, { "cifar100", 146, 4461 },
        { "ImageNet16-120", 65, 2246 }, { "ImageNet16-120", 17, 5845 }, { "ImageNet16-120", 2, 348 },
    };

    [Theory]
    [MemberData(nameof(PaperPairs))]
    public void PaperEndpointPairsAreThreeApartWithNearEqualAccuracyAndBarrierMatchesBruteForce(string dataset, int i, int j)
    {
        var metric = Nb201Metrics.TestAccuracy(dataset);
        var raw = TestData.Raw;
        double Acc(RawRow r) => dataset switch { "cifar10" => r.Cifar10, "cifar100" => r.Cifar100, _ => r.ImageNet16 };
        var opsA = TestData.OpsOf(raw[i].Arch);
        var opsB = TestData.OpsOf(raw[j].Arch);
        Assert.Equal(3, TestData.Hamming(opsA, opsB));
        Assert.True(Math.Abs(Acc(raw[i]) - Acc(raw[j])) <= 1.0, $"{dataset} {i}↔{j}: {Acc(raw[i])} vs {Acc(raw[j])}");

        var analyzer = Analyzer(metric);
        var a = Table.GenotypeAt(i);
        var b = Table.GenotypeAt(j);
        Assert.Equal(3, a.DistanceTo(b));
        var barrier = analyzer.Barrier(a, b);
        // Brute force: every arch strictly between a and b (d(a,c) + d(c,b) = 3, c ∉ {a, b}), scored from the raw file.
        var between = raw.Where(r =>
        {
            var ops = TestData.OpsOf(r.Arch);
            int da = TestData.Hamming(ops, opsA), db = TestData.Hamming(ops, opsB);
            return da > 0 && db > 0 && da + db == 3;
        }).ToList();
        Assert.Equal(6, between.Count); // C(3,1) + C(3,2)
        double min = between.Min(Acc);
        double expected = Math.Round(0.5 * (Acc(raw[i]) + Acc(raw[j])) - min, 2);
        Assert.Equal(expected, barrier.Value);
        Assert.Equal(min, barrier.PairExtreme);
        Assert.Equal(min, barrier.Reference);
        Assert.Equal(min, Table.GetValue(barrier.PairExtremeArchitecture, metric));
    }

    [Fact]
    public void LossBarrierMirrorsTheAccuracyBarrier()
    {
        var table = Table;
        var a = table.GenotypeAt(81);
        var b = table.GenotypeAt(1459);
        var loss = new LandscapeAnalyzer<Nb201Genotype>(Nb201NeighborhoodSpace.Instance, table.Scorer(Nb201Metrics.Cifar10ValidTestLoss));
        var barrier = loss.Barrier(a, b, BarrierKind.Loss);
        var between = loss.PathProfile(a, b).Levels.Skip(1).Take(2).SelectMany(l => l.Architectures).ToList();
        double max = between.Max(g => table.GetValue(g, Nb201Metrics.Cifar10ValidTestLoss));
        double mid = 0.5 * (table.GetValue(a, Nb201Metrics.Cifar10ValidTestLoss) + table.GetValue(b, Nb201Metrics.Cifar10ValidTestLoss));
        Assert.Equal(BarrierKind.Loss, barrier.Kind);
        Assert.Equal(max, barrier.PairExtreme);
        Assert.Equal(max - mid, barrier.RawValue, 1e-12);
        Assert.Equal(Math.Round(max - mid, 2), barrier.Value);
        // Negating a loss turns the loss barrier into an accuracy barrier of the same size.
        var negated = new LandscapeAnalyzer<Nb201Genotype>(Nb201NeighborhoodSpace.Instance,
            ArchitectureScorer.FromFunction<Nb201Genotype>(g => -table.GetValue(g, Nb201Metrics.Cifar10ValidTestLoss)));
        Assert.Equal(barrier.RawValue, negated.Barrier(a, b).RawValue, 1e-12);
    }

    [Fact]
    public void LeakingRunningMinimumReproducesTheCodeOnAHandWorkedExample()
    {
        // Score = 10·(number of op-3 edges) + (op of edge 5). Pairs (each 2 apart):
        //  P1: a1 = 3,3,0,0,0,0 (20) ↔ b1 = 1,1,0,0,0,0 (0); intermediates 3,1,… and 1,3,… score 10 → own min 10.
        //  P2: a2 = 3,3,3,3,0,4 (40 + 4 = 44) ↔ b2 = 0,0,3,3,0,4 (24); intermediates score 34 → own min 34.
        //  P3: a3 = 2,2,0,0,0,0 (0) ↔ b3 = 4,4,0,0,0,0 (0); intermediates score 0 → own min 0.
        // Per pair: ½(20 + 0) − 10 = 0; ½(44 + 24) − 34 = 0; ½(0 + 0) − 0 = 0.
        // Leaking (running min over P1, then P1..P2, then P1..P3): 0; 34 − min(10, 34) = 24; 0 − min(10, 34, 0) = 0.
        var analyzer = new LandscapeAnalyzer<Nb201Genotype>(Nb201NeighborhoodSpace.Instance,
            ArchitectureScorer.FromFunction<Nb201Genotype>(g => 10 * g.Operations.Count(o => o == 3) + g.Operations[5]));
        (Nb201Genotype, Nb201Genotype)[] pairs =
        [
            (TestData.G(3, 3, 0, 0, 0, 0), TestData.G(1, 1, 0, 0, 0, 0)),
            (TestData.G(3, 3, 3, 3, 0, 4), TestData.G(0, 0, 3, 3, 0, 4)),
            (TestData.G(2, 2, 0, 0, 0, 0), TestData.G(4, 4, 0, 0, 0, 0)),
        ];
        var own = analyzer.Barriers(pairs);
        Assert.Equal([0.0, 0.0, 0.0], own.Select(r => r.Value));
        Assert.Equal([10.0, 34.0, 0.0], own.Select(r => r.PairExtreme));
        var leak = analyzer.Barriers(pairs, new BarrierOptions { LeakRunningMinimum = true });
        Assert.Equal([0.0, 24.0, 0.0], leak.Select(r => r.Value));
        Assert.Equal([10.0, 10.0, 0.0], leak.Select(r => r.Reference));
        Assert.Equal([10.0, 34.0, 0.0], leak.Select(r => r.PairExtreme));
        // Reversed order: P3 first drives the running minimum to 0 for the pairs after it: 0; 34 − 0; 10 − 0.
        var reversed = analyzer.Barriers(pairs.Reverse(), new BarrierOptions { LeakRunningMinimum = true });
        Assert.Equal([0.0, 34.0, 10.0], reversed.Select(r => r.Value));
    }

    [Fact]
    public void BarrierRoundsToTwoDecimalsAndRejectsAdjacentEndpoints()
    {
        var analyzer = new LandscapeAnalyzer<Nb201Genotype>(Nb201NeighborhoodSpace.Instance,
            ArchitectureScorer.FromFunction<Nb201Genotype>(g => g.Operations[0] == 1 ? 1.23456 : 0.0));
        var a = TestData.G(1, 0, 0, 0, 0, 0);
        var b = TestData.G(1, 1, 1, 0, 0, 0);
        var barrier = analyzer.Barrier(a, b);
        Assert.Equal(1.23456 - 1.23456, barrier.RawValue);
        var c = TestData.G(0, 1, 1, 0, 0, 0);
        // a → c changes edges 0, 1, 2: intermediates with edge 0 changed score 0 → barrier ½(1.23456 + 0) − 0 = 0.61728 → 0.62.
        Assert.Equal(0.62, analyzer.Barrier(a, c).Value);
        Assert.Equal(0.61728, analyzer.Barrier(a, c).RawValue, 1e-12);
        Assert.Equal(0.617, analyzer.Barriers([(a, c)], new BarrierOptions { Decimals = 3 })[0].Value);
        Assert.Throws<ArgumentException>(() => analyzer.Barrier(a, TestData.G(1, 1, 0, 0, 0, 0)));
        Assert.Throws<ArgumentException>(() => analyzer.Barriers([(a, c)], new BarrierOptions { Decimals = -1 }));
    }

    [Fact]
    public void EndpointSearchFollowsTheHelperOfTheCode()
    {
        var table = Table;
        var analyzer = Analyzer(Nb201Metrics.ImageNet16TestAccuracy);
        var pair = analyzer.FindEndpointPair(table.Architectures, 27, 28.5, distance: 3, tolerance: 0.1);
        Assert.NotNull(pair);
        // Independent oracle: first index (benchmark order) strictly inside the range, then its first radius-3
        // neighbour in lexicographic op-vector order within tolerance.
        var raw = TestData.Raw;
        foreach (var r in raw)
        {
            if (!(r.ImageNet16 > 27 && r.ImageNet16 < 28.5)) continue;
            var ops = TestData.OpsOf(r.Arch);
            var partner = raw.Select(q => (q, ops: TestData.OpsOf(q.Arch)))
                .Where(t => TestData.Hamming(t.ops, ops) == 3 && Math.Abs(t.q.ImageNet16 - r.ImageNet16) <= 0.1)
                .OrderBy(t => string.Concat(t.ops))
                .FirstOrDefault();
            if (partner.q is null) continue;
            Assert.Equal(r.Index, table.IndexOf(pair.A));
            Assert.Equal(partner.q.Index, table.IndexOf(pair.B));
            Assert.Equal(r.ImageNet16, pair.ScoreA);
            return;
        }
        Assert.Fail("the oracle found no pair");
    }

    [Fact]
    public void EndpointSearchReturnsNullWhenNothingQualifies()
    {
        var analyzer = Analyzer(Nb201Metrics.Cifar10TestAccuracy);
        Assert.Null(analyzer.FindEndpointPair(Table.Architectures, 99, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => analyzer.FindEndpointPair(Table.Architectures, 0, 1, tolerance: -1));
    }

    [Fact]
    public void PathListingIsLimited()
    {
        var analyzer = new LandscapeAnalyzer<Nb201Genotype>(Nb201NeighborhoodSpace.Instance, Table.Scorer(Nb201Metrics.Cifar10TestAccuracy),
            new LandscapeOptions { MaxPathListDistance = 3 });
        var a = Nb201Genotype.FromCode(0);
        var b = Nb201Genotype.FromCode(Nb201Genotype.SpaceSize - 1);
        Assert.Contains("MaxPathListDistance", Assert.Throws<ArgumentException>(() => analyzer.ShortestPaths(a, b)).Message);
        Assert.Equal(720, analyzer.PathProfile(a, b).PathCount);
        Assert.Single(analyzer.ShortestPaths(a, a));
    }
}
