namespace NasFlatness.MultiObjective.Nachos;

/// <summary>What the support-set centroids are made of.</summary>
public enum SupportCentroid
{
    /// <summary>The mean confidence vector of each class's support samples (default; docs/nachos.md).</summary>
    Confidence,

    /// <summary>Each exit's accuracy on each class's support samples (the official code's variant; docs/nachos.md).</summary>
    ExitAccuracy,
}

/// <summary>
/// Options of <see cref="EarlyExitTrainer"/>. Defaults follow the NACHOS code (EarlyExits <c>ee_train.py</c> and
/// <c>binary_bernulli_trainer</c>): backbone 5 epochs of SGD (lr 0.01 cosine, momentum 0.9, weight decay 5e-5, plain CE), then
/// 5 warm-up + 5 support epochs of the exit classifiers over the frozen backbone at a constant lr 0.01, with w<sub>α</sub> = β =
/// w<sub>β</sub> = w<sub>γ</sub> = 1 and a 10 % class-balanced support set.
/// </summary>
public sealed class EarlyExitTrainingOptions
{
    /// <summary>Epochs of the backbone phase (backbone and final head, plain cross-entropy).</summary>
    /// <value>Default 5.</value>
    public int BackboneEpochs { get; set; } = 5;

    /// <summary>Exit-phase epochs before the support term starts.</summary>
    /// <value>Default 5.</value>
    public int WarmupEpochs { get; set; } = 5;

    /// <summary>Exit-phase epochs with the support term (after the warm-up).</summary>
    /// <value>Default 5.</value>
    public int ExitEpochs { get; set; } = 5;

    /// <summary>Training minibatch size.</summary>
    /// <value>Default 128.</value>
    public int BatchSize { get; set; } = 128;

    /// <summary>Evaluation minibatch size (support centroids, test accuracy).</summary>
    /// <value>Default 256.</value>
    public int TestBatchSize { get; set; } = 256;

    /// <summary>SGD learning rate of both phases (cosine-annealed to 0 over the backbone phase, constant in the exit phase).</summary>
    /// <value>Default 0.01.</value>
    public double LearningRate { get; set; } = 0.01;

    /// <summary>SGD momentum.</summary>
    /// <value>Default 0.9.</value>
    public double Momentum { get; set; } = 0.9;

    /// <summary>SGD weight decay.</summary>
    /// <value>Default 5e-5.</value>
    public double WeightDecay { get; set; } = 5e-5;

    /// <summary>Weight w<sub>α</sub> of the confidence-weighted classification loss.</summary>
    /// <value>Default 1.</value>
    public double ClassificationWeight { get; set; } = 1;

    /// <summary>Weight β of the class-balanced BCE prior on the confidences; 0 turns it off.</summary>
    /// <value>Default 1.</value>
    public double PriorWeight { get; set; } = 1;

    /// <summary>Weight w<sub>β</sub> of the MAC regulariser (used when <see cref="MacLimit"/> is set); 0 turns it off.</summary>
    /// <value>Default 1.</value>
    public double MacWeight { get; set; } = 1;

    /// <summary>m<sub>max</sub> of the MAC regulariser, in MACs per example; null turns the term off.</summary>
    /// <value>Default null.</value>
    public double? MacLimit { get; set; }

    /// <summary>
    /// True computes the MAC term from a detached number, so it has no gradient and no effect on training (the official
    /// code's version; docs/nachos.md); false keeps it differentiable in the confidences.
    /// </summary>
    /// <value>Default false.</value>
    public bool CodeCompatibleMacTerm { get; set; }

    /// <summary>Weight w<sub>γ</sub> of the support term (from epoch <see cref="WarmupEpochs"/> of the exit phase on); 0 turns it and the support split off.</summary>
    /// <value>Default 1.</value>
    public double SupportWeight { get; set; } = 1;

    /// <summary>Fraction of the training images split off, class-balanced and redrawn every support epoch, as the support set.</summary>
    /// <value>Default 0.1.</value>
    public double SupportFraction { get; set; } = 0.1;

    /// <summary>What the per-class centroids hold.</summary>
    /// <value>Default <see cref="SupportCentroid.Confidence"/>.</value>
    public SupportCentroid SupportCentroid { get; set; } = SupportCentroid.Confidence;

    /// <summary>Whether the final exit's head keeps training in the exit phase with its weight Π(1 − c<sub>j</sub>); false trains
    /// only the early exits.</summary>
    /// <value>Default true.</value>
    public bool TrainFinalHeadInExitPhase { get; set; } = true;

    /// <summary>Whether training batches are augmented by the dataset.</summary>
    /// <value>Default true.</value>
    public bool Augment { get; set; } = true;

    /// <summary>Seed of data order, augmentation, support splits and torch's generator (each epoch reseeds from it).</summary>
    /// <value>Default 0.</value>
    public int Seed { get; set; }

    /// <summary>Device: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    /// <value>Default <c>cpu</c>.</value>
    public string Device { get; set; } = "cpu";

    /// <summary>Folder for per-epoch checkpoints; null writes none.</summary>
    /// <value>Default null.</value>
    public string? CheckpointDirectory { get; set; }

