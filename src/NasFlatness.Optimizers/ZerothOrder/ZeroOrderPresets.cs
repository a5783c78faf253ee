using NasFlatness.Search;

namespace NasFlatness.Optimizers;

/// <summary>
/// The zeroth-order presets <c>zo-darts</c> (softmax) and <c>zo-darts+</c> (sparsemax with temperature annealing), with the
/// official ZO-DARTS settings: rounds of R = 10 weight steps (<see cref="EveryKStepsSchedule"/>), Adam 1.5e-2 with betas
/// (0.5, 0.999) and weight decay 1e-3 (the last two are the <see cref="SearchOptions"/> defaults), SGD 0.1 → 0.001 with batch 256
/// (the repository's <c>DARTS.config</c>), genotype of the last epoch. The official code searches with batch statistics only: the
/// optimizer is registered with <see cref="SupernetFeatures.BatchStatisticsOnly"/>, so a registry-built space has no running statistics
/// (a space built by hand needs <c>TrackRunningStats = false</c>; <see cref="ZeroOrderDarts"/> refuses one that tracks them). See docs/methods-zo.md.
/// </summary>
public static class ZeroOrderPresets
{
    /// <summary>Weight steps per round in the official code (R).</summary>
    public const int RoundSteps = 10;

    /// <summary>The registry name of the round schedule, <c>every-10-steps</c> (<see cref="EveryKStepsSchedule"/> with k = 10).</summary>
    public const string RoundScheduleName = "every-10-steps";

    /// <summary>The official ZO-DARTS search settings (batch 256, SGD 0.1 → 0.001, α-Adam 1.5e-2, last epoch), shared by the ZO-DARTS++ presets.</summary>
    internal static PresetSearchSettings Settings { get; } = new()
    {
        BatchSize = 256,
        WeightLearningRate = 0.1,
        WeightLearningRateMin = 0.001,
        ArchitectureLearningRate = 1.5e-2,
        Selection = SelectionRule.LastEpoch,
    };

    /// <summary>ZO-DARTS: the zeroth-order estimator with softmax mixing, α updated once per round of 10 weight steps.</summary>
    public static MethodPreset ZoDarts { get; } = new("zo-darts",
        "ZO-DARTS: zeroth-order hypergradient from a shadow network trained at α + μz over rounds of 10 weight steps (μ = 0.005·‖α‖), softmax, batch 256, w-lr 0.1 → 0.001, α-Adam 1.5e-2, genotype of the last epoch; needs search-cell BatchNorms without running statistics.",
        ZeroOrderDarts.OptimizerName, settings: Settings, schedule: RoundScheduleName, isFirstOrder: false,
        reference: "Xie et al., ZO-DARTS (ICASSP 2023), official code HikariX/ZO-DARTS_PP; no NAS-Bench-201 number could be read.");

    /// <summary>ZO-DARTS+: ZO-DARTS with sparsemax(α/τ), τ = 1.5·0.9^⌊t/5⌋ (the NAS-Bench-201 script).</summary>
    public static MethodPreset ZoDartsPlus { get; } = new("zo-darts+",
        "ZO-DARTS+: ZO-DARTS with sparsemax(α/τ) mixing and τ_t = 1.5·0.9^⌊t/5⌋ (NAS-Bench-201 script; the MedMNIST runs use the activation 'sparsemax-medmnist', γ = 0.75), otherwise as zo-darts.",
        ZeroOrderDarts.OptimizerName, settings: Settings, activation: SparsemaxActivation.ActivationName, schedule: RoundScheduleName, isFirstOrder: false,
        reference: "ZO-DARTS+ (arXiv 2405.03462, ESANN 2024), official code HikariX/ZO-DARTS_PP (ZO-DARTS_SPARSE_anneal.py); no NAS-Bench-201 number could be read.");

    /// <summary>Both presets.</summary>
    public static IReadOnlyList<MethodPreset> All { get; } = [ZoDarts, ZoDartsPlus];

    /// <summary>
    /// Adds the optimizer <c>zo-darts</c>, the activations <c>sparsemax</c> (γ = 0.9) and <c>sparsemax-medmnist</c> (γ = 0.75), the
    /// schedule <c>every-10-steps</c> and the presets <c>zo-darts</c>, <c>zo-darts+</c> (alias <c>zo-darts-plus</c>).
    /// </summary>
    public static NasFlatnessRegistry AddZeroOrderMethods(this NasFlatnessRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.Optimizers.Add(ZeroOrderDarts.OptimizerName, _ => new ZeroOrderDarts(), "ZO-DARTS zeroth-order hypergradient (clean shadow network)",
            SupernetFeatures.BatchStatisticsOnly);
        registry.Activations
            .Add(SparsemaxActivation.ActivationName, _ => new SparsemaxActivation(), "sparsemax(α/τ), τ = 1.5·0.9^⌊t/5⌋ (ZO-DARTS+ NAS-Bench-201)")
            .Add(SparsemaxActivation.MedMnistActivationName, _ => SparsemaxActivation.MedMnist(), "sparsemax(α/τ), τ = 1.5·0.75^⌊t/5⌋ (ZO-DARTS+ MedMNIST)");
        registry.Schedules.Add(RoundScheduleName, _ => new EveryKStepsSchedule(RoundSteps), "update α once per round of 10 weight steps (ZO-DARTS)");
        foreach (var preset in All) registry.Presets.Add(preset);
        registry.Presets.AddAlias("zo-darts-plus", ZoDartsPlus.Name).AddAlias("zodarts", ZoDarts.Name).AddAlias("zodarts+", ZoDartsPlus.Name);
        return registry;
    }
}
