using NasFlatness.Search;

namespace NasFlatness.Optimizers;

/// <summary>
/// The usual method combinations by name: "darts", "darts-2nd", "pc-darts", "pc-darts-a2m-repo", "beta-darts", "na-darts",
/// and "darts+a2m", "pc-darts+a2m", "pc-darts-a2m-repo+a2m", "beta-darts+a2m". Lookup ignores case, spaces and underscores
/// and accepts "β"/"A²M" spellings.
/// </summary>
public static class MethodPresets
{
    /// <summary>DARTS first order with the DARTS defaults; final genotype from the last epoch.</summary>
    public static MethodPreset Darts { get; } = new("darts",
        "DARTS first order (DARTS code defaults: batch 64, w-lr 0.025 → 0.001, α-Adam 3e-4), genotype of the last epoch.",
        () => new DartsFirstOrder(), true, false, false, null, new PresetSearchSettings { Selection = SelectionRule.LastEpoch });

    /// <summary>DARTS second order (unrolled); A²M cannot be added.</summary>
    public static MethodPreset DartsSecondOrder { get; } = new("darts-2nd",
        "DARTS second order (unrolled, finite-difference Hessian-vector product), DARTS defaults, genotype of the last epoch.",
        () => new DartsSecondOrder(), false, false, false, null, new PresetSearchSettings { Selection = SelectionRule.LastEpoch });

    /// <summary>Official PC-DARTS: per-edge partial channels (K = 4) with edge normalisation, batch 256, w-lr 0.1 → 0,
    /// α-lr 6e-4, 15 warm-up epochs, last epoch.</summary>
    public static MethodPreset PcDarts { get; } = new("pc-darts",
        "PC-DARTS (official code): per-edge partial channels K = 4, edge normalisation, batch 256, w-lr 0.1 → 0, α-Adam 6e-4, 15 warm-up epochs, genotype of the last epoch.",
        () => new DartsFirstOrder(), true, false, false, PartialChannelVariant.Official,
        new PresetSearchSettings
        {
            BatchSize = 256, WeightLearningRate = 0.1, WeightLearningRateMin = 0.0, ArchitectureLearningRate = 6e-4, WarmupEpochs = 15,
            Selection = SelectionRule.LastEpoch,
        });

    /// <summary>The PC-DARTS the A²M numbers were produced with (NAS-Bench-201: per-cell partial channels K = 4, no edge
    /// normalisation, no warm-up, DARTS defaults, best supernet validation loss with patience 10).</summary>
    public static MethodPreset PcDartsA2MRepo { get; } = new("pc-darts-a2m-repo",
        "PC-DARTS as in the A²M repository (NAS-Bench-201: per-cell partial channels K = 4, no edge normalisation, no warm-up, batch 64, w-lr 0.025 → 0.001, α-Adam 3e-4), selection by best supernet validation loss (patience 10) as in that code.",
        () => new DartsFirstOrder(), true, false, false, PartialChannelVariant.A2MRepository,
        new PresetSearchSettings { WarmupEpochs = 0, Selection = SelectionRule.BestSupernetValidationLoss, SelectionPatience = 10 });

    /// <summary>β-DARTS: DARTS first order plus β-decay (λ_t = 0.5·t), last epoch.</summary>
    public static MethodPreset BetaDarts { get; } = new("beta-darts",
        "β-DARTS: DARTS first order with β-decay regularisation λ_t = 0.5·t (β-DARTS code), DARTS defaults, genotype of the last epoch.",
        () => new DartsFirstOrder(), true, true, false, null, new PresetSearchSettings { Selection = SelectionRule.LastEpoch });

    /// <summary>NA-DARTS (our reconstruction, K = 4 neighbours at radius 1 per step), DARTS defaults, last epoch.</summary>
    public static MethodPreset NaDarts { get; } = new("na-darts",
        "NA-DARTS (reconstruction: mean validation loss over α and 4 logit-swap neighbours at radius 1), DARTS defaults, genotype of the last epoch.",
        () => new NaDartsOptimizer(), true, false, false, null, new PresetSearchSettings { Selection = SelectionRule.LastEpoch });

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
    public static bool TryGet(string? name, out MethodPreset? preset)
    {
        preset = null;
        if (string.IsNullOrWhiteSpace(name)) return false;
        var key = Normalize(name);
        preset = All.FirstOrDefault(p => p.Name == key);
        return preset is not null;
    }

    /// <summary>Finds a preset by name.</summary>
    /// <param name="name">A preset name (see <see cref="Names"/>).</param>
    /// <exception cref="ArgumentException">Unknown name (the message lists the known ones), or a combination that is not
    /// defined (A²M with DARTS second order).</exception>
    public static MethodPreset Get(string name)
    {
        if (TryGet(name, out var preset)) return preset!;
        var key = name is null ? "" : Normalize(name);
        if (key.Contains("a2m", StringComparison.Ordinal) && key.Replace("+a2m", "", StringComparison.Ordinal) is var host && TryGet(host, out var h) && !h!.IsFirstOrder)
            throw new ArgumentException(
                $"'{name}' is not a valid method: A²M needs a first-order optimizer and is not defined with '{h.Name}' (the A²M code ignores --unrolled when A²M is on). Use 'darts+a2m'.", nameof(name));
        throw new ArgumentException($"Unknown method preset '{name}'. Known presets: {string.Join(", ", Names)}.", nameof(name));
    }

    private static string Normalize(string name)
    {
        var s = name.Trim().ToLowerInvariant()
            .Replace("β", "beta", StringComparison.Ordinal)
            .Replace("a²m", "a2m", StringComparison.Ordinal)
            .Replace('_', '-')
            .Replace(" ", "", StringComparison.Ordinal);
        return s switch
        {
            "darts-1st" or "darts-v1" or "darts1" => "darts",
            "darts-v2" or "darts2" or "darts-second-order" or "dartssecondorder" => "darts-2nd",
            "pcdarts" => "pc-darts",
            "betadarts" => "beta-darts",
            "nadarts" => "na-darts",
            _ => s,
        };
    }
}
