using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using Xunit;

namespace NasFlatness.Landscape.Tests;

public sealed class DartsNeighborhoodTests
{
    private static readonly DartsNeighborhoodSpace Space = new();

    [Fact]
    public void SingleChangesAreAllAtDistanceOneAndCountedByHand()
    {
        var center = DartsGenotype.DartsV2;
        var neighbors = Space.Neighbors(center).ToList();
        // Per cell and node i (2 + i inputs, 2 of them used): 2 kept edges × 6 other ops, plus i unused inputs ×
        // 2 edges that could be replaced × 7 ops -> Σ_i (12 + 14 i) = 132 per cell, 264 for normal + reduce.
        Assert.Equal(264, neighbors.Count);
        Assert.Equal(264, neighbors.Distinct().Count());
        Assert.All(neighbors, n => Assert.Equal(1, Space.Distance(center, n)));
        Assert.DoesNotContain(center, neighbors);
    }

    [Fact]
    public void DistanceCountsOperationChangesAndMovedEdges()
    {
        var a = DartsGenotype.DartsV2;
        Assert.Equal(0, Space.Distance(a, a));
        // Change the operation of normal edge 0 and move normal edge 7 (node 3) from input 2 to input 4.
        var normal = a.Normal.ToArray();
        normal[0] = new DartsEdge("dil_conv_5x5", normal[0].Input);
        normal[7] = new DartsEdge(normal[7].Operation, 4);
        var b = a.WithCell(false, normal);
        Assert.Equal(2, Space.Distance(a, b));
        Assert.Equal(2, Space.Distance(b, a));
        Assert.Equal(Space.Distance(DartsGenotype.DartsV1, a), Space.Distance(a, DartsGenotype.DartsV1));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void RandomNeighboursHaveTheRequestedRadiusAndAreValid(int radius)
    {
        var random = new Random(radius);
        for (int i = 0; i < 30; i++)
        {
            var n = Space.SampleNeighbor(DartsGenotype.DartsV2, radius, random);
            Assert.NotNull(n);
            Assert.Equal(radius, Space.Distance(DartsGenotype.DartsV2, n!));
            foreach (var cell in new[] { n!.Normal, n.Reduce })
            {
                for (int node = 0; node < DartsGenotype.NodeCount; node++)
                {
                    var edges = cell.Skip(2 * node).Take(2).ToArray();
                    Assert.NotEqual(edges[0].Input, edges[1].Input);
                    Assert.All(edges, e => Assert.InRange(e.Input, 0, 1 + node));
                    Assert.All(edges, e => Assert.Contains(e.Operation, DartsNeighborhoodSpace.NoNoneOperations));
                }
            }
        }
    }

    [Fact]
    public void SampledSpheresAreDistinctAndReproducible()
    {
        var first = Space.SampleSphere(DartsGenotype.DartsV2, 3, 30, new Random(7)).ToList();
        var again = Space.SampleSphere(DartsGenotype.DartsV2, 3, 30, new Random(7)).ToList();
        Assert.Equal(30, first.Count);
        Assert.Equal(30, first.Distinct().Count());
        Assert.Equal(first, again);
    }
}
