using System.Globalization;
using NasFlatness.Evaluation;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.MultiObjective.Nachos;

/// <summary>
/// The metric layout of the NACHOS evaluators: [0] top-1 error in %, [1] average MACs per inference in millions, [2] the full
/// network's MACs in millions, then the fraction of samples leaving at each exit slot (0 where no exit is placed) and, last, at the final exit.
/// </summary>
public static class NachosMetrics
{
    /// <summary>Index of the top-1 error (%).</summary>
    public const int Error = 0;

    /// <summary>Index of the average MACs per inference (M).</summary>
    public const int AverageMacs = 1;

    /// <summary>Index of the full network's MACs (M).</summary>
    public const int FullMacs = 2;

    /// <summary>Index of the first exit fraction.</summary>
    public const int FirstFraction = 3;

    /// <summary>The metric names for <paramref name="slotCount"/> exit slots.</summary>
    public static IReadOnlyList<string> Names(int slotCount) =>
        ["top-1 error %", "average MACs M", "full MACs M", .. Enumerable.Range(0, slotCount).Select(i => string.Create(CultureInfo.InvariantCulture, $"fraction at slot {i}")), "fraction at final exit"];

    /// <summary>The fractions per slot and final exit from per-exit fractions of the placed exits.</summary>
    internal static double[] Metrics(double error, double averageMacs, double fullMacs, IReadOnlyList<bool> bits, IReadOnlyList<double> exitFractions)
    {
        var metrics = new double[FirstFraction + bits.Count + 1];
        metrics[Error] = error;
        metrics[AverageMacs] = averageMacs / 1e6;
        metrics[FullMacs] = fullMacs / 1e6;
        int exit = 0;
        for (int s = 0; s < bits.Count; s++) metrics[FirstFraction + s] = bits[s] ? exitFractions[exit++] : 0;
        metrics[^1] = exitFractions[^1];
        return metrics;
    }
}

/// <summary>
/// A fast, table-based NACHOS evaluator for tests and search-mechanics experiments (no training). Costs are exact: the per-exit
/// cumulative MACs of the NB201 early-exit network from <see cref="Nb201EarlyExitCostModel"/> (C = 16, N = 5 by default, matching the
/// table). Accuracies are a <b>synthetic stand-in</b>, because the table has no early-exit accuracies: the final exit has the table's
/// CIFAR-10 test error; each placed early exit takes <see cref="ExitFraction"/> of the samples still in the network, and the samples it
/// answers have the final error plus <see cref="ErrorPenalty"/> × (1 − exit cost / full cost) percentage points.
/// </summary>
public sealed class Nb201TableNachosEvaluator : IMultiObjectiveEvaluator<NachosCandidate>
{
    private readonly double[] _errorByCode;
    private readonly Nb201EarlyExitCostModel _costs;
    private readonly IReadOnlyList<int> _slots;

