using Microsoft.Extensions.Logging;
using NasFlatness.Search;

namespace NasFlatness.Optimizers;

/// <summary>
/// The built-in method presets: "darts", "darts-2nd", "pc-darts", "pc-darts-a2m-repo", "beta-darts", "na-darts",
/// and "darts+a2m", "pc-darts+a2m", "pc-darts-a2m-repo+a2m", "beta-darts+a2m". Lookup ignores case, spaces and
/// underscores and accepts "β"/"A²M" spellings and the aliases "darts-1st", "darts-v1", "darts-v2", "pcdarts", …
/// The same presets are in every registry built with <see cref="BuiltInMethods.AddBuiltInMethods"/>.
/// </summary>
public static class MethodPresets
{
    /// <summary>DARTS first order with the DARTS defaults; final genotype from the last epoch.</summary>
    public static MethodPreset Darts { get; } = new("darts",
        "DARTS first order (DARTS code defaults: batch 64, w-lr 0.025 → 0.001, α-Adam 3e-4), genotype of the last epoch.",
        DartsFirstOrder.OptimizerName, settings: new PresetSearchSettings { Selection = SelectionRule.LastEpoch },
        reference: "Liu et al., DARTS (ICLR 2019); NAS-Bench-201 reports 54.30 % CIFAR-10 (collapse to skip connections).");

    /// <summary>DARTS second order (unrolled); A²M cannot be added.</summary>
    public static MethodPreset DartsSecondOrder { get; } = new("darts-2nd",
        "DARTS second order (unrolled, finite-difference Hessian-vector product), DARTS defaults, genotype of the last epoch.",
        Optimizers.DartsSecondOrder.OptimizerName, settings: new PresetSearchSettings { Selection = SelectionRule.LastEpoch }, isFirstOrder: false,
        reference: "Liu et al., DARTS (ICLR 2019); NAS-Bench-201 reports 54.30 % CIFAR-10.");

    /// <summary>Official PC-DARTS: per-edge partial channels (K = 4) with edge normalisation, batch 256, w-lr 0.1 → 0,
    /// α-lr 6e-4, 15 warm-up epochs, last epoch.</summary>
    public static MethodPreset PcDarts { get; } = new("pc-darts",
        "PC-DARTS (official code): per-edge partial channels K = 4, edge normalisation, batch 256, w-lr 0.1 → 0, α-Adam 6e-4, 15 warm-up epochs, genotype of the last epoch.",
        DartsFirstOrder.OptimizerName,
        settings: new PresetSearchSettings
        {
            BatchSize = 256, WeightLearningRate = 0.1, WeightLearningRateMin = 0.0, ArchitectureLearningRate = 6e-4, WarmupEpochs = 15,
            Selection = SelectionRule.LastEpoch,
        },
        supernetVariant: SupernetFeatures.PartialChannels,
        reference: "Xu et al., PC-DARTS (ICLR 2020); 93.41 ± 0.30 % NAS-Bench-201 CIFAR-10 as quoted by β-DARTS.");

    /// <summary>The PC-DARTS the A²M numbers were produced with (NAS-Bench-201: per-cell partial channels K = 4, no edge
    /// normalisation, no warm-up, DARTS defaults, best supernet validation loss with patience 10).</summary>
    public static MethodPreset PcDartsA2MRepo { get; } = new("pc-darts-a2m-repo",
        "PC-DARTS as in the A²M repository (NAS-Bench-201: per-cell partial channels K = 4, no edge normalisation, no warm-up, batch 64, w-lr 0.025 → 0.001, α-Adam 3e-4), selection by best supernet validation loss (patience 10) as in that code.",
        DartsFirstOrder.OptimizerName,
        settings: new PresetSearchSettings { WarmupEpochs = 0, Selection = SelectionRule.BestSupernetValidationLoss, SelectionPatience = 10 },
        supernetVariant: SupernetFeatures.PerCellPartialChannels,
        reference: "The A²M repository's PC-DARTS baseline (arXiv 2503.10404).");

    /// <summary>β-DARTS: DARTS first order plus β-decay (λ_t = 0.5·t), last epoch.</summary>
    public static MethodPreset BetaDarts { get; } = new("beta-darts",
        "β-DARTS: DARTS first order with β-decay regularisation λ_t = 0.5·t (β-DARTS code), DARTS defaults, genotype of the last epoch.",
        DartsFirstOrder.OptimizerName, [BetaDecayRegularizer.RegularizerName], new PresetSearchSettings { Selection = SelectionRule.LastEpoch },
        reference: "Ye et al., β-DARTS (CVPR 2022); 94.36 ± 0.00 % NAS-Bench-201 CIFAR-10.");

