using System.Globalization;

namespace NasFlatness.MultiObjective.Nachos;

/// <summary>How an early-exit network performs under one set of thresholds.</summary>
/// <param name="Thresholds">ε<sub>i</sub> per exit (the last exit takes every remaining sample whatever its value).</param>
/// <param name="Accuracy">Top-1 accuracy (0..1) when each sample is answered by the exit it leaves at.</param>
/// <param name="ExitCounts">Samples leaving at each exit.</param>
/// <param name="ExitFractions">Fraction of the samples leaving at each exit (sums to 1).</param>
/// <param name="AverageMultiplyAccumulates">Σ<sub>i</sub> fraction<sub>i</sub>·cumulative cost<sub>i</sub>.</param>
public sealed record ExitEvaluation(IReadOnlyList<double> Thresholds, double Accuracy, IReadOnlyList<int> ExitCounts,
    IReadOnlyList<double> ExitFractions, double AverageMultiplyAccumulates)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"ε = [{string.Join(", ", Thresholds.Select(t => t.ToString("0.##", CultureInfo.InvariantCulture)))}]: accuracy {Accuracy:P2}, average MACs {AverageMultiplyAccumulates / 1e6:F3} M, exits [{string.Join(", ", ExitFractions.Select(f => f.ToString("0.###", CultureInfo.InvariantCulture)))}]");
}

/// <summary>The outcome of <see cref="ExitThresholdTuner.Tune"/>.</summary>
/// <param name="Grid">The evaluation at each grid value (in grid order).</param>
/// <param name="BestOfGrid">The grid evaluation with the best accuracy (the first on ties).</param>
/// <param name="RepairSteps">Every accepted repair step, in order (empty when no repair was needed or possible).</param>
/// <param name="Final">The chosen thresholds: the last accepted repair step, or the best grid point.</param>
/// <param name="MeetsMacLimit">Whether <see cref="Final"/>'s average MACs are within the limit (true without a limit).</param>
/// <param name="MeetsAccuracy">Whether <see cref="Final"/>'s accuracy reaches the minimum (true without one).</param>
public sealed record ThresholdTuningResult(IReadOnlyList<ExitEvaluation> Grid, ExitEvaluation BestOfGrid, IReadOnlyList<ExitEvaluation> RepairSteps,
    ExitEvaluation Final, bool MeetsMacLimit, bool MeetsAccuracy);

/// <summary>Options of <see cref="ExitThresholdTuner"/> (defaults: docs/nachos.md).</summary>
public sealed class ExitThresholdTunerOptions
{
    /// <summary>The common thresholds tried.</summary>
    /// <value>Default {0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8}.</value>
    public IReadOnlyList<double> Grid { get; set; } = [0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8];

    /// <summary>The first exit uses max(this, ε).</summary>
    /// <value>Default 0.7.</value>
    public double FirstExitMinimum { get; set; } = 0.7;

    /// <summary>Average-MAC limit m<sub>max</sub> (same units as the exit costs); null: no repair.</summary>
    /// <value>Default null.</value>
    public double? MacLimit { get; set; }

    /// <summary>Minimum accuracy top1<sub>min</sub> (0..1) the repair must keep; null: none.</summary>
    /// <value>Default null.</value>
    public double? MinimumAccuracy { get; set; }

    /// <summary>How much one repair step lowers an exit's threshold.</summary>
    /// <value>Default 0.1.</value>
    public double RepairStep { get; set; } = 0.1;

    /// <summary>An exit's threshold is not lowered below this; the repair then moves to the previous exit.</summary>
    /// <value>Default 0.1.</value>
    public double RepairFloor { get; set; } = 0.1;

    /// <summary>Returns a copy.</summary>
    public ExitThresholdTunerOptions Clone()
    {
        var copy = (ExitThresholdTunerOptions)MemberwiseClone();
        copy.Grid = [.. Grid];
        return copy;
    }

    /// <summary>Every problem with the options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Grid is null || Grid.Count == 0 || Grid.Any(g => !(g is >= 0 and <= 1)))
            errors.Add($"{nameof(Grid)} is invalid: must hold at least one threshold, each in [0, 1].");
        if (!(FirstExitMinimum is >= 0 and <= 1)) errors.Add($"{nameof(FirstExitMinimum)} = {FirstExitMinimum} is invalid: must be in [0, 1].");
        if (MacLimit is double m && !(m > 0 && double.IsFinite(m))) errors.Add($"{nameof(MacLimit)} = {m} is invalid: must be positive and finite, or null.");
        if (MinimumAccuracy is double a && !(a is >= 0 and <= 1)) errors.Add($"{nameof(MinimumAccuracy)} = {a} is invalid: must be in [0, 1], or null.");
        if (!(RepairStep > 0 && RepairStep <= 1)) errors.Add($"{nameof(RepairStep)} = {RepairStep} is invalid: must be in (0, 1].");
        if (!(RepairFloor is >= 0 and < 1)) errors.Add($"{nameof(RepairFloor)} = {RepairFloor} is invalid: must be in [0, 1).");
        return errors;
    }
}

/// <summary>
/// NACHOS's exit thresholds (docs/nachos.md, "Thresholds"): a sample leaves at the first exit i whose cumulative weight W<sub>i</sub> = Σ<sub>k≤i</sub> w<sub>k</sub> reaches ε<sub>i</sub>
/// (w<sub>k</sub> = c<sub>k</sub>·Π<sub>j&lt;k</sub>(1 − c<sub>j</sub>)), otherwise at the last exit. A common ε is chosen from a grid by
/// accuracy (the first exit uses max(0.7, ε)); then, while the average MACs exceed m<sub>max</sub> and the accuracy holds, ε of the
/// exits from the second-last backwards is lowered step by step until the limit holds.
/// </summary>
public sealed class ExitThresholdTuner
{
    private readonly ExitThresholdTunerOptions _options;

