using System.Collections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NasFlatness;
using NasFlatness.Extensions.DependencyInjection;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers NasFlatness with a service collection.</summary>
public static class NasFlatnessServiceCollectionExtensions
{
    /// <summary>Registers the registry (built-ins plus your registrations), the search space, the architecture optimizer and a <see cref="SearchRunner"/> with default options.</summary>
    public static NasFlatnessBuilder AddNasFlatness(this IServiceCollection services) => services.AddNasFlatness(_ => { });

    /// <summary>
    /// Registers NasFlatness with options set by <paramref name="configure"/>; they are validated at start. With a
    /// <see cref="NasFlatnessOptions.Method"/> preset, a search option you set to a value other than its default wins over
    /// the preset's setting (docs/configuration.md).
    /// </summary>
    public static NasFlatnessBuilder AddNasFlatness(this IServiceCollection services, Action<NasFlatnessOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<NasFlatnessOptions>().Configure(configure).ValidateOnStart();
        services.AddSingleton(new NasFlatnessConfigurationBinding(null));
        return services.AddCore();
    }

    /// <summary>
    /// Registers NasFlatness with options bound from <paramref name="configuration"/> (e.g. the <c>NasFlatness</c> section);
    /// they are validated at start: a key that is no NasFlatness setting (a typo such as <c>Optimiser</c>) fails naming the
    /// closest valid key; a search option present in the section wins over the <see cref="NasFlatnessOptions.Method"/>
    /// preset's setting; every message names the configuration path (<c>NasFlatness:Search:Epochs</c>). See docs/configuration.md.
    /// </summary>
    public static NasFlatnessBuilder AddNasFlatness(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<NasFlatnessOptions>().Bind(configuration).ValidateOnStart();
        services.AddSingleton(new NasFlatnessConfigurationBinding(configuration));
        return services.AddCore();
    }

    private static NasFlatnessBuilder AddCore(this IServiceCollection services)
    {
        services.TryAddSingleton(sp =>
        {
            var registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces().AddBuiltInMethods();
            foreach (var registration in sp.GetServices<NasFlatnessRegistration>()) registration.Apply(registry, sp);
            return registry;
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NasFlatnessOptions>, NasFlatnessOptionsValidator>());
        services.TryAddTransient(sp => sp.GetRequiredService<IOptions<NasFlatnessOptions>>().Value.Nb201);
        services.TryAddTransient(sp => sp.GetRequiredService<IOptions<NasFlatnessOptions>>().Value.Darts);
        services.TryAddTransient(sp => sp.GetRequiredService<IOptions<NasFlatnessOptions>>().Value.ZoDartsPlusPlus);
        services.TryAddSingleton<ISearchSpace>(sp => sp.GetRequiredService<SearchRunner>().SearchSpace);
        services.TryAddSingleton<IArchitectureOptimizer>(sp => sp.GetRequiredService<SearchRunner>().Optimizer);
        // A new runner (with new optimizer, regularizer and schedule instances) per resolution: stateful components never leak between searches.
        services.TryAddTransient(sp =>
        {
            var o = sp.GetRequiredService<IOptions<NasFlatnessOptions>>().Value;
            var registry = sp.GetRequiredService<NasFlatnessRegistry>();
            var composition = o.ToComposition();
            var preset = composition.Method is not null && registry.Presets.TryGet(composition.Method, out var p) ? p : null;
            var binding = sp.GetServices<NasFlatnessConfigurationBinding>().LastOrDefault() ?? new NasFlatnessConfigurationBinding(null);
            // The user's explicit search options win over the preset's settings (docs/configuration.md).
            var searchOptions = SearchOptionsResolution.Resolve(o.Search, preset, binding.ExplicitSearchOptions(o.Search));
            var runner = registry.CreateRunner(composition, searchOptions, sp, sp.GetService<ILogger<SearchRunner>>());
            var extra = sp.GetServices<IFlatnessRegularizer>().ToArray();
            var observers = sp.GetServices<ISearchObserver>().ToArray();
            if (extra.Length == 0 && observers.Length == 0 && SameOptions(runner.Options, searchOptions)) return runner;
            return new SearchRunner(runner.SearchSpace, runner.Optimizer, [.. runner.Regularizers, .. extra], searchOptions, sp.GetService<ILogger<SearchRunner>>())
            {
                Activation = runner.Activation,
                Schedule = runner.Schedule,
                Observers = observers,
            };
        });
        return new NasFlatnessBuilder(services);
    }

    private static bool SameOptions(SearchOptions a, SearchOptions b) =>
        typeof(SearchOptions).GetProperties().All(p => Equals(p.GetValue(a), p.GetValue(b)));
}

/// <summary>A user registration applied to the <see cref="NasFlatnessRegistry"/> when it is built.</summary>
internal sealed class NasFlatnessRegistration(Action<NasFlatnessRegistry, IServiceProvider> apply)
{
    public void Apply(NasFlatnessRegistry registry, IServiceProvider services) => apply(registry, services);
}

/// <summary>
/// Returned by <c>AddNasFlatness</c>: registers your own search spaces, optimizers, regularizers, activations, schedules
/// and presets by name, so configuration selects them like the built-ins. Types are created with
/// <see cref="ActivatorUtilities"/>, so their constructors may take services (e.g. <c>IOptions&lt;MySpaceOptions&gt;</c>).
/// It is also the service collection itself, so calls chain on (e.g. <c>.BuildServiceProvider()</c>).
/// </summary>
/// <example>
/// <code>
/// services.AddNasFlatness(configuration.GetSection("NasFlatness"))   // { "SearchSpace": "tiny", "Regularizers": ["my-reg"] }
///         .AddSearchSpace&lt;TinySpace&gt;("tiny")
///         .AddRegularizer&lt;MyRegularizer&gt;("my-reg");
/// </code>
/// </example>
public sealed class NasFlatnessBuilder : IServiceCollection
{
    internal NasFlatnessBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Registers a change to the registry (any kind of component, a preset, an alias).</summary>
    public NasFlatnessBuilder ConfigureRegistry(Action<NasFlatnessRegistry, IServiceProvider> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.AddSingleton(new NasFlatnessRegistration(configure));
        return this;
    }

