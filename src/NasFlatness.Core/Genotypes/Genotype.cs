using System.Text.Json.Serialization;

namespace NasFlatness.Genotypes;

/// <summary>
/// A discrete architecture: one operation per edge of a search space's cell(s).
/// Genotypes are immutable, compare by value and print in the community's text format
/// (<see cref="ToString"/>); each search space parses that format back.
/// </summary>
/// <remarks>
/// JSON: a genotype of any space, built-in or a user's, serialises as <c>{"space": "…", "text": "…"}</c> (its
/// <see cref="SpaceName"/> and community text) and is read back through the parser registered for that space in
/// <see cref="GenotypeFormats"/>. Search spaces register themselves when a search runs; a user's genotype type can
/// also be registered directly with <see cref="GenotypeFormats.Register(string, Func{string, Genotype})"/>.
/// </remarks>
[JsonConverter(typeof(GenotypeJsonConverter))]
public abstract class Genotype : IEquatable<Genotype>
{
    /// <summary>Name of the search space this genotype belongs to.</summary>
    [JsonIgnore]
    public abstract string SpaceName { get; }

    /// <summary>The genotype in its community text format (e.g. a NAS-Bench-201 arch string).</summary>
    public abstract override string ToString();

    /// <inheritdoc />
    public abstract bool Equals(Genotype? other);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Genotype g && Equals(g);

    /// <inheritdoc />
    public abstract override int GetHashCode();

    /// <summary>Value equality.</summary>
    public static bool operator ==(Genotype? left, Genotype? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(Genotype? left, Genotype? right) => !(left == right);
}
