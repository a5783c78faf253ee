namespace NasFlatness;

/// <summary>
/// Decides on which steps α is updated (after the warm-up epochs of <see cref="Search.SearchOptions.WarmupEpochs"/>).
/// The runner asks <see cref="ShouldUpdate"/> before every step; it draws a validation batch only when the answer is
/// yes. A schedule sees every weight step through <see cref="ISearchObserver.OnWeightStep"/> (loss, gradient norm before
/// clipping), so a rule can depend on per-minibatch information; a schedule with state that must survive a resume
/// implements <see cref="IStatefulSearchComponent"/>.
/// </summary>
public interface IArchitectureUpdateSchedule : ISearchObserver
{
    /// <summary>Short name, e.g. <c>every-step</c>; recorded in checkpoints.</summary>
    string Name { get; }

    /// <summary>Whether α is updated on the step described by <paramref name="context"/> (never asked during warm-up).</summary>
    bool ShouldUpdate(ScheduleContext context);
}

/// <summary>What an <see cref="IArchitectureUpdateSchedule"/> knows when asked about a step.</summary>
/// <param name="Clock">The step asked about.</param>
/// <param name="PreviousWeightStep">The weight step just before this one in the same run (null on the first step of a run or a resumption).</param>
public sealed record ScheduleContext(SearchClock Clock, WeightStep? PreviousWeightStep);

/// <summary>Updates α on every step (the DARTS loop). Stateless.</summary>
public sealed class EveryStepSchedule : IArchitectureUpdateSchedule
{
    /// <summary>The registry name, <c>every-step</c>.</summary>
    public const string ScheduleName = "every-step";

    /// <summary>The shared instance.</summary>
    public static EveryStepSchedule Instance { get; } = new();

    /// <inheritdoc />
    public string Name => ScheduleName;

    /// <inheritdoc />
    public bool ShouldUpdate(ScheduleContext context) => true;
}

/// <summary>
/// Updates α on every k-th step of an epoch: steps k−1, 2k−1, … (zero-based), i.e. once at the end of each round of k
/// weight steps; the round restarts with every epoch (as ZO-DARTS's rounds do). Stateless.
/// </summary>
public sealed class EveryKStepsSchedule : IArchitectureUpdateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="k">Steps per round, at least 1 (1 is every step).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1.</exception>
    public EveryKStepsSchedule(int k)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "The number of steps per architecture update must be at least 1.");
        K = k;
    }

    /// <summary>Steps per round.</summary>
    public int K { get; }

    /// <inheritdoc />
    public string Name => $"every-{K}-steps";

    /// <inheritdoc />
    public bool ShouldUpdate(ScheduleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return (context.Clock.Step + 1) % K == 0;
    }
}

/// <summary>
/// A schedule given by a rule, e.g. <c>new RuleSchedule("low-gradient", c =&gt; c.PreviousWeightStep is { GradientNorm: &lt; 2 })</c>.
/// The rule must be a pure function of the context (a rule with hidden state would not resume bit-identically; write
/// a class implementing <see cref="IStatefulSearchComponent"/> for that).
/// </summary>
public sealed class RuleSchedule : IArchitectureUpdateSchedule
{
    private readonly Func<ScheduleContext, bool> _rule;

    /// <summary>Creates the schedule.</summary>
    /// <param name="name">Its name (recorded in checkpoints).</param>
    /// <param name="rule">True where α is updated.</param>
    public RuleSchedule(string name, Func<ScheduleContext, bool> rule)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(rule);
        Name = name;
        _rule = rule;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public bool ShouldUpdate(ScheduleContext context) => _rule(context);
}
