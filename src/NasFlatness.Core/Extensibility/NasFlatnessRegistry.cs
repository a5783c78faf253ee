using Microsoft.Extensions.Logging;
using NasFlatness.Search;
using NasFlatness.Genotypes;

namespace NasFlatness;

/// <summary>
/// What a component factory of a <see cref="NasFlatnessRegistry"/> gets: the search space the component is for, the
/// supernet variant a preset asks for, and (with dependency injection) the service provider.
/// </summary>
public sealed record ComponentContext
{
    /// <summary>Name of the search space being searched (e.g. to pick A²M's ρ), if known.</summary>
    public string? SpaceName { get; init; }

    /// <summary>The supernet features a method preset asks for (<see cref="MethodPreset.SupernetVariant"/>); search-space factories apply them.</summary>
    public SupernetFeatures SupernetVariant { get; init; }

    /// <summary>
    /// Whether a component of the composition needs a supernet whose search-cell BatchNorms use batch statistics only (no running
    /// statistics; declared at registration with <see cref="SupernetFeatures.BatchStatisticsOnly"/>); search-space factories apply it.
    /// </summary>
    public bool BatchStatisticsOnly { get; init; }

    /// <summary>The application's services (null outside dependency injection).</summary>
    public IServiceProvider? Services { get; init; }

    /// <summary>The service of type <typeparamref name="T"/>, or null (also when there is no service provider).</summary>
    public T? GetService<T>() where T : class => Services?.GetService(typeof(T)) as T;

    /// <summary>The application's logger factory, or null.</summary>
    public ILoggerFactory? LoggerFactory => GetService<ILoggerFactory>();
}

/// <summary>A name-keyed catalog of factories of one kind of search component. Names compare case-insensitively.</summary>
/// <typeparam name="T">The component type.</typeparam>
public sealed class ComponentCatalog<T> where T : class
{
    private readonly Dictionary<string, (Func<ComponentContext, T> Factory, string? Description, SupernetFeatures Features)> _entries = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _order = [];
    private readonly string _kind;

    internal ComponentCatalog(string kind) => _kind = kind;

    /// <summary>The registered names, in registration order.</summary>
    public IReadOnlyList<string> Names => _order;

    /// <summary>Registers <paramref name="factory"/> under <paramref name="name"/>; a later registration of the same name replaces it.</summary>
    /// <param name="name">The name users select it by (configuration, command line, presets).</param>
    /// <param name="factory">Creates a new instance (or returns a shared one for a stateless component).</param>
    /// <param name="description">One line for help texts.</param>
    /// <param name="features">For a search space, the supernet features it offers; for any other component, the features it needs (see <see cref="SupernetFeatures"/>).</param>
    public ComponentCatalog<T> Add(string name, Func<ComponentContext, T> factory, string? description = null, SupernetFeatures features = SupernetFeatures.None)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        if (!_entries.ContainsKey(name)) _order.Add(name);
        _entries[name] = (factory, description, features);
        return this;
    }

    /// <summary>The supernet features declared with the component registered as <paramref name="name"/> (none for an unknown name).</summary>
    public SupernetFeatures Features(string? name) => name is not null && _entries.TryGetValue(name, out var e) ? e.Features : SupernetFeatures.None;

    /// <summary>Whether <paramref name="name"/> is registered.</summary>
    public bool Contains(string? name) => name is not null && _entries.ContainsKey(name);

    /// <summary>The description given at registration, or null.</summary>
    public string? Describe(string name) => _entries.TryGetValue(name, out var e) ? e.Description : null;

    /// <summary>Creates the component registered as <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No such name (the message lists the known ones).</exception>
    public T Create(string name, ComponentContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_entries.TryGetValue(name, out var entry))
            throw new ArgumentException($"Unknown {_kind} '{Genotypes.GenotypeFormats.Abbreviate(name)}'. Known: {KnownNames()}.", nameof(name));
        return entry.Factory(context ?? new ComponentContext()) ?? throw new InvalidOperationException($"The factory of {_kind} '{name}' returned null.");
    }

    /// <summary>The known names as one comma-separated string (for messages).</summary>
    public string KnownNames() => _order.Count == 0 ? "(none registered)" : string.Join(", ", _order);
}

/// <summary>The method presets of a <see cref="NasFlatnessRegistry"/>, by name and alias. Lookup ignores case, spaces and underscores.</summary>
public sealed class PresetCatalog
{
    private readonly Dictionary<string, MethodPreset> _presets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _aliases = new(StringComparer.Ordinal);
    private readonly List<MethodPreset> _order = [];