    /// <summary>NA-DARTS (our reconstruction, K = 4 neighbours at radius 1 per step), DARTS defaults, last epoch.</summary>
    public static MethodPreset NaDarts { get; } = new("na-darts",
        "NA-DARTS (reconstruction: mean validation loss over α and 4 logit-swap neighbours at radius 1), DARTS defaults, genotype of the last epoch.",
        NaDartsOptimizer.OptimizerName, settings: new PresetSearchSettings { Selection = SelectionRule.LastEpoch },
        reference: "Wang, Cao, Li, Kitani, Neighborhood-Aware Neural Architecture Search (NA-DARTS; arXiv 2105.06369, BMVC 2021); reconstruction, no public code.");

    /// <summary>DARTS + A²M.</summary>
    public static MethodPreset DartsA2M { get; } = Darts.WithA2M();

    /// <summary>PC-DARTS (official) + A²M: α and β perturbed jointly, no A²M during warm-up (no α updates then) [R].</summary>
    public static MethodPreset PcDartsA2M { get; } = PcDarts.WithA2M();

    /// <summary>The A²M repository's PC-DARTS + A²M (what the A²M PC-DARTS numbers were produced with).</summary>
    public static MethodPreset PcDartsA2MRepoA2M { get; } = PcDartsA2MRepo.WithA2M();

    /// <summary>β-DARTS + A²M: the β-decay term inside all four A²M passes.</summary>
    public static MethodPreset BetaDartsA2M { get; } = BetaDarts.WithA2M();

    /// <summary>Every preset, in a stable order.</summary>
    public static IReadOnlyList<MethodPreset> All { get; } =
        [Darts, DartsSecondOrder, PcDarts, PcDartsA2MRepo, BetaDarts, NaDarts, DartsA2M, PcDartsA2M, PcDartsA2MRepoA2M, BetaDartsA2M];

    /// <summary>The names of all presets.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(p => p.Name).ToArray();

    /// <summary>Finds a preset by name.</summary>
    /// <param name="name">A preset name (see <see cref="Names"/>).</param>
    /// <param name="preset">The preset, or null.</param>
    public static bool TryGet(string? name, out MethodPreset? preset) => Registry.Presets.TryGet(name, out preset);

    /// <summary>Finds a preset by name.</summary>
    /// <param name="name">A preset name (see <see cref="Names"/>).</param>
    /// <exception cref="ArgumentException">Unknown name (the message lists the known ones), or a combination that is not
    /// defined (A²M with DARTS second order).</exception>
    public static MethodPreset Get(string name)
    {
        if (TryGet(name, out var preset)) return preset!;
        var key = name is null ? "" : PresetCatalog.Normalize(name);
        if (key.Contains("a2m", StringComparison.Ordinal) && key.Replace("+a2m", "", StringComparison.Ordinal) is var host && TryGet(host, out var h)
            && FirstOrderRule.Violation(A2MRegularizer.RegularizerName, requiresFirstOrder: true, h!.Optimizer, h.IsFirstOrder) is { } violation)
            throw new ArgumentException($"'{name}' is not a valid method: {violation} Use 'darts+a2m'.", nameof(name));
        return Registry.Presets.Get(name!);
    }

    /// <summary>Aliases of the built-in presets (alias, preset name).</summary>
    internal static IReadOnlyList<(string Alias, string Name)> Aliases { get; } =
    [
        ("darts-1st", "darts"), ("darts-v1", "darts"), ("darts1", "darts"),
        ("darts-v2", "darts-2nd"), ("darts2", "darts-2nd"), ("darts-second-order", "darts-2nd"), ("dartssecondorder", "darts-2nd"),
        ("pcdarts", "pc-darts"), ("betadarts", "beta-darts"), ("nadarts", "na-darts"),
    ];

    // Last: it reads All and Aliases.
    /// <summary>The built-in methods' registry (optimizers, regularizers, presets), used by the parameterless
    /// <c>CreateOptimizer()</c> / <c>CreateRegularizers()</c>.</summary>
    internal static NasFlatnessRegistry Registry { get; } = new NasFlatnessRegistry().AddBuiltInMethods();
}

