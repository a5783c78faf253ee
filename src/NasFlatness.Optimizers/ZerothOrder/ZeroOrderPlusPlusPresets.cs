using NasFlatness.Search;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;

namespace NasFlatness.Optimizers;

/// <summary>
/// The ZO-DARTS++ presets (docs/methods-zo.md, "ZO-DARTS++"): ZO-DARTS with sparsemax(α/τ), τ_t = 1.5·0.75^⌊t/5⌋ (activation
/// <c>sparsemax-medmnist</c>), rounds of 10 weight steps, α-Adam 1.5e-2, SGD 0.1 → 0.001, batch 256, genotype of the last epoch.
/// Search them in the space <c>nas-bench-201-varied</c> (its switch epoch, 20 by default, turns on the kernel and depth mixtures).
/// <c>zo-darts++</c> has no budget; <c>zo-darts++-small</c>, <c>-medium</c> and <c>-large</c> add the penalty
/// <c>λ_t·(relu(P − U) + relu(L − P))/1e6</c> with λ_t = 15/τ_t from the switch on, [L, U] the supernet's derived budget of that size.
/// For a budget of your own, add <see cref="Penalty(double, double)"/> to a runner.
/// </summary>
public static class ZeroOrderPlusPlusPresets
{
    /// <summary>The code's λ·τ (λ_t = 15/τ_t).</summary>
    public const double LambdaTimesTemperature = 15.0;

    /// <summary>Regularizer name of the small-budget penalty.</summary>
    public const string SmallPenaltyName = "zo-darts++-penalty-small";

    /// <summary>Regularizer name of the medium-budget penalty.</summary>
    public const string MediumPenaltyName = "zo-darts++-penalty-medium";

    /// <summary>Regularizer name of the large-budget penalty.</summary>
    public const string LargePenaltyName = "zo-darts++-penalty-large";

    private const string Reference = "ZO-DARTS++ (arXiv 2503.06092), official code HikariX/ZO-DARTS_PP (ZO-DARTS_SAMVR.py, search_model_ZO_SMEA.py); MedMNIST numbers could not be read.";

    /// <summary>ZO-DARTS++ without a budget: the size-variable search alone.</summary>
    public static MethodPreset ZoDartsPlusPlus { get; } = Create("zo-darts++", null, "no parameter budget");

    /// <summary>ZO-DARTS++ with the small budget [0, P20].</summary>
    public static MethodPreset Small { get; } = Create("zo-darts++-small", SmallPenaltyName, "small parameter budget [0, P20] of sampled architectures");

    /// <summary>ZO-DARTS++ with the medium budget [P40, P60].</summary>
    public static MethodPreset Medium { get; } = Create("zo-darts++-medium", MediumPenaltyName, "medium parameter budget [P40, P60] of sampled architectures");

    /// <summary>ZO-DARTS++ with the large budget [P80, max].</summary>
    public static MethodPreset Large { get; } = Create("zo-darts++-large", LargePenaltyName, "large parameter budget [P80, max] of sampled architectures");

    /// <summary>The four presets.</summary>
    public static IReadOnlyList<MethodPreset> All { get; } = [ZoDartsPlusPlus, Small, Medium, Large];

    private static MethodPreset Create(string name, string? penalty, string budget) => new(name,
        $"ZO-DARTS++ in the 'nas-bench-201-varied' space: ZO-DARTS with sparsemax(α/τ), τ = 1.5·0.75^⌊t/5⌋, kernel (7/5/3) and depth mixtures from the space's switch epoch, {budget}{(penalty is null ? "" : ", λ = 15/τ_t from the switch")}; batch 256, w-lr 0.1 → 0.001, α-Adam 1.5e-2, sampled final architecture.",
        ZeroOrderDarts.OptimizerName, penalty is null ? null : [penalty], ZeroOrderPresets.Settings, activation: SparsemaxActivation.MedMnistActivationName,
        schedule: ZeroOrderPresets.RoundScheduleName, isFirstOrder: false, reference: Reference);

    /// <summary>The ZO-DARTS++ penalty with the supernet's derived budget of <paramref name="size"/> (λ_t = 15/τ_t, from the switch epoch).</summary>
    public static ResourcePenaltyRegularizer Penalty(ParameterBudgetSize size) =>
        new(new ResourcePenaltyOptions { Budget = size, TemperatureScaledLambda = LambdaTimesTemperature, WaitForAllArchitectureTensors = true }, NameOf(size));

    /// <summary>The ZO-DARTS++ penalty with a budget [<paramref name="lower"/>, <paramref name="upper"/>] in parameters of your own (λ_t = 15/τ_t, from the switch epoch).</summary>
    /// <exception cref="ArgumentException">The budget is invalid.</exception>
    public static ResourcePenaltyRegularizer Penalty(double lower, double upper) =>
        new(new ResourcePenaltyOptions { Lower = lower, Upper = upper, TemperatureScaledLambda = LambdaTimesTemperature, WaitForAllArchitectureTensors = true }, "zo-darts++-penalty");

    private static string NameOf(ParameterBudgetSize size) => size switch
    {
        ParameterBudgetSize.Small => SmallPenaltyName,
        ParameterBudgetSize.Medium => MediumPenaltyName,
        _ => LargePenaltyName,
    };

    /// <summary>Adds the three penalties (regularizers <c>zo-darts++-penalty-small|medium|large</c>) and the four presets (aliases <c>zo-darts-plus-plus</c>, <c>zodarts++</c>).</summary>
    public static NasFlatnessRegistry AddZeroOrderPlusPlusMethods(this NasFlatnessRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        foreach (var size in Enum.GetValues<ParameterBudgetSize>())
            registry.Regularizers.Add(NameOf(size), _ => Penalty(size), $"ZO-DARTS++ parameter penalty, {size.ToString().ToLowerInvariant()} budget of the supernet, λ = 15/τ_t from the switch epoch",
                SupernetFeatures.ParameterBudgetModel);
        foreach (var preset in All) registry.Presets.Add(preset);
        registry.Presets.AddAlias("zo-darts-plus-plus", ZoDartsPlusPlus.Name).AddAlias("zodarts++", ZoDartsPlusPlus.Name);
        return registry;
    }
}