    internal PresetCatalog()
    {
    }

    /// <summary>Every preset, in registration order.</summary>
    public IReadOnlyList<MethodPreset> All => _order;

    /// <summary>The names of all presets.</summary>
    public IReadOnlyList<string> Names => _order.Select(p => p.Name).ToArray();

    /// <summary>Registers <paramref name="preset"/>; a later preset of the same name replaces it.</summary>
    public PresetCatalog Add(MethodPreset preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        var key = Normalize(preset.Name);
        if (_presets.TryGetValue(key, out var old)) _order.Remove(old);
        _presets[key] = preset;
        _order.Add(preset);
        return this;
    }

    /// <summary>Makes <paramref name="alias"/> another name of the preset <paramref name="name"/>.</summary>
    public PresetCatalog AddAlias(string alias, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(alias);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _aliases[Normalize(alias)] = Normalize(name);
        return this;
    }

    /// <summary>Finds a preset by name or alias.</summary>
    public bool TryGet(string? name, out MethodPreset? preset)
    {
        preset = null;
        if (string.IsNullOrWhiteSpace(name)) return false;
        var key = Normalize(name);
        if (_aliases.TryGetValue(key, out var target)) key = target;
        return _presets.TryGetValue(key, out preset);
    }

    /// <summary>Finds a preset by name or alias.</summary>
    /// <exception cref="ArgumentException">Unknown name (the message lists the known ones).</exception>
    public MethodPreset Get(string name) =>
        TryGet(name, out var preset) ? preset! : throw new ArgumentException(
            $"Unknown method preset '{Genotypes.GenotypeFormats.Abbreviate(name ?? "")}'. Known presets: {string.Join(", ", Names)}.", nameof(name));

    /// <summary>The lookup key: lower case, no spaces, '_' as '-', and "β" / "A²M" spelt "beta" / "a2m".</summary>
    public static string Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant()
            .Replace("β", "beta", StringComparison.Ordinal)
            .Replace("²", "2", StringComparison.Ordinal)
            .Replace('_', '-')
            .Replace(" ", "", StringComparison.Ordinal);
    }
}

/// <summary>What to search with, by registry names: the input of <see cref="NasFlatnessRegistry.CreateRunner"/>.</summary>
public sealed record SearchComposition
{
    /// <summary>The search space name.</summary>
    /// <value>Default <c>nas-bench-201</c>.</value>
    public string SearchSpace { get; init; } = SpaceNames.Nb201;

    /// <summary>A method preset name; null composes from <see cref="Optimizer"/> and <see cref="Regularizers"/> alone.</summary>
    public string? Method { get; init; }

    /// <summary>The architecture optimizer; null takes the preset's, or <c>darts-1st</c> without a preset. Naming another optimizer than the preset's is an error.</summary>
    public string? Optimizer { get; init; }

    /// <summary>Regularizers added after the preset's.</summary>
    public IReadOnlyList<string> Regularizers { get; init; } = [];

    /// <summary>The activation; null takes the preset's, or softmax.</summary>
    public string? Activation { get; init; }

    /// <summary>The update schedule; null takes the preset's, or every step.</summary>
    public string? Schedule { get; init; }
}

/// <summary>
/// The name-keyed registry of everything a search is composed of: search spaces, architecture optimizers, flatness
/// regularizers, activations, update schedules and method presets. Built-ins are added by the packages that hold
/// them (<c>AddBuiltInSearchSpaces()</c> in NasFlatness.SearchSpaces, <c>AddBuiltInMethods()</c> in
/// NasFlatness.Optimizers); users add their own the same way. Dependency injection (<c>AddNasFlatness</c>), the
/// samples and the presets all resolve names through one.
/// </summary>
/// <example>
/// <code>
/// var registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces().AddBuiltInMethods();
/// registry.Regularizers.Add("my-regularizer", _ => new MyRegularizer());
/// var runner = registry.CreateRunner(new SearchComposition { Method = "darts", Regularizers = ["my-regularizer"] }, options);
/// </code>
/// </example>
public sealed class NasFlatnessRegistry
{
    /// <summary>Creates a registry holding the core components: the <c>softmax</c> activation and the <c>every-step</c> schedule.</summary>
    public NasFlatnessRegistry()
    {
        Activations.Add(SoftmaxActivation.ActivationName, _ => SoftmaxActivation.Instance, "softmax(α) per edge (DARTS)");
        Schedules.Add(EveryStepSchedule.ScheduleName, _ => EveryStepSchedule.Instance, "update α on every step (DARTS)");
    }

