using NasFlatness.Checkpoints;
using NasFlatness.Internal;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;
using NasFlatness.Advanced;

namespace NasFlatness.Evaluation;

/// <summary>
/// Trains a discrete network from scratch with the papers' final-evaluation recipe (docs/spec/algorithms.md §11):
/// SGD with momentum, cosine (or exponential) learning rate per epoch, weight decay, gradient clipping,
/// training augmentation from the dataset (crop, flip, cutout), drop-path probability ramped linearly
/// from 0 and an auxiliary loss when the network implements <see cref="IEvaluationNetwork"/>, optional label
/// smoothing, and optionally a sharpness-aware (SAM/ASAM) two-pass step (<see cref="EvaluationOptions.Sharpness"/>);
/// then tests it. Works for any space's network. Every step runs in its own dispose scope;
/// checkpoints are written per epoch and a resumed run equals an uninterrupted one, because data order,
/// augmentation and drop-path masks are seeded per epoch from <see cref="EvaluationOptions.Seed"/>.
/// </summary>
public sealed class EvaluationTrainer
{
    private readonly EvaluationOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a trainer; the options are validated here, before any compute is spent.</summary>
    /// <param name="options">The recipe; null uses the DARTS CIFAR-10 defaults.</param>
    /// <param name="logger">Logger; null logs nothing.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public EvaluationTrainer(EvaluationOptions? options = null, ILogger<EvaluationTrainer>? logger = null)
    {
        _options = (options ?? new EvaluationOptions()).Clone();
        _options.ThrowIfInvalid();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The options of this trainer (a copy).</summary>
    public EvaluationOptions Options => _options.Clone();

    /// <summary>
    /// Trains <paramref name="network"/> (moved to the options' device; its initial weights are the caller's,
    /// e.g. created after <c>torch.manual_seed</c>) on the training split of <paramref name="data"/> and tests it on the test split.
    /// </summary>
    /// <param name="network">The network; it must map <c>[B, C, H, W]</c> images of the dataset to <c>[B, classes]</c> logits.</param>
    /// <param name="data">Train and test images.</param>
    /// <param name="progress">Receives a report after every batch and at the end of every epoch.</param>
    /// <param name="cancellationToken">Checked before every batch; a cancelled run resumes from its last checkpoint.</param>
    /// <exception cref="ArgumentException">The data is empty or does not fit the network.</exception>
    /// <exception cref="InvalidOperationException">A checkpoint in the checkpoint folder was written with other options or another
    /// network (every difference is named), or another run holds the folder.</exception>
    /// <exception cref="InvalidDataException">The checkpoint in the folder is damaged (the file and the problem are named).</exception>
    /// <exception cref="IOException">The checkpoint folder cannot be created or written or lacks space (found before any compute).</exception>
    /// <exception cref="SearchDivergedException">The training loss or the gradient norm became NaN or infinite; the last checkpoint is intact.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public EvaluationResult Train(nn.Module<Tensor, Tensor> network, IClassificationDataset data, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        var o = _options;
        int trainCount = data.Count(EvaluationSplit.Train), testCount = data.Count(EvaluationSplit.Test);
        if (trainCount == 0) throw new ArgumentException("The training split of the evaluation data is empty.", nameof(data));
        if (testCount == 0) throw new ArgumentException("The test split of the evaluation data is empty.", nameof(data));
        var device = RunSupport.ResolveDevice(o.Device);
        using var folderLock = o.CheckpointDirectory is null ? null
            : CheckpointLock.Acquire(o.CheckpointDirectory, nameof(EvaluationOptions.CheckpointDirectory), message => Log.StaleLock(_logger, message));
        var checkpoint = o.CheckpointDirectory is not null && o.ResumeFromCheckpoint ? EvaluationCheckpoint.TryLoad(o.CheckpointDirectory) : null;
        network.to(device);
        CheckFits(network, data, device);
        TorchRuntime.EnsureCorrectCpuKernels(network, [o.BatchSize, data.Info.Channels, data.Info.Height, data.Info.Width]);
        cancellationToken.ThrowIfCancellationRequested();

        var evaluationNetwork = network as IEvaluationNetwork;
        long parameters = NetworkSize.CountParameters(network);
        long parametersWithoutAuxiliary = NetworkSize.CountParameters(network, excludeAuxiliary: true);
        var weights = network.parameters().Where(p => p.requires_grad).ToArray();
        using var optimizer = torch.optim.SGD(weights, o.LearningRate, o.Momentum, 0.0, o.WeightDecay, false);
        var sharpness = o.Sharpness == SharpnessAwareness.None ? null : new SharpnessAwareStep(weights, o.Sharpness, o.SharpnessRho, network);
        var shape = SupernetShape.Of(network);
        if (o.CheckpointDirectory is not null)
            CheckpointLock.RequireFreeSpace(o.CheckpointDirectory, shape.FreeSpaceNeeded(o.CheckpointDirectory), nameof(EvaluationOptions.CheckpointDirectory));

        var history = new List<EvaluationEpoch>();
        var previous = TimeSpan.Zero;
        int startEpoch = 0;
        if (checkpoint is not null)
        {
            CheckCompatible(checkpoint, parameters, shape, trainCount);
            checkpoint.Restore(o.CheckpointDirectory!, network, optimizer);
            history.AddRange(checkpoint.History);
            previous = TimeSpan.FromSeconds(checkpoint.DurationSeconds);
            startEpoch = checkpoint.CompletedEpochs;
            Log.Resuming(_logger, EvaluationCheckpoint.ManifestPath(o.CheckpointDirectory!), startEpoch);
        }

        int stepsPerEpoch = (trainCount + o.BatchSize - 1) / o.BatchSize;
        Log.Started(_logger, parameters, parametersWithoutAuxiliary, o.Epochs, stepsPerEpoch, device.ToString(), o.Seed);
        var clock = Stopwatch.StartNew();
        bool useAuxiliary = evaluationNetwork is { HasAuxiliaryHead: true } && o.AuxiliaryWeight > 0;
        double testLoss = double.NaN, testAccuracy = double.NaN;

        for (int epoch = startEpoch; epoch < o.Epochs; epoch++)
        {
            double lr = o.LearningRateAt(epoch);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            double dropPath = o.DropPathAt(epoch);
            if (evaluationNetwork is not null) evaluationNetwork.DropPathProbability = dropPath;
            torch.manual_seed(RunSupport.EpochSeed(o.Seed, epoch, 3));
            if (device.type == DeviceType.CUDA) torch.cuda.manual_seed_all(RunSupport.EpochSeed(o.Seed, epoch, 3));
            var order = Enumerable.Range(0, trainCount).ToArray();
            new Random(RunSupport.EpochSeed(o.Seed, epoch, 0)).Shuffle(order);
            var augmentRandom = new Random(RunSupport.EpochSeed(o.Seed, epoch, 2));
            double lossSum = 0;
            long correct = 0, seen = 0;
            var epochClock = Stopwatch.StartNew();
            network.train();

            for (int step = 0; step < stepsPerEpoch; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                int start = step * o.BatchSize, count = Math.Min(o.BatchSize, trainCount - start);
                var batch = data.GetBatch(EvaluationSplit.Train, order.AsSpan(start, count), o.Augment, augmentRandom, device);
                optimizer.zero_grad();
                var (logits, loss, mainLoss) = TrainingLoss(network, evaluationNetwork, useAuxiliary, batch);
                loss.backward();
                if (sharpness is not null)
                {
                    // Second pass at w + ε on the same batch; the optimizer steps with that gradient from the restored w.
                    // Statistics (loss, accuracy) stay those of pass 1, at w. Clipping applies to the gradient that is used.
                    sharpness.Perturb();
                    try
                    {
                        optimizer.zero_grad();
                        TrainingLoss(network, evaluationNetwork, useAuxiliary, batch).Loss.backward();
                    }
                    finally
                    {
                        sharpness.Restore();
                    }
                }
                double lossValue = mainLoss.item<float>();
                if (!double.IsFinite(lossValue)) throw Diverged("training loss", lossValue, epoch, step);
                double gradientNorm = nn.utils.clip_grad_norm_(weights, o.GradientClip);
                if (!double.IsFinite(gradientNorm)) throw Diverged("weight-gradient norm (before clipping)", gradientNorm, epoch, step);
                optimizer.step();

                lossSum += lossValue * count;
                correct += logits.argmax(1).eq(batch.Labels).sum().item<long>();
                seen += count;
                progress?.Report(new EvaluationProgress(epoch, o.Epochs, step + 1, stepsPerEpoch, lossSum / seen, previous + clock.Elapsed));
            }
            epochClock.Stop();

            double? epochTestLoss = null, epochTestAccuracy = null;
            if (o.TestEveryEpoch || epoch == o.Epochs - 1)
            {
                (testLoss, testAccuracy) = Evaluate(network, data, device, cancellationToken);
                epochTestLoss = testLoss;
                epochTestAccuracy = testAccuracy;
            }
            var record = new EvaluationEpoch
            {
                Epoch = epoch,
                LearningRate = lr,
                DropPathProbability = dropPath,
                TrainLoss = lossSum / seen,
                TrainAccuracy = (double)correct / seen,
                TestLoss = epochTestLoss,
                TestAccuracy = epochTestAccuracy,
                Duration = epochClock.Elapsed,
            };
            history.Add(record);
            Log.EpochCompleted(_logger, epoch, lr, dropPath, record.TrainLoss, record.TrainAccuracy,
                epochTestAccuracy is double a ? a.ToString("P2", CultureInfo.InvariantCulture) : "-", record.Duration.TotalSeconds);

            if (o.CheckpointDirectory is not null)
            {
                new EvaluationCheckpoint
                {
                    Options = o,
                    CompletedEpochs = epoch + 1,
                    History = history.ToList(),
                    ParameterCount = parameters,
                    ParameterTensors = shape.Tensors,
                    NetworkShape = shape.Digest,
                    TrainImages = trainCount,
                    DurationSeconds = (previous + clock.Elapsed).TotalSeconds,
                }.Write(o.CheckpointDirectory, network, optimizer);
                Log.CheckpointWritten(_logger, o.CheckpointDirectory, epoch + 1);
            }
            progress?.Report(new EvaluationProgress(epoch, o.Epochs, stepsPerEpoch, stepsPerEpoch, record.TrainLoss, previous + clock.Elapsed, record));
        }

        if (double.IsNaN(testAccuracy))
        {
            // Everything was restored from a checkpoint of a finished run: take its last test numbers, or measure.
            if (history.Count > 0 && history[^1].TestAccuracy is double acc && history[^1].TestLoss is double l) (testLoss, testAccuracy) = (l, acc);
            else (testLoss, testAccuracy) = Evaluate(network, data, device, cancellationToken);
        }
        var result = new EvaluationResult
        {
            Epochs = history,
            TestAccuracy = testAccuracy,
            TestLoss = testLoss,
            ParameterCount = parameters,
            ParameterCountWithoutAuxiliary = parametersWithoutAuxiliary,
            Duration = history.Aggregate(TimeSpan.Zero, (sum, e) => sum + e.Duration),
            Device = device.ToString(),
            Seed = o.Seed,
        };
        Log.Finished(_logger, testAccuracy, testLoss, result.Duration.TotalSeconds);
        return result;
    }

