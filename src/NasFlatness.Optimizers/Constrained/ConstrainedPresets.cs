using NasFlatness.Search;
using NasFlatness.Genotypes;

namespace NasFlatness.Optimizers;

/// <summary>
/// The constrained-optimisation presets of Maile et al.: <c>darts-prime</c> (softmax, proximity regularisation, dynamic schedule),
/// <c>darts+prox</c>, <c>darts+admm</c> and <c>darts-clamp</c> (unit-clamp activation), all first-order DARTS, so each composes with
/// A²M; β-decay composes with the softmax ones (<see cref="WithBetaDecay"/>). DARTS-PRIME's 10/11 train split is a data option
/// (<see cref="DynamicUpdateSchedule.TrainPortionFor"/>). Registered by <see cref="ConstrainedMethods.AddConstrainedMethods"/>.
/// </summary>
public static class ConstrainedPresets
{
    private const string Reference = "Maile et al., On Constrained Optimization in Differentiable NAS / DARTS-PRIME (arXiv 2106.11655), official code k8lion/DARTS-PRIME";

    /// <summary>DARTS-PRIME: first-order DARTS, softmax, proximity regularisation (ρ = 0.1, ramp t/T) and the dynamic schedule.</summary>
    public static MethodPreset DartsPrime { get; } = new("darts-prime",
        "DARTS-PRIME: DARTS first order with softmax, proximity regularisation (t/T)·(ρ/2)·‖p − D(p)‖ (ρ = 0.1) and the dynamic α-update schedule (θ₀ = 1, m = 1.05, f = 10, EWMA 0.2), DARTS defaults, genotype of the last epoch. The code's 10/11 train split is a data option (CifarSearchDataOptions.TrainPortion = DynamicUpdateSchedule.TrainPortionFor(10)).",
        DartsFirstOrder.OptimizerName, [ProximityRegularizer.RegularizerName],
        new PresetSearchSettings { Selection = SelectionRule.LastEpoch },
        schedule: DynamicUpdateSchedule.ScheduleName,
        reference: Reference + " (train_scheduled_hard_statebn.py --reg prox --schedfreq 10 --dyno_split --dyno_schedule); 2.62 % CIFAR-10 error in the DARTS space (leaderboard value).");

    /// <summary>First-order DARTS with proximity regularisation (α step on every minibatch).</summary>
    public static MethodPreset DartsProx { get; } = new("darts+prox",
        "DARTS first order with proximity regularisation (t/T)·(ρ/2)·‖p − D(p)‖ (ρ = 0.1), α updated every step, DARTS defaults, genotype of the last epoch.",
        DartsFirstOrder.OptimizerName, [ProximityRegularizer.RegularizerName],
        new PresetSearchSettings { Selection = SelectionRule.LastEpoch }, reference: Reference + " (--reg prox).");

    /// <summary>First-order DARTS with ADMM regularisation (ρ = 0.1, Z and U every 10 α steps, code form).</summary>
    public static MethodPreset DartsAdmm { get; } = new("darts+admm",
        "DARTS first order with ADMM regularisation (ρ/2)·‖p − Z + U‖ (ρ = 0.1; Z ← D(act(α + U)), U ← U + α − Z every 10 α steps, as in the code), α updated every step, DARTS defaults, genotype of the last epoch.",
        DartsFirstOrder.OptimizerName, [AdmmRegularizer.RegularizerName],
        new PresetSearchSettings { Selection = SelectionRule.LastEpoch }, reference: Reference + " (--reg admm).");

    /// <summary>First-order DARTS with the clamp activation clamp(α, 0, 1) and permanent masking (the v1 "CRB" activation).</summary>
    public static MethodPreset DartsClamp { get; } = new("darts-clamp",
        "DARTS first order with the unit-clamp activation p = clamp(α, 0, 1) per operation (no competition within an edge), operations reaching 0 masked permanently, none excluded, α initialised to 1/|O| + 1e-4·N(0, 1), an affine-free BatchNorm after each node's sum (NAS-Bench-201 supernet; the DARTS cell has none), DARTS defaults, genotype of the last epoch.",
        DartsFirstOrder.OptimizerName, settings: new PresetSearchSettings { Selection = SelectionRule.LastEpoch },
        activation: UnitClampActivation.ActivationName, reference: Reference + " (--crb).", supernetVariant: SupernetFeatures.NodeBatchNorm);