    /// <summary>Search spaces by name.</summary>
    public ComponentCatalog<ISearchSpace> SearchSpaces { get; } = new("search space");

    /// <summary>Architecture optimizers by name.</summary>
    public ComponentCatalog<IArchitectureOptimizer> Optimizers { get; } = new("optimizer");

    /// <summary>Flatness regularizers by name.</summary>
    public ComponentCatalog<IFlatnessRegularizer> Regularizers { get; } = new("regularizer");

    /// <summary>Architecture activations by name.</summary>
    public ComponentCatalog<IArchitectureActivation> Activations { get; } = new("activation");

    /// <summary>Architecture-update schedules by name.</summary>
    public ComponentCatalog<IArchitectureUpdateSchedule> Schedules { get; } = new("schedule");

    /// <summary>Method presets by name.</summary>
    public PresetCatalog Presets { get; } = new();

    /// <summary>
    /// Every problem with <paramref name="composition"/> (unknown names, an optimizer that contradicts the preset),
    /// each naming the field; empty when it can be built. Nothing is created.
    /// </summary>
    public IReadOnlyList<string> Validate(SearchComposition composition)
    {
        ArgumentNullException.ThrowIfNull(composition);
        var errors = new List<string>();
        void Known<T>(ComponentCatalog<T> catalog, string? name, string field) where T : class
        {
            if (name is not null && !catalog.Contains(name))
                errors.Add($"{field} = '{ErrorText.Echo(name, 120)}' is invalid{DidYouMean(name, catalog.Names)}: expected one of {catalog.KnownNames()}.");
        }
        Known(SearchSpaces, composition.SearchSpace, nameof(SearchComposition.SearchSpace));
        MethodPreset? preset = null;
        if (composition.Method is not null && !Presets.TryGet(composition.Method, out preset))
            errors.Add($"Method = '{ErrorText.Echo(composition.Method, 120)}' is invalid{DidYouMean(composition.Method, Presets.Names)}: expected one of {string.Join(", ", Presets.Names)}.");
        Known(Optimizers, composition.Optimizer, nameof(SearchComposition.Optimizer));
        if (preset is not null && composition.Optimizer is not null && !string.Equals(composition.Optimizer, preset.Optimizer, StringComparison.OrdinalIgnoreCase))
            errors.Add($"Optimizer = '{composition.Optimizer}' contradicts Method = '{composition.Method}', which uses '{preset.Optimizer}': set one of them.");
        foreach (var r in composition.Regularizers) Known(Regularizers, r, nameof(SearchComposition.Regularizers));
        Known(Activations, composition.Activation, nameof(SearchComposition.Activation));
        Known(Schedules, composition.Schedule, nameof(SearchComposition.Schedule));
        if (preset is not null)
        {
            Known(Optimizers, preset.Optimizer, $"Method '{preset.Name}': optimizer");
            foreach (var r in preset.Regularizers) Known(Regularizers, r, $"Method '{preset.Name}': regularizer");
            Known(Activations, preset.Activation, $"Method '{preset.Name}': activation");
            Known(Schedules, preset.Schedule, $"Method '{preset.Name}': schedule");
        }
        if (errors.Count == 0) errors.AddRange(MissingFeatures(composition, preset));
        if (errors.Count == 0) errors.AddRange(FirstOrderProblems(composition, preset));
        return errors;
    }

    /// <summary>
    /// Regularizers that need a first-order optimizer (<see cref="IFlatnessRegularizer.RequiresFirstOrderOptimizer"/>) composed
    /// with one that is not — found by creating the optimizer and regularizers (not the space); components that cannot be
    /// created without services are left to <see cref="CreateRunner"/>.
    /// </summary>
    private IEnumerable<string> FirstOrderProblems(SearchComposition composition, MethodPreset? preset)
    {
        var (optimizerName, regularizerNames, _, _) = Resolve(composition, preset);
        if (regularizerNames.Length == 0) return [];
        var context = new ComponentContext { SupernetVariant = preset?.SupernetVariant ?? SupernetFeatures.None, SpaceName = composition.SearchSpace };
        try
        {
            if (Optimizers.Create(optimizerName, context).IsFirstOrder) return [];
            return regularizerNames.Where(r => Regularizers.Create(r, context).RequiresFirstOrderOptimizer).Select(r =>
                $"{nameof(SearchComposition.Regularizers)} = '{r}' needs a first-order optimizer (it evaluates the architecture gradient at perturbed α), " +
                $"but {nameof(SearchComposition.Optimizer)} = '{optimizerName}'{(composition.Optimizer is null && preset is not null ? $" (of Method = '{preset.Name}')" : "")} is not first order.").ToArray();
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or NotSupportedException)
        {
            return []; // a component that needs services: CreateRunner checks the composition when it builds it
        }
    }

