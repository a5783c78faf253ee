using NasFlatness.Genotypes;
using NasFlatness.Landscape.Internal;

namespace NasFlatness.Landscape.Tests;

public sealed class ExhaustiveTests
{
    [Theory]
    [InlineData(2, 240)]
    [InlineData(3, 1280)]
    public void EveryArchitectureHasTheRightSphereAtRadiusTwoAndThree(int radius, int size)
    {
        var buffer = new int[size];
        var seen = new bool[Nb201Genotype.SpaceSize];
        var digits = new int[Nb201Genotype.SpaceSize][];
        for (int c = 0; c < digits.Length; c++)
        {
            digits[c] = new int[6];
            for (int e = 5, x = c; e >= 0; e--, x /= 5) digits[c][e] = x % 5;
        }
        for (int c = 0; c < Nb201Genotype.SpaceSize; c++)
        {
            Assert.Equal(size, Nb201Codes.FillSphere(c, radius, buffer));
            foreach (int n in buffer)
            {
                Assert.False(seen[n]);
                seen[n] = true;
                Assert.Equal(radius, TestData.Hamming(digits[c], digits[n]));
            }
            foreach (int n in buffer) seen[n] = false;
        }
    }

    [Fact]
    public void AnyTabularBenchmarkCanBePluggedIn()
    {
        var table = new TinyTable();
        var scorer = ArchitectureScorer.FromTable(table, TinyTable.Metric);
        Assert.Equal(3.0, scorer.Score("aab"));
        var space = new StringSpace();
        var analyzer = new LandscapeAnalyzer<string>(space, scorer);
        var f = analyzer.Flatness("aaa", 1);
        Assert.Equal(["aab", "aba", "baa"], f.Neighbors.Order());
        Assert.Equal((3.0 + 5 + 9) / 3, f.NeighborMean, 1e-12);
        Assert.Equal(2, analyzer.ShortestPaths("aaa", "abb").Count);
        var barrier = analyzer.Barrier("aaa", "bbb");
        Assert.Equal(0.5 * (1 + 15) - 3, barrier.Value);
        Assert.Throws<ArgumentException>(() => ArchitectureScorer.FromTable(table, Nb201Metrics.Cifar10TestAccuracy));
    }

    /// <summary>Binary strings of length 3; score = 1 + value of the string read as binary with a = 0, b = 1, times 2.</summary>
    private sealed class TinyTable : ITabularBenchmark<string>
    {
        public static readonly BenchmarkMetric Metric = new("toy", "score", higherIsBetter: true);

        private static readonly string[] All = ["aaa", "aab", "aba", "abb", "baa", "bab", "bba", "bbb"];

        public string Name => "tiny";

        public int Count => All.Length;

        public IReadOnlyList<BenchmarkMetric> Metrics => [Metric];

        public IEnumerable<string> Architectures => All;

        public bool TryGetValue(string genotype, BenchmarkMetric metric, out double value)
        {
            int i = Array.IndexOf(All, genotype);
            value = i < 0 || metric != Metric ? double.NaN : 1 + 2 * i;
            return !double.IsNaN(value);
        }

        public double GetValue(string genotype, BenchmarkMetric metric) =>
            TryGetValue(genotype, metric, out double v) ? v : throw new KeyNotFoundException(genotype);
    }

    private sealed class StringSpace : INeighborhoodSpace<string>
    {
        public string Name => "binary strings";

        public bool CanEnumerate => true;

        public int Distance(string a, string b) => a.Zip(b).Count(p => p.First != p.Second);

        public IEnumerable<string> Neighbors(string genotype) =>
            Enumerable.Range(0, genotype.Length).Select(i => genotype[..i] + (genotype[i] == 'a' ? 'b' : 'a') + genotype[(i + 1)..]);
    }
}
