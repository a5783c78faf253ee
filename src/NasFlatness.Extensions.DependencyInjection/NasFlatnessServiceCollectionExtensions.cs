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
    public static INasFlatnessBuilder AddNasFlatness(this IServiceCollection services) => services.AddNasFlatness(_ => { });

    /// <summary>
    /// Registers NasFlatness with options set by <paramref name="configure"/>; they are validated at start. With a
    /// <see cref="NasFlatnessOptions.Method"/> preset, a search option you set to a value other than its default wins over
    /// the preset's setting (docs/configuration.md).
    /// </summary>
    public static INasFlatnessBuilder AddNasFlatness(this IServiceCollection services, Action<NasFlatnessOptions> configure)
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
    public static INasFlatnessBuilder AddNasFlatness(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<NasFlatnessOptions>().Bind(configuration).ValidateOnStart();
        services.AddSingleton(new NasFlatnessConfigurationBinding(configuration));
        return services.AddCore();
    }

    private static INasFlatnessBuilder AddCore(this IServiceCollection services)
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
        // A new runner (fresh stateful components) per resolution; the container disposes it and the components it owns.
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
            // The combined runner takes over the components the registry created; the container disposes it (a transient IDisposable).
            return runner.TransferOwnershipTo(new SearchRunner(runner.SearchSpace, runner.Optimizer, [.. runner.Regularizers, .. extra], searchOptions, sp.GetService<ILogger<SearchRunner>>())
            {
                Activation = runner.Activation,
                Schedule = runner.Schedule,
                Observers = observers,
            });
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

/// <summary>Returned by <c>AddNasFlatness</c>: the service collection NasFlatness was added to, for the registration
/// extensions of <see cref="NasFlatnessBuilderExtensions"/> (as <c>IHttpClientBuilder</c> is for HTTP clients).</summary>
public interface INasFlatnessBuilder
{
    /// <summary>The service collection.</summary>
    IServiceCollection Services { get; }
}

internal sealed class NasFlatnessBuilder(IServiceCollection services) : INasFlatnessBuilder
{
    public IServiceCollection Services { get; } = services;
}

/// <summary>
/// Registers your own search spaces, optimizers, regularizers, activations, schedules and presets by name, so configuration
/// selects them like the built-ins. Types are created with <see cref="ActivatorUtilities"/>, so their constructors may take
/// services (e.g. <c>IOptions&lt;MySpaceOptions&gt;</c>).
/// </summary>
/// <example>
/// <code>
/// services.AddNasFlatness(configuration.GetSection("NasFlatness"))   // { "SearchSpace": "tiny", "Regularizers": ["my-reg"] }
///         .AddSearchSpace&lt;TinySpace&gt;("tiny")
///         .AddRegularizer&lt;MyRegularizer&gt;("my-reg");
/// </code>
/// </example>
public static class NasFlatnessBuilderExtensions
{
    /// <summary>Registers a change to the registry (any kind of component, a preset, an alias).</summary>
    public static INasFlatnessBuilder ConfigureRegistry(this INasFlatnessBuilder builder, Action<NasFlatnessRegistry, IServiceProvider> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddSingleton(new NasFlatnessRegistration(configure));
        return builder;
    }

    /// <summary>Registers search space <typeparamref name="T"/> under <paramref name="name"/>.</summary>
    public static INasFlatnessBuilder AddSearchSpace<T>(this INasFlatnessBuilder builder, string name) where T : class, ISearchSpace =>
        builder.ConfigureRegistry((r, sp) => r.SearchSpaces.Add(name, _ => ActivatorUtilities.CreateInstance<T>(sp)));

    /// <summary>Registers architecture optimizer <typeparamref name="T"/> under <paramref name="name"/>.</summary>
    public static INasFlatnessBuilder AddOptimizer<T>(this INasFlatnessBuilder builder, string name) where T : class, IArchitectureOptimizer =>
        builder.ConfigureRegistry((r, sp) => r.Optimizers.Add(name, _ => ActivatorUtilities.CreateInstance<T>(sp)));

    /// <summary>Registers flatness regularizer <typeparamref name="T"/> under <paramref name="name"/>.</summary>
    public static INasFlatnessBuilder AddRegularizer<T>(this INasFlatnessBuilder builder, string name) where T : class, IFlatnessRegularizer =>
        builder.ConfigureRegistry((r, sp) => r.Regularizers.Add(name, _ => ActivatorUtilities.CreateInstance<T>(sp)));

    /// <summary>Registers activation <typeparamref name="T"/> under <paramref name="name"/>.</summary>
    public static INasFlatnessBuilder AddActivation<T>(this INasFlatnessBuilder builder, string name) where T : class, IArchitectureActivation =>
        builder.ConfigureRegistry((r, sp) => r.Activations.Add(name, _ => ActivatorUtilities.CreateInstance<T>(sp)));

    /// <summary>Registers update schedule <typeparamref name="T"/> under <paramref name="name"/>.</summary>
    public static INasFlatnessBuilder AddSchedule<T>(this INasFlatnessBuilder builder, string name) where T : class, IArchitectureUpdateSchedule =>
        builder.ConfigureRegistry((r, sp) => r.Schedules.Add(name, _ => ActivatorUtilities.CreateInstance<T>(sp)));

    /// <summary>Registers a method preset (its components are looked up by name when a runner is built).</summary>
    public static INasFlatnessBuilder AddPreset(this INasFlatnessBuilder builder, MethodPreset preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        return builder.ConfigureRegistry((r, _) => r.Presets.Add(preset));
    }

    /// <summary>Registers an observer of every search's steps (e.g. a custom logger or a metric recorder).</summary>
    public static INasFlatnessBuilder AddObserver<T>(this INasFlatnessBuilder builder) where T : class, ISearchObserver
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<ISearchObserver, T>();
        return builder;
    }
}
