using System.Globalization;

namespace NasFlatness.Optimizers;

/// <summary>Options of <see cref="ZeroOrderDarts"/>. Defaults are those of the official ZO-DARTS code, with the clean shadow network.</summary>
public sealed class ZeroOrderDartsOptions
{
    /// <summary>The perturbation size relative to the architecture: μ = scale·‖α‖₂ (all architecture tensors together), drawn at the start of every round.</summary>
    /// <value>Default 0.005 (official code).</value>
    public double PerturbationScale { get; set; } = 0.005;

    /// <summary>Seed of the directions z: the direction of a round is a pure function of this seed and the global step at which the round starts.</summary>
    /// <value>Default 0.</value>
    public int Seed { get; set; }

    /// <summary>
    /// Reproduce the official code's shadow network instead of the clean estimator: α⁺ is trained with the weights (weight
    /// learning rate, momentum, weight decay, clipped together), the shadow's momentum starts empty every round, and its learning
    /// rate is frozen at the round's start. The clean default gives the shadow the main optimizer's state (momentum buffers,
    /// learning rate) and holds α⁺ fixed, so that Δ = (w⁺ − w)/μ measures only the effect of α.
    /// </summary>
    /// <value>Default false.</value>
    public bool CodeCompatible { get; set; }

    /// <summary>Global L2 norm the shadow's gradients are clipped to; keep it equal to <see cref="Search.SearchOptions.GradientClip"/>.</summary>
    /// <value>Default 5 (the runner's default and the official code's).</value>
    public double GradientClip { get; set; } = 5.0;

    /// <summary>
    /// Accept a supernet whose affine-free (search-cell) BatchNorms track running statistics. The official code searches with
    /// <c>track_running_stats = False</c>; build the space with <c>Nb201Options.TrackRunningStats = false</c> (or
    /// <c>DartsSpaceOptions.TrackRunningStats = false</c>). Without this flag the optimizer refuses such a supernet at the start of
    /// the search.
    /// </summary>
    /// <value>Default false.</value>
    public bool AllowRunningStatistics { get; set; }

    /// <summary>Every problem with the options, each naming the field; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!(PerturbationScale > 0) || !double.IsFinite(PerturbationScale))
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(PerturbationScale)} = {PerturbationScale} is invalid: must be a positive number."));
        if (!(GradientClip > 0))
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(GradientClip)} = {GradientClip} is invalid: must be positive."));
        return errors;
    }

    /// <summary>Returns a copy.</summary>
    public ZeroOrderDartsOptions Clone() => (ZeroOrderDartsOptions)MemberwiseClone();
}
