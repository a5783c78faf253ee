using System.Collections;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using NasFlatness.Search;

namespace NasFlatness.Extensions.DependencyInjection;

/// <summary>
/// Where <see cref="NasFlatnessOptions"/> came from: the configuration section they were bound from (so start-up errors
/// name the path the user wrote, unknown keys are found, and explicitly set search options are known), or code.
/// </summary>
internal sealed class NasFlatnessConfigurationBinding(IConfiguration? configuration)
{
    /// <summary>The bound section, or null for options set in code.</summary>
    public IConfiguration? Configuration { get; } = configuration;

    /// <summary>The prefix of error messages: the section's path and a colon (<c>NasFlatness:</c>), or empty.</summary>
    public string Prefix => Configuration is IConfigurationSection { Path: { Length: > 0 } path } ? path + ":" : "";

    /// <summary>
    /// Every key under the section that no property of <see cref="NasFlatnessOptions"/> (recursively, case-insensitive)
    /// takes, each with the closest valid name.
    /// </summary>
    public IReadOnlyList<string> UnknownKeys()
    {
        var errors = new List<string>();
        if (Configuration is not null) Walk(Configuration, typeof(NasFlatnessOptions), errors);
        return errors;
    }

    private static void Walk(IConfiguration section, Type type, List<string> errors)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite || IsComplex(p.PropertyType)).ToArray();
        foreach (var child in section.GetChildren())
        {
            var property = properties.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                var closest = properties.MinBy(p => ErrorText.EditDistance(p.Name.ToLowerInvariant(), child.Key.ToLowerInvariant()));
                errors.Add($"{child.Path} is not a NasFlatness setting" +
                           (closest is null ? "." : $"; did you mean '{ParentPath(child)}{closest.Name}'?") +
                           $" Valid keys here: {string.Join(", ", properties.Select(p => p.Name))}.");
                continue;
            }
            if (IsComplex(property.PropertyType)) Walk(child, property.PropertyType, errors);
        }
    }

    private static string ParentPath(IConfigurationSection child)
    {
        int at = child.Path.LastIndexOf(':');
        return at < 0 ? "" : child.Path[..(at + 1)];
    }

    private static bool IsComplex(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return !type.IsPrimitive && !type.IsEnum && type != typeof(string) && type != typeof(decimal) && !typeof(IEnumerable).IsAssignableFrom(type) && type.IsClass;
    }

    /// <summary>The <see cref="SearchOptions"/> properties the user set: keys under <c>Search</c> (configuration), or values that differ from the defaults (code).</summary>
    public IReadOnlySet<string> ExplicitSearchOptions(SearchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var props = typeof(SearchOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToArray();
        var set = new HashSet<string>(StringComparer.Ordinal);
        if (Configuration is not null)
        {
            var search = Configuration.GetChildren().FirstOrDefault(c => string.Equals(c.Key, nameof(NasFlatnessOptions.Search), StringComparison.OrdinalIgnoreCase));
            if (search is null) return set;
            foreach (var child in search.GetChildren())
            {
                var p = props.FirstOrDefault(x => string.Equals(x.Name, child.Key, StringComparison.OrdinalIgnoreCase));
                if (p is not null && child.Value is not null) set.Add(p.Name);
            }
            return set;
        }
        var defaults = new SearchOptions();
        foreach (var p in props)
        {
            if (!Equals(p.GetValue(options), p.GetValue(defaults))) set.Add(p.Name);
        }
        return set;
    }
}

/// <summary>Resolves the search options a runner uses: the user's, the preset's settings over them, and the user's explicit values over those.</summary>
internal static class SearchOptionsResolution
{
    /// <summary>
    /// <paramref name="options"/> with <paramref name="preset"/>'s settings applied, except that every property in
    /// <paramref name="explicitProperties"/> keeps the user's value (an explicit value wins over the preset).
    /// </summary>
    public static SearchOptions Resolve(SearchOptions options, MethodPreset? preset, IReadOnlySet<string> explicitProperties)
    {
        if (preset is null) return options.Clone();
        var resolved = preset.Apply(options);
        foreach (var name in explicitProperties)
        {
            var p = typeof(SearchOptions).GetProperty(name)!;
            p.SetValue(resolved, p.GetValue(options));
        }
        return resolved;
    }

    /// <summary>Drops messages about a field that only fail because another field they refer to is itself invalid (e.g. WarmupEpochs ≤ Epochs when Epochs is invalid).</summary>
    public static IEnumerable<string> WithoutKnockOns(IReadOnlyList<string> errors)
    {
        var invalid = errors.Select(Field).Where(f => f.Length > 0).ToHashSet(StringComparer.Ordinal);
        foreach (var e in errors)
        {
            var field = Field(e);
            int at = e.IndexOf(" is invalid", StringComparison.Ordinal);
            var tail = at < 0 ? "" : e[at..];
            if (invalid.Any(other => other != field && ContainsWord(tail, other))) continue;
            yield return e;
        }
    }

    private static string Field(string error)
    {
        int at = error.IndexOf(" = ", StringComparison.Ordinal);
        return at < 0 ? "" : error[..at];
    }

    private static bool ContainsWord(string text, string word)
    {
        int i = 0;
        while ((i = text.IndexOf(word, i, StringComparison.Ordinal)) >= 0)
        {
            bool before = i == 0 || !char.IsLetterOrDigit(text[i - 1]);
            bool after = i + word.Length >= text.Length || !char.IsLetterOrDigit(text[i + word.Length]);
            if (before && after) return true;
            i += word.Length;
        }
        return false;
    }
}
