using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace NasFlatness.Genotypes;

/// <summary>
/// A DARTS-space architecture (docs/spec/algorithms.md §1.2): a normal and a reduction cell, each with four
/// intermediate nodes of two incoming edges (8 edges, listed node by node: node 0's two edges, then node 1's, …)
/// and the states concatenated to form the cell output. Prints and parses the DARTS code's text:
/// <c>Genotype(normal=[('sep_conv_3x3', 0), …], normal_concat=range(2, 6), reduce=[…], reduce_concat=range(2, 6))</c>.
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(GenotypeJsonConverter))]
public sealed partial class DartsGenotype : Genotype
{
    /// <summary>The name of the search space whose genotypes these are.</summary>
    public const string Space = SpaceNames.Darts;

    // Registers the text format so that genotypes of this space read back from JSON (see GenotypeFormats).
    static DartsGenotype() => GenotypeFormats.Register(Space, text => Parse(text));

    /// <summary>Number of intermediate nodes of a cell.</summary>
    public const int NodeCount = 4;

    /// <summary>Number of kept edges per cell (two per intermediate node).</summary>
    public const int EdgesPerCell = 2 * NodeCount;

    /// <summary>The eight DARTS candidate operations in the original order (the column order of α in the standard space).</summary>
    public static ImmutableArray<string> OperationNames { get; } =
        ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"];

    private static readonly ImmutableArray<int> DefaultConcat = [2, 3, 4, 5];

    private readonly ImmutableArray<DartsEdge> _normal;
    private readonly ImmutableArray<DartsEdge> _reduce;
    private readonly ImmutableArray<int> _normalConcat;
    private readonly ImmutableArray<int> _reduceConcat;

    /// <summary>Creates a genotype.</summary>
    /// <param name="normal">Eight edges of the normal cell, node by node.</param>
    /// <param name="normalConcat">States concatenated to the normal cell's output; null = [2, 3, 4, 5].</param>
    /// <param name="reduce">Eight edges of the reduction cell, node by node.</param>
    /// <param name="reduceConcat">States concatenated to the reduction cell's output; null = [2, 3, 4, 5].</param>
    /// <exception cref="ArgumentException">Not eight edges per cell, an unknown operation, an input that is not an earlier state, or a bad concat list.</exception>
    [JsonConstructor]
    public DartsGenotype(IReadOnlyList<DartsEdge> normal, IReadOnlyList<int>? normalConcat, IReadOnlyList<DartsEdge> reduce, IReadOnlyList<int>? reduceConcat)
    {
        ArgumentNullException.ThrowIfNull(normal);
        ArgumentNullException.ThrowIfNull(reduce);
        var error = CheckCell("normal", normal, nameof(normal)) ?? CheckCell("reduce", reduce, nameof(reduce))
            ?? CheckConcat("normal_concat", normalConcat, nameof(normalConcat)) ?? CheckConcat("reduce_concat", reduceConcat, nameof(reduceConcat));
        if (error is not null) throw error;
        _normal = [.. normal];
        _reduce = [.. reduce];
        _normalConcat = normalConcat is null ? DefaultConcat : [.. normalConcat];
        _reduceConcat = reduceConcat is null ? DefaultConcat : [.. reduceConcat];
    }

    /// <summary>Creates a genotype with the usual concat lists [2, 3, 4, 5].</summary>
    public DartsGenotype(IReadOnlyList<DartsEdge> normal, IReadOnlyList<DartsEdge> reduce) : this(normal, null, reduce, null)
    {
    }

    /// <inheritdoc />
    public override string SpaceName => Space;

    /// <summary>Edges of the normal cell, node by node (entries 2i and 2i+1 feed node i).</summary>
    public IReadOnlyList<DartsEdge> Normal => _normal;

    /// <summary>States concatenated to the normal cell's output.</summary>
    public IReadOnlyList<int> NormalConcat => _normalConcat;

    /// <summary>Edges of the reduction cell, node by node.</summary>
    public IReadOnlyList<DartsEdge> Reduce => _reduce;

    /// <summary>States concatenated to the reduction cell's output.</summary>
    public IReadOnlyList<int> ReduceConcat => _reduceConcat;

    /// <summary>Edges of the normal (<paramref name="reduction"/> = false) or reduction cell.</summary>
    public IReadOnlyList<DartsEdge> Cell(bool reduction) => reduction ? _reduce : _normal;

    /// <summary>Returns a copy with the edges of one cell replaced.</summary>
    public DartsGenotype WithCell(bool reduction, IReadOnlyList<DartsEdge> edges) =>
        reduction ? new DartsGenotype(_normal, _normalConcat, edges, _reduceConcat) : new DartsGenotype(edges, _normalConcat, _reduce, _reduceConcat);

    /// <summary>DARTS (first order) CIFAR-10 cell, from quark0/darts <c>genotypes.py</c>.</summary>
    public static DartsGenotype DartsV1 { get; } = Parse(
        "Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 2)], normal_concat=[2, 3, 4, 5], " +
        "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])");

    /// <summary>DARTS (second order) CIFAR-10 cell, from quark0/darts <c>genotypes.py</c> (the paper's 2.76 % / 3.3 M cell).</summary>
    public static DartsGenotype DartsV2 { get; } = Parse(
        "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], " +
        "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])");

