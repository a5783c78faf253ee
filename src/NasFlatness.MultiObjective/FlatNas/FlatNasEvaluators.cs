using System.Globalization;
using NasFlatness.Evaluation;
using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using NasFlatness.MultiObjective.Nachos;
using static TorchSharp.torch;

namespace NasFlatness.MultiObjective.FlatNas;

/// <summary>
/// The metric layout of the FlatNAS evaluators: [0] top-1 error in %, [1] the robustness figure R in percentage points (lower is
/// flatter), [2] parameters in millions. <see cref="FlatNasSearch"/> builds <c>top1_robust</c> from [0] and [1] and the parameter
/// constraint from [2].
/// </summary>
public static class FlatNasMetrics
{
    /// <summary>Index of the top-1 error (%).</summary>
    public const int Error = 0;

    /// <summary>Index of the robustness figure R (percentage points).</summary>
    public const int Robustness = 1;

    /// <summary>Index of the parameter count (M).</summary>
    public const int Parameters = 2;

    /// <summary>The metric names.</summary>
    public static IReadOnlyList<string> Names { get; } = ["top-1 error %", "R (pp)", "parameters M"];

    /// <summary>The metrics known without evaluating: NaN error and R, exact parameters in millions.</summary>
    internal static double[] Cheap(Nb201ResourceModel resources, Nb201Genotype candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return [double.NaN, double.NaN, resources.Parameters(candidate) / 1e6];
    }
}

/// <summary>
/// A table-based FlatNAS evaluator, <b>only for testing the search logic</b> (no training): the NB201 table's CIFAR-10 test
/// error, exact parameters (<see cref="Nb201ResourceModel"/>, C = 16, N = 5 by default), and, <b>in place of R</b>, the mean
/// |acc(cell) − acc(neighbour)| over the 24 one-edge neighbours in percentage points (docs/flatnas.md).
/// </summary>
public sealed class Nb201TableFlatNasEvaluator : IMultiObjectiveEvaluator<Nb201Genotype>, ICheapMetricsEvaluator<Nb201Genotype>
{
    private readonly double[] _accuracyByCode;
    private readonly Nb201ResourceModel _resources;

    /// <summary>Creates the evaluator.</summary>
    /// <param name="table">The table; null uses the embedded one.</param>
    /// <param name="network">Network shape for the parameter count; null is the table's (C = 16, N = 5).</param>
    public Nb201TableFlatNasEvaluator(Nb201Table? table = null, Nb201Options? network = null)
    {
        _accuracyByCode = [.. (table ?? Nb201Table.Embedded).ValuesByCode(Nb201Metrics.Cifar10TestAccuracy)];
        _resources = new Nb201ResourceModel(network ?? new Nb201Options());
    }

    /// <inheritdoc />
    public IReadOnlyList<string> MetricNames { get; } = ["top-1 error % (table)", "neighbourhood accuracy drop (pp; proxy, not R)", "parameters M"];

    /// <summary>The proxy for R: mean |acc(cell) − acc(neighbour)| over the 24 one-edge neighbours, in percentage points.</summary>
    public double NeighbourhoodAccuracyDrop(Nb201Genotype genotype)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        double own = _accuracyByCode[genotype.Code], sum = 0;
        int count = 0;
        for (int e = 0; e < Nb201Genotype.EdgeCount; e++)
        {
            for (int o = 0; o < Nb201Genotype.OperationCount; o++)
            {
                if (o == genotype.Operations[e]) continue;
                sum += Math.Abs(own - _accuracyByCode[genotype.With(e, o).Code]);
                count++;
            }
        }
        return sum / count;
    }

    /// <inheritdoc />
    public IReadOnlyList<double> Evaluate(Nb201Genotype candidate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        cancellationToken.ThrowIfCancellationRequested();
        return [100 - _accuracyByCode[candidate.Code], NeighbourhoodAccuracyDrop(candidate), _resources.Parameters(candidate) / 1e6];
    }

    /// <summary>The exact parameters (M) without the table look-ups: [NaN, NaN, parameters M] (for a surrogate-assisted search).</summary>
    public IReadOnlyList<double> CheapMetrics(Nb201Genotype candidate) => FlatNasMetrics.Cheap(_resources, candidate);
}

