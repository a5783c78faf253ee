using NasFlatness.MultiObjective;
using NasFlatness.MultiObjective.FlatNas;
using NasFlatness.MultiObjective.Nachos;

namespace NasFlatness.MultiObjective.Tests;

/// <summary>Hand-worked oracles of docs/spec/secondary-methods.md §4.5 and §5.5.</summary>
public sealed class ObjectiveTests
{
    [Fact]
    public void RobustTop1UsesAlphaNormFromThePopulation()
    {
        // Archive err = [10, 20], R = [1, 3] ⇒ α_norm = 15 / 2 = 7.5; a candidate with err 10, R 1 scores 0.5·10 + 7.5·0.5·1 = 8.75.
        var objective = new RobustTop1Objective(errorIndex: 0, robustnessIndex: 1, alpha: 0.5);
        Assert.Throws<InvalidOperationException>(() => objective.Value([10, 1]));
        objective.Prepare([[10, 1], [20, 3]]);
        Assert.Equal(7.5, objective.AlphaNorm, 12);
        Assert.Equal(8.75, objective.Value([10, 1]), 12);
        // Re-preparing with another archive re-scores: err = [10, 30], R = [2, 2] ⇒ α_norm = 10 ⇒ 5 + 10·0.5·1 = 10.
        objective.Prepare([[10, 2], [30, 2]]);
        Assert.Equal(10.0, objective.Value([10, 1]), 12);
    }

    [Fact]
    public void TinyMlPenalisesTheViolation()
    {
        // params 6 M, pmax 5, P = 1e10 ⇒ 6 + 1e10·1; params 4 M ⇒ 4.
        var tinyMl = new TinyMlObjective(new PenaltyConstraint(metricIndex: 0, limit: 5, weight: 1));
        Assert.Equal(6 + 1e10, tinyMl.Value([6]), 12);
        Assert.Equal(4.0, tinyMl.Value([4]), 12);
        Assert.Equal(1.0, tinyMl.Violation([6]), 12);
        Assert.Equal(0.0, tinyMl.Violation([4]));
        // With the code's other defaults (wm = 1/40, mmax = 1e10, wa = 1, amax = 5) the MAC and activation terms add their weighted values:
        // params 4, MACs 80, acts 2 ⇒ 4 + 80/40 + 2 = 8.
        var full = new TinyMlObjective(new PenaltyConstraint(0, 5), new PenaltyConstraint(1, 1e10, weight: 1.0 / 40), new PenaltyConstraint(2, 5));
        Assert.Equal(8.0, full.Value([4, 80, 2]), 12);
        // acts 7 > amax 5 ⇒ 4 + 80/40 + (7 + 1e10·2) = 13 + 2e10.
        double violated = full.Value([4, 80, 7]);
        Assert.True(Math.Abs(violated - (13 + 2e10)) <= 1e-12 * 2e10, $"{violated}");
    }

    [Fact]
    public void PenaltyConstraintIsWeightedValuePlusPenalty()
    {
        var c = new PenaltyConstraint(1, limit: 0.4, weight: 2, penalty: 100);
        Assert.Equal(2 * 0.3, c.Value([99, 0.3]), 12);
        Assert.Equal(2 * (0.5 + 100 * 0.1), c.Value([99, 0.5]), 12);
        Assert.Throws<ArgumentException>(() => c.Value([0.5]));
    }

    [Fact]
    public void AdaptivePenaltyWeighsCostByTheFeasibleFraction()
    {
        // φ = 0.5 (one of two members within 2.7), c = 3.0, mmax = 2.7, P = 1e10 ⇒ 0.5·3 + 0.5·0.3·1e10 = 1.5 + 0.15e10.
        var objective = new AdaptivePenaltyObjective(metricIndex: 0, limit: 2.7);
        Assert.Throws<InvalidOperationException>(() => objective.Value([3.0]));
        objective.Prepare([[3.0], [2.0]]);
        Assert.Equal(0.5, objective.FeasibleFraction);
        double expected = 1.5 + 0.15e10;
        Assert.True(Math.Abs(objective.Value([3.0]) - expected) <= 1e-12 * expected, $"{objective.Value([3.0])} vs {expected}");
        Assert.Equal(1.0, objective.Value([2.0]), 12); // feasible: φ·c
        objective.Prepare([[2.0], [1.0]]); // all feasible ⇒ φ = 1 ⇒ the cost itself, no penalty
        Assert.Equal(3.0, objective.Value([3.0]), 12);
        objective.Prepare([[3.0], [4.0]]); // none feasible ⇒ φ = 0 ⇒ only the violation: 0.3·1e10
        Assert.True(Math.Abs(objective.Value([3.0]) - 0.3e10) <= 1e-12 * 0.3e10);
        Assert.Equal(0.0, objective.Value([2.0]));
    }

    [Fact]
    public void MetricObjectiveScales()
    {
        Assert.Equal(-93.6, new MetricObjective(0, "accuracy", scale: -1).Value([93.6]), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MetricObjective(0, scale: 0));
    }
}
