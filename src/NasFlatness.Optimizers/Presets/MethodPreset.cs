using Microsoft.Extensions.Logging;
using NasFlatness.Search;

namespace NasFlatness.Optimizers;

/// <summary>
/// A named search method: the architecture optimizer, the flatness regularizers (loss-shaping β-decay first, then A²M),
/// the supernet variant (<see cref="PartialChannels"/>) and the <see cref="SearchOptions"/> the method's paper or code used
/// (<see cref="Settings"/>). Get one from <see cref="MethodPresets"/>.
/// </summary>
/// <example>
/// <code>
/// var preset = MethodPresets.Get("beta-darts+a2m");
/// var runner = new SearchRunner(space, preset.CreateOptimizer(), preset.CreateRegularizers(space.Name), preset.Apply(options));
/// </code>
/// </example>
public sealed class MethodPreset
{
    private readonly Func<IArchitectureOptimizer> _optimizer;

    internal MethodPreset(string name, string description, Func<IArchitectureOptimizer> optimizer, bool isFirstOrder,
        bool betaDecay, bool a2m, PartialChannelVariant? partialChannels, PresetSearchSettings settings)
    {
        Name = name;
        Description = description;
        _optimizer = optimizer;
        IsFirstOrder = isFirstOrder;
        UsesBetaDecay = betaDecay;
        UsesA2M = a2m;
        PartialChannels = partialChannels;
        Settings = settings;
    }

    /// <summary>The lookup name, e.g. "beta-darts+a2m".</summary>
    public string Name { get; }

    /// <summary>One line saying what the preset is and where its settings come from.</summary>
    public string Description { get; }

    /// <summary>Whether the preset's optimizer is first order (A²M can only be added then).</summary>
    public bool IsFirstOrder { get; }

    /// <summary>Whether the β-DARTS β-decay regularizer is used.</summary>
    public bool UsesBetaDecay { get; }

    /// <summary>Whether the A²M regularizer is used.</summary>
    public bool UsesA2M { get; }

    /// <summary>The partial-channel supernet the method needs; null for the plain supernet.</summary>
    public PartialChannelVariant? PartialChannels { get; }

    /// <summary>The search options the method fixes (batch size, learning rates, warm-up, selection rule).</summary>
    public PresetSearchSettings Settings { get; }

    /// <summary>Creates a new architecture optimizer instance.</summary>
    public IArchitectureOptimizer CreateOptimizer() => _optimizer();

    /// <summary>Creates new regularizer instances, in composition order (β-decay, then A²M).</summary>
    /// <param name="spaceName">The search space name; picks A²M's ρ (1e-1 for the DARTS space, 1e-2 otherwise, see <see cref="A2MOptions.ForSpace"/>).</param>
    /// <param name="loggerFactory">Gives A²M a logger for ‖g‖, ‖g̃‖ (Debug level); none by default.</param>
    public IReadOnlyList<IFlatnessRegularizer> CreateRegularizers(string? spaceName = null, ILoggerFactory? loggerFactory = null)
    {
        var list = new List<IFlatnessRegularizer>();
        if (UsesBetaDecay) list.Add(new BetaDecayRegularizer());
        if (UsesA2M) list.Add(new A2MRegularizer(A2MOptions.ForSpace(spaceName), loggerFactory?.CreateLogger<A2MRegularizer>()));
        return list;
    }

    /// <summary>Returns a copy of <paramref name="options"/> (or of the defaults) with <see cref="Settings"/> applied.</summary>
    /// <param name="options">The caller's options; not modified.</param>
    public SearchOptions Apply(SearchOptions? options = null) => Settings.ApplyTo(options ?? new SearchOptions());

    /// <summary>The same method with A²M added (and its selection rule: best supernet validation loss, patience 10).</summary>
    /// <exception cref="InvalidOperationException">The optimizer is not first order (DARTS second order), or A²M is already on.</exception>
    public MethodPreset WithA2M()
    {
        if (!IsFirstOrder)
            throw new InvalidOperationException(
                $"A²M cannot be combined with '{Name}': A²M takes the architecture gradient at a perturbed α through a first-order gradient, and the A²M authors define it only with first-order DARTS (their code ignores --unrolled when A²M is on). Use 'darts+a2m'.");
        if (UsesA2M) throw new InvalidOperationException($"The preset '{Name}' already uses A²M.");
        return new MethodPreset(Name + "+a2m", Description + " With A²M (ρ = 1e-2 on NAS-Bench-201, 1e-1 in the DARTS space; ε = 1e-2) and the A²M code's selection rule (best supernet validation loss, patience 10).",
            _optimizer, IsFirstOrder, UsesBetaDecay, true, PartialChannels,
            Settings.With(new PresetSearchSettings { Selection = SelectionRule.BestSupernetValidationLoss, SelectionPatience = 10 }));
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
