using System.Globalization;

namespace NasFlatness;

/// <summary>
/// A search component (architecture optimizer, regularizer, activation, update schedule or observer) that declares the
/// settings a resumed search must share with the run that wrote the checkpoint, e.g. a regularizer's λ or ρ. The runner
/// records them in every checkpoint and refuses a resume whose component declares other values, naming each differing
/// setting — so a resumed run never silently mixes two configurations. Built-in components with options declare theirs.
/// </summary>
/// <remarks>
/// Values are compared as text: format numbers with <see cref="SearchComponentSettings.Of"/> (invariant culture,
/// round-trip), so 0.1 written and 0.1 read compare equal. Declare only what changes the search's result; a setting that
/// only changes logging need not be listed. The component is identified by its name (see docs/extending.md).
/// </remarks>
public interface ISearchComponentSettings
{
    /// <summary>Setting name → value as text; the same for two components that search identically.</summary>
    IReadOnlyDictionary<string, string> Settings { get; }
}

/// <summary>Builds the settings of an <see cref="ISearchComponentSettings"/> with one formatting rule.</summary>
public static class SearchComponentSettings
{
    /// <summary>
    /// The settings <paramref name="settings"/> as name → text: numbers in invariant culture with round-trip precision
    /// (<c>R</c>), booleans as <c>true</c>/<c>false</c>, null as <c>none</c>, anything else by <see cref="object.ToString"/>.
    /// </summary>
    /// <param name="settings">Name and value pairs; names must be distinct.</param>
    /// <exception cref="ArgumentException">Two settings share a name.</exception>
    public static IReadOnlyDictionary<string, string> Of(params (string Name, object? Value)[] settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in settings)
        {
            ArgumentException.ThrowIfNullOrEmpty(name, nameof(settings));
            if (!result.TryAdd(name, Format(value))) throw new ArgumentException($"Two settings are named '{name}'.", nameof(settings));
        }
        return result;
    }

    private static string Format(object? value) => value switch
    {
        null => "none",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
