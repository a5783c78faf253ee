namespace NasFlatness.Search;

/// <summary>
/// A named search method: which architecture optimizer, flatness regularizers, activation and update schedule it
/// composes (by their registry names, see <see cref="NasFlatnessRegistry"/>), the supernet variant it needs
/// (<see cref="SupernetVariant"/>) and the <see cref="SearchOptions"/> its paper or code used (<see cref="Settings"/>).
/// Presets are plain data: a user's preset is one constructor call, registered with
/// <see cref="NasFlatnessRegistry.Presets"/>. The built-in presets are in <c>NasFlatness.Optimizers.MethodPresets</c>.
/// </summary>
/// <example>
/// <code>
/// var preset = new MethodPreset("my-darts", "DARTS with my regularizer", optimizer: "darts-1st",
///     regularizers: ["my-regularizer"], settings: new PresetSearchSettings { BatchSize = 96 });
/// registry.Presets.Add(preset);
/// </code>
/// </example>
public sealed class MethodPreset
{
    /// <summary>Creates a preset.</summary>
    /// <param name="name">The lookup name, e.g. "beta-darts+a2m".</param>
    /// <param name="description">One line saying what the preset is and where its settings come from.</param>
    /// <param name="optimizer">Registry name of the architecture optimizer.</param>
    /// <param name="regularizers">Registry names of the regularizers, in composition order.</param>
    /// <param name="settings">The search options the method fixes; null fixes none.</param>
    /// <param name="activation">Registry name of the activation; null leaves the search's (softmax by default).</param>
    /// <param name="schedule">Registry name of the update schedule; null leaves the search's (every step by default).</param>
    /// <param name="isFirstOrder">Whether the optimizer is first order (gradient-owning regularizers such as A²M need that).</param>
    /// <param name="reference">The paper or code whose protocol the preset reproduces, and its number where there is one.</param>
    /// <param name="supernetVariant">The supernet features the method needs (see <see cref="SupernetVariant"/>); none for the plain supernet.</param>
    public MethodPreset(string name, string description, string optimizer, IEnumerable<string>? regularizers = null,
        PresetSearchSettings? settings = null, string? activation = null, string? schedule = null, bool isFirstOrder = true,
        string? reference = null, SupernetFeatures supernetVariant = SupernetFeatures.None)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(description);
        ArgumentException.ThrowIfNullOrWhiteSpace(optimizer);
        Name = name;
        Description = description;
        Optimizer = optimizer;
        Regularizers = regularizers?.ToArray() ?? [];
        if (Regularizers.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("A regularizer name is empty.", nameof(regularizers));
        Settings = settings ?? new PresetSearchSettings();
        SupernetVariant = supernetVariant;
        Activation = activation;
        Schedule = schedule;
        IsFirstOrder = isFirstOrder;
        Reference = reference;
    }

    /// <summary>The lookup name, e.g. "beta-darts+a2m".</summary>
    public string Name { get; }

    /// <summary>One line saying what the preset is and where its settings come from.</summary>
    public string Description { get; }

    /// <summary>Registry name of the architecture optimizer.</summary>
    public string Optimizer { get; }

    /// <summary>Registry names of the regularizers, in composition order.</summary>
    public IReadOnlyList<string> Regularizers { get; }

    /// <summary>Registry name of the activation, or null for the search's own.</summary>
    public string? Activation { get; }

    /// <summary>Registry name of the update schedule, or null for the search's own.</summary>
    public string? Schedule { get; }

    /// <summary>Whether the preset's optimizer is first order (A²M can only be added then).</summary>
    public bool IsFirstOrder { get; }

    /// <summary>
    /// The supernet features the method needs (e.g. <see cref="SupernetFeatures.PartialChannels"/>): the registry refuses a space
    /// that does not offer them (<see cref="NasFlatnessRegistry.Validate"/>) and passes them to the space factory
    /// (<see cref="ComponentContext.SupernetVariant"/>), which applies them to the space's options.
    /// </summary>
    public SupernetFeatures SupernetVariant { get; }

    /// <summary>The search options the method fixes (batch size, learning rates, warm-up, selection rule).</summary>
    public PresetSearchSettings Settings { get; }

    /// <summary>The paper or code whose protocol the preset reproduces, and its reported number where one exists.</summary>
    public string? Reference { get; }

    /// <summary>Whether the preset composes the regularizer named <paramref name="regularizer"/>.</summary>
    public bool Uses(string regularizer) => Regularizers.Contains(regularizer, StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates the architecture optimizer through <paramref name="registry"/>.</summary>
    public IArchitectureOptimizer CreateOptimizer(NasFlatnessRegistry registry, ComponentContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry.Optimizers.Create(Optimizer, context);
    }

    /// <summary>Creates new regularizer instances through <paramref name="registry"/>, in composition order.</summary>
    public IReadOnlyList<IFlatnessRegularizer> CreateRegularizers(NasFlatnessRegistry registry, ComponentContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return Regularizers.Select(r => registry.Regularizers.Create(r, context)).ToArray();
    }

    /// <summary>Returns a copy of <paramref name="options"/> (or of the defaults) with <see cref="Settings"/> applied.</summary>
    /// <param name="options">The caller's options; not modified.</param>
    public SearchOptions Apply(SearchOptions? options = null) => Settings.ApplyTo(options ?? new SearchOptions());

    /// <summary>
    /// The same method with one more regularizer: name <c>{Name}+{suffix}</c>, the description extended, and
    /// <paramref name="settings"/> applied over <see cref="Settings"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The preset already uses the regularizer, or it needs a first-order optimizer and this preset's is not.</exception>
    public MethodPreset WithRegularizer(string regularizer, string suffix, string description, PresetSearchSettings? settings = null, bool requiresFirstOrder = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(regularizer);
        if (Uses(regularizer)) throw new InvalidOperationException($"The preset '{Name}' already uses '{regularizer}'.");
        if (FirstOrderRule.Violation(regularizer, requiresFirstOrder, Optimizer, IsFirstOrder) is { } violation)
            throw new InvalidOperationException($"The preset '{Name}': {violation}");
        return new MethodPreset(Name + "+" + suffix, Description + " " + description, Optimizer, [.. Regularizers, regularizer],
            settings is null ? Settings : Settings.With(settings), Activation, Schedule, IsFirstOrder, Reference, SupernetVariant);
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