/// <summary>Built-in presets' helpers that need the built-in optimizers and regularizers.</summary>
public static class MethodPresetExtensions
{
    /// <summary>Creates a new instance of the preset's architecture optimizer (from the built-in methods).</summary>
    public static IArchitectureOptimizer CreateOptimizer(this MethodPreset preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        return preset.CreateOptimizer(MethodPresets.Registry);
    }

    /// <summary>Creates new instances of the preset's regularizers (from the built-in methods), in composition order.</summary>
    /// <param name="preset">The preset.</param>
    /// <param name="spaceName">The search space name; picks A²M's ρ (1e-1 for the DARTS space, 1e-2 otherwise, see <see cref="A2MOptions.ForSpace"/>).</param>
    /// <param name="loggerFactory">Gives A²M a logger for ‖g‖, ‖g̃‖ (Debug level); none by default.</param>
    public static IReadOnlyList<IFlatnessRegularizer> CreateRegularizers(this MethodPreset preset, string? spaceName = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(preset);
        return preset.CreateRegularizers(MethodPresets.Registry, new ComponentContext { SpaceName = spaceName, Services = loggerFactory is null ? null : new LoggerOnly(loggerFactory) });
    }

    /// <summary>The same method with A²M added (and its selection rule: best supernet validation loss, patience 10).</summary>
    /// <exception cref="InvalidOperationException">The optimizer is not first order (DARTS second order), or A²M is already on.</exception>
    public static MethodPreset WithA2M(this MethodPreset preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        if (preset.Uses(A2MRegularizer.RegularizerName)) throw new InvalidOperationException($"The preset '{preset.Name}' already uses A²M.");
        return preset.WithRegularizer(A2MRegularizer.RegularizerName, "a2m",
            "With A²M (ρ = 1e-2 on NAS-Bench-201, 1e-1 in the DARTS space; ε = 1e-2) and the A²M code's selection rule (best supernet validation loss, patience 10).",
            new PresetSearchSettings { Selection = SelectionRule.BestSupernetValidationLoss, SelectionPatience = 10 }, requiresFirstOrder: true);
    }

    extension(MethodPreset preset)
    {
        /// <summary>Whether the preset uses the A²M regularizer.</summary>
        public bool UsesA2M => preset.Uses(A2MRegularizer.RegularizerName);

        /// <summary>Whether the preset uses the β-DARTS β-decay regularizer.</summary>
        public bool UsesBetaDecay => preset.Uses(BetaDecayRegularizer.RegularizerName);
    }

    private sealed class LoggerOnly(ILoggerFactory factory) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(ILoggerFactory) ? factory : null;
    }
}

/// <summary>Adds the built-in architecture optimizers, regularizers and method presets to a <see cref="NasFlatnessRegistry"/>.</summary>
public static class BuiltInMethods
{
    /// <summary>
    /// Adds the optimizers <c>darts-1st</c>, <c>darts-2nd</c>, <c>na-darts</c>, the regularizers <c>beta-decay</c> and
    /// <c>a2m</c> (ρ picked for the space, see <see cref="A2MOptions.ForSpace"/>), and every preset of <see cref="MethodPresets"/>.
    /// </summary>
    public static NasFlatnessRegistry AddBuiltInMethods(this NasFlatnessRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.Optimizers
            .Add(DartsFirstOrder.OptimizerName, _ => new DartsFirstOrder(), "DARTS first order")
            .Add(DartsSecondOrder.OptimizerName, _ => new DartsSecondOrder(), "DARTS second order (unrolled)")
            .Add(NaDartsOptimizer.OptimizerName, _ => new NaDartsOptimizer(), "NA-DARTS (reconstruction)");
        registry.Regularizers
            .Add(BetaDecayRegularizer.RegularizerName, _ => new BetaDecayRegularizer(), "β-DARTS β-decay, λ_t = 0.5·t")
            .Add(A2MRegularizer.RegularizerName, c => new A2MRegularizer(A2MOptions.ForSpace(c.SpaceName), c.LoggerFactory?.CreateLogger<A2MRegularizer>()),
                "A²M: architecture gradient at a perturbed α (ρ 1e-2 NAS-Bench-201, 1e-1 DARTS)");
        foreach (var preset in MethodPresets.All) registry.Presets.Add(preset);
        foreach (var (alias, name) in MethodPresets.Aliases) registry.Presets.AddAlias(alias, name);
        registry.AddConstrainedMethods();
        registry.AddZeroOrderMethods();
        registry.AddZeroOrderPlusPlusMethods();
        return registry;
    }
}
