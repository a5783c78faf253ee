namespace NasFlatness.Optimizers;

/// <summary>Options of <see cref="DynamicUpdateSchedule"/>.</summary>
public sealed class DynamicScheduleOptions
{
    /// <summary>The initial threshold θ₀ on the running average of the gradient information.</summary>
    /// <value>Default 1.0 (the code's <c>--init_alpha_threshold</c>).</value>
    public double InitialThreshold { get; set; } = 1.0;

    /// <summary>The factor m by which θ grows after a minibatch without an α step (θ ← θ·m).</summary>
    /// <value>Default 1.05 (<c>--threshold_multiplier</c>).</value>
    public double Multiplier { get; set; } = 1.05;

    /// <summary>
    /// The target number of weight steps per α step, f: after an α step θ ← θ·m^(−f), so in a steady state α is updated
    /// about once every f + 1 minibatches (<c>--schedfreq</c>).
    /// </summary>
    /// <value>Default 10.</value>
    public double Frequency { get; set; } = 10;

    /// <summary>The weight of the newest value in the running average e_t = w·FI_t + (1 − w)·e_{t−1} (<c>--ewma</c>).</summary>
    /// <value>Default 0.2.</value>
    public double AverageWeight { get; set; } = 0.2;

    /// <summary>Every problem with these options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!(InitialThreshold > 0) || double.IsInfinity(InitialThreshold)) errors.Add($"{nameof(InitialThreshold)} = {InitialThreshold} is invalid: must be a finite number > 0.");
        if (!(Multiplier > 1) || double.IsInfinity(Multiplier)) errors.Add($"{nameof(Multiplier)} = {Multiplier} is invalid: must be a finite number > 1.");
        if (!(Frequency > 0) || double.IsInfinity(Frequency)) errors.Add($"{nameof(Frequency)} = {Frequency} is invalid: must be a finite number > 0.");
        if (!(AverageWeight > 0 && AverageWeight <= 1)) errors.Add($"{nameof(AverageWeight)} = {AverageWeight} is invalid: must be in (0, 1].");
        return errors;
    }

    /// <summary>A copy of these options.</summary>
    public DynamicScheduleOptions Clone() => (DynamicScheduleOptions)MemberwiseClone();
}

/// <summary>
/// DARTS-PRIME's dynamic ("informed") architecture-update schedule (Maile et al.): a running average
/// <c>e_t = w·FI_t + (1 − w)·e_{t−1}</c> of the squared weight-gradient norm (<see cref="WeightStep.GradientNorm"/>) gives minibatch
/// t an α step, before its weight step, when <c>0 &lt; e_{t−1} &lt; θ</c>; then <c>θ ← θ·m^(−f)</c>, otherwise <c>θ ← θ·m</c>. The
/// average, θ and the step count run across epochs and are checkpointed; warm-up epochs leave θ unchanged. The code's matching
/// train/validation split is a data option (<see cref="TrainPortionFor"/>). Worked example: docs/methods-constrained.md.
/// </summary>
public sealed class DynamicUpdateSchedule : IArchitectureUpdateSchedule, IStatefulSearchComponent
{
    private readonly double _divider;

    /// <summary>The registry name, <c>dynamic</c>.</summary>
    public const string ScheduleName = "dynamic";

    /// <summary>Creates the schedule.</summary>
    /// <param name="options">Options; null uses the code's defaults.</param>
    /// <exception cref="ArgumentException">The options are invalid (every problem is named).</exception>
    public DynamicUpdateSchedule(DynamicScheduleOptions? options = null)
    {
        var o = (options ?? new DynamicScheduleOptions()).Clone();
        var errors = o.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid dynamic schedule options: " + string.Join(" ", errors), nameof(options));
        Options = o;
        _divider = Math.Exp(-Math.Log(o.Multiplier) * o.Frequency);
        Threshold = o.InitialThreshold;
    }

    /// <summary>The options (a copy).</summary>
    public DynamicScheduleOptions Options { get; }

    /// <inheritdoc />
    public string Name => ScheduleName;

    /// <inheritdoc />
    public string StateName => ScheduleName;

    /// <summary>The current threshold θ.</summary>
    public double Threshold { get; private set; }

    /// <summary>The running average e of FI after the last weight step; −1 before the first (the code's sentinel).</summary>
    public double Average { get; private set; } = -1;

    /// <summary>How many times the schedule has said yes since the search started.</summary>
    public long ArchitectureSteps { get; private set; }

    /// <summary>How many times the schedule has been asked since the search started.</summary>
    public long Decisions { get; private set; }

    /// <summary>The code's <c>--dyno_split</c> train portion for <paramref name="frequency"/> weight steps per α step: 1 − 1/(1 + f) (10/11 for f = 10).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="frequency"/> is not a finite number &gt; 0.</exception>
    public static double TrainPortionFor(double frequency = 10)
    {
        if (!(frequency > 0) || double.IsInfinity(frequency))
            throw new ArgumentOutOfRangeException(nameof(frequency), frequency, "The frequency must be a finite number > 0.");
        return 1 - 1 / (1 + frequency);
    }

    /// <summary>Starts over (θ = θ₀, no average) when the search starts at epoch 0.</summary>
    public void OnEpochStarting(EpochStart epoch)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        if (epoch.Clock.Epoch == 0) Reset();
    }

    /// <summary>Restores the initial state: θ = θ₀, no average, no steps.</summary>
    public void Reset()
    {
        Threshold = Options.InitialThreshold;
        Average = -1;
        ArchitectureSteps = 0;
        Decisions = 0;
    }

    /// <summary>Whether this minibatch gets an α step (<c>0 &lt; e &lt; θ</c>); also moves θ down after a yes and up after a no.</summary>
    public bool ShouldUpdate(ScheduleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        bool update = Average > 0 && Average < Threshold;
        Threshold *= update ? _divider : Options.Multiplier;
        Decisions++;
        if (update) ArchitectureSteps++;
        return update;
    }

    /// <summary>Folds FI = <see cref="WeightStep.GradientNorm"/>² into the running average.</summary>
    public void OnWeightStep(WeightStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        Observe(step.GradientNorm * step.GradientNorm);
    }

    /// <summary>Folds one FI value into the running average (what <see cref="OnWeightStep"/> does with the gradient norm).</summary>
    public void Observe(double information)
    {
        Average = Average == -1 ? information : Options.AverageWeight * information + (1 - Options.AverageWeight) * Average;
    }

    /// <inheritdoc />
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Threshold);
        writer.Write(Average);
        writer.Write(ArchitectureSteps);
        writer.Write(Decisions);
    }

    /// <inheritdoc />
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        Threshold = reader.ReadDouble();
        Average = reader.ReadDouble();
        ArchitectureSteps = reader.ReadInt64();
        Decisions = reader.ReadInt64();
    }
}
