using System.Diagnostics;
using System.Globalization;
using NasFlatness.Checkpoints;
using NasFlatness.Evaluation;
using NasFlatness.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NasFlatness.Genotypes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using NasFlatness.Advanced;

namespace NasFlatness.Search;

/// <summary>
/// The bilevel search loop: for every training minibatch, an architecture step on a validation minibatch with the composed
/// optimizer and regularizers (skipped during warm-up and when the <see cref="Schedule"/> declines), then a weight step (SGD,
/// cosine learning rate, clipping; SAM / ASAM when <see cref="SearchOptions.WeightSharpness"/> asks). α becomes mixing weights
/// through <see cref="Activation"/>, passed to every forward pass; the components and <see cref="Observers"/> see each step
/// through <see cref="ISearchObserver"/>; stateful components are checkpointed. docs/architecture.md traces one step.
/// </summary>
/// <example>
/// <code>
/// var runner = new SearchRunner(space, new DartsFirstOrder(), options: new SearchOptions { Epochs = 50 })
/// {
///     Schedule = new EveryKStepsSchedule(10),
///     Observers = [myObserver],
/// };
/// SearchResult result = runner.Run(data);
/// </code>
/// </example>
public sealed partial class SearchRunner
{
    private readonly ISearchSpace _space;
    private readonly IArchitectureOptimizer _optimizer;
    private readonly IReadOnlyList<IFlatnessRegularizer> _regularizers;
    private readonly SearchOptions _options;
    private readonly ILogger _logger;
    private readonly IArchitectureActivation _activation = SoftmaxActivation.Instance;
    private readonly IArchitectureUpdateSchedule _schedule = EveryStepSchedule.Instance;
    private readonly IReadOnlyList<ISearchObserver> _observers = [];

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
        if (_regularizers.Any(r => r is null)) throw new ArgumentException("A regularizer is null.", nameof(regularizers));
        _options = (options ?? new SearchOptions()).Clone();
        _options.ThrowIfInvalid();
        foreach (var r in _regularizers)
        {
            if (FirstOrderRule.Violation(r.Name, r.RequiresFirstOrderOptimizer, optimizer.Name, optimizer.IsFirstOrder) is { } violation)
                throw new ArgumentException(violation, nameof(regularizers));
        }
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The options of this runner (a copy; changing it has no effect).</summary>
    public SearchOptions Options => _options.Clone();

    /// <summary>The search space.</summary>
    public ISearchSpace SearchSpace => _space;

    /// <summary>The architecture optimizer.</summary>
    public IArchitectureOptimizer Optimizer => _optimizer;

    /// <summary>The flatness regularizers, in composition order.</summary>
    public IReadOnlyList<IFlatnessRegularizer> Regularizers => _regularizers;