    /// <summary>Top-1 accuracy (0..1) and mean cross-entropy of <paramref name="network"/> on the test split (eval mode, no augmentation).</summary>
    public (double Loss, double Accuracy) Evaluate(nn.Module<Tensor, Tensor> network, IClassificationDataset data, Device device, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        int count = data.Count(EvaluationSplit.Test);
        if (count == 0) throw new ArgumentException("The test split of the evaluation data is empty.", nameof(data));
        bool wasTraining = network.training;
        network.eval();
        double lossSum = 0;
        long correct = 0;
        var indices = Enumerable.Range(0, count).ToArray();
        var unused = new Random(0);
        try
        {
            using var noGrad = torch.no_grad();
            for (int start = 0; start < count; start += _options.TestBatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                int n = Math.Min(_options.TestBatchSize, count - start);
                var batch = data.GetBatch(EvaluationSplit.Test, indices.AsSpan(start, n), augment: false, unused, device);
                var logits = network.forward(batch.Images);
                lossSum += nn.functional.cross_entropy(logits, batch.Labels).item<float>() * n;
                correct += logits.argmax(1).eq(batch.Labels).sum().item<long>();
            }
        }
        finally
        {
            network.train(wasTraining);
        }
        return (lossSum / count, (double)correct / count);
    }

