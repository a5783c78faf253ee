using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NasFlatness.Genotypes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Search;

/// <summary>
/// The bilevel search loop of algorithms.md §2.3: for every training minibatch, an architecture step
/// (skipped during warm-up) on a validation minibatch with the composed optimizer and regularizers, then
/// a weight step (SGD with cosine learning rate, momentum, weight decay and gradient clipping) with the
/// updated α. Every step runs in its own TorchSharp dispose scope, so memory stays flat.
/// </summary>
public sealed class SearchRunner
{
    private readonly ISearchSpace _space;
    private readonly IArchitectureOptimizer _optimizer;
    private readonly IReadOnlyList<IFlatnessRegularizer> _regularizers;
    private readonly SearchOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a runner; the options are validated here, before any compute is spent.</summary>
    /// <param name="space">The search space.</param>
    /// <param name="optimizer">The architecture optimizer.</param>
    /// <param name="regularizers">Flatness regularizers, composed in order (loss terms first, then gradient wrappers).</param>
    /// <param name="options">Loop options; null uses the DARTS defaults.</param>
    /// <param name="logger">Logger; null logs nothing.</param>
    /// <exception cref="ArgumentException">The options are invalid, or a regularizer needs a first-order optimizer and got another.</exception>
    public SearchRunner(
        ISearchSpace space,
        IArchitectureOptimizer optimizer,
        IEnumerable<IFlatnessRegularizer>? regularizers = null,
        SearchOptions? options = null,
        ILogger<SearchRunner>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(optimizer);
        TorchRuntime.EnsureCorrectCpuKernels();
        _space = space;
        _optimizer = optimizer;
        _regularizers = regularizers?.ToArray() ?? [];
        _options = (options ?? new SearchOptions()).Clone();
        _options.ThrowIfInvalid();
        foreach (var r in _regularizers)
        {
            if (r.RequiresFirstOrderOptimizer && !optimizer.IsFirstOrder)
                throw new ArgumentException(
                    $"Regularizer '{r.Name}' evaluates the architecture gradient at perturbed α and needs a first-order optimizer, but '{optimizer.Name}' is not first order.",
                    nameof(regularizers));
        }
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The options of this runner (a copy; changing it has no effect).</summary>
    public SearchOptions Options => _options.Clone();

    /// <summary>Runs the search on <paramref name="data"/> and returns the selected genotype with the per-epoch history.</summary>
    /// <param name="data">Search data (training split for the weights, validation split for α).</param>
    /// <param name="progress">Receives a report after every step and at the end of every epoch.</param>
    /// <param name="cancellationToken">Checked before every step; a cancelled search can resume from its last checkpoint.</param>
    /// <exception cref="ArgumentException">The data does not fit the search space, or a split is empty.</exception>
    /// <exception cref="OperationCanceledException">The search was cancelled.</exception>
    public SearchResult Run(ISearchDataset data, IProgress<SearchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var o = _options;
        _space.Validate(data.Info);
        int trainCount = data.Count(SearchSplit.Train), validCount = data.Count(SearchSplit.Validation);
        if (trainCount == 0) throw new ArgumentException("The training split of the search data is empty.", nameof(data));
        if (validCount == 0) throw new ArgumentException("The validation split of the search data is empty.", nameof(data));
        var device = ResolveDevice(o.Device);
        cancellationToken.ThrowIfCancellationRequested();

        torch.manual_seed(o.Seed);
        if (device.type == DeviceType.CUDA) torch.cuda.manual_seed_all(o.Seed);
        using var supernet = _space.CreateSupernet(data.Info);
        supernet.to(device);
        if (device.type == DeviceType.CPU)
        {
            bool oneDnn = TorchRuntime.EnsureCorrectCpuKernels(supernet);
            Log.CpuKernels(_logger, oneDnn ? "oneDNN (every convolution shape of the supernet verified)"
                : TorchRuntime.OneDnnFailure is { } why ? $"libtorch native ({why})" : "libtorch native");
        }
        var architecture = supernet.ArchitectureParameters();
        var weights = supernet.WeightParameters().ToArray();
        using var weightOptimizer = torch.optim.SGD(weights, o.WeightLearningRate, o.WeightMomentum, 0.0, o.WeightDecay, false);
        using var architectureOptimizer = torch.optim.Adam(architecture, o.ArchitectureLearningRate, o.ArchitectureBeta1, o.ArchitectureBeta2, 1e-8, o.ArchitectureWeightDecay);

        var history = new List<EpochRecord>();
        var previous = TimeSpan.Zero;
        int startEpoch = 0;
        if (o.CheckpointDirectory is not null && o.ResumeFromCheckpoint && SearchCheckpoint.TryLoad(o.CheckpointDirectory) is { } checkpoint)
        {
            CheckCompatible(checkpoint);
            checkpoint.Restore(o.CheckpointDirectory, supernet, weightOptimizer, architectureOptimizer);
            history.AddRange(checkpoint.History);
            previous = TimeSpan.FromSeconds(checkpoint.DurationSeconds);
            startEpoch = checkpoint.CompletedEpochs;
            Log.Resuming(_logger, SearchCheckpoint.ManifestPath(o.CheckpointDirectory), startEpoch);
        }

        int stepsPerEpoch = (trainCount + o.BatchSize - 1) / o.BatchSize;
        Log.SearchStarted(_logger, _space.Name, _optimizer.Name, string.Join(", ", _regularizers.Select(r => r.Name)), o.Epochs, stepsPerEpoch, device.ToString(), o.Seed);
        var clock = Stopwatch.StartNew();
        bool stoppedEarly = ShouldStopEarly(history);

        for (int epoch = startEpoch; epoch < o.Epochs && !stoppedEarly; epoch++)
        {
            double lr = o.WeightLearningRateAt(epoch);
            foreach (var group in weightOptimizer.ParamGroups) group.LearningRate = lr;
            bool updateArchitecture = epoch >= o.WarmupEpochs;

            var order = Permutation(trainCount, new Random(EpochSeed(o.Seed, epoch, 0)));
            var validationOrder = Permutation(validCount, new Random(EpochSeed(o.Seed, epoch, 1)));
            var augmentRandom = new Random(EpochSeed(o.Seed, epoch, 2));
            int validationCursor = 0;
            double lossSum = 0;
            long correct = 0, seen = 0;
            var epochClock = Stopwatch.StartNew();
            supernet.train();

            for (int step = 0; step < stepsPerEpoch; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                int start = step * o.BatchSize, count = Math.Min(o.BatchSize, trainCount - start);
                var train = data.GetBatch(SearchSplit.Train, order.AsSpan(start, count), o.Augment, augmentRandom, device);

                if (updateArchitecture)
                {
                    var validIndices = NextValidationIndices(validationOrder, ref validationCursor, o.BatchSize);
                    var validation = data.GetBatch(SearchSplit.Validation, validIndices, o.Augment, augmentRandom, device);
                    var state = WeightOptimizerState.FromSgd(weightOptimizer, lr, o.WeightMomentum, o.WeightDecay);
                    var context = new ArchitectureStep(supernet, train, validation, state, epoch, o.Epochs, (long)epoch * stepsPerEpoch + step, _regularizers);
                    ArchitectureStepper.Step(context, _optimizer, _regularizers, architecture, architectureOptimizer);
                }

                weightOptimizer.zero_grad();
                var logits = supernet.ForwardFixedArchitecture(train.Images);
                var loss = nn.functional.cross_entropy(logits, train.Labels);
                loss.backward();
                nn.utils.clip_grad_norm_(weights, o.GradientClip);
                weightOptimizer.step();

                lossSum += loss.item<float>() * count;
                correct += logits.argmax(1).eq(train.Labels).sum().item<long>();
                seen += count;
                progress?.Report(new SearchProgress(epoch, o.Epochs, step + 1, stepsPerEpoch, lossSum / seen, previous + clock.Elapsed));
            }
            epochClock.Stop();

            var (validLoss, validAccuracy) = EvaluateSupernet(supernet, data, device, cancellationToken);
            var record = new EpochRecord
            {
                Epoch = epoch,
                Genotype = supernet.DeriveGenotype(),
                Architecture = SnapshotArchitecture(architecture),
                MeanMaxWeight = MeanMaxWeight(architecture),
                WeightLearningRate = lr,
                TrainLoss = lossSum / seen,
                TrainAccuracy = (double)correct / seen,
                ValidationLoss = validLoss,
                ValidationAccuracy = validAccuracy,
                ArchitectureUpdated = updateArchitecture,
                Duration = epochClock.Elapsed,
                Steps = stepsPerEpoch,
            };
            history.Add(record);
            Log.EpochCompleted(_logger, epoch, record.TrainLoss, record.TrainAccuracy, validLoss, validAccuracy, record.MeanMaxWeight, record.Duration.TotalSeconds, record.Genotype.ToString());
            stoppedEarly = ShouldStopEarly(history);
            if (stoppedEarly) Log.StoppedEarly(_logger, epoch, o.SelectionPatience);

            if (o.CheckpointDirectory is not null)
            {
                var elapsed = previous + clock.Elapsed;
                var snapshot = history.ToList();
                SearchCheckpoint.Write(o.CheckpointDirectory, supernet, weightOptimizer, architectureOptimizer, _ => new SearchCheckpoint
                {
                    Space = _space.Name,
                    Optimizer = _optimizer.Name,
                    Regularizers = _regularizers.Select(r => r.Name).ToArray(),
                    Options = o,
                    CompletedEpochs = epoch + 1,
                    History = snapshot,
                    SupernetFile = "",
                    WeightOptimizerFile = "",
                    ArchitectureOptimizerFile = "",
                    DurationSeconds = elapsed.TotalSeconds,
                }, epoch + 1);
                Log.CheckpointWritten(_logger, o.CheckpointDirectory, epoch + 1);
            }
            progress?.Report(new SearchProgress(epoch, o.Epochs, stepsPerEpoch, stepsPerEpoch, record.TrainLoss, previous + clock.Elapsed, record));
        }

        var selected = Select(history);
        var result = new SearchResult
        {
            Genotype = selected.Genotype,
            SelectedEpoch = selected.Epoch,
            Selection = o.Selection,
            Epochs = history,
            StoppedEarly = stoppedEarly,
            Duration = history.Aggregate(TimeSpan.Zero, (sum, e) => sum + e.Duration),
            Device = device.ToString(),
            Seed = o.Seed,
        };
        Log.SearchFinished(_logger, result.Genotype.ToString(), result.SelectedEpoch, o.Selection, result.Duration.TotalSeconds);
        return result;
    }

    private void CheckCompatible(SearchCheckpoint checkpoint)
    {
        var o = _options;
        void Require(bool same, string what, object saved, object now)
        {
            if (!same)
                throw new InvalidOperationException(
                    $"The checkpoint in '{o.CheckpointDirectory}' was written with {what} = {saved}, but this search uses {now}; use another {nameof(SearchOptions.CheckpointDirectory)} or set {nameof(SearchOptions.ResumeFromCheckpoint)} = false.");
        }
        Require(checkpoint.Space == _space.Name, "space", checkpoint.Space, _space.Name);
        Require(checkpoint.Optimizer == _optimizer.Name, "optimizer", checkpoint.Optimizer, _optimizer.Name);
        Require(checkpoint.Regularizers.SequenceEqual(_regularizers.Select(r => r.Name)), "regularizers", string.Join(",", checkpoint.Regularizers), string.Join(",", _regularizers.Select(r => r.Name)));
        Require(checkpoint.Options.Seed == o.Seed, nameof(SearchOptions.Seed), checkpoint.Options.Seed, o.Seed);
        Require(checkpoint.Options.BatchSize == o.BatchSize, nameof(SearchOptions.BatchSize), checkpoint.Options.BatchSize, o.BatchSize);
        Require(checkpoint.Options.Epochs == o.Epochs, nameof(SearchOptions.Epochs), checkpoint.Options.Epochs, o.Epochs);
    }

    private bool ShouldStopEarly(IReadOnlyList<EpochRecord> history)
    {
        if (_options.Selection != SelectionRule.BestSupernetValidationLoss || history.Count == 0) return false;
        int best = BestEpochIndex(history);
        return history.Count - 1 - best >= _options.SelectionPatience;
    }

    private static int BestEpochIndex(IReadOnlyList<EpochRecord> history)
    {
        int best = 0;
        for (int i = 1; i < history.Count; i++)
            if (history[i].ValidationLoss < history[best].ValidationLoss) best = i;
        return best;
    }

    private EpochRecord Select(IReadOnlyList<EpochRecord> history) =>
        _options.Selection == SelectionRule.BestSupernetValidationLoss ? history[BestEpochIndex(history)] : history[^1];

    private (double Loss, double Accuracy) EvaluateSupernet(Supernet supernet, ISearchDataset data, Device device, CancellationToken cancellationToken)
    {
        int count = data.Count(SearchSplit.Validation);
        int batches = (count + _options.BatchSize - 1) / _options.BatchSize;
        if (_options.EpochValidationBatches is int limit) batches = Math.Min(batches, limit);
        if (batches == 0) return (double.NaN, double.NaN);
        supernet.eval();
        double lossSum = 0;
        long correct = 0, seen = 0;
        var indices = Enumerable.Range(0, count).ToArray();
        var unused = new Random(0);
        using (torch.no_grad())
        {
            for (int b = 0; b < batches; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                int start = b * _options.BatchSize, n = Math.Min(_options.BatchSize, count - start);
                var batch = data.GetBatch(SearchSplit.Validation, indices.AsSpan(start, n), augment: false, unused, device);
                var logits = supernet.forward(batch.Images);
                lossSum += nn.functional.cross_entropy(logits, batch.Labels).item<float>() * n;
                correct += logits.argmax(1).eq(batch.Labels).sum().item<long>();
                seen += n;
            }
        }
        supernet.train();
        return (lossSum / seen, (double)correct / seen);
    }

    internal static IReadOnlyList<double[][]> SnapshotArchitecture(IReadOnlyList<Parameter> architecture)
    {
        var result = new List<double[][]>(architecture.Count);
        foreach (var a in architecture)
        {
            using var cpu = a.detach().to(float64).cpu();
            var matrix = cpu.dim() == 1 ? cpu.unsqueeze(0) : cpu.reshape(cpu.shape[0], -1);
            using (matrix)
            {
                var values = matrix.data<double>().ToArray();
                int rows = (int)matrix.shape[0], cols = (int)matrix.shape[1];
                var rowsArray = new double[rows][];
                for (int r = 0; r < rows; r++) rowsArray[r] = values.AsSpan(r * cols, cols).ToArray();
                result.Add(rowsArray);
            }
        }
        return result;
    }

    internal static double MeanMaxWeight(IReadOnlyList<Parameter> architecture)
    {
        double sum = 0;
        long rows = 0;
        using var scope = torch.NewDisposeScope();
        foreach (var a in architecture)
        {
            if (a.dim() != 2) continue; // edge-normalisation vectors are not op mixtures
            var p = a.detach().to(float64).softmax(-1).max(-1).values;
            sum += p.sum().item<double>();
            rows += p.shape[0];
        }
        return rows == 0 ? double.NaN : sum / rows;
    }

    private static int[] NextValidationIndices(int[] order, ref int cursor, int batchSize)
    {
        int n = Math.Min(batchSize, order.Length);
        var indices = new int[n];
        for (int i = 0; i < n; i++)
        {
            indices[i] = order[cursor];
            cursor = (cursor + 1) % order.Length;
        }
        return indices;
    }

    private static int[] Permutation(int count, Random random)
    {
        var order = Enumerable.Range(0, count).ToArray();
        random.Shuffle(order);
        return order;
    }

    internal static int EpochSeed(int seed, int epoch, int stream) => unchecked(((seed * 1_000_003) + epoch) * 31 + stream);

    internal static Device ResolveDevice(string name)
    {
        if (name.StartsWith("cuda", StringComparison.Ordinal) && !torch.cuda.is_available())
            throw new ArgumentException($"Device '{name}' was requested but CUDA is not available on this machine (use 'cpu', or install a CUDA backend package such as TorchSharp-cuda-linux).");
        return torch.device(name);
    }
}
