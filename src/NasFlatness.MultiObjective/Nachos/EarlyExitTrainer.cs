using System.Diagnostics;
using NasFlatness.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using NasFlatness.Advanced;

namespace NasFlatness.MultiObjective.Nachos;

/// <summary>
/// Trains an <see cref="IEarlyExitNetwork"/> the NACHOS way (EarlyExits <c>binary_bernulli_trainer</c>, docs/spec/secondary-methods.md §5.2).
/// <list type="number">
/// <item>Backbone phase: the backbone and the final head with plain cross-entropy (SGD, cosine learning rate).</item>
/// <item>Exit phase: the backbone is frozen (evaluation mode, features under <c>no_grad</c>) and the exit classifiers are trained
/// with w<sub>α</sub>·Σ<sub>i</sub> mean(w<sub>i</sub>·CE<sub>i</sub>) + β·class-balanced BCE prior + w<sub>β</sub>·MAC term
/// (+ w<sub>γ</sub>·support term from the warm-up's end on, with a class-balanced support split redrawn every epoch and left out of training).</item>
/// </list>
/// Every step runs in its own dispose scope. Data order, augmentation, support splits and torch's generator are seeded per epoch, and
/// a checkpoint (weights, optimizer state, history) is written after every epoch, so a resumed run equals an uninterrupted one bit for bit.
/// </summary>
public sealed partial class EarlyExitTrainer
{
    private readonly EarlyExitTrainingOptions _options;

    /// <summary>Creates the trainer; the options are validated here.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public EarlyExitTrainer(EarlyExitTrainingOptions? options = null)
    {
        _options = (options ?? new EarlyExitTrainingOptions()).Clone();
        var errors = _options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid early-exit training options: " + string.Join(" ", errors), nameof(options));
    }

    /// <summary>The options (a copy).</summary>
    public EarlyExitTrainingOptions Options => _options.Clone();

    /// <summary>Trains <paramref name="network"/> on the training split of <paramref name="data"/>; the network is left in evaluation mode.</summary>
    /// <param name="network">The network (moved to the options' device); its initial weights are the caller's.</param>
    /// <param name="exitCosts">Cumulative cost of each exit in MACs (e.g. <see cref="EarlyExitCosts.Measure"/>), used by the MAC term.</param>
    /// <param name="data">Training images (the test split is not used).</param>
    /// <param name="progress">Told after every batch and every epoch.</param>
    /// <param name="cancellationToken">Checked before every batch; a cancelled run resumes from its last checkpoint.</param>
    /// <exception cref="ArgumentException">The costs do not match the exits, or the data is empty or has other classes.</exception>
    /// <exception cref="InvalidOperationException">A checkpoint in the folder was written by another run.</exception>
    public EarlyExitTrainingResult Train<TNetwork>(TNetwork network, IReadOnlyList<double> exitCosts, IClassificationDataset data,
        IProgress<EarlyExitProgress>? progress = null, CancellationToken cancellationToken = default)
        where TNetwork : nn.Module, IEarlyExitNetwork
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(exitCosts);
        ArgumentNullException.ThrowIfNull(data);
        var o = _options;
        int exits = network.ExitCount;
        if (exitCosts.Count != exits) throw new ArgumentException($"The network has {exits} exits but {exitCosts.Count} exit costs were given.", nameof(exitCosts));
        if (data.Info.ClassCount != network.ClassCount)
            throw new ArgumentException($"The data has {data.Info.ClassCount} classes but the network {network.ClassCount}.", nameof(data));
        int trainCount = data.Count(EvaluationSplit.Train);
        if (trainCount == 0) throw new ArgumentException("The training split is empty.", nameof(data));
        var device = RunSupport.ResolveDevice(o.Device);
        network.to(device);
        TorchRuntime.EnsureCorrectCpuKernels(network);
        cancellationToken.ThrowIfCancellationRequested();

