using System.Collections.Immutable;
using System.Text;
using System.Text.Json.Serialization;

namespace NasFlatness.Genotypes;

/// <summary>
/// A NAS-Bench-201 cell: one operation on each of the six edges
/// <c>1←0, 2←0, 2←1, 3←0, 3←1, 3←2</c> (the benchmark's edge order, also the row order of α).
/// Prints and parses the benchmark's arch string <c>|op~0|+|op~0|op~1|+|op~0|op~1|op~2|</c>.
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(GenotypeJsonConverter))]
public sealed class Nb201Genotype : Genotype
{
    /// <summary>The name of the search space whose genotypes these are.</summary>
    public const string Space = SpaceNames.Nb201;

    // Registers the text format so that genotypes of this space read back from JSON (see GenotypeFormats).
    static Nb201Genotype() => GenotypeFormats.Register(Space, text => Parse(text));

    /// <summary>Number of edges in the cell.</summary>
    public const int EdgeCount = 6;

    /// <summary>Number of nodes in the cell (node 0 is the input, node 3 the output).</summary>
    public const int NodeCount = 4;

    /// <summary>The five candidate operations, in the benchmark's order (the column order of α and the integer encoding 0..4).</summary>
    public static ImmutableArray<string> OperationNames { get; } =
        ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"];

    /// <summary>Number of candidate operations.</summary>
    public static int OperationCount => OperationNames.Length;