/// <summary>Options of <see cref="FlatNasEvaluator"/>.</summary>
public sealed class FlatNasEvaluatorOptions
{
    /// <summary>Shape of the trained (proxy) network.</summary>
    /// <value>Default C = 8, N = 1.</value>
    public Nb201Options Network { get; set; } = new() { Channels = 8, CellsPerStage = 1 };

    /// <summary>Shape of the network whose parameters are reported (the constrained metric).</summary>
    /// <value>Default C = 16, N = 5 (the NB201 evaluation network, the table's).</value>
    public Nb201Options ParameterNetwork { get; set; } = new();

    /// <summary>
    /// The proxy training recipe (its <see cref="EvaluationOptions.Seed"/> is replaced by <see cref="Seed"/>, and its checkpoint
    /// folder by one per candidate under <see cref="CheckpointRoot"/>). <see cref="EvaluationOptions.Sharpness"/> selects SGD, SAM or ASAM.
    /// </summary>
    /// <value>Default: 4 epochs, batch 64, SGD lr 0.1 cosine, momentum 0.9, weight decay 5e-4, no drop-path, augmentation on, and
    /// ASAM with ρ = 2.</value>
    public EvaluationOptions Training { get; set; } = DefaultTraining();

    /// <summary>σ, M, seed and batch size of R (its seed is used as given).</summary>
    /// <value>Default σ = 0.05, M = 20, seed 0 (FlatNAS).</value>
    public WeightPerturbationOptions Robustness { get; set; } = new();

    /// <summary>Fraction of the training images held out: the error, R and the corruption error are measured on them.</summary>
    /// <value>Default 0.1.</value>
    public double ValidationFraction { get; set; } = 0.1;

    /// <summary>Seed of each candidate's initial weights and of its training (data order, augmentation).</summary>
    /// <value>Default 0.</value>
    public int Seed { get; set; }

    /// <summary>Folder under which each candidate's training is checkpointed (one sub-folder per key); null writes none.</summary>
    /// <value>Default null.</value>
    public string? CheckpointRoot { get; set; }

    /// <summary>
    /// Optional report, not an objective: given the trained network (eval mode is the callee's job) and the held-out split (its test
    /// split), returns a corruption error in %, e.g. <c>MeanCorruptionError.Evaluate(...).Mean</c> from NasFlatness.Data on a few
    /// corruptions. Stored in <see cref="FlatNasCandidate.CorruptionError"/>.
    /// </summary>
    /// <value>Default null (not measured).</value>
    public Func<nn.Module<Tensor, Tensor>, IClassificationDataset, CancellationToken, double>? CorruptionError { get; set; }

    /// <summary>The default proxy recipe (see <see cref="Training"/>).</summary>
    public static EvaluationOptions DefaultTraining() => new()
    {
        Epochs = 4,
        BatchSize = 64,
        LearningRate = 0.1,
        WeightDecay = 5e-4,
        DropPathProbability = 0,
        AuxiliaryWeight = 0,
        Sharpness = SharpnessAwareness.Asam,
        SharpnessRho = 2.0,
    };

    /// <summary>Every problem with the options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Network is null) errors.Add($"{nameof(Network)} is missing.");
        else errors.AddRange(Network.Validate().Select(e => $"{nameof(Network)}.{e}"));
        if (ParameterNetwork is null) errors.Add($"{nameof(ParameterNetwork)} is missing.");
        else errors.AddRange(ParameterNetwork.Validate().Select(e => $"{nameof(ParameterNetwork)}.{e}"));
        if (Training is null) errors.Add($"{nameof(Training)} is missing.");
        else errors.AddRange(Training.Validate().Select(e => $"{nameof(Training)}.{e}"));
        if (Robustness is null) errors.Add($"{nameof(Robustness)} is missing.");
        else errors.AddRange(Robustness.Validate().Select(e => $"{nameof(Robustness)}.{e}"));
        if (!(ValidationFraction is > 0 and < 1)) errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(ValidationFraction)} = {ValidationFraction} is invalid: must be in (0, 1)."));
        return errors;
    }
}

/// <summary>What one trained FlatNAS candidate measured (kept by <see cref="FlatNasEvaluator.Details"/>).</summary>
/// <param name="Key">The candidate's key (<see cref="Nb201CandidateEncoding.Key"/>).</param>
/// <param name="Training">The proxy training.</param>
/// <param name="Robustness">R with the clean and perturbed accuracies.</param>
/// <param name="Parameters">Parameters of the <see cref="FlatNasEvaluatorOptions.ParameterNetwork"/> network.</param>
/// <param name="ProxyParameters">Parameters of the trained proxy network.</param>
/// <param name="CorruptionError">The optional corruption error (%), or null.</param>
public sealed record FlatNasCandidate(string Key, EvaluationResult Training, WeightPerturbationResult Robustness, long Parameters, long ProxyParameters, double? CorruptionError);

