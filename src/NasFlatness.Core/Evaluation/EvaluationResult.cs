namespace NasFlatness.Evaluation;

/// <summary>What one epoch of the final evaluation produced.</summary>
public sealed record EvaluationEpoch
{
    /// <summary>Zero-based epoch.</summary>
    public required int Epoch { get; init; }

    /// <summary>Learning rate of the epoch.</summary>
    public required double LearningRate { get; init; }

    /// <summary>Drop-path probability of the epoch.</summary>
    public required double DropPathProbability { get; init; }

    /// <summary>Mean cross-entropy of the main logits over the epoch's training batches (without the auxiliary term).</summary>
    public required double TrainLoss { get; init; }

    /// <summary>Top-1 training accuracy over the epoch (0..1, augmented images, dropping paths).</summary>
    public required double TrainAccuracy { get; init; }

    /// <summary>Test loss after the epoch, when measured (<see cref="EvaluationOptions.TestEveryEpoch"/> or the last epoch).</summary>
    public double? TestLoss { get; init; }

    /// <summary>Top-1 test accuracy after the epoch (0..1), when measured.</summary>
    public double? TestAccuracy { get; init; }

    /// <summary>Wall-clock time of the epoch's training.</summary>
    public required TimeSpan Duration { get; init; }
}

/// <summary>The outcome of a final evaluation: per-epoch history, test accuracy and loss, network size and duration.</summary>
public sealed record EvaluationResult
{
    /// <summary>Every epoch, in order (including epochs restored from a checkpoint).</summary>
    public required IReadOnlyList<EvaluationEpoch> Epochs { get; init; }

    /// <summary>Top-1 accuracy (0..1) of the final network on the test split.</summary>
    public required double TestAccuracy { get; init; }

    /// <summary>Mean cross-entropy of the final network on the test split.</summary>
    public required double TestLoss { get; init; }

    /// <summary>Trainable parameters of the network, auxiliary head included.</summary>
    public required long ParameterCount { get; init; }

    /// <summary>Trainable parameters without the auxiliary head (what the papers report).</summary>
    public required long ParameterCountWithoutAuxiliary { get; init; }

    /// <summary>Total training time (across resumed runs).</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>Device the network was trained on.</summary>
    public required string Device { get; init; }

    /// <summary>Seed of the run.</summary>
    public required int Seed { get; init; }
}

/// <summary>Progress of a final evaluation, reported after every training batch and at the end of every epoch.</summary>
/// <param name="Epoch">Zero-based epoch.</param>
/// <param name="TotalEpochs">Number of epochs.</param>
/// <param name="Step">Batches done in this epoch.</param>
/// <param name="StepsPerEpoch">Batches per epoch.</param>
/// <param name="TrainLoss">Running mean training loss of the epoch.</param>
/// <param name="Elapsed">Training time so far (across resumed runs).</param>
/// <param name="CompletedEpoch">The finished epoch's record at the end of an epoch; null otherwise.</param>
public sealed record EvaluationProgress(int Epoch, int TotalEpochs, int Step, int StepsPerEpoch, double TrainLoss, TimeSpan Elapsed, EvaluationEpoch? CompletedEpoch = null);
