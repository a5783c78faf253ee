namespace NasFlatness.Evaluation;

/// <summary>How the learning rate of the final evaluation decays over epochs.</summary>
public enum LearningRateSchedule
{
    /// <summary>Cosine annealing from <see cref="EvaluationOptions.LearningRate"/> to <see cref="EvaluationOptions.LearningRateMin"/> (DARTS CIFAR recipe).</summary>
    Cosine,

    /// <summary>Multiply by <see cref="EvaluationOptions.LearningRateDecay"/> every epoch (DARTS ImageNet recipe, 0.97).</summary>
    Exponential,
}

/// <summary>
/// Options of the final-evaluation trainer. Defaults are the DARTS CIFAR-10 recipe (docs/spec/algorithms.md §11.2):
/// 600 epochs, batch 96, SGD lr 0.025 cosine → 0, momentum 0.9, weight decay 3e-4, gradient clip 5,
/// auxiliary weight 0.4, drop-path 0.2 (ramped linearly from 0), cutout 16 px, crop + flip.
/// </summary>
public sealed class EvaluationOptions
{
    /// <summary>Training epochs.</summary>
    /// <value>Default 600.</value>
    public int Epochs { get; set; } = 600;

    /// <summary>Training minibatch size.</summary>
    /// <value>Default 96.</value>
    public int BatchSize { get; set; } = 96;

    /// <summary>Minibatch size of the test-set evaluation.</summary>
    /// <value>Default 256.</value>
    public int TestBatchSize { get; set; } = 256;

    /// <summary>Initial SGD learning rate.</summary>
    /// <value>Default 0.025.</value>
    public double LearningRate { get; set; } = 0.025;

    /// <summary>Final learning rate of the cosine schedule.</summary>
    /// <value>Default 0.</value>
    public double LearningRateMin { get; set; }

    /// <summary>The learning-rate schedule.</summary>
    /// <value>Default <see cref="LearningRateSchedule.Cosine"/>.</value>
    public LearningRateSchedule Schedule { get; set; } = LearningRateSchedule.Cosine;

    /// <summary>Per-epoch factor of the exponential schedule.</summary>
    /// <value>Default 0.97.</value>
    public double LearningRateDecay { get; set; } = 0.97;

    /// <summary>SGD momentum.</summary>
    /// <value>Default 0.9.</value>
    public double Momentum { get; set; } = 0.9;

    /// <summary>SGD weight decay.</summary>
    /// <value>Default 3e-4.</value>
    public double WeightDecay { get; set; } = 3e-4;

    /// <summary>Global L2 norm the gradients are clipped to.</summary>
    /// <value>Default 5.</value>
    public double GradientClip { get; set; } = 5.0;

    /// <summary>Weight of the auxiliary-head loss, used when the network exposes auxiliary logits (<see cref="IEvaluationNetwork"/>); 0 turns it off.</summary>
    /// <value>Default 0.4.</value>
    public double AuxiliaryWeight { get; set; } = 0.4;

    /// <summary>Final drop-path probability p; epoch t uses p·t/epochs (DARTS <c>drop_path_prob * epoch / epochs</c>).</summary>
    /// <value>Default 0.2.</value>
    public double DropPathProbability { get; set; } = 0.2;

    /// <summary>Label smoothing of the cross-entropy (the ImageNet recipe uses 0.1).</summary>
    /// <value>Default 0.</value>
    public double LabelSmoothing { get; set; }

    /// <summary>
    /// Sharpness-aware training step (FlatNAS trains candidates with ASAM): each step takes a second forward/backward pass at
    /// w + ε and steps with that gradient (<see cref="SharpnessAwareStep"/>); <see cref="SharpnessAwareness.None"/> is the plain step.
    /// </summary>
    /// <value>Default <see cref="SharpnessAwareness.None"/>.</value>
    public SharpnessAwareness Sharpness { get; set; } = SharpnessAwareness.None;

    /// <summary>Radius ρ of the sharpness-aware ascent step (used unless <see cref="Sharpness"/> is <see cref="SharpnessAwareness.None"/>).</summary>
    /// <value>Default 0.05 (the SAM paper's CIFAR value; FlatNAS's ASAM uses 2.0).</value>
    public double SharpnessRho { get; set; } = 0.05;

    /// <summary>Whether training batches are augmented by the dataset (crop, flip, cutout).</summary>
    /// <value>Default true.</value>
    public bool Augment { get; set; } = true;

    /// <summary>Whether the test set is evaluated after every epoch (otherwise only after the last).</summary>
    /// <value>Default false.</value>
    public bool TestEveryEpoch { get; set; }

    /// <summary>Seed of data order, augmentation and drop-path masks (each epoch reseeds from it, so a resumed run equals an uninterrupted one).</summary>
    /// <value>Default 0.</value>
    public int Seed { get; set; }