    /// <summary>The training loss of one batch (with the auxiliary term when used), its logits and the main-head loss.</summary>
    private (Tensor Logits, Tensor Loss, Tensor MainLoss) TrainingLoss(nn.Module<Tensor, Tensor> network, IEvaluationNetwork? evaluationNetwork, bool useAuxiliary, Batch batch)
    {
        if (useAuxiliary)
        {
            var (main, aux) = evaluationNetwork!.ForwardWithAuxiliary(batch.Images);
            var mainLoss = CrossEntropy(main, batch.Labels);
            return (main, aux is null ? mainLoss : mainLoss + CrossEntropy(aux, batch.Labels) * _options.AuxiliaryWeight, mainLoss);
        }
        var logits = network.forward(batch.Images);
        var loss = CrossEntropy(logits, batch.Labels);
        return (logits, loss, loss);
    }

    private Tensor CrossEntropy(Tensor logits, Tensor labels) =>
        nn.functional.cross_entropy(logits, labels, label_smoothing: _options.LabelSmoothing);

    /// <summary>
    /// Runs two examples through the network before any training: in eval mode, and in training mode with the
    /// auxiliary head when there is one (BatchNorm statistics are restored afterwards), so a dataset that does not
    /// fit gets a clear error naming the shapes instead of a native exception mid-training.
    /// </summary>
    private static void CheckFits(nn.Module<Tensor, Tensor> network, IClassificationDataset data, Device device)
    {
        var info = data.Info;
        bool wasTraining = network.training;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        int count = data.Count(EvaluationSplit.Test);
        var batch = data.GetBatch(EvaluationSplit.Test, [0, Math.Min(1, count - 1)], augment: false, new Random(0), device);
        var buffers = network.buffers().Select(b => (Buffer: b, Saved: b.clone())).ToArray();
        try
        {
            network.eval();
            var logits = Run(() => network.forward(batch.Images));
            if (logits.dim() != 2 || logits.shape[1] != info.ClassCount)
                throw new ArgumentException(
                    $"The network maps the dataset's images ({info}) to logits of shape [{string.Join(", ", logits.shape)}], but the dataset has {info.ClassCount} classes (expected [2, {info.ClassCount}]).",
                    nameof(data));
            if (network is IEvaluationNetwork { HasAuxiliaryHead: true } withAuxiliary)
            {
                network.train();
                var (_, aux) = Run(() => withAuxiliary.ForwardWithAuxiliary(batch.Images));
                if (aux is not null && (aux.dim() != 2 || aux.shape[1] != info.ClassCount))
                    throw new ArgumentException(
                        $"The network's auxiliary head maps the dataset's images ({info}) to logits of shape [{string.Join(", ", aux.shape)}], but the dataset has {info.ClassCount} classes.",
                        nameof(data));
            }
        }
        finally
        {
            foreach (var (buffer, saved) in buffers) buffer.copy_(saved);
            network.train(wasTraining);
        }

        T Run<T>(Func<T> forward)
        {
            try
            {
                return forward();
            }
            catch (Exception ex) when (ex is System.Runtime.InteropServices.ExternalException or ArgumentException or InvalidOperationException)
            {
                throw new ArgumentException(
                    $"The network cannot process the dataset's images ({info}, batch shape [{string.Join(", ", batch.Images.shape)}]): {FirstLine(ex.Message)}", nameof(data), ex);
            }
        }
    }