    /// <summary>Whether a checkpoint found in <see cref="CheckpointDirectory"/> is resumed from.</summary>
    /// <value>Default true.</value>
    public bool ResumeFromCheckpoint { get; set; } = true;

    /// <summary>All epochs: backbone, warm-up and support epochs.</summary>
    public int TotalEpochs => BackboneEpochs + WarmupEpochs + ExitEpochs;

    /// <summary>Returns a copy.</summary>
    public EarlyExitTrainingOptions Clone() => (EarlyExitTrainingOptions)MemberwiseClone();

    /// <summary>Every problem with the options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Check(bool ok, string field, object? value, string expected)
        {
            if (!ok) errors.Add(FormattableString.Invariant($"{field} = {value} is invalid: {expected}."));
        }
        Check(BackboneEpochs >= 0, nameof(BackboneEpochs), BackboneEpochs, "must be at least 0");
        Check(WarmupEpochs >= 0, nameof(WarmupEpochs), WarmupEpochs, "must be at least 0");
        Check(ExitEpochs >= 0, nameof(ExitEpochs), ExitEpochs, "must be at least 0");
        Check(TotalEpochs >= 1, nameof(TotalEpochs), TotalEpochs, "the phases must have at least one epoch in all");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, "must be at least 1");
        Check(TestBatchSize >= 1, nameof(TestBatchSize), TestBatchSize, "must be at least 1");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be positive");
        Check(Momentum is >= 0 and < 1, nameof(Momentum), Momentum, "must be in [0, 1)");
        Check(WeightDecay >= 0, nameof(WeightDecay), WeightDecay, "must be non-negative");
        Check(ClassificationWeight >= 0, nameof(ClassificationWeight), ClassificationWeight, "must be non-negative");
        Check(PriorWeight >= 0, nameof(PriorWeight), PriorWeight, "must be non-negative");
        Check(MacWeight >= 0, nameof(MacWeight), MacWeight, "must be non-negative");
        Check(MacLimit is null || (MacLimit > 0 && double.IsFinite(MacLimit.Value)), nameof(MacLimit), MacLimit, "must be positive and finite, or null");
        Check(SupportWeight >= 0, nameof(SupportWeight), SupportWeight, "must be non-negative");
        Check(SupportFraction is > 0 and < 1, nameof(SupportFraction), SupportFraction, "must be in (0, 1)");
        Check(Enum.IsDefined(SupportCentroid), nameof(SupportCentroid), SupportCentroid, "must be Confidence or ExitAccuracy");
        Check(!string.IsNullOrWhiteSpace(Device), nameof(Device), Device, "use cpu, cuda or cuda:N");
        return errors;
    }
}

/// <summary>One epoch of an early-exit training.</summary>
public sealed record EarlyExitEpoch
{
    /// <summary>Zero-based epoch over both phases.</summary>
    public required int Epoch { get; init; }

    /// <summary>True in the backbone phase.</summary>
    public required bool BackbonePhase { get; init; }

    /// <summary>Learning rate.</summary>
    public required double LearningRate { get; init; }

    /// <summary>Mean total loss.</summary>
    public required double Loss { get; init; }

    /// <summary>Mean classification loss (plain CE in the backbone phase).</summary>
    public required double ClassificationLoss { get; init; }

    /// <summary>Mean prior term (0 in the backbone phase).</summary>
    public required double PriorLoss { get; init; }

    /// <summary>Mean MAC term (0 in the backbone phase or without a limit).</summary>
    public required double MacLoss { get; init; }

    /// <summary>Mean support term (0 before the support epochs).</summary>
    public required double SupportLoss { get; init; }

    /// <summary>Training accuracy of the final exit.</summary>
    public required double FinalExitTrainAccuracy { get; init; }

    /// <summary>Training images used (the support split is left out in support epochs).</summary>
    public required int TrainExamples { get; init; }

    /// <summary>Wall time of the epoch.</summary>
    public required TimeSpan Duration { get; init; }
}

/// <summary>Progress of an early-exit training, reported after every batch and (with <see cref="CompletedEpoch"/>) every epoch.</summary>
/// <param name="Epoch">Zero-based epoch over both phases.</param>
/// <param name="TotalEpochs">All epochs.</param>
/// <param name="Step">Steps done in the epoch.</param>
/// <param name="StepsPerEpoch">Steps of the epoch.</param>
/// <param name="MeanLoss">Mean loss of the epoch so far.</param>
/// <param name="CompletedEpoch">Set at the end of an epoch.</param>
public sealed record EarlyExitProgress(int Epoch, int TotalEpochs, int Step, int StepsPerEpoch, double MeanLoss, EarlyExitEpoch? CompletedEpoch = null);

/// <summary>The result of <see cref="EarlyExitTrainer.Train"/>.</summary>
public sealed record EarlyExitTrainingResult
{
    /// <summary>Every epoch, restored ones included.</summary>
    public required IReadOnlyList<EarlyExitEpoch> Epochs { get; init; }

    /// <summary>The last support centroids [classes × exits], row-major; null when no support epoch ran.</summary>
    public IReadOnlyList<double>? SupportCentroids { get; init; }

    /// <summary>Wall time over all epochs.</summary>
    public required TimeSpan Duration { get; init; }
}