/// <summary>
/// The FlatNAS candidate evaluation (docs/flatnas.md): trains the cell's seeded NB201 network at proxy size with
/// <see cref="EvaluationTrainer"/> on the training images minus a held-out part, and reports on that part the top-1 error and
/// R (<see cref="WeightPerturbationRobustness"/>), plus the C = 16, N = 5 parameter count from <see cref="Nb201ResourceModel"/>,
/// in the <see cref="FlatNasMetrics"/> layout.
/// </summary>
public sealed class FlatNasEvaluator : IMultiObjectiveEvaluator<Nb201Genotype>, ICheapMetricsEvaluator<Nb201Genotype>
{
    private readonly IClassificationDataset _data;
    private readonly FlatNasEvaluatorOptions _options;
    private readonly Nb201ResourceModel _resources;
    private readonly Dictionary<string, FlatNasCandidate> _details = new(StringComparer.Ordinal);
    private readonly Nb201CandidateEncoding _encoding = new();

    /// <summary>Creates the evaluator.</summary>
    /// <param name="data">Training images (the held-out part is taken from their end); the test split is not used.</param>
    /// <param name="options">Options; null uses the defaults.</param>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public FlatNasEvaluator(IClassificationDataset data, FlatNasEvaluatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        _options = options ?? new FlatNasEvaluatorOptions();
        var errors = _options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid FlatNAS evaluator options: " + string.Join(" ", errors), nameof(options));
        _data = data;
        _resources = new Nb201ResourceModel(_options.ParameterNetwork, data.Info);
    }

    /// <inheritdoc />
    public IReadOnlyList<string> MetricNames => FlatNasMetrics.Names;

    /// <summary>What each evaluated candidate measured, by key.</summary>
    public IReadOnlyDictionary<string, FlatNasCandidate> Details => _details;

    /// <inheritdoc />
    public IReadOnlyList<double> Evaluate(Nb201Genotype candidate, CancellationToken cancellationToken)
    {
        var d = Train(candidate, cancellationToken, keep: null);
        return [100 * (1 - d.Training.TestAccuracy), d.Robustness.Robustness, d.Parameters / 1e6];
    }

    /// <summary>The exact parameters (M) of the evaluation network without training: [NaN, NaN, parameters M] (for a surrogate-assisted search).</summary>
    public IReadOnlyList<double> CheapMetrics(Nb201Genotype candidate) => FlatNasMetrics.Cheap(_resources, candidate);

    /// <summary>
    /// Trains and measures <paramref name="candidate"/> like <see cref="Evaluate"/>, then hands the trained network and the held-out
    /// split to <paramref name="keep"/> before they are disposed (e.g. for extra measurements).
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled (a checkpointed training resumes next time).</exception>
    public FlatNasCandidate Train(Nb201Genotype candidate, CancellationToken cancellationToken, Action<nn.Module<Tensor, Tensor>, IClassificationDataset>? keep)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        cancellationToken.ThrowIfCancellationRequested();
        var o = _options;
        string key = _encoding.Key(candidate);
        using var split = new HoldoutClassificationDataset(_data, o.ValidationFraction);
        torch.manual_seed(o.Seed);
        using var network = new Nb201SearchSpace(o.Network).CreateNetwork(candidate, _data.Info);
        var training = o.Training.Clone();
        training.Seed = o.Seed;
        if (o.CheckpointRoot is not null) training.CheckpointDirectory = Path.Combine(o.CheckpointRoot, key);
        var result = new EvaluationTrainer(training).Train(network, split, cancellationToken: cancellationToken);
        var robustness = WeightPerturbationRobustness.Measure(network, split, EvaluationSplit.Test, o.Robustness, cancellationToken);
        double? corruption = o.CorruptionError is { } measure ? measure(network, split, cancellationToken) : null;
        keep?.Invoke(network, split);
        var details = new FlatNasCandidate(key, result, robustness, _resources.Parameters(candidate), NetworkSize.CountParameters(network), corruption);
        _details[key] = details;
        return details;
    }
}