    /// <summary>Creates the evaluator.</summary>
    /// <param name="slots">Cells that may carry an exit (<see cref="Nb201ExitPlacement.Slots"/>); default after stages 1 and 2 of N = 5.</param>
    /// <param name="options">Network shape for the costs; null is the table's (C = 16, N = 5).</param>
    /// <param name="table">The table; null uses the embedded one.</param>
    /// <param name="exitFraction">Fraction of the remaining samples each early exit takes (default 0.4).</param>
    /// <param name="errorPenalty">Extra error (percentage points) of a sample answered at the input (default 30; scaled by 1 − cost ratio).</param>
    public Nb201TableNachosEvaluator(IReadOnlyList<int>? slots = null, Nb201Options? options = null, Nb201Table? table = null, double exitFraction = 0.4, double errorPenalty = 30)
    {
        if (!(exitFraction is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(exitFraction), exitFraction, "Must be in [0, 1].");
        if (!(errorPenalty >= 0 && double.IsFinite(errorPenalty))) throw new ArgumentOutOfRangeException(nameof(errorPenalty), errorPenalty, "Must be non-negative.");
        var o = (options ?? new Nb201Options()).Clone();
        _costs = new Nb201EarlyExitCostModel(o);
        _slots = [.. slots ?? Nb201ExitPlacement.Slots(o.CellsPerStage, afterEveryCell: false)];
        _ = new Nb201ExitPlacement(o.CellsPerStage, _slots); // validates the slots
        _errorByCode = (table ?? Nb201Table.Embedded).ValuesByCode(Nb201Metrics.Cifar10TestAccuracy).Select(a => 100 - a).ToArray();
        CellsPerStage = o.CellsPerStage;
        ExitFraction = exitFraction;
        ErrorPenalty = errorPenalty;
        MetricNames = NachosMetrics.Names(_slots.Count);
    }

    /// <summary>N of the modelled network.</summary>
    public int CellsPerStage { get; }

    /// <summary>The exit slots.</summary>
    public IReadOnlyList<int> Slots => _slots;

    /// <summary>Fraction of the remaining samples each early exit takes.</summary>
    public double ExitFraction { get; }

    /// <summary>Extra error (percentage points) at zero depth.</summary>
    public double ErrorPenalty { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> MetricNames { get; }

    /// <summary>The exact cumulative MACs of each exit of <paramref name="candidate"/>.</summary>
    public long[] ExitCosts(NachosCandidate candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return _costs.CumulativeCosts(candidate.Genotype, candidate.Placement(CellsPerStage, _slots));
    }

    /// <inheritdoc />
    public IReadOnlyList<double> Evaluate(NachosCandidate candidate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var costs = ExitCosts(candidate);
        double finalError = _errorByCode[candidate.Genotype.Code];
        var fractions = new double[costs.Length];
        double remaining = 1, error = 0, average = 0;
        for (int i = 0; i < costs.Length; i++)
        {
            fractions[i] = i == costs.Length - 1 ? remaining : remaining * ExitFraction;
            remaining -= fractions[i];
            double exitError = Math.Min(100, finalError + ErrorPenalty * (1 - (double)costs[i] / costs[^1]));
            error += fractions[i] * exitError;
            average += fractions[i] * costs[i];
        }
        return NachosMetrics.Metrics(error, average, costs[^1], candidate.Exits, fractions);
    }
}

/// <summary>Options of <see cref="TrainedNachosEvaluator"/>.</summary>
public sealed class TrainedNachosEvaluatorOptions
{
    /// <summary>Network shape.</summary>
    /// <value>Default C = 8, N = 1 (the NACHOS spec's CPU proxy).</value>
    public Nb201Options Network { get; set; } = new() { Channels = 8, CellsPerStage = 1 };

    /// <summary>Whether every cell but the last is an exit slot (otherwise only the ends of stages 1 and 2).</summary>
    /// <value>Default false.</value>
    public bool ExitAfterEveryCell { get; set; }

    /// <summary>Early-exit training recipe; its <see cref="EarlyExitTrainingOptions.MacLimit"/> is set from <see cref="MacLimit"/> and its
    /// checkpoint folder from <see cref="CheckpointRoot"/>.</summary>
    /// <value>Default the NACHOS recipe.</value>
    public EarlyExitTrainingOptions Training { get; set; } = new();

    /// <summary>Threshold tuning; its limits are set from <see cref="MacLimit"/> and <see cref="MinimumAccuracy"/>.</summary>
    /// <value>Default <see cref="ExitThresholdTunerOptions"/>'s defaults.</value>
    public ExitThresholdTunerOptions Tuner { get; set; } = new();

    /// <summary>m<sub>max</sub> in millions of MACs, for the MAC regulariser and the repair; null: unconstrained.</summary>
    /// <value>Default null.</value>
    public double? MacLimit { get; set; }

    /// <summary>top1<sub>min</sub> (0..1) kept by the repair; null: none.</summary>
    /// <value>Default null.</value>
    public double? MinimumAccuracy { get; set; }

    /// <summary>Fraction of the training images held out for threshold tuning and the reported accuracy.</summary>
    /// <value>Default 0.1.</value>
    public double ValidationFraction { get; set; } = 0.1;

    /// <summary>Seed of each candidate's initial weights.</summary>
    /// <value>Default 0.</value>
    public int Seed { get; set; }

    /// <summary>Folder under which each candidate's training is checkpointed (one sub-folder per key); null writes none.</summary>
    /// <value>Default null.</value>
    public string? CheckpointRoot { get; set; }

    /// <summary>Every problem with the options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Network is null) errors.Add($"{nameof(Network)} is missing.");
        else errors.AddRange(Network.Validate().Select(e => $"{nameof(Network)}.{e}"));
        if (Training is null) errors.Add($"{nameof(Training)} is missing.");
        else errors.AddRange(Training.Validate().Select(e => $"{nameof(Training)}.{e}"));
        if (Tuner is null) errors.Add($"{nameof(Tuner)} is missing.");
        else errors.AddRange(Tuner.Validate().Select(e => $"{nameof(Tuner)}.{e}"));
        if (MacLimit is double m && !(m > 0 && double.IsFinite(m))) errors.Add($"{nameof(MacLimit)} = {m} is invalid: must be positive, or null.");
        if (MinimumAccuracy is double a && !(a is >= 0 and <= 1)) errors.Add($"{nameof(MinimumAccuracy)} = {a} is invalid: must be in [0, 1], or null.");
        if (!(ValidationFraction is > 0 and < 1)) errors.Add($"{nameof(ValidationFraction)} = {ValidationFraction} is invalid: must be in (0, 1).");
        return errors;
    }
}

/// <summary>The full record of one trained candidate (kept by <see cref="TrainedNachosEvaluator.Details"/>).</summary>
/// <param name="Key">The candidate's key.</param>
/// <param name="ExitCosts">Hook-measured cumulative MACs of each exit.</param>
/// <param name="PoolKernels">Max-pool kernel of each early exit.</param>
/// <param name="Training">The training history.</param>
/// <param name="Tuning">The threshold tuning.</param>
public sealed record TrainedNachosCandidate(string Key, IReadOnlyList<long> ExitCosts, IReadOnlyList<int> PoolKernels, EarlyExitTrainingResult Training, ThresholdTuningResult Tuning);

/// <summary>
/// The real NACHOS candidate evaluation: builds the <see cref="Nb201EarlyExitNetwork"/> of the candidate, measures its per-exit MACs with
/// hooks, trains it with <see cref="EarlyExitTrainer"/> on the training images minus a held-out validation part, tunes the thresholds on
/// that part with <see cref="ExitThresholdTuner"/> (grid and repair), and reports the tuned error, average MACs and exit fractions.
/// </summary>
public sealed class TrainedNachosEvaluator : IMultiObjectiveEvaluator<NachosCandidate>
{
    private readonly IClassificationDataset _data;
    private readonly TrainedNachosEvaluatorOptions _options;
    private readonly IReadOnlyList<int> _slots;
    private readonly Dictionary<string, TrainedNachosCandidate> _details = new(StringComparer.Ordinal);