    /// <summary>Every preset of this class, in a stable order.</summary>
    public static IReadOnlyList<MethodPreset> All { get; } = [DartsPrime, DartsProx, DartsAdmm, DartsClamp];

    /// <summary>The names of the presets of this class.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(p => p.Name).ToArray();

    /// <summary>Aliases (alias, preset name).</summary>
    internal static IReadOnlyList<(string Alias, string Name)> Aliases { get; } =
    [
        ("dartsprime", "darts-prime"), ("darts-crb", "darts-clamp"), ("darts+crb", "darts-clamp"), ("darts-prox", "darts+prox"), ("darts-admm", "darts+admm"),
    ];

    /// <summary>The same method with β-decay added (name <c>{Name}+beta</c>).</summary>
    /// <exception cref="InvalidOperationException">The preset uses the unit-clamp activation (β-decay is defined for softmax), or already uses β-decay.</exception>
    public static MethodPreset WithBetaDecay(this MethodPreset preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        if (string.Equals(preset.Activation, UnitClampActivation.ActivationName, StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException(
                $"β-decay cannot be combined with '{preset.Name}': its logsumexp term is defined for softmax mixing weights, and '{preset.Name}' uses the '{UnitClampActivation.ActivationName}' activation. Use a softmax preset such as 'darts-prime' or 'darts+prox'.");
        return preset.WithRegularizer(BetaDecayRegularizer.RegularizerName, "beta", "With β-decay (λ_t = 0.5·t).");
    }
}

/// <summary>Adds the constrained-optimisation components and presets to a <see cref="NasFlatnessRegistry"/>.</summary>
public static class ConstrainedMethods
{
    /// <summary>
    /// Adds the regularizers <c>prox</c> (<see cref="ProximityRegularizer"/>, ρ = 0.1) and <c>admm</c>
    /// (<see cref="AdmmRegularizer"/>, defaults), the schedule <c>dynamic</c> (<see cref="DynamicUpdateSchedule"/>, defaults),
    /// the activation <c>unit-clamp</c> (<see cref="UnitClampActivation"/>; <c>none</c>, column 0, excluded in the built-in
    /// spaces) and every preset of <see cref="ConstrainedPresets"/>.
    /// </summary>
    public static NasFlatnessRegistry AddConstrainedMethods(this NasFlatnessRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.Regularizers
            .Add(ProximityRegularizer.RegularizerName, _ => new ProximityRegularizer(), "DARTS-PRIME proximity: (t/T)·(ρ/2)·‖p − D(p)‖, ρ = 0.1")
            .Add(AdmmRegularizer.RegularizerName, _ => new AdmmRegularizer(), "ADMM: (ρ/2)·‖p − Z + U‖, ρ = 0.1, Z and U every 10 α steps");
        registry.Schedules.Add(DynamicUpdateSchedule.ScheduleName, _ => new DynamicUpdateSchedule(), "DARTS-PRIME dynamic schedule from the weight-gradient norm (θ₀ = 1, m = 1.05, f = 10)");
        registry.Activations.Add(UnitClampActivation.ActivationName,
            c => new UnitClampActivation(new UnitClampOptions { ExcludedColumns = c.SpaceName is SpaceNames.Nb201 or SpaceNames.Darts ? [0] : [] }),
            "clamp(α, 0, 1) per operation with permanent masking (Maile et al. v1 'CRB')");
        foreach (var preset in ConstrainedPresets.All) registry.Presets.Add(preset);
        foreach (var (alias, name) in ConstrainedPresets.Aliases) registry.Presets.AddAlias(alias, name);
        return registry;
    }
}
