using Microsoft.Extensions.Options;

namespace NasFlatness.Extensions.DependencyInjection;

/// <summary>Validates <see cref="NasFlatnessOptions"/>; every failure names the field (e.g. <c>NasFlatness:Search:Epochs</c>).</summary>
internal sealed class NasFlatnessOptionsValidator : IValidateOptions<NasFlatnessOptions>
{
    public ValidateOptionsResult Validate(string? name, NasFlatnessOptions options)
    {
        var failures = new List<string>();
        if (!NasFlatnessOptions.SearchSpaceNames.Contains(options.SearchSpace))
            failures.Add($"SearchSpace = '{options.SearchSpace}' is invalid: expected one of {string.Join(", ", NasFlatnessOptions.SearchSpaceNames)}.");
        if (!NasFlatnessOptions.OptimizerNames.Contains(options.Optimizer))
            failures.Add($"Optimizer = '{options.Optimizer}' is invalid: expected one of {string.Join(", ", NasFlatnessOptions.OptimizerNames)}.");
        if (options.Method is not null && !NasFlatness.Optimizers.MethodPresets.TryGet(options.Method, out _))
            failures.Add($"Method = '{options.Method}' is invalid: expected one of {string.Join(", ", NasFlatness.Optimizers.MethodPresets.Names)}.");
        if (options.Search is null) failures.Add("Search is missing.");
        else failures.AddRange(options.Search.Validate().Select(e => "Search:" + e));
        if (options.Darts is null) failures.Add("Darts is missing.");
        else failures.AddRange(options.Darts.Validate().Select(e => "Darts:" + e));
        if (options.Nb201 is null) failures.Add("Nb201 is missing.");
        else failures.AddRange(options.Nb201.Validate().Select(e => "Nb201:" + e));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
