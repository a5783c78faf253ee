using NasFlatness.Genotypes;

namespace NasFlatness.CustomSpace;

/// <summary>
/// A genotype of the tiny space: one operation per edge of a 3-node cell (edges 1←0, 2←0, 2←1), printed as
/// <c>tiny[conv_3x3,skip_connect,avg_pool_3x3]</c>. Immutable, compared by value. Nothing registers it anywhere: the
/// search runner registers the space's <see cref="TinySearchSpace.Parse"/>, which is how checkpoints read it back.
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(GenotypeJsonConverter))]
public sealed class TinyGenotype : Genotype
{
    /// <summary>The candidate operations, in the column order of α.</summary>
    public static IReadOnlyList<string> OperationNames { get; } = ["skip_connect", "conv_3x3", "avg_pool_3x3"];

    /// <summary>Edges of the cell: 1←0, 2←0, 2←1.</summary>
    public const int EdgeCount = 3;

    private readonly int[] _operations;

    /// <summary>Creates the genotype from one operation index per edge.</summary>
    public TinyGenotype(IReadOnlyList<int> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        if (operations.Count != EdgeCount) throw new ArgumentException($"A tiny cell has {EdgeCount} edges, got {operations.Count}.", nameof(operations));
        if (operations.Any(o => o < 0 || o >= OperationNames.Count)) throw new ArgumentException("An operation index is out of range.", nameof(operations));
        _operations = [.. operations];
    }

    /// <summary>Operation index of each edge.</summary>
    public IReadOnlyList<int> Operations => _operations;

    /// <inheritdoc />
    public override string SpaceName => TinySearchSpace.SpaceName;

    /// <inheritdoc />
    public override string ToString() => "tiny[" + string.Join(",", _operations.Select(o => OperationNames[o])) + "]";

    /// <summary>Parses <c>tiny[op,op,op]</c>.</summary>
    /// <exception cref="GenotypeFormatException">The text is not a tiny genotype.</exception>
    public static TinyGenotype Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (!t.StartsWith("tiny[", StringComparison.Ordinal) || !t.EndsWith(']'))
            throw new GenotypeFormatException($"A tiny genotype looks like tiny[op,op,op]; got '{(t.Length > 60 ? t[..60] + "…" : t)}'.");
        var names = t[5..^1].Split(',', StringSplitOptions.TrimEntries);
        if (names.Length != EdgeCount) throw new GenotypeFormatException($"A tiny genotype has {EdgeCount} operations; got {names.Length}.");
        var ops = new int[EdgeCount];
        for (int e = 0; e < EdgeCount; e++)
        {
            ops[e] = OperationNames.ToList().IndexOf(names[e]);
            if (ops[e] < 0) throw new GenotypeFormatException($"Unknown operation '{names[e]}'; expected one of {string.Join(", ", OperationNames)}.");
        }
        return new TinyGenotype(ops);
    }

    /// <inheritdoc />
    public override bool Equals(Genotype? other) => other is TinyGenotype g && g._operations.AsSpan().SequenceEqual(_operations);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_operations[0], _operations[1], _operations[2]);
}