    /// <summary>Device to train on: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    /// <value>Default <c>cpu</c>.</value>
    public string Device { get; set; } = "cpu";

    /// <summary>Folder for per-epoch checkpoints; null writes none.</summary>
    /// <value>Default null.</value>
    public string? CheckpointDirectory { get; set; }

    /// <summary>Whether a checkpoint found in <see cref="CheckpointDirectory"/> is resumed from.</summary>
    /// <value>Default true.</value>
    public bool ResumeFromCheckpoint { get; set; } = true;

    /// <summary>The learning rate of epoch <paramref name="epoch"/> (zero-based).</summary>
    public double LearningRateAt(int epoch) => Schedule == LearningRateSchedule.Exponential
        ? LearningRate * Math.Pow(LearningRateDecay, epoch)
        : LearningRateMin + (LearningRate - LearningRateMin) * (1 + Math.Cos(Math.PI * epoch / Epochs)) / 2;

    /// <summary>The drop-path probability of epoch <paramref name="epoch"/> (zero-based): p·epoch/epochs.</summary>
    public double DropPathAt(int epoch) => DropPathProbability * epoch / Epochs;

    /// <summary>Every problem with the options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Epochs < 1) errors.Add($"{nameof(Epochs)} = {Epochs} is invalid: must be at least 1.");
        if (BatchSize < 1) errors.Add($"{nameof(BatchSize)} = {BatchSize} is invalid: must be at least 1.");
        if (TestBatchSize < 1) errors.Add($"{nameof(TestBatchSize)} = {TestBatchSize} is invalid: must be at least 1.");
        if (!(LearningRate > 0)) errors.Add($"{nameof(LearningRate)} = {LearningRate} is invalid: must be positive.");
        else if (!(LearningRate < Search.SearchOptions.MaxLearningRate)) errors.Add($"{nameof(LearningRate)} = {LearningRate} is invalid: must be a positive finite number below 1e10.");
        if (!(LearningRateMin >= 0 && LearningRateMin <= LearningRate)) errors.Add($"{nameof(LearningRateMin)} = {LearningRateMin} is invalid: must be in [0, {nameof(LearningRate)}].");
        if (!(LearningRateDecay > 0 && LearningRateDecay <= 1)) errors.Add($"{nameof(LearningRateDecay)} = {LearningRateDecay} is invalid: must be in (0, 1].");
        if (!Enum.IsDefined(Schedule)) errors.Add($"{nameof(Schedule)} = {Schedule} is not a known schedule.");
        if (!(Momentum >= 0 && Momentum < 1)) errors.Add($"{nameof(Momentum)} = {Momentum} is invalid: must be in [0, 1).");
        if (!(WeightDecay >= 0)) errors.Add($"{nameof(WeightDecay)} = {WeightDecay} is invalid: must be non-negative.");
        else if (!double.IsFinite(WeightDecay)) errors.Add($"{nameof(WeightDecay)} = {WeightDecay} is invalid: must be a non-negative finite number.");
        if (!(GradientClip > 0)) errors.Add($"{nameof(GradientClip)} = {GradientClip} is invalid: must be positive.");
        else if (!double.IsFinite(GradientClip)) errors.Add($"{nameof(GradientClip)} = {GradientClip} is invalid: must be a positive finite number.");
        if (!(AuxiliaryWeight >= 0)) errors.Add($"{nameof(AuxiliaryWeight)} = {AuxiliaryWeight} is invalid: must be non-negative.");
        else if (!double.IsFinite(AuxiliaryWeight)) errors.Add($"{nameof(AuxiliaryWeight)} = {AuxiliaryWeight} is invalid: must be a non-negative finite number.");
        if (!(DropPathProbability >= 0 && DropPathProbability < 1)) errors.Add($"{nameof(DropPathProbability)} = {DropPathProbability} is invalid: must be in [0, 1).");
        if (!(LabelSmoothing >= 0 && LabelSmoothing < 1)) errors.Add($"{nameof(LabelSmoothing)} = {LabelSmoothing} is invalid: must be in [0, 1).");
        if (!Enum.IsDefined(Sharpness)) errors.Add($"{nameof(Sharpness)} = {Sharpness} is not a known sharpness-aware step (None, Sam, Asam).");
        if (!(SharpnessRho > 0) || double.IsInfinity(SharpnessRho)) errors.Add($"{nameof(SharpnessRho)} = {SharpnessRho} is invalid: must be positive and finite.");
        if (string.IsNullOrWhiteSpace(Device)) errors.Add($"{nameof(Device)} is empty: use cpu, cuda or cuda:N.");
        return errors;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming every invalid field.</summary>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid evaluation options: " + string.Join(" ", errors));
    }

    /// <summary>Returns a copy.</summary>
    public EvaluationOptions Clone() => (EvaluationOptions)MemberwiseClone();
}