    private static string FirstLine(string message)
    {
        int newline = message.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? message : message[..newline];
    }

    private static SearchDivergedException Diverged(string quantity, double value, int epoch, int step) =>
        new(quantity, value, epoch, step, $"Lower {nameof(EvaluationOptions.LearningRate)} and start over.", nameof(EvaluationOptions.LearningRate));

    /// <summary>Refuses a checkpoint written with other settings, naming every difference (every option but where the checkpoint lives).</summary>
    private void CheckCompatible(EvaluationCheckpoint checkpoint, long parameters, SupernetShape shape, int trainCount)
    {
        var o = _options;
        var differences = new List<CheckpointDifference>();
        void Require(bool same, string what, object? saved, object? now)
        {
            if (!same) differences.Add(new(what, string.Create(CultureInfo.InvariantCulture, $"{saved ?? "null"}"), string.Create(CultureInfo.InvariantCulture, $"{now ?? "null"}")));
        }
        Require(checkpoint.ParameterCount == parameters, "a network of parameter count", checkpoint.ParameterCount, parameters);
        if (checkpoint.ParameterTensors is int tensors && checkpoint.NetworkShape is { } digest && checkpoint.ParameterCount == parameters)
            Require(tensors == shape.Tensors && digest == shape.Digest, "a network of parameter tensors", tensors, $"{shape.Tensors} of other shapes");
        if (checkpoint.TrainImages is int images) Require(images == trainCount, "training images", images, trainCount);
        foreach (var property in typeof(EvaluationOptions).GetProperties())
        {
            if (property.Name is nameof(EvaluationOptions.CheckpointDirectory) or nameof(EvaluationOptions.ResumeFromCheckpoint)) continue;
            object? saved = property.GetValue(checkpoint.Options), now = property.GetValue(o);
            Require(Equals(saved, now), property.Name, saved, now);
        }
        if (differences.Count > 0)
            throw new CheckpointMismatchException(o.CheckpointDirectory!, differences,
                $"The evaluation checkpoint in '{o.CheckpointDirectory}' was written with {string.Join("; ", differences.Select(d => $"{d.Setting} = {d.Saved}, but this run uses {d.Now}"))}. Use another {nameof(EvaluationOptions.CheckpointDirectory)}, or set {nameof(EvaluationOptions.ResumeFromCheckpoint)} = false to start over.");
    }
}
