using System.Globalization;
using NasFlatness.Evaluation;

namespace NasFlatness.Search;

/// <summary>How the final genotype is chosen from the per-epoch genotypes of a search (docs/spec/algorithms.md §2.4).</summary>
public enum SelectionRule
{
    /// <summary>The genotype derived from α at the end of the last epoch (DARTS, PC-DARTS, β-DARTS papers).</summary>
    LastEpoch,

    /// <summary>
    /// The genotype of the epoch with the lowest supernet validation loss, stopping early after
    /// <see cref="SearchOptions.SelectionPatience"/> epochs without improvement (the A²M code).
    /// </summary>
    BestSupernetValidationLoss,
}

/// <summary>
/// Options of the bilevel search loop. Defaults are the DARTS settings of docs/spec/algorithms.md §2.2
/// (SGD 0.025 → 0.001 cosine, momentum 0.9, weight decay 3e-4, clip 5; Adam 3e-4, betas (0.5, 0.999),
/// weight decay 1e-3; batch 64; 50 epochs).
/// </summary>
public sealed class SearchOptions
{
    /// <summary>Number of search epochs T.</summary>
    /// <value>Default 50.</value>
    public int Epochs { get; set; } = 50;

    /// <summary>Minibatch size of both the training and the validation batches.</summary>
    /// <value>Default 64.</value>
    public int BatchSize { get; set; } = 64;

    /// <summary>Initial weight learning rate (start of the cosine schedule).</summary>
    /// <value>Default 0.025.</value>
    public double WeightLearningRate { get; set; } = 0.025;

    /// <summary>Final weight learning rate of the cosine schedule (η_min).</summary>
    /// <value>Default 0.001.</value>
    public double WeightLearningRateMin { get; set; } = 0.001;

    /// <summary>SGD momentum of the weight optimizer.</summary>
    /// <value>Default 0.9.</value>
    public double WeightMomentum { get; set; } = 0.9;

    /// <summary>SGD weight decay.</summary>
    /// <value>Default 3e-4.</value>
    public double WeightDecay { get; set; } = 3e-4;

    /// <summary>Global L2 norm the weight gradients are clipped to.</summary>
    /// <value>Default 5.</value>
    public double GradientClip { get; set; } = 5.0;

    /// <summary>
    /// Sharpness-aware weight step of the search (FlatNAS's flat weights, applied during search): SAM or ASAM make every weight
    /// step two passes through <see cref="SharpnessAwareStep"/> over the supernet's weight parameters — the gradient at w, then at
    /// w + ε, the weights restored bit-exactly and SGD (clipping included) stepped with g(w + ε). α is neither perturbed nor
    /// touched; BatchNorm running statistics keep their pass-1 values. <see cref="SharpnessAwareness.None"/> is the plain SGD step.
    /// </summary>
    /// <value>Default <see cref="SharpnessAwareness.None"/> (plain SGD, the DARTS weight step).</value>
    public SharpnessAwareness WeightSharpness { get; set; } = SharpnessAwareness.None;

    /// <summary>Radius ρ of the sharpness-aware ascent of the weight step (used unless <see cref="WeightSharpness"/> is <see cref="SharpnessAwareness.None"/>).</summary>
    /// <value>Default 0.05 (the SAM paper's CIFAR value; FlatNAS's ASAM uses 2.0).</value>
    public double WeightSharpnessRho { get; set; } = 0.05;

    /// <summary>Adam learning rate of the architecture parameters (η_α).</summary>
    /// <value>Default 3e-4.</value>
    public double ArchitectureLearningRate { get; set; } = 3e-4;

    /// <summary>Adam β₁ of the architecture optimizer.</summary>
    /// <value>Default 0.5.</value>
    public double ArchitectureBeta1 { get; set; } = 0.5;

    /// <summary>Adam β₂ of the architecture optimizer.</summary>
    /// <value>Default 0.999.</value>
    public double ArchitectureBeta2 { get; set; } = 0.999;

    /// <summary>Adam (L2, coupled) weight decay of the architecture parameters.</summary>
    /// <value>Default 1e-3.</value>
    public double ArchitectureWeightDecay { get; set; } = 1e-3;

    /// <summary>Epochs at the start during which α is not updated (PC-DARTS uses 15).</summary>
    /// <value>Default 0.</value>
    public int WarmupEpochs { get; set; }

    /// <summary>Seed of weight initialisation, α initialisation, data order and augmentation.</summary>
    /// <value>Default 0.</value>
    public int Seed { get; set; }

    /// <summary>Device to search on: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    /// <value>Default <c>cpu</c>.</value>
    public string Device { get; set; } = "cpu";

    /// <summary>Whether batches get the search augmentation (random crop with 4-px padding, horizontal flip).</summary>
    /// <value>Default true.</value>
    public bool Augment { get; set; } = true;

    /// <summary>Rule that picks the final genotype.</summary>
    /// <value>Default <see cref="SelectionRule.LastEpoch"/>.</value>
    public SelectionRule Selection { get; set; } = SelectionRule.LastEpoch;

    /// <summary>Epochs without improvement after which <see cref="SelectionRule.BestSupernetValidationLoss"/> stops the search.</summary>
    /// <value>Default 10.</value>
    public int SelectionPatience { get; set; } = 10;