    /// <summary>Creates the tuner.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public ExitThresholdTuner(ExitThresholdTunerOptions? options = null)
    {
        _options = (options ?? new ExitThresholdTunerOptions()).Clone();
        var errors = _options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid threshold tuner options: " + string.Join(" ", errors), nameof(options));
    }

    /// <summary>The options (a copy).</summary>
    public ExitThresholdTunerOptions Options => _options.Clone();

    /// <summary>The exit each sample leaves at under <paramref name="thresholds"/> (the cumulative rule).</summary>
    public static int[] ExitOf(EarlyExitPredictions predictions, IReadOnlyList<double> thresholds)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(thresholds);
        int exits = predictions.ExitCount;
        if (thresholds.Count != exits && thresholds.Count != exits - 1)
            throw new ArgumentException($"Expected {exits - 1} or {exits} thresholds, got {thresholds.Count}.", nameof(thresholds));
        var result = new int[predictions.Count];
        Span<double> c = stackalloc double[exits];
        for (int s = 0; s < predictions.Count; s++)
        {
            for (int i = 0; i < exits; i++) c[i] = predictions.Confidence(s, i);
            var cumulative = EarlyExitLosses.CumulativeExitWeights(c);
            int chosen = exits - 1;
            for (int i = 0; i < exits - 1; i++)
            {
                if (cumulative[i] >= thresholds[i])
                {
                    chosen = i;
                    break;
                }
            }
            result[s] = chosen;
        }
        return result;
    }

    /// <summary>Accuracy, exit fractions and average MACs under <paramref name="thresholds"/>.</summary>
    /// <param name="predictions">Confidences and correctness per sample and exit.</param>
    /// <param name="thresholds">ε per exit (the last may be omitted).</param>
    /// <param name="exitCosts">Cumulative cost of each exit.</param>
    public static ExitEvaluation Evaluate(EarlyExitPredictions predictions, IReadOnlyList<double> thresholds, IReadOnlyList<double> exitCosts)
    {
        ArgumentNullException.ThrowIfNull(exitCosts);
        var exitOf = ExitOf(predictions, thresholds);
        int exits = predictions.ExitCount;
        if (exitCosts.Count != exits) throw new ArgumentException($"Expected {exits} exit costs, got {exitCosts.Count}.", nameof(exitCosts));
        var counts = new int[exits];
        int correct = 0;
        for (int s = 0; s < exitOf.Length; s++)
        {
            counts[exitOf[s]]++;
            if (predictions.IsCorrect(s, exitOf[s])) correct++;
        }
        var fractions = counts.Select(c => (double)c / exitOf.Length).ToArray();
        double average = 0;
        for (int i = 0; i < exits; i++) average += fractions[i] * exitCosts[i];
        return new ExitEvaluation([.. thresholds], (double)correct / exitOf.Length, counts, fractions, average);
    }

    /// <summary>The thresholds of grid value <paramref name="epsilon"/>: max(first-exit minimum, ε) for the first exit, ε for the others.</summary>
    public double[] GridThresholds(double epsilon, int exitCount)
    {
        var t = Enumerable.Repeat(epsilon, exitCount).ToArray();
        t[0] = Math.Max(_options.FirstExitMinimum, epsilon);
        return t;
    }

    /// <summary>Chooses the thresholds: the best grid point by accuracy, then the repair under the MAC limit.</summary>
    public ThresholdTuningResult Tune(EarlyExitPredictions predictions, IReadOnlyList<double> exitCosts)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(exitCosts);
        int exits = predictions.ExitCount;
        var grid = _options.Grid.Select(eps => Evaluate(predictions, GridThresholds(eps, exits), exitCosts)).ToArray();
        var best = grid[0];
        foreach (var g in grid) if (g.Accuracy > best.Accuracy) best = g;

        var steps = new List<ExitEvaluation>();
        var current = best;
        double? limit = _options.MacLimit, minimum = _options.MinimumAccuracy;
        bool AccuracyHolds(ExitEvaluation e) => minimum is not double m || e.Accuracy >= m;
        if (limit is double mmax && current.AverageMultiplyAccumulates > mmax && AccuracyHolds(current))
        {
            var thresholds = current.Thresholds.ToArray();
            int i = exits - 2;
            while (i >= 0)
            {
                if (thresholds[i] - _options.RepairStep < _options.RepairFloor - 1e-9)
                {
                    i--;
                    continue;
                }
                double previous = thresholds[i];
                thresholds[i] = Math.Round(previous - _options.RepairStep, 10);
                var candidate = Evaluate(predictions, thresholds, exitCosts);
                if (!AccuracyHolds(candidate))
                {
                    // The step broke the accuracy constraint: undo it and try the previous exit.
                    thresholds[i] = previous;
                    i--;
                    continue;
                }
                steps.Add(candidate);
                current = candidate;
                if (candidate.AverageMultiplyAccumulates <= mmax) break;
            }
        }
        bool meetsMacs = limit is not double l || current.AverageMultiplyAccumulates <= l;
        return new ThresholdTuningResult(grid, best, steps, current, meetsMacs, AccuracyHolds(current));
    }
}