        long parameters = network.parameters().Sum(p => p.numel());
        var history = new List<EarlyExitEpoch>();
        double[]? centroids = null;
        var previous = TimeSpan.Zero;
        int startEpoch = 0;
        EarlyExitCheckpoint? checkpoint = null;
        if (o.CheckpointDirectory is not null && o.ResumeFromCheckpoint && EarlyExitCheckpoint.TryLoad(o.CheckpointDirectory) is { } saved)
        {
            CheckCompatible(saved, parameters, exits);
            saved.RestoreNetwork(o.CheckpointDirectory, network);
            history.AddRange(saved.History);
            centroids = saved.SupportCentroids?.ToArray();
            previous = TimeSpan.FromSeconds(saved.DurationSeconds);
            startEpoch = saved.CompletedEpochs;
            checkpoint = saved;
        }

        int[]? labels = null;
        OptimizerHelper? optimizer = null;
        bool optimizerForBackbone = false;
        var clock = Stopwatch.StartNew();
        try
        {
            for (int epoch = startEpoch; epoch < o.TotalEpochs; epoch++)
            {
                bool backbonePhase = epoch < o.BackboneEpochs;
                if (optimizer is null || optimizerForBackbone != backbonePhase)
                {
                    optimizer?.Dispose();
                    optimizer = CreateOptimizer(network, backbonePhase);
                    optimizerForBackbone = backbonePhase;
                    if (checkpoint is not null && epoch == startEpoch && (checkpoint.CompletedEpochs - 1 < o.BackboneEpochs) == backbonePhase)
                        checkpoint.RestoreOptimizer(o.CheckpointDirectory!, optimizer);
                }
                int exitEpoch = epoch - o.BackboneEpochs;
                bool support = !backbonePhase && exitEpoch >= o.WarmupEpochs && o.SupportWeight > 0;
                double lr = backbonePhase
                    ? o.LearningRate * (1 + Math.Cos(Math.PI * epoch / o.BackboneEpochs)) / 2
                    : o.LearningRate;
                foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                torch.manual_seed(RunSupport.EpochSeed(o.Seed, epoch, 3));
                if (device.type == DeviceType.CUDA) torch.cuda.manual_seed_all(RunSupport.EpochSeed(o.Seed, epoch, 3));

                int[] order;
                Tensor? centroidTensor = null;
                if (support)
                {
                    labels ??= TrainLabels(data, device, o.TestBatchSize);
                    var (supportSet, rest) = BalancedSplit(labels, network.ClassCount, o.SupportFraction, new Random(RunSupport.EpochSeed(o.Seed, epoch, 5)));
                    centroids = Centroids(network, data, supportSet, device, cancellationToken);
                    centroidTensor = torch.tensor(centroids, [network.ClassCount, exits], dtype: ScalarType.Float32, device: device);
                    order = rest;
                }
                else
                {
                    order = Enumerable.Range(0, trainCount).ToArray();
                }
                new Random(RunSupport.EpochSeed(o.Seed, epoch, 0)).Shuffle(order);
                var augmentRandom = new Random(RunSupport.EpochSeed(o.Seed, epoch, 2));
                network.SetModes(backbonePhase, true); // the exit phase freezes the backbone (evaluation mode)
                var record = RunEpoch(data, optimizer, order, augmentRandom, device, epoch, lr, backbonePhase,
                    backbonePhase ? batch => BackboneLoss(network, batch) : batch => ExitLoss(network, batch, exitCosts, centroidTensor),
                    progress, cancellationToken);
                centroidTensor?.Dispose();
                history.Add(record);

                if (o.CheckpointDirectory is not null)
                {
                    new EarlyExitCheckpoint
                    {
                        Options = o,
                        CompletedEpochs = epoch + 1,
                        History = [.. history],
                        ParameterCount = parameters,
                        ExitCount = exits,
                        SupportCentroids = centroids?.ToList(),
                        DurationSeconds = (previous + clock.Elapsed).TotalSeconds,
                    }.Write(o.CheckpointDirectory, network, optimizer);
                }
                progress?.Report(new EarlyExitProgress(epoch, o.TotalEpochs, 1, 1, record.Loss, record));
            }
        }
        finally
        {
            optimizer?.Dispose();
        }
        network.SetModes(false, false);
        return new EarlyExitTrainingResult
        {
            Epochs = history,
            SupportCentroids = centroids,
            Duration = history.Aggregate(TimeSpan.Zero, (sum, e) => sum + e.Duration),
        };
    }

    private OptimizerHelper CreateOptimizer(IEarlyExitNetwork network, bool backbonePhase)
    {
        var o = _options;
        int last = network.ExitCount - 1;
        IEnumerable<TorchSharp.Modules.Parameter> parameters = backbonePhase
            ? network.BackboneParameters().Concat(network.ExitParameters(last))
            : Enumerable.Range(0, o.TrainFinalHeadInExitPhase ? last + 1 : last).SelectMany(network.ExitParameters);
        var list = parameters.Where(p => p.requires_grad).ToList();
        if (list.Count == 0)
        {
            // A network with only its final exit and the head frozen has nothing to train in the exit phase: a dummy keeps the loop uniform.
            list.Add(new TorchSharp.Modules.Parameter(torch.zeros(1)));
        }
        return torch.optim.SGD(list, o.LearningRate, o.Momentum, 0.0, o.WeightDecay, false);
    }

    /// <summary>The losses of one batch: the total (backpropagated when it needs a gradient), its classification part, the final
    /// exit's logits (for the training accuracy), and the values of the optional terms.</summary>
    private readonly record struct BatchLoss(Tensor Loss, Tensor Classification, Tensor FinalLogits, double Prior = 0, double Mac = 0, double Support = 0);

    /// <summary>One epoch of either phase over <paramref name="order"/>: every batch in its own dispose scope, zero_grad, the
    /// phase's loss, backward, step, and the epoch's means.</summary>
    private EarlyExitEpoch RunEpoch(IClassificationDataset data, OptimizerHelper optimizer, int[] order, Random augmentRandom, Device device,
        int epoch, double lr, bool backbonePhase, Func<Batch, BatchLoss> lossOf, IProgress<EarlyExitProgress>? progress, CancellationToken cancellationToken)
    {
        var o = _options;
        var clock = Stopwatch.StartNew();
        int steps = (order.Length + o.BatchSize - 1) / o.BatchSize;
        double lossSum = 0, clsSum = 0, priorSum = 0, macSum = 0, supportSum = 0;
        long correct = 0;
        int seen = 0;
        for (int step = 0; step < steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            int start = step * o.BatchSize, count = Math.Min(o.BatchSize, order.Length - start);
            var batch = data.GetBatch(EvaluationSplit.Train, order.AsSpan(start, count), o.Augment, augmentRandom, device);
            optimizer.zero_grad();
            var b = lossOf(batch);
            if (b.Loss.requires_grad) b.Loss.backward();
            optimizer.step();
            lossSum += b.Loss.ToDouble() * count;
            clsSum += b.Classification.ToDouble() * count;
            priorSum += b.Prior * count;
            macSum += b.Mac * count;
            supportSum += b.Support * count;
            correct += b.FinalLogits.argmax(1).eq(batch.Labels).sum().ToInt64();
            seen += count;
            progress?.Report(new EarlyExitProgress(epoch, o.TotalEpochs, step + 1, steps, lossSum / seen));
        }
        return new EarlyExitEpoch
        {
            Epoch = epoch,
            BackbonePhase = backbonePhase,
            LearningRate = lr,
            Loss = lossSum / seen,
            ClassificationLoss = clsSum / seen,
            PriorLoss = priorSum / seen,
            MacLoss = macSum / seen,
            SupportLoss = supportSum / seen,
            FinalExitTrainAccuracy = (double)correct / seen,
            TrainExamples = seen,
            Duration = clock.Elapsed,
        };
    }

    /// <summary>Backbone phase: the backbone and the final head with plain cross-entropy.</summary>
    private static BatchLoss BackboneLoss(IEarlyExitNetwork network, Batch batch)
    {
        var logits = network.ForwardFinal(batch.Images);
        var loss = nn.functional.cross_entropy(logits, batch.Labels);
        return new BatchLoss(loss, loss, logits);
    }

    /// <summary>Exit phase: features of the frozen backbone, then the exits' weighted classification loss and the optional terms.</summary>
    private BatchLoss ExitLoss(IEarlyExitNetwork network, Batch batch, IReadOnlyList<double> exitCosts, Tensor? centroids)
    {
        var o = _options;
        int exits = network.ExitCount, last = exits - 1;
        IReadOnlyList<Tensor> features;
        using (torch.no_grad()) features = network.ForwardFeatures(batch.Images);
        var logits = new Tensor[exits];
        var confidences = new Tensor[exits];
        for (int i = 0; i < exits; i++)
        {
            ExitOutput output;
            if (i == last && !o.TrainFinalHeadInExitPhase)
            {
                using var noGrad = torch.no_grad();
                output = network.ForwardExit(i, features[i]);
            }
            else
            {
                output = network.ForwardExit(i, features[i]);
            }
            logits[i] = output.Logits;
            confidences[i] = output.Confidence;
        }
        var c = torch.stack(confidences, 1);
        var w = EarlyExitLosses.ExitWeights(c);
        var cls = EarlyExitLosses.ClassificationLoss(logits, batch.Labels, w);
        var loss = cls * o.ClassificationWeight;
        double prior = 0, mac = 0, sup = 0;
        if (o.PriorWeight > 0 && exits > 1)
        {
            var p = EarlyExitLosses.PriorLoss(c, logits, batch.Labels);
            loss = loss + p * o.PriorWeight;
            prior = p.ToDouble();
        }
        if (o.MacLimit is not null && o.MacWeight > 0)
        {
            var m = EarlyExitLosses.MacPenalty(w, exitCosts, o.MacLimit.Value, o.CodeCompatibleMacTerm);
            loss = loss + m * o.MacWeight;
            mac = m.ToDouble();
        }
        if (centroids is not null)
        {
            var s = EarlyExitLosses.SupportLoss(c, batch.Labels, centroids);
            loss = loss + s * o.SupportWeight;
            sup = s.ToDouble();
        }
        return new BatchLoss(loss, cls, logits[last], prior, mac, sup);
    }

    private void CheckCompatible(EarlyExitCheckpoint checkpoint, long parameters, int exits)
    {
        var o = _options;
        void Require(bool same, string what, object saved, object now)
        {
            if (!same)
                throw new InvalidOperationException(
                    $"The early-exit checkpoint in '{o.CheckpointDirectory}' was written with {what} = {saved}, but this run uses {now}; use another {nameof(EarlyExitTrainingOptions.CheckpointDirectory)} or set {nameof(EarlyExitTrainingOptions.ResumeFromCheckpoint)} = false.");
        }
        Require(checkpoint.ParameterCount == parameters, "a network of parameter count", checkpoint.ParameterCount, parameters);
        Require(checkpoint.ExitCount == exits, "exit count", checkpoint.ExitCount, exits);
        Require(checkpoint.Options.Seed == o.Seed, nameof(EarlyExitTrainingOptions.Seed), checkpoint.Options.Seed, o.Seed);
        Require(checkpoint.Options.BatchSize == o.BatchSize, nameof(EarlyExitTrainingOptions.BatchSize), checkpoint.Options.BatchSize, o.BatchSize);
        Require(checkpoint.Options.BackboneEpochs == o.BackboneEpochs, nameof(EarlyExitTrainingOptions.BackboneEpochs), checkpoint.Options.BackboneEpochs, o.BackboneEpochs);
        Require(checkpoint.Options.WarmupEpochs == o.WarmupEpochs, nameof(EarlyExitTrainingOptions.WarmupEpochs), checkpoint.Options.WarmupEpochs, o.WarmupEpochs);
        Require(checkpoint.Options.ExitEpochs == o.ExitEpochs, nameof(EarlyExitTrainingOptions.ExitEpochs), checkpoint.Options.ExitEpochs, o.ExitEpochs);
    }
}
