using NasFlatness.MultiObjective;
using NasFlatness.MultiObjective.FlatNas;
using NasFlatness.MultiObjective.Nachos;

namespace NasFlatness.MultiObjective.Tests;

/// <summary>Non-dominated sorting, crowding distance, tournament, environmental selection and hypervolume on hand-worked point sets.</summary>
public sealed class ParetoMathTests
{
    // Minimisation. Worked by hand:
    //   front 0: P0 (1,5), P1 (2,3), P2 (4,1), P5 (2,3) (a duplicate of P1), P7 (1.5,4)
    //   front 1: P3 (3,4) (dominated by P1, P5, P7), P6 (5,2) (dominated by P2)
    //   front 2: P4 (5,5) (dominated by P3 and P6 among others)
    private static readonly double[][] Points =
    [
        [1, 5], [2, 3], [4, 1], [3, 4], [5, 5], [2, 3], [5, 2], [1.5, 4],
    ];

    [Fact]
    public void DominanceIsStrictInAtLeastOneObjective()
    {
        Assert.True(Pareto.Dominates([1, 2], [1, 3]));
        Assert.False(Pareto.Dominates([1, 3], [1, 3]));
        Assert.False(Pareto.Dominates([1, 4], [2, 3]));
        Assert.Throws<ArgumentException>(() => Pareto.Dominates([1, 2], [1, 2, 3]));
    }

    [Fact]
    public void NonDominatedSortGivesTheHandWorkedFronts()
    {
        var fronts = Pareto.NonDominatedSort(Points);
        Assert.Equal(3, fronts.Count);
        Assert.Equal([0, 1, 2, 5, 7], fronts[0]);
        Assert.Equal([3, 6], fronts[1]);
        Assert.Equal([4], fronts[2]);
        Assert.Empty(Pareto.NonDominatedSort([]));
    }

    [Fact]
    public void CrowdingDistanceGivesTheHandWorkedValues()
    {
        // Front 0 sorted by f1: P0 1, P7 1.5, P1 2, P5 2, P2 4 (range 3); by f2: P2 1, P1 3, P5 3, P7 4, P0 5 (range 4).
        // Ties keep front order (P1 before P5). Extremes P0 and P2 are infinite.
        //   P1 = (2 − 1.5)/3 + (3 − 1)/4 = 1/6 + 1/2 = 2/3
        //   P5 = (4 − 2)/3   + (4 − 3)/4 = 2/3 + 1/4 = 11/12
        //   P7 = (2 − 1)/3   + (5 − 3)/4 = 1/3 + 1/2 = 5/6
        var d = Pareto.CrowdingDistance(Points, [0, 1, 2, 5, 7]);
        Assert.Equal(double.PositiveInfinity, d[0]);
        Assert.Equal(2.0 / 3, d[1], 12);
        Assert.Equal(double.PositiveInfinity, d[2]);
        Assert.Equal(11.0 / 12, d[3], 12);
        Assert.Equal(5.0 / 6, d[4], 12);
        Assert.All(Pareto.CrowdingDistance(Points, [3, 6]), v => Assert.Equal(double.PositiveInfinity, v));
        // Zero range in an objective adds nothing: (1,1), (2,1), (3,1) → middle = (3 − 1)/2 = 1.
        Assert.Equal(1.0, Pareto.CrowdingDistance([[1.0, 1], [2.0, 1], [3.0, 1]], [0, 1, 2])[1], 12);
    }

    [Fact]
    public void EnvironmentalSelectionFillsByFrontThenByCrowding()
    {
        // Six survivors: all of front 0, then one of front 1 (both infinite; the lower index wins).
        Assert.Equal([0, 1, 2, 5, 7, 3], Nsga2.EnvironmentalSelection(Points, 6));
        // Three survivors: the two infinite extremes of front 0, then the most crowded-apart P5 (11/12).
        Assert.Equal([0, 2, 5], Nsga2.EnvironmentalSelection(Points, 3));
        Assert.Equal(8, Nsga2.EnvironmentalSelection(Points, 20).Length);
        var (rank, crowding) = Nsga2.RankAndCrowding(Points);
        Assert.Equal([0, 0, 0, 1, 2, 0, 1, 0], rank);
        Assert.Equal(11.0 / 12, crowding[5], 12);
    }

    [Fact]
    public void TournamentPrefersLowerRankThenLargerCrowding()
    {
        var random = new Random(1);
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(1, Nsga2.Tournament([1, 0], [5, 0.1], random));  // rank decides
            Assert.Equal(0, Nsga2.Tournament([0, 0], [2, 1], random));    // same rank: crowding decides
        }
        // Equal rank and crowding: both win sometimes.
        var wins = Enumerable.Range(0, 200).Select(_ => Nsga2.Tournament([0, 0], [1, 1], random)).Distinct().Count();
        Assert.Equal(2, wins);
        Assert.Equal(0, Nsga2.Tournament([3], [0], random));
    }

    [Fact]
    public void TwoDimensionalHypervolumeByHand()
    {
        // Front (1,5), (2,3), (4,1), reference (6,6). By vertical strips:
        //   x in [1,2): y from 5 to 6 → 1·1 = 1;  x in [2,4): y from 3 to 6 → 2·3 = 6;  x in [4,6): y from 1 to 6 → 2·5 = 10.  Total 17.
        double[][] front = [[1, 5], [2, 3], [4, 1]];
        Assert.Equal(17.0, Pareto.Hypervolume(front, [6, 6]), 12);
        // A dominated point, a point beyond the reference and one on its boundary add nothing.
        double[][] more = [.. front, [3, 4], [7, 0], [2, 6]];
        Assert.Equal(17.0, Pareto.Hypervolume(more, [6, 6]), 12);
        Assert.Equal(0.0, Pareto.Hypervolume([], [6, 6]));
        Assert.Equal(4.0, Pareto.Hypervolume([[1.0]], [5]), 12);
        Assert.Throws<ArgumentException>(() => Pareto.Hypervolume([[1.0, 2, 3]], [6, 6]));
    }

    [Fact]
    public void ThreeDimensionalHypervolumeByInclusionExclusion()
    {
        // Boxes to reference (2,2,2): B1 = [0,2]×[1,2]×[1,2], B2 = [1,2]×[0,2]×[1,2], B3 = [1,2]×[1,2]×[0,2], volume 2 each;
        // every pairwise and the triple intersection is [1,2]³ (volume 1): union = 6 − 3 + 1 = 4.
        double[][] points = [[0, 1, 1], [1, 0, 1], [1, 1, 0]];
        Assert.Equal(4.0, Pareto.Hypervolume(points, [2, 2, 2]), 12);
        Assert.Equal(3.0, Pareto.Hypervolume(points[..2], [2, 2, 2]), 12);
        // A constant third objective: the 2-D area times the depth.
        var random = new Random(5);
        var flat = Enumerable.Range(0, 30).Select(_ => new[] { random.NextDouble(), random.NextDouble() }).ToArray();
        double area = Pareto.Hypervolume(flat, [1.2, 1.1]);
        double volume = Pareto.Hypervolume(flat.Select(p => new[] { p[0], p[1], 0.25 }).ToArray(), [1.2, 1.1, 1.0]);
        Assert.Equal(area * 0.75, volume, 12);
    }
}
