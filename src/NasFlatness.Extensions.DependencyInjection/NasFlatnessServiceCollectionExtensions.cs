using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NasFlatness;
using NasFlatness.Extensions.DependencyInjection;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers NasFlatness with a service collection.</summary>
public static class NasFlatnessServiceCollectionExtensions
{
    /// <summary>Registers the search space, the architecture optimizer and a <see cref="SearchRunner"/> with default options.</summary>
    public static IServiceCollection AddNasFlatness(this IServiceCollection services) => services.AddNasFlatness(_ => { });

    /// <summary>Registers NasFlatness with options set by <paramref name="configure"/>; they are validated at start.</summary>
    public static IServiceCollection AddNasFlatness(this IServiceCollection services, Action<NasFlatnessOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<NasFlatnessOptions>().Configure(configure).ValidateOnStart();
        return services.AddCore();
    }

    /// <summary>Registers NasFlatness with options bound from <paramref name="configuration"/> (e.g. the <c>NasFlatness</c> section); they are validated at start.</summary>
    public static IServiceCollection AddNasFlatness(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<NasFlatnessOptions>().Bind(configuration).ValidateOnStart();
        return services.AddCore();
    }

    private static IServiceCollection AddCore(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NasFlatnessOptions>, NasFlatnessOptionsValidator>());
        services.TryAddSingleton<ISearchSpace>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<NasFlatnessOptions>>().Value;
            return o.SearchSpace switch
            {
                Nb201SearchSpace.SpaceName => new Nb201SearchSpace(o.Nb201.WithPartialChannels(Preset(o))),
                DartsSearchSpace.SpaceName => new DartsSearchSpace(o.Darts.WithPartialChannels(Preset(o))),
                _ => throw new InvalidOperationException($"Unknown search space '{o.SearchSpace}'."),
            };
        });
        services.TryAddSingleton<IArchitectureOptimizer>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<NasFlatnessOptions>>().Value;
            if (Preset(o) is { } preset) return preset.CreateOptimizer();
            return o.Optimizer switch
            {
                "darts-1st" => new DartsFirstOrder(),
                "darts-2nd" => new DartsSecondOrder(),
                _ => throw new InvalidOperationException($"Unknown optimizer '{o.Optimizer}'."),
            };
        });
        services.TryAddTransient(sp =>
        {
            var o = sp.GetRequiredService<IOptions<NasFlatnessOptions>>().Value;
            var space = sp.GetRequiredService<ISearchSpace>();
            var preset = Preset(o);
            var regularizers = sp.GetServices<IFlatnessRegularizer>().ToList();
            if (preset is not null) regularizers.AddRange(preset.CreateRegularizers(space.Name, sp.GetService<ILoggerFactory>()));
            return new SearchRunner(
                space,
                sp.GetRequiredService<IArchitectureOptimizer>(),
                regularizers,
                preset?.Apply(o.Search) ?? o.Search,
                sp.GetService<ILogger<SearchRunner>>());
        });
        return services;
    }

    private static MethodPreset? Preset(NasFlatnessOptions options) =>
        options.Method is null ? null : MethodPresets.Get(options.Method);
}

