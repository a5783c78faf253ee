using CsCheck;
using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Nb201;

namespace NasFlatness.Landscape.Tests;

public sealed class NeighborhoodTests
{
    private static readonly Nb201NeighborhoodSpace Space = Nb201NeighborhoodSpace.Instance;
    private static readonly Gen<int> Code = Gen.Int[0, Nb201Genotype.SpaceSize - 1];

    private static int Binomial(int n, int k) => k < 0 || k > n ? 0 : Enumerable.Range(1, k).Aggregate(1, (acc, i) => acc * (n - k + i) / i);

    /// <summary>Brute force: all 15,625 genotypes filtered by Hamming distance.</summary>
    internal static int[] BruteSphere(Nb201Genotype center, int radius) =>
        Enumerable.Range(0, Nb201Genotype.SpaceSize)
            .Where(c => TestData.Hamming(Nb201Genotype.FromCode(c).Operations, center.Operations) == radius).ToArray();

    [Fact]
    public void SphereOfRadiusOneHas24MembersForEveryArchitecture()
    {
        foreach (var g in Nb201Genotype.All())
        {
            var sphere = Space.Sphere(g, 1).ToList();
            Assert.Equal(24, sphere.Count);
            Assert.Equal(24, sphere.Distinct().Count());
            Assert.All(sphere, n => Assert.Equal(1, TestData.Hamming(n.Operations, g.Operations)));
        }
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 24)]
    [InlineData(2, 240)]
    [InlineData(3, 1280)]
    [InlineData(4, 3840)]
    [InlineData(5, 6144)]
    [InlineData(6, 4096)]
    public void SphereSizesMatchTheFormulaAndBruteForce(int radius, int expected)
    {
        Assert.Equal(Binomial(6, radius) * (1 << (2 * radius)), expected);
        Assert.Equal(expected, Nb201NeighborhoodSpace.SphereSize(radius));
        Code.Sample(code =>
        {
            var g = Nb201Genotype.FromCode(code);
            var sphere = Space.Sphere(g, radius).Select(n => n.Code).ToArray();
            Assert.Equal(expected, sphere.Length);
            Assert.Equal(BruteSphere(g, radius), sphere); // same set, both ascending
        }, iter: 20);
    }

    [Fact]
    public void BallSizesAreSumsOfSpheresAndCoverTheSpaceAtRadiusSix()
    {
        Assert.Equal([1, 25, 265, 1545, 5385, 11529, 15625], Enumerable.Range(0, 7).Select(Nb201NeighborhoodSpace.BallSize));
        Code.Sample(code =>
        {
            var g = Nb201Genotype.FromCode(code);
            for (int r = 0; r <= 3; r++)
            {
                var ball = Space.Ball(g, r).ToList();
                Assert.Equal(Nb201NeighborhoodSpace.BallSize(r), ball.Count);
                Assert.Equal(ball.Count, ball.Distinct().Count());
                Assert.All(ball, n => Assert.True(n.DistanceTo(g) <= r));
            }
        }, iter: 10);
        Assert.Equal(15_625, Space.Ball(Nb201Genotype.FromCode(0), 6).Count());
        Assert.Empty(Space.Sphere(Nb201Genotype.FromCode(0), 7));
    }

    [Fact]
    public void GeneralBreadthFirstSphereAgreesWithTheExactOne()
    {
        var general = new GeneralOnly();
        Code.Sample(code =>
        {
            var g = Nb201Genotype.FromCode(code);
            for (int r = 0; r <= 3; r++)
            {
                var viaDefault = ((INeighborhoodSpace<Nb201Genotype>)general).Sphere(g, r).Select(n => n.Code).Order();
                Assert.Equal(Space.Sphere(g, r).Select(n => n.Code), viaDefault);
            }
            var target = Nb201Genotype.FromCode((code * 7919 + 13) % Nb201Genotype.SpaceSize);
            Assert.Equal(Space.StepsToward(g, target).Select(n => n.Code).Order(),
                ((INeighborhoodSpace<Nb201Genotype>)general).StepsToward(g, target).Select(n => n.Code).Order());
        }, iter: 10);
    }

    [Fact]
    public void TheSearchSpacesNeighboursAreTheLandscapesNeighbours()
    {
        var viaSearchSpace = new SearchSpaceNeighborhood<Nb201Genotype>(new Nb201SearchSpace(), (a, b) => TestData.Hamming(a.Operations, b.Operations));
        Assert.Equal(Nb201SearchSpace.SpaceName, viaSearchSpace.Name);
        Code.Sample(code =>
        {
            var g = Nb201Genotype.FromCode(code);
            Assert.Equal(BruteSphere(g, 1), Space.Neighbors(g).Select(n => n.Code));
            Assert.Equal(BruteSphere(g, 1), viaSearchSpace.Neighbors(g).Select(n => n.Code).Order());
            for (int r = 0; r <= 3; r++)
                Assert.Equal(BruteSphere(g, r), ((INeighborhoodSpace<Nb201Genotype>)viaSearchSpace).Sphere(g, r).Select(n => n.Code).Order());
        }, iter: 5);
    }

    [Fact]
    public void SampledNeighborsAreDistinctAndAtTheExactDistance()
    {
        var rng = new Random(3);
        var g = Nb201Genotype.FromCode(4242);
        for (int r = 1; r <= 6; r++)
        {
            var sample = Space.SampleSphere(g, r, 20, rng);
            Assert.Equal(20, sample.Count);
            Assert.Equal(20, sample.Distinct().Count());
            Assert.All(sample, n => Assert.Equal(r, n.DistanceTo(g)));
        }
        // Asking for more than the sphere holds returns the whole sphere.
        Assert.Equal(24, Space.SampleSphere(g, 1, 30, rng).Count);
        // The general random walk (used by spaces without their own sampler) also lands at the radius.
        var general = (INeighborhoodSpace<Nb201Genotype>)new GeneralOnly();
        for (int r = 1; r <= 3; r++)
        {
            var sample = general.SampleSphere(g, r, 10, rng);
            Assert.Equal(10, sample.Count);
            Assert.All(sample, n => Assert.Equal(r, n.DistanceTo(g)));
        }
        Assert.Null(Space.SampleNeighbor(g, 7, rng));
    }

    [Fact]
    public void SamplingIsRoughlyUniformOverTheSphere()
    {
        var rng = new Random(11);
        var g = Nb201Genotype.FromCode(777);
        var counts = new Dictionary<int, int>();
        for (int i = 0; i < 24_000; i++)
        {
            int c = Space.SampleNeighbor(g, 1, rng)!.Code;
            counts[c] = counts.GetValueOrDefault(c) + 1;
        }
        Assert.Equal(24, counts.Count);
        Assert.All(counts.Values, n => Assert.InRange(n, 800, 1200));
    }

    /// <summary>NB201 seen only through the three required members, so the interface defaults are used.</summary>
    private sealed class GeneralOnly : INeighborhoodSpace<Nb201Genotype>
    {
        public string Name => "nb201-general";

        public bool CanEnumerate => true;

        public int Distance(Nb201Genotype a, Nb201Genotype b) => a.DistanceTo(b);

        public IEnumerable<Nb201Genotype> Neighbors(Nb201Genotype genotype)
        {
            for (int e = 0; e < 6; e++)
                for (int o = 0; o < 5; o++)
                    if (o != genotype.Operations[e]) yield return genotype.With(e, o);
        }
    }
}
