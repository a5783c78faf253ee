using Microsoft.Extensions.Options;
using NasFlatness.Search;
using NasFlatness.SearchSpaces;
using NasFlatness.SearchSpaces.Darts;

namespace NasFlatness.Extensions.DependencyInjection;

/// <summary>
/// Validates <see cref="NasFlatnessOptions"/> at start against the registry and the configuration they were bound from.
/// Every failure names the configuration path (e.g. <c>NasFlatness:Search:Epochs</c>); unknown keys name the closest valid
/// key; the search options are validated after the preset was applied (with the user's explicit values kept); a failure
/// that only follows from another (warm-up above an invalid epoch count) is not reported again.
/// </summary>
internal sealed class NasFlatnessOptionsValidator(NasFlatnessRegistry registry, IEnumerable<NasFlatnessConfigurationBinding> bindings) : IValidateOptions<NasFlatnessOptions>
{
    public ValidateOptionsResult Validate(string? name, NasFlatnessOptions options)
    {
        var binding = bindings.LastOrDefault() ?? new NasFlatnessConfigurationBinding(null);
        string prefix = binding.Prefix;
        var failures = new List<string>(binding.UnknownKeys());
        var compositionErrors = registry.Validate(options.ToComposition());
        failures.AddRange(compositionErrors.Select(e => prefix + e));
        MethodPreset? preset = compositionErrors.Count == 0 && options.Method is not null && registry.Presets.TryGet(options.Method, out var p) ? p : null;

        if (options.Search is null) failures.Add(prefix + "Search is missing.");
        else
        {
            var resolved = SearchOptionsResolution.Resolve(options.Search, preset, binding.ExplicitSearchOptions(options.Search));
            failures.AddRange(SearchOptionsResolution.WithoutKnockOns(resolved.Validate()).Select(e => prefix + "Search:" + e));
        }
        if (options.Darts is null) failures.Add(prefix + "Darts is missing.");
        else if (IsSpace(options, DartsSearchSpace.SpaceName))
        {
            try
            {
                failures.AddRange(SearchOptionsResolution.WithoutKnockOns(options.Darts.WithSupernetVariant(preset).Validate()).Select(e => prefix + "Darts:" + e));
            }
            catch (InvalidOperationException ex)
            {
                failures.Add($"{prefix}Method = '{options.Method}' cannot search {prefix}SearchSpace = 'darts': {ex.Message}");
            }
        }
        else failures.AddRange(SearchOptionsResolution.WithoutKnockOns(options.Darts.Validate()).Select(e => prefix + "Darts:" + e));
        if (options.Nb201 is null) failures.Add(prefix + "Nb201 is missing.");
        else
        {
            var nb201 = IsSpace(options, Nb201SearchSpaceName) ? options.Nb201.WithSupernetVariant(preset) : options.Nb201;
            failures.AddRange(SearchOptionsResolution.WithoutKnockOns(nb201.Validate()).Select(e => prefix + "Nb201:" + e));
        }
        if (options.ZoDartsPlusPlus is null) failures.Add(prefix + "ZoDartsPlusPlus is missing.");
        else failures.AddRange(SearchOptionsResolution.WithoutKnockOns(options.ZoDartsPlusPlus.Validate()).Select(e => prefix + "ZoDartsPlusPlus:" + e));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private const string Nb201SearchSpaceName = NasFlatness.SearchSpaces.Nb201.Nb201SearchSpace.SpaceName;

    private static bool IsSpace(NasFlatnessOptions options, string space) => string.Equals(options.SearchSpace, space, StringComparison.OrdinalIgnoreCase);
}