    /// <summary>PC-DARTS CIFAR-10 cell (<c>PC_DARTS_cifar</c>), from yuhuixu1993/PC-DARTS <c>genotypes.py</c>.</summary>
    public static DartsGenotype PcDarts { get; } = Parse(
        "Genotype(normal=[('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 0), ('dil_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 1), ('avg_pool_3x3', 0), ('dil_conv_3x3', 1)], normal_concat=range(2, 6), " +
        "reduce=[('sep_conv_5x5', 1), ('max_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_5x5', 2), ('sep_conv_3x3', 0), ('sep_conv_3x3', 3), ('sep_conv_3x3', 1), ('sep_conv_3x3', 2)], reduce_concat=range(2, 6))");

    /// <summary>The published genotypes by their names in the reference code: <c>DARTS_V1</c>, <c>DARTS_V2</c>, <c>PC_DARTS</c>.</summary>
    public static IReadOnlyDictionary<string, DartsGenotype> Published { get; } = new Dictionary<string, DartsGenotype>(StringComparer.OrdinalIgnoreCase)
    {
        ["DARTS_V1"] = DartsV1,
        ["DARTS_V2"] = DartsV2,
        ["PC_DARTS"] = PcDarts,
    };

    /// <summary>A published genotype by name (case-insensitive; <c>DARTS</c> = <c>DARTS_V2</c> and <c>PC_DARTS_cifar</c> = <c>PC_DARTS</c> as in the reference code).</summary>
    /// <exception cref="ArgumentException">No published genotype has that name.</exception>
    public static DartsGenotype FromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = name.Trim().ToUpperInvariant() switch
        {
            "DARTS" => "DARTS_V2",
            "PC_DARTS_CIFAR" => "PC_DARTS",
            var k => k,
        };
        return Published.TryGetValue(key, out var g)
            ? g
            : throw new ArgumentException($"No published DARTS genotype is named '{name}'; known: {string.Join(", ", Published.Keys)}.", nameof(name));
    }

    /// <summary>The DARTS code's text, e.g. <c>Genotype(normal=[('sep_conv_3x3', 0), …], normal_concat=range(2, 6), reduce=[…], reduce_concat=range(2, 6))</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(512);
        sb.Append("Genotype(normal=[").AppendJoin(", ", _normal).Append("], normal_concat=").Append(FormatConcat(_normalConcat))
          .Append(", reduce=[").AppendJoin(", ", _reduce).Append("], reduce_concat=").Append(FormatConcat(_reduceConcat)).Append(')');
        return sb.ToString();
    }

    private static string FormatConcat(ImmutableArray<int> concat)
    {
        bool contiguous = concat.Length > 0;
        for (int i = 1; i < concat.Length; i++) contiguous &= concat[i] == concat[i - 1] + 1;
        return contiguous
            ? string.Create(CultureInfo.InvariantCulture, $"range({concat[0]}, {concat[^1] + 1})")
            : "[" + string.Join(", ", concat.Select(c => c.ToString(CultureInfo.InvariantCulture))) + "]";
    }

    /// <summary>Parses the DARTS code's genotype text. Concat lists may be written <c>range(a, b)</c> or <c>[2, 3, 4, 5]</c>; quotes may be single or double; whitespace and line breaks are free.</summary>
    /// <exception cref="GenotypeFormatException">The text is malformed or describes an invalid cell; the message names the offending token.</exception>
    public static DartsGenotype Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new Parser(text).ParseGenotype();
    }

    /// <summary>Tries to parse the DARTS code's genotype text.</summary>
    public static bool TryParse(string? text, out DartsGenotype? genotype)
    {
        genotype = null;
        if (text is null) return false;
        try
        {
            genotype = Parse(text);
            return true;
        }
        catch (GenotypeFormatException)
        {
            return false;
        }
    }

    private static ArgumentException? CheckCell(string cell, IReadOnlyList<DartsEdge> edges, string parameter)
    {
        if (edges.Count != EdgesPerCell)
            return new ArgumentException($"The {cell} cell has {edges.Count} edges; a DARTS cell has {NodeCount} intermediate nodes with 2 inputs each ({EdgesPerCell} edges).", parameter);
        for (int k = 0; k < edges.Count; k++)
        {
            var e = edges[k];
            int node = k / 2;
            if (e.Operation is null || !OperationNames.Contains(e.Operation))
                return new ArgumentException($"Unknown operation '{e.Operation}' on {cell} edge {k}; expected one of {string.Join(", ", OperationNames)}.", parameter);
            if (e.Input < 0 || e.Input >= node + 2)
                return new ArgumentException($"The {cell} edge {k} ({e}) feeds node {node}, which can only read states 0..{node + 1}, not {e.Input}.", parameter);
        }
        return null;
    }

    private static ArgumentException? CheckConcat(string name, IReadOnlyList<int>? concat, string parameter)
    {
        if (concat is null) return null;
        if (concat.Count == 0) return new ArgumentException($"{name} is empty; a cell concatenates at least one state.", parameter);
        foreach (var c in concat)
        {
            if (c < 0 || c >= NodeCount + 2)
                return new ArgumentException($"{name} names state {c}; states are 0..{NodeCount + 1}.", parameter);
        }
        if (concat.Distinct().Count() != concat.Count) return new ArgumentException($"{name} repeats a state.", parameter);
        return null;
    }

    /// <inheritdoc />
    public override bool Equals(Genotype? other) =>
        other is DartsGenotype g
        && _normal.SequenceEqual(g._normal) && _reduce.SequenceEqual(g._reduce)
        && _normalConcat.SequenceEqual(g._normalConcat) && _reduceConcat.SequenceEqual(g._reduceConcat);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var e in _normal) h.Add(e);
        foreach (var e in _reduce) h.Add(e);
        foreach (var c in _normalConcat) h.Add(c);
        foreach (var c in _reduceConcat) h.Add(c);
        return h.ToHashCode();
    }
}