    /// <summary>Registers search space <typeparamref name="T"/> under <paramref name="name"/>.</summary>
    public NasFlatnessBuilder AddSearchSpace<T>(string name) where T : class, ISearchSpace =>
        ConfigureRegistry((r, sp) => r.SearchSpaces.Add(name, _ => ActivatorUtilities.CreateInstance<T>(sp)));

    /// <summary>Registers architecture optimizer <typeparamref name="T"/> under <paramref name="name"/>.</summary>
    public NasFlatnessBuilder AddOptimizer<T>(string name) where T : class, IArchitectureOptimizer =>
        ConfigureRegistry((r, sp) => r.Optimizers.Add(name, _ => ActivatorUtilities.CreateInstance<T>(sp)));

    /// <summary>Registers flatness regularizer <typeparamref name="T"/> under <paramref name="name"/>.</summary>
    public NasFlatnessBuilder AddRegularizer<T>(string name) where T : class, IFlatnessRegularizer =>
        ConfigureRegistry((r, sp) => r.Regularizers.Add(name, _ => ActivatorUtilities.CreateInstance<T>(sp)));

    /// <summary>Registers activation <typeparamref name="T"/> under <paramref name="name"/>.</summary>
    public NasFlatnessBuilder AddActivation<T>(string name) where T : class, IArchitectureActivation =>
        ConfigureRegistry((r, sp) => r.Activations.Add(name, _ => ActivatorUtilities.CreateInstance<T>(sp)));

    /// <summary>Registers update schedule <typeparamref name="T"/> under <paramref name="name"/>.</summary>
    public NasFlatnessBuilder AddSchedule<T>(string name) where T : class, IArchitectureUpdateSchedule =>
        ConfigureRegistry((r, sp) => r.Schedules.Add(name, _ => ActivatorUtilities.CreateInstance<T>(sp)));

    /// <summary>Registers a method preset (its components are looked up by name when a runner is built).</summary>
    public NasFlatnessBuilder AddPreset(MethodPreset preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        return ConfigureRegistry((r, _) => r.Presets.Add(preset));
    }

    /// <summary>Registers an observer of every search's steps (e.g. a custom logger or a metric recorder).</summary>
    public NasFlatnessBuilder AddObserver<T>() where T : class, ISearchObserver
    {
        Services.AddSingleton<ISearchObserver, T>();
        return this;
    }

    /// <inheritdoc />
    public ServiceDescriptor this[int index] { get => Services[index]; set => Services[index] = value; }

    /// <inheritdoc />
    public int Count => Services.Count;

    /// <inheritdoc />
    public bool IsReadOnly => Services.IsReadOnly;

    /// <inheritdoc />
    public void Add(ServiceDescriptor item) => Services.Add(item);

    /// <inheritdoc />
    public void Clear() => Services.Clear();

    /// <inheritdoc />
    public bool Contains(ServiceDescriptor item) => Services.Contains(item);

    /// <inheritdoc />
    public void CopyTo(ServiceDescriptor[] array, int arrayIndex) => Services.CopyTo(array, arrayIndex);

    /// <inheritdoc />
    public IEnumerator<ServiceDescriptor> GetEnumerator() => Services.GetEnumerator();

    /// <inheritdoc />
    public int IndexOf(ServiceDescriptor item) => Services.IndexOf(item);

    /// <inheritdoc />
    public void Insert(int index, ServiceDescriptor item) => Services.Insert(index, item);

    /// <inheritdoc />
    public bool Remove(ServiceDescriptor item) => Services.Remove(item);

    /// <inheritdoc />
    public void RemoveAt(int index) => Services.RemoveAt(index);

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
