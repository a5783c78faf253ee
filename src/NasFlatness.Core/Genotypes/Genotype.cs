using System.Text.Json.Serialization;

namespace NasFlatness.Genotypes;

/// <summary>
/// A discrete architecture: one operation per edge of a search space's cell(s).
/// Genotypes are immutable, compare by value and print in the community's text format
/// (<see cref="ToString"/>); each search space parses that format back.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "space")]
[JsonDerivedType(typeof(Nb201Genotype), "nas-bench-201")]
[JsonDerivedType(typeof(DartsGenotype), "darts")]
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