    /// <summary>How α becomes mixing weights (set on the supernet for the whole search).</summary>
    /// <value>Default <see cref="SoftmaxActivation"/>.</value>
    public IArchitectureActivation Activation
    {
        get => _activation;
        init => _activation = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>On which steps after the warm-up α is updated.</summary>
    /// <value>Default <see cref="EveryStepSchedule"/>.</value>
    public IArchitectureUpdateSchedule Schedule
    {
        get => _schedule;
        init => _schedule = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Extra observers of the search's steps, called after the activation, schedule, optimizer and regularizers.</summary>
    /// <value>Default none.</value>
    public IReadOnlyList<ISearchObserver> Observers
    {
        get => _observers;
        init => _observers = value?.ToArray() ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// What the components refuse about each other (<see cref="ISearchCompositionCheck"/>), one message each; empty when they fit.
    /// <see cref="Run"/> refuses such a composition; call this first to refuse it before any data is read.
    /// </summary>
    public IReadOnlyList<string> CompositionProblems()
    {
        var participants = Participants();
        return [.. participants.OfType<ISearchCompositionCheck>().SelectMany(c => c.CheckComposition(participants))];
    }

    /// <summary>Runs the search on <paramref name="data"/> and returns the selected genotype with the per-epoch history.</summary>
    /// <param name="data">Search data (training split for the weights, validation split for α).</param>
    /// <param name="progress">Receives a report after every step and at the end of every epoch (before that epoch's checkpoint is written).</param>
    /// <param name="cancellationToken">Checked before every step; a cancelled search can resume from its last checkpoint.</param>
    /// <exception cref="ArgumentException">The data does not fit the search space, a split is empty, or a component refuses
    /// the composition (<see cref="ISearchCompositionCheck"/>).</exception>
    /// <exception cref="InvalidOperationException">The checkpoint folder holds a checkpoint written with other settings, data or
    /// supernet shape (every difference is named), or another run holds the folder (its pid, host and start time are named).</exception>
    /// <exception cref="InvalidDataException">The checkpoint in the folder is damaged (the file and the problem are named).</exception>
    /// <exception cref="IOException">The checkpoint folder cannot be created or written or lacks space (found before any compute), or a
    /// checkpoint could not be written (the message names the folder and the cause).</exception>
    /// <exception cref="SearchDivergedException">A training loss, weight-gradient norm or α became NaN or infinite, or an epoch ended with
    /// non-finite weights, BatchNorm statistics, training loss or validation metrics; the last good checkpoint is intact.</exception>
    /// <exception cref="OperationCanceledException">The search was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The runner was disposed.</exception>
    public SearchResult Run(ISearchDataset data, IProgress<SearchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var o = _options;
        _space.Validate(data.Info);
        if (_observers.Any(x => x is null)) throw new ArgumentException("An observer is null.");
        int trainCount = data.Count(SearchSplit.Train), validCount = data.Count(SearchSplit.Validation);
        if (trainCount == 0) throw new ArgumentException("The training split of the search data is empty.", nameof(data));
        if (validCount == 0) throw new ArgumentException("The validation split of the search data is empty.", nameof(data));
        var device = RunSupport.ResolveDevice(o.Device);
        var participants = Participants();
        var compositionProblems = CompositionProblems();
        if (compositionProblems.Count > 0) throw new ArgumentException("Invalid search composition: " + string.Join(" ", compositionProblems));
        var stateful = participants.OfType<IStatefulSearchComponent>().ToArray();
        var duplicate = stateful.GroupBy(s => s.StateName).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"Two stateful search components share the state name '{duplicate.Key}'; each needs its own.");
        cancellationToken.ThrowIfCancellationRequested();
        GenotypeFormats.Register(_space);
        // The folder is ours for the whole run, proven writable, and cleared of a killed run's temporary files — before any compute.
        using var folderLock = o.CheckpointDirectory is null ? null
            : CheckpointLock.Acquire(o.CheckpointDirectory, nameof(SearchOptions.CheckpointDirectory), message => Log.StaleLock(_logger, message));
        // A corrupt or foreign manifest is found before the supernet is built.
        var checkpoint = o.CheckpointDirectory is not null && o.ResumeFromCheckpoint ? SearchCheckpoint.TryLoad(o.CheckpointDirectory) : null;

        torch.manual_seed(o.Seed);
        if (device.type == DeviceType.CUDA) torch.cuda.manual_seed_all(o.Seed);
        using var supernet = _space.CreateSupernet(data.Info);
        supernet.to(device);
        if (device.type == DeviceType.CPU)
        {
            bool oneDnn = TorchRuntime.EnsureCorrectCpuKernels(supernet, [o.BatchSize, data.Info.Channels, data.Info.Height, data.Info.Width]);
            Log.CpuKernels(_logger, oneDnn ? "oneDNN (every convolution shape of the supernet verified)"
                : TorchRuntime.OneDnnFailure is { } why ? $"libtorch native ({why})" : "libtorch native");
        }
        var architecture = supernet.ArchitectureParameters();
        var weights = supernet.WeightParameters().ToArray();
        var shape = SupernetShape.Of(supernet);
        if (o.CheckpointDirectory is not null)
            CheckpointLock.RequireFreeSpace(o.CheckpointDirectory, shape.FreeSpaceNeeded(o.CheckpointDirectory), nameof(SearchOptions.CheckpointDirectory));
        using var weightOptimizer = torch.optim.SGD(weights, o.WeightLearningRate, o.WeightMomentum, 0.0, o.WeightDecay, false);
        // Adam covers the active architecture tensors; a supernet that activates more at an epoch start gets a new Adam then.
        using var architectureOptimizer = new ArchitectureOptimizerSlot(supernet, o);
        // SAM / ASAM over the weights only (α is not in the list); the supernet's buffers keep their pass-1 values.
        var sharpness = o.WeightSharpness == SharpnessAwareness.None ? null : new SharpnessAwareStep(weights, o.WeightSharpness, o.WeightSharpnessRho, supernet);

        var history = new List<EpochRecord>();
        var previous = TimeSpan.Zero;
        int startEpoch = 0;
        if (checkpoint is not null)
        {
            CheckCompatible(checkpoint, stateful, data, trainCount, validCount, shape);
            checkpoint.RequireArchitectureShapes(o.CheckpointDirectory!, architecture);
            checkpoint.Restore(o.CheckpointDirectory!, supernet, weightOptimizer, architectureOptimizer.Renew, stateful);
            history.AddRange(checkpoint.History);
            previous = TimeSpan.FromSeconds(checkpoint.DurationSeconds);
            startEpoch = checkpoint.CompletedEpochs;
            Log.Resuming(_logger, SearchCheckpoint.ManifestPath(o.CheckpointDirectory!), startEpoch);
        }

        int stepsPerEpoch = (trainCount + o.BatchSize - 1) / o.BatchSize;
        Log.SearchStarted(_logger, _space.Name, _optimizer.Name, string.Join(", ", _regularizers.Select(r => r.Name)), o.Epochs, stepsPerEpoch, device.ToString(), o.Seed);
        var clock = Stopwatch.StartNew();
        bool stoppedEarly = ShouldStopEarly(history);

        for (int epoch = startEpoch; epoch < o.Epochs && !stoppedEarly; epoch++)
        {
            double lr = o.WeightLearningRateAt(epoch);
            foreach (var group in weightOptimizer.ParamGroups) group.LearningRate = lr;
            bool pastWarmup = epoch >= o.WarmupEpochs;
            var epochStart = new EpochStart(SearchClock.At(epoch, o.Epochs, 0, stepsPerEpoch), lr, supernet, _activation)
            {
                WeightOptimizer = WeightOptimizerState.FromSgd(weightOptimizer, lr, o.WeightMomentum, o.WeightDecay),
            };
            supernet.OnEpochStarting(epochStart);
            if (architectureOptimizer.IsStale) architectureOptimizer.Renew();
            foreach (var p in participants) p.OnEpochStarting(epochStart);

            var order = Permutation(trainCount, new Random(RunSupport.EpochSeed(o.Seed, epoch, 0)));
            var validationOrder = Permutation(validCount, new Random(RunSupport.EpochSeed(o.Seed, epoch, 1)));
            var augmentRandom = new Random(RunSupport.EpochSeed(o.Seed, epoch, 2));
            int validationCursor = 0, architectureUpdates = 0;
            double lossSum = 0;
            long correct = 0, seen = 0;
            WeightStep? previousStep = null;
            var epochClock = Stopwatch.StartNew();
            supernet.train();

            for (int step = 0; step < stepsPerEpoch; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                int start = step * o.BatchSize, count = Math.Min(o.BatchSize, trainCount - start);
                var stepClock = SearchClock.At(epoch, o.Epochs, step, stepsPerEpoch);
                var train = data.GetBatch(SearchSplit.Train, order.AsSpan(start, count), o.Augment, augmentRandom, device);

                bool updateArchitecture = pastWarmup && _schedule.ShouldUpdate(new ScheduleContext(stepClock, previousStep));
                if (updateArchitecture)
                {
                    var validIndices = NextValidationIndices(validationOrder, ref validationCursor, o.BatchSize);
                    var validation = data.GetBatch(SearchSplit.Validation, validIndices, o.Augment, augmentRandom, device);
                    var state = WeightOptimizerState.FromSgd(weightOptimizer, lr, o.WeightMomentum, o.WeightDecay);
                    var before = Divergence.Snapshot(architecture); // α before the step, to tell who went first if it diverges
                    var context = ArchitectureStepper.Step(new ArchitectureStep(supernet, train, validation, state, _activation, stepClock),
                        _optimizer, _regularizers, architecture, architectureOptimizer.Current);
                    architectureUpdates++;
                    foreach (var p in participants) p.OnArchitectureStepped(context);
                    Divergence.RequireFiniteArchitecture(architecture, before, context);
                }

                weightOptimizer.zero_grad();
                var logits = supernet.ForwardFixedArchitecture(train.Images, _activation);
                var loss = nn.functional.cross_entropy(logits, train.Labels);
                double lossValue = loss.to(float32).item<float>();
                RequireFinite(lossValue, "training loss", epoch, step);
                loss.backward();
                if (sharpness is not null) SecondSharpnessPass(sharpness, supernet, _activation, weightOptimizer, train);
                double gradientNorm = nn.utils.clip_grad_norm_(weights, o.GradientClip);
                RequireFinite(gradientNorm, "weight-gradient norm (before clipping)", epoch, step);
                weightOptimizer.step();

                lossSum += lossValue * count;
                correct += logits.argmax(1).eq(train.Labels).sum().item<long>();
                seen += count;
                var weightStep = new WeightStep(supernet, train, stepClock, lr, lossValue, gradientNorm, updateArchitecture, _activation);
                foreach (var p in participants) p.OnWeightStep(weightStep);
                previousStep = weightStep with { Train = default }; // the batch's tensors end with this step's scope
                progress?.Report(new SearchProgress(epoch, o.Epochs, step + 1, stepsPerEpoch, lossSum / seen, previous + clock.Elapsed));
            }
            epochClock.Stop();

            var (validLoss, validAccuracy) = EvaluateSupernet(supernet, data, device, cancellationToken);
            // A non-finite epoch-end metric is divergence too: thrown before this epoch's checkpoint replaces the last good one.
            Divergence.Check(supernet, lossSum / seen, validLoss, validAccuracy, o.EpochValidationBatches != 0, epoch, stepsPerEpoch);
            var record = new EpochRecord
            {
                Epoch = epoch,
                Genotype = supernet.DeriveGenotype(_activation),
                Architecture = SnapshotArchitecture(architecture),
                MeanMaxWeight = MeanMaxWeight(supernet, _activation),
                WeightLearningRate = lr,
                TrainLoss = lossSum / seen,
                TrainAccuracy = (double)correct / seen,
                ValidationLoss = validLoss,
                ValidationAccuracy = validAccuracy,
                ArchitectureUpdated = architectureUpdates > 0,
                ArchitectureUpdates = architectureUpdates,
                Duration = epochClock.Elapsed,
                Steps = stepsPerEpoch,
            };
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var p in participants)
                if (p is IEpochMetricsProvider provider) provider.AddEpochMetrics(epoch, metrics);
            if (metrics.Count > 0) record = record with { Metrics = metrics };
            foreach (var p in participants) p.OnEpochCompleted(record);
            history.Add(record);
            Log.EpochCompleted(_logger, epoch, record.TrainLoss, record.TrainAccuracy, validLoss, validAccuracy, record.MeanMaxWeight, record.Duration.TotalSeconds, record.Genotype.ToString());
            stoppedEarly = ShouldStopEarly(history);
            if (stoppedEarly) Log.StoppedEarly(_logger, epoch, o.SelectionPatience);
            // The epoch's report comes first: a checkpoint that cannot be written must not cost the caller the epoch's result.
            progress?.Report(new SearchProgress(epoch, o.Epochs, stepsPerEpoch, stepsPerEpoch, record.TrainLoss, previous + clock.Elapsed, record));

            if (o.CheckpointDirectory is not null)
            {
                var manifest = new SearchCheckpoint
                {
                    Space = _space.Name,
                    Optimizer = _optimizer.Name,
                    Regularizers = _regularizers.Select(r => r.Name).ToArray(),
                    Activation = _activation.Name,
                    Schedule = _schedule.Name,
                    ComponentSettings = ComponentSettingsCheck.Of(participants),
                    Options = o,
                    CompletedEpochs = epoch + 1,
                    History = history.ToList(),
                    DurationSeconds = (previous + clock.Elapsed).TotalSeconds,
                    TrainImages = trainCount,
                    ValidationImages = validCount,
                    DataFingerprint = data.Fingerprint,
                    SupernetParameters = shape.Parameters,
                    SupernetTensors = shape.Tensors,
                    SupernetShape = shape.Digest,
                };
                manifest.Write(o.CheckpointDirectory, supernet, weightOptimizer, architectureOptimizer.Current, stateful);
                Log.CheckpointWritten(_logger, o.CheckpointDirectory, epoch + 1);
            }
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

    /// <summary>The activation, schedule, optimizer, regularizers and observers, each once, in the order hooks are called.</summary>
    private IReadOnlyList<ISearchObserver> Participants()
    {
        var list = new List<ISearchObserver>();
        void Add(ISearchObserver x)
        {
            if (!list.Any(y => ReferenceEquals(x, y))) list.Add(x);
        }
        Add(_activation);
        Add(_schedule);
        Add(_optimizer);
        foreach (var r in _regularizers) Add(r);
        foreach (var x in _observers) Add(x);
        return list;
    }

    /// <summary>
    /// The sharpness-aware part of a weight step, after pass 1's backward at w: move the weights to w + ε, take the gradient
    /// of the same batch's loss there, and restore the weights (bit-exact) and the buffers (pass 2's BatchNorm updates dropped).
    /// The weights' gradients are then g(w + ε), which the caller clips and steps.
    /// </summary>
    private static void SecondSharpnessPass(SharpnessAwareStep sharpness, Supernet supernet, IArchitectureActivation activation, optim.Optimizer weightOptimizer, Batch train)
    {
        sharpness.Perturb();
        try
        {
            weightOptimizer.zero_grad();
            nn.functional.cross_entropy(supernet.ForwardFixedArchitecture(train.Images, activation), train.Labels).backward();
        }
        finally
        {
            sharpness.Restore();
        }
    }
}