    private static string DidYouMean(string name, IEnumerable<string> known) => ErrorText.Closest(name, known) is { } closest ? $" (did you mean '{closest}'?)" : "";

    private static (string Optimizer, string[] Regularizers, string Activation, string Schedule) Resolve(SearchComposition composition, MethodPreset? preset) => (
        composition.Optimizer ?? preset?.Optimizer ?? "darts-1st",
        [.. (preset?.Regularizers ?? []).Concat(composition.Regularizers)],
        composition.Activation ?? preset?.Activation ?? SoftmaxActivation.ActivationName,
        composition.Schedule ?? preset?.Schedule ?? EveryStepSchedule.ScheduleName);

    /// <summary>What each component of the composition needs of the supernet, named for messages; the preset's supernet variant last.</summary>
    private List<(string What, SupernetFeatures Needs)> NeedsByComponent(SearchComposition composition, MethodPreset? preset)
    {
        var (optimizer, regularizers, activation, schedule) = Resolve(composition, preset);
        var who = new List<(string What, SupernetFeatures Needs)>
        {
            ($"optimizer '{optimizer}'", Optimizers.Features(optimizer)),
            ($"activation '{activation}'", Activations.Features(activation)),
            ($"schedule '{schedule}'", Schedules.Features(schedule)),
        };
        who.AddRange(regularizers.Select(r => ($"regularizer '{r}'", Regularizers.Features(r))));
        if (preset is not null) who.Add(($"method '{preset.Name}'", preset.SupernetVariant));
        return who;
    }

    /// <summary>One message per needed supernet feature the space does not offer (batch statistics are applied, not validated).</summary>
    private IEnumerable<string> MissingFeatures(SearchComposition composition, MethodPreset? preset)
    {
        var offered = SearchSpaces.Features(composition.SearchSpace) | SupernetFeatures.BatchStatisticsOnly;
        foreach (var (what, needs) in NeedsByComponent(composition, preset))
        {
            var missing = needs & ~offered;
            if (missing != SupernetFeatures.None)
                yield return $"{nameof(SearchComposition.SearchSpace)} = '{composition.SearchSpace}' cannot be searched with {what}: it needs a supernet with {missing}, " +
                             $"which '{composition.SearchSpace}' does not offer (it offers {(offered & ~SupernetFeatures.BatchStatisticsOnly) switch { SupernetFeatures.None => "none of these", var f => f.ToString() }}).";
        }
    }

    /// <summary>
    /// Builds a <see cref="SearchRunner"/> from names: the space (with the preset's supernet variant), the optimizer and
    /// regularizers (the preset's, then <see cref="SearchComposition.Regularizers"/>), the activation and schedule, and
    /// <paramref name="options"/> with the preset's settings applied. The runner owns the components created here: disposing it
    /// disposes the disposable ones (e.g. ZO-DARTS's shadow network).
    /// </summary>
    /// <exception cref="ArgumentException">The composition is invalid (every problem is named).</exception>
    public SearchRunner CreateRunner(SearchComposition composition, SearchOptions? options = null, IServiceProvider? services = null, ILogger<SearchRunner>? logger = null)
    {
        var errors = Validate(composition);
        if (errors.Count > 0) throw new ArgumentException("Invalid search composition: " + string.Join(" ", errors), nameof(composition));
        var preset = composition.Method is null ? null : Presets.Get(composition.Method);
        var (optimizerName, regularizerNames, activationName, scheduleName) = Resolve(composition, preset);
        var context = new ComponentContext
        {
            Services = services, SupernetVariant = preset?.SupernetVariant ?? SupernetFeatures.None,
            BatchStatisticsOnly = NeedsByComponent(composition, preset).Any(c => c.Needs.HasFlag(SupernetFeatures.BatchStatisticsOnly)),
        };
        var space = SearchSpaces.Create(composition.SearchSpace, context);
        context = context with { SpaceName = space.Name };
        var optimizer = Optimizers.Create(optimizerName, context);
        var regularizers = regularizerNames.Select(r => Regularizers.Create(r, context)).ToArray();
        var activation = Activations.Create(activationName, context);
        var schedule = Schedules.Create(scheduleName, context);
        return new SearchRunner(space, optimizer, regularizers, preset?.Apply(options) ?? options, logger)
        {
            Activation = activation,
            Schedule = schedule,
        }.Own([space, optimizer, .. regularizers, activation, schedule]);
    }
}