    /// <summary>
    /// Validation batches evaluated at the end of each epoch (supernet in eval mode, no augmentation);
    /// null evaluates the whole validation split, 0 skips the evaluation.
    /// </summary>
    /// <value>Default null (the whole split).</value>
    public int? EpochValidationBatches { get; set; }

    /// <summary>Folder where a checkpoint is written after every epoch; null writes none.</summary>
    /// <value>Default null.</value>
    public string? CheckpointDirectory { get; set; }

    /// <summary>Whether a search resumes from the checkpoint in <see cref="CheckpointDirectory"/> when one exists.</summary>
    /// <value>Default true.</value>
    public bool ResumeFromCheckpoint { get; set; } = true;

    /// <summary>
    /// Learning rates at or above this are rejected by <see cref="Validate"/>: a step of that size overflows float32
    /// weights at once (the run would only produce NaN).
    /// </summary>
    public const double MaxLearningRate = 1e10;

    private const string LearningRateRange = "must be a positive finite number below 1e10";

    /// <summary>Returns a shallow copy.</summary>
    public SearchOptions Clone() => (SearchOptions)MemberwiseClone();

    /// <summary>Every problem with the options, each naming the field; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Check(bool ok, string field, object value, string expected)
        {
            if (!ok) errors.Add(string.Create(CultureInfo.InvariantCulture, $"{field} = {value} is invalid: {expected}."));
        }

        Check(Epochs >= 1, nameof(Epochs), Epochs, "must be at least 1");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, "must be at least 1");
        Check(WeightLearningRate > 0 && WeightLearningRate < MaxLearningRate, nameof(WeightLearningRate), WeightLearningRate, LearningRateRange);
        Check(WeightLearningRateMin >= 0 && WeightLearningRateMin <= WeightLearningRate, nameof(WeightLearningRateMin), WeightLearningRateMin, $"must be in [0, {nameof(WeightLearningRate)}]");
        Check(WeightMomentum >= 0 && WeightMomentum < 1, nameof(WeightMomentum), WeightMomentum, "must be in [0, 1)");
        Check(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay, "must be a non-negative finite number");
        Check(GradientClip > 0 && double.IsFinite(GradientClip), nameof(GradientClip), GradientClip, "must be a positive finite number");
        Check(Enum.IsDefined(WeightSharpness), nameof(WeightSharpness), WeightSharpness, "must be None, Sam or Asam");
        Check(WeightSharpnessRho > 0 && double.IsFinite(WeightSharpnessRho), nameof(WeightSharpnessRho), WeightSharpnessRho, "must be a positive finite number");
        Check(ArchitectureLearningRate > 0 && ArchitectureLearningRate < MaxLearningRate, nameof(ArchitectureLearningRate), ArchitectureLearningRate, LearningRateRange);
        Check(ArchitectureBeta1 >= 0 && ArchitectureBeta1 < 1, nameof(ArchitectureBeta1), ArchitectureBeta1, "must be in [0, 1)");
        Check(ArchitectureBeta2 >= 0 && ArchitectureBeta2 < 1, nameof(ArchitectureBeta2), ArchitectureBeta2, "must be in [0, 1)");
        Check(ArchitectureWeightDecay >= 0 && double.IsFinite(ArchitectureWeightDecay), nameof(ArchitectureWeightDecay), ArchitectureWeightDecay, "must be a non-negative finite number");
        Check(WarmupEpochs >= 0 && WarmupEpochs <= Epochs, nameof(WarmupEpochs), WarmupEpochs, $"must be in [0, {nameof(Epochs)}]");
        Check(SelectionPatience >= 1, nameof(SelectionPatience), SelectionPatience, "must be at least 1");
        Check(EpochValidationBatches is null or >= 0, nameof(EpochValidationBatches), EpochValidationBatches!, "must be null (whole split) or non-negative");
        Check(Selection != SelectionRule.BestSupernetValidationLoss || EpochValidationBatches != 0, nameof(EpochValidationBatches), EpochValidationBatches!,
            $"must not be 0 when {nameof(Selection)} is {nameof(SelectionRule.BestSupernetValidationLoss)} (the rule needs the epoch validation loss)");
        Check(Enum.IsDefined(Selection), nameof(Selection), Selection, "must be LastEpoch or BestSupernetValidationLoss");
        Check(IsDeviceName(Device), nameof(Device), Device ?? "null", "must be 'cpu', 'cuda' or 'cuda:N'");
        return errors;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> listing every problem when the options are invalid.</summary>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid search options: " + string.Join(" ", errors));
    }

    private static bool IsDeviceName(string? device) =>
        device is "cpu" or "cuda" ||
        (device is not null && device.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(device.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out _));

    /// <summary>Weight learning rate of epoch <paramref name="epoch"/> (cosine annealing, lr(0) = <see cref="WeightLearningRate"/>).</summary>
    public double WeightLearningRateAt(int epoch) =>
        WeightLearningRateMin + 0.5 * (WeightLearningRate - WeightLearningRateMin) * (1 + Math.Cos(Math.PI * epoch / Epochs));
}