    /// <summary>Creates the evaluator.</summary>
    /// <param name="data">Training images (the validation part is taken from their end); the test split is not used.</param>
    /// <param name="options">Options; null uses the defaults.</param>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public TrainedNachosEvaluator(IClassificationDataset data, TrainedNachosEvaluatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        _options = options ?? new TrainedNachosEvaluatorOptions();
        var errors = _options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid NACHOS evaluator options: " + string.Join(" ", errors), nameof(options));
        _data = data;
        _slots = Nb201ExitPlacement.Slots(_options.Network.CellsPerStage, _options.ExitAfterEveryCell);
        MetricNames = NachosMetrics.Names(_slots.Count);
    }

    /// <summary>The exit slots (cells).</summary>
    public IReadOnlyList<int> Slots => _slots;

    /// <inheritdoc />
    public IReadOnlyList<string> MetricNames { get; }

    /// <summary>What each evaluated candidate measured, by key.</summary>
    public IReadOnlyDictionary<string, TrainedNachosCandidate> Details => _details;

    /// <inheritdoc />
    public IReadOnlyList<double> Evaluate(NachosCandidate candidate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var o = _options;
        string key = new NachosCandidateEncoding(_slots.Count, requireExit: false).Key(candidate);
        var placement = candidate.Placement(o.Network.CellsPerStage, _slots);
        using var split = new HoldoutClassificationDataset(_data, o.ValidationFraction);
        torch.manual_seed(o.Seed);
        using var network = new Nb201EarlyExitNetwork(candidate.Genotype, placement, o.Network, _data.Info);
        var report = EarlyExitCosts.Measure(network, [1, _data.Info.Channels, _data.Info.Height, _data.Info.Width]);
        var costs = report.CumulativeMultiplyAccumulates.Select(c => (double)c).ToArray();

        var training = o.Training.Clone();
        training.MacLimit = o.MacLimit * 1e6;
        if (o.CheckpointRoot is not null) training.CheckpointDirectory = Path.Combine(o.CheckpointRoot, key);
        var result = new EarlyExitTrainer(training).Train(network, costs, split, cancellationToken: cancellationToken);

        var device = torch.device(training.Device);
        var predictions = EarlyExitPredictions.Collect(network, split, EvaluationSplit.Test, training.TestBatchSize, device, cancellationToken);
        var tunerOptions = o.Tuner.Clone();
        tunerOptions.MacLimit = o.MacLimit * 1e6;
        tunerOptions.MinimumAccuracy = o.MinimumAccuracy;
        var tuning = new ExitThresholdTuner(tunerOptions).Tune(predictions, costs);
        _details[key] = new TrainedNachosCandidate(key, report.CumulativeMultiplyAccumulates, network.PoolKernels, result, tuning);
        return NachosMetrics.Metrics(100 * (1 - tuning.Final.Accuracy), tuning.Final.AverageMultiplyAccumulates, costs[^1], candidate.Exits, tuning.Final.ExitFractions);
    }
}

/// <summary>The training split of a dataset cut in two: the first part as "train", the last <c>fraction</c> as "test" (validation). Does not own the data.</summary>
internal sealed class HoldoutClassificationDataset : IClassificationDataset
{
    private readonly IClassificationDataset _inner;
    private readonly int _train, _validation;

    public HoldoutClassificationDataset(IClassificationDataset inner, double fraction)
    {
        _inner = inner;
        int total = inner.Count(EvaluationSplit.Train);
        _validation = Math.Max(1, (int)Math.Round(total * fraction));
        _train = total - _validation;
        if (_train < 1) throw new ArgumentException($"{total} training images cannot be split into training and validation parts.", nameof(inner));
    }

    public DatasetInfo Info => _inner.Info;

    public int Count(EvaluationSplit split) => split == EvaluationSplit.Train ? _train : _validation;

    public Batch GetBatch(EvaluationSplit split, ReadOnlySpan<int> indices, bool augment, Random random, Device device)
    {
        if (split == EvaluationSplit.Train) return _inner.GetBatch(EvaluationSplit.Train, indices, augment, random, device);
        var shifted = new int[indices.Length];
        for (int i = 0; i < shifted.Length; i++) shifted[i] = indices[i] + _train;
        return _inner.GetBatch(EvaluationSplit.Train, shifted, augment, random, device);
    }

    public void Dispose()
    {
    }
}
