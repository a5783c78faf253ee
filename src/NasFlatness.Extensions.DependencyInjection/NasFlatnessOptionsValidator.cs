using Microsoft.Extensions.Options;

namespace NasFlatness.Extensions.DependencyInjection;

/// <summary>Validates <see cref="NasFlatnessOptions"/> against the registry; every failure names the field (e.g. <c>Search:Epochs</c>).</summary>
internal sealed class NasFlatnessOptionsValidator(NasFlatnessRegistry registry) : IValidateOptions<NasFlatnessOptions>
{
    public ValidateOptionsResult Validate(string? name, NasFlatnessOptions options)
    {
        var failures = new List<string>(registry.Validate(options.ToComposition()));
        if (options.Search is null) failures.Add("Search is missing.");
        else failures.AddRange(options.Search.Validate().Select(e => "Search:" + e));
        if (options.Darts is null) failures.Add("Darts is missing.");
        else failures.AddRange(options.Darts.Validate().Select(e => "Darts:" + e));
        if (options.Nb201 is null) failures.Add("Nb201 is missing.");
        else failures.AddRange(options.Nb201.Validate().Select(e => "Nb201:" + e));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