    /// <summary>(target node, source node) of each edge, in edge order.</summary>
    public static ImmutableArray<(int To, int From)> Edges { get; } = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)];

    /// <summary>Total number of architectures in the space (5^6).</summary>
    public const int SpaceSize = 15_625;

    private readonly ImmutableArray<int> _ops;

    /// <summary>Creates a genotype from the operation index (0..4) of each of the six edges, in edge order.</summary>
    /// <exception cref="ArgumentException">Not six operations, or an index outside 0..4.</exception>
    [JsonConstructor]
    public Nb201Genotype(IReadOnlyList<int> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        if (operations.Count != EdgeCount)
            throw new ArgumentException($"A NAS-Bench-201 cell has {EdgeCount} edges, but {operations.Count} operations were given.", nameof(operations));
        for (int e = 0; e < EdgeCount; e++)
        {
            if (operations[e] < 0 || operations[e] >= OperationCount)
                throw new ArgumentException($"Operation index {operations[e]} on edge {e} is outside 0..{OperationCount - 1}.", nameof(operations));
        }
        _ops = [.. operations];
    }

    /// <summary>Creates a genotype from the operation names of the six edges, in edge order.</summary>
    public static Nb201Genotype FromNames(params string[] operationNames)
    {
        ArgumentNullException.ThrowIfNull(operationNames);
        var ops = new int[operationNames.Length];
        for (int i = 0; i < ops.Length; i++)
        {
            ops[i] = OperationNames.IndexOf(operationNames[i]);
            if (ops[i] < 0)
                throw new ArgumentException($"Unknown NAS-Bench-201 operation '{operationNames[i]}'; expected one of {string.Join(", ", OperationNames)}.", nameof(operationNames));
        }
        return new Nb201Genotype(ops);
    }

    /// <inheritdoc />
    public override string SpaceName => Space;

    /// <summary>Operation index (0..4) of each edge, in edge order.</summary>
    public IReadOnlyList<int> Operations => _ops;

    /// <summary>Operation name of each edge, in edge order.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> OperationNamesPerEdge => _ops.Select(o => OperationNames[o]).ToArray();

    /// <summary>
    /// The base-5 code of the operations (edge 0 most significant), 0..15,624. This is <b>not</b> the
    /// benchmark's row index; map through the arch string to find that.
    /// </summary>
    [JsonIgnore]
    public int Code
    {
        get
        {
            int code = 0;
            foreach (var o in _ops) code = code * OperationCount + o;
            return code;
        }
    }

    /// <summary>The genotype with base-5 code <paramref name="code"/> (see <see cref="Code"/>).</summary>
    public static Nb201Genotype FromCode(int code)
    {
        if (code < 0 || code >= SpaceSize)
            throw new ArgumentOutOfRangeException(nameof(code), code, $"A NAS-Bench-201 code is in 0..{SpaceSize - 1}.");
        var ops = new int[EdgeCount];
        for (int e = EdgeCount - 1; e >= 0; e--)
        {
            ops[e] = code % OperationCount;
            code /= OperationCount;
        }
        return new Nb201Genotype(ops);
    }

    /// <summary>All 15,625 genotypes, in <see cref="Code"/> order.</summary>
    public static IEnumerable<Nb201Genotype> All()
    {
        for (int c = 0; c < SpaceSize; c++) yield return FromCode(c);
    }

    /// <summary>Returns a copy with the operation of <paramref name="edge"/> replaced by <paramref name="operation"/>.</summary>
    public Nb201Genotype With(int edge, int operation)
    {
        if (edge < 0 || edge >= EdgeCount) throw new ArgumentOutOfRangeException(nameof(edge), edge, $"Edge index is in 0..{EdgeCount - 1}.");
        return new Nb201Genotype(_ops.SetItem(edge, operation));
    }

    /// <summary>The 24 genotypes one operation change away (the space's neighbours), edge by edge, operations in index order.</summary>
    public IEnumerable<Nb201Genotype> Neighbors()
    {
        for (int e = 0; e < EdgeCount; e++)
            for (int o = 0; o < OperationCount; o++)
                if (o != _ops[e]) yield return With(e, o);
    }

    /// <summary>Number of edges whose operation differs (Hamming distance).</summary>
    public int DistanceTo(Nb201Genotype other)
    {
        ArgumentNullException.ThrowIfNull(other);
        int d = 0;
        for (int e = 0; e < EdgeCount; e++) if (_ops[e] != other._ops[e]) d++;
        return d;
    }

    /// <summary>The benchmark arch string, e.g. <c>|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(96);
        int e = 0;
        for (int node = 1; node < NodeCount; node++)
        {
            if (node > 1) sb.Append('+');
            sb.Append('|');
            for (int src = 0; src < node; src++, e++)
                sb.Append(OperationNames[_ops[e]]).Append('~').Append(src).Append('|');
        }
        return sb.ToString();
    }

    /// <summary>Parses a benchmark arch string.</summary>
    /// <exception cref="GenotypeFormatException">The text is not a well-formed arch string; the message names the offending token and what was expected.</exception>
    public static Nb201Genotype Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var error = TryParseCore(text, out var genotype);
        if (error is not null) throw error;
        return genotype!;
    }

    /// <summary>Tries to parse a benchmark arch string.</summary>
    public static bool TryParse(string? text, out Nb201Genotype? genotype)
    {
        genotype = null;
        return text is not null && TryParseCore(text, out genotype) is null;
    }

    private static GenotypeFormatException? TryParseCore(string text, out Nb201Genotype? genotype)
    {
        genotype = null;
        const string Expected = "expected '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'";
        var nodes = text.Split('+');
        if (nodes.Length != NodeCount - 1)
            return new GenotypeFormatException(
                $"NAS-Bench-201 arch string '{ErrorText.Echo(text)}' has {nodes.Length} node group(s) separated by '+', {Expected} (3 groups).");
        var ops = new int[EdgeCount];
        int e = 0, position = 0;
        for (int node = 1; node < NodeCount; node++)
        {
            string group = nodes[node - 1];
            if (group.Length < 2 || group[0] != '|' || group[^1] != '|')
                return new GenotypeFormatException(
                    $"Node {node} group '{ErrorText.Echo(group)}' at position {position} of '{ErrorText.Echo(text)}' must start and end with '|', {Expected}.", position);
            var tokens = group[1..^1].Split('|');
            if (tokens.Length != node)
                return new GenotypeFormatException(
                    $"Node {node} group '{ErrorText.Echo(group)}' at position {position} of '{ErrorText.Echo(text)}' has {tokens.Length} edge(s); node {node} takes exactly {node} (from nodes 0..{node - 1}).", position);
            int tokenPosition = position + 1;
            for (int src = 0; src < node; src++, e++)
            {
                string token = tokens[src];
                int tilde = token.LastIndexOf('~');
                if (tilde <= 0)
                    return new GenotypeFormatException(
                        $"Token '{ErrorText.Echo(token)}' at position {tokenPosition} of '{ErrorText.Echo(text)}' is not 'op~input'; expected '<operation>~{src}'.", tokenPosition);
                string opName = token[..tilde];
                string input = token[(tilde + 1)..];
                int op = OperationNames.IndexOf(opName);
                if (op < 0)
                    return new GenotypeFormatException(
                        $"Unknown operation '{ErrorText.Echo(opName)}' in token '{ErrorText.Echo(token)}' at position {tokenPosition} of '{ErrorText.Echo(text)}'; expected one of {string.Join(", ", OperationNames)}.", tokenPosition);
                if (input != src.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    return new GenotypeFormatException(
                        $"Token '{ErrorText.Echo(token)}' at position {tokenPosition} of '{ErrorText.Echo(text)}' names input '{ErrorText.Echo(input)}', expected input {src} (edge {e} is {node}<-{src}).", tokenPosition);
                ops[e] = op;
                tokenPosition += token.Length + 1;
            }
            position += group.Length + 1;
        }
        genotype = new Nb201Genotype(ops);
        return null;
    }

    /// <inheritdoc />
    public override bool Equals(Genotype? other) => other is Nb201Genotype g && _ops.AsSpan().SequenceEqual(g._ops.AsSpan());

    /// <inheritdoc />
    public override int GetHashCode() => Code;
}
