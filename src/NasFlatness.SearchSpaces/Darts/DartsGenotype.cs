using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace NasFlatness.Genotypes;

/// <summary>One kept edge of a DARTS cell: the operation and the state it reads.</summary>
/// <param name="Operation">Operation name, e.g. <c>sep_conv_3x3</c>.</param>
/// <param name="Input">Input state: 0 = <c>c_{k-2}</c>, 1 = <c>c_{k-1}</c>, <c>2 + m</c> = intermediate node m.</param>
public readonly record struct DartsEdge(string Operation, int Input)
{
    /// <summary>The edge as the DARTS code prints it: <c>('sep_conv_3x3', 0)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"('{Operation}', {Input})");
}

/// <summary>
/// A DARTS-space architecture (docs/spec/algorithms.md §1.2): a normal and a reduction cell, each with four
/// intermediate nodes of two incoming edges (8 edges, listed node by node: node 0's two edges, then node 1's, …)
/// and the states concatenated to form the cell output. Prints and parses the DARTS code's text:
/// <c>Genotype(normal=[('sep_conv_3x3', 0), …], normal_concat=range(2, 6), reduce=[…], reduce_concat=range(2, 6))</c>.
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(GenotypeJsonConverter))]
public sealed class DartsGenotype : Genotype
{
    /// <summary>The name of the search space whose genotypes these are.</summary>
    public const string Space = "darts";

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

    /// <summary>A small recursive-descent parser over the Python namedtuple text.</summary>
    private ref struct Parser(string text)
    {
        private const string Expected = "expected Genotype(normal=[('op', input), …], normal_concat=range(2, 6), reduce=[…], reduce_concat=range(2, 6))";
        private readonly string _text = text;
        private int _pos;

        public DartsGenotype ParseGenotype()
        {
            SkipSpace();
            if (Peek() == 'G') ExpectWord("Genotype");
            Expect('(');
            List<DartsEdge>? normal = null, reduce = null;
            List<int>? normalConcat = null, reduceConcat = null;
            int positional = 0;
            while (true)
            {
                SkipSpace();
                if (Peek() == ')') { _pos++; break; }
                int fieldStart = _pos;
                string? name = TryIdentifierFollowedByEquals();
                name ??= positional switch
                {
                    0 => "normal",
                    1 => "normal_concat",
                    2 => "reduce",
                    3 => "reduce_concat",
                    _ => throw Error($"unexpected extra field at position {fieldStart}", fieldStart),
                };
                positional++;
                switch (name)
                {
                    case "normal": normal = ParseEdges("normal"); break;
                    case "reduce": reduce = ParseEdges("reduce"); break;
                    case "normal_concat": normalConcat = ParseConcat("normal_concat"); break;
                    case "reduce_concat": reduceConcat = ParseConcat("reduce_concat"); break;
                    default: throw Error($"unknown field '{name}' at position {fieldStart}", fieldStart);
                }
                SkipSpace();
                if (Peek() == ',') { _pos++; continue; }
                if (Peek() == ')') { _pos++; break; }
                throw Error($"expected ',' or ')' after field '{name}' at position {_pos}, found {Describe()}", _pos);
            }
            SkipSpace();
            if (_pos != _text.Length) throw Error($"unexpected text {Describe()} at position {_pos} after the closing ')'", _pos);
            if (normal is null) throw Error("the field 'normal' is missing", -1);
            if (reduce is null) throw Error("the field 'reduce' is missing", -1);
            try
            {
                return new DartsGenotype(normal, normalConcat, reduce, reduceConcat);
            }
            catch (ArgumentException ex)
            {
                var message = ex.Message;
                int paren = message.LastIndexOf(" (Parameter", StringComparison.Ordinal);
                if (paren > 0) message = message[..paren];
                throw new GenotypeFormatException($"DARTS genotype '{Shorten()}' is invalid: {message}");
            }
        }

        private List<DartsEdge> ParseEdges(string field)
        {
            SkipSpace();
            Expect('[');
            var edges = new List<DartsEdge>();
            while (true)
            {
                SkipSpace();
                if (Peek() == ']') { _pos++; break; }
                int start = _pos;
                bool bracket = Peek() == '[';
                if (bracket) // the nested form [[(op, i), (op, i)], …] some forks print
                {
                    edges.AddRange(ParseEdges(field));
                }
                else
                {
                    Expect('(');
                    SkipSpace();
                    string op = ParseString();
                    if (!OperationNames.Contains(op))
                        throw Error($"unknown operation '{op}' in {field} at position {start}; expected one of {string.Join(", ", OperationNames)}", start);
                    SkipSpace();
                    Expect(',');
                    SkipSpace();
                    int input = ParseInt();
                    SkipSpace();
                    Expect(')');
                    edges.Add(new DartsEdge(op, input));
                }
                SkipSpace();
                if (Peek() == ',') { _pos++; continue; }
                if (Peek() == ']') { _pos++; break; }
                throw Error($"expected ',' or ']' in {field} at position {_pos}, found {Describe()}", _pos);
            }
            return edges;
        }

        private List<int> ParseConcat(string field)
        {
            SkipSpace();
            int start = _pos;
            if (Peek() == '[')
            {
                _pos++;
                var values = new List<int>();
                while (true)
                {
                    SkipSpace();
                    if (Peek() == ']') { _pos++; break; }
                    values.Add(ParseInt());
                    SkipSpace();
                    if (Peek() == ',') { _pos++; continue; }
                    if (Peek() == ']') { _pos++; break; }
                    throw Error($"expected ',' or ']' in {field} at position {_pos}, found {Describe()}", _pos);
                }
                return values;
            }
            if (Peek() == 'r')
            {
                ExpectWord("range");
                Expect('(');
                SkipSpace();
                int a = ParseInt();
                SkipSpace();
                Expect(',');
                SkipSpace();
                int b = ParseInt();
                SkipSpace();
                Expect(')');
                if (b <= a) throw Error($"{field} range({a}, {b}) at position {start} is empty", start);
                return Enumerable.Range(a, b - a).ToList();
            }
            throw Error($"{field} at position {start} must be 'range(a, b)' or a list '[2, 3, 4, 5]', found {Describe()}", start);
        }

        private string? TryIdentifierFollowedByEquals()
        {
            int start = _pos;
            while (_pos < _text.Length && (char.IsLetterOrDigit(_text[_pos]) || _text[_pos] == '_')) _pos++;
            if (_pos == start) return null;
            string word = _text[start.._pos];
            SkipSpace();
            if (Peek() == '=')
            {
                _pos++;
                return word;
            }
            _pos = start;
            return null;
        }

        private string ParseString()
        {
            int start = _pos;
            char quote = Peek();
            if (quote is not ('\'' or '"')) throw Error($"expected a quoted operation name at position {start}, found {Describe()}", start);
            int end = _text.IndexOf(quote, _pos + 1);
            if (end < 0) throw Error($"the operation name starting at position {start} is not closed with {quote}", start);
            _pos = end + 1;
            return _text[(start + 1)..end];
        }

        private int ParseInt()
        {
            int start = _pos;
            if (Peek() == '-') _pos++;
            while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos])) _pos++;
            if (!int.TryParse(_text.AsSpan(start, _pos - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
            {
                _pos = start;
                throw Error($"expected an integer at position {start}, found {Describe()}", start);
            }
            return value;
        }

        private void ExpectWord(string word)
        {
            SkipSpace();
            if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) != 0)
                throw Error($"expected '{word}' at position {_pos}, found {Describe()}", _pos);
            _pos += word.Length;
        }

        private void Expect(char c)
        {
            SkipSpace();
            if (Peek() != c) throw Error($"expected '{c}' at position {_pos}, found {Describe()}", _pos);
            _pos++;
        }

        private readonly char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

        private void SkipSpace()
        {
            while (_pos < _text.Length && (char.IsWhiteSpace(_text[_pos]) || _text[_pos] == '\\')) _pos++;
        }

        private readonly string Describe()
        {
            if (_pos >= _text.Length) return "the end of the text";
            int end = _pos;
            while (end < _text.Length && end - _pos < 20 && (char.IsLetterOrDigit(_text[end]) || _text[end] == '_')) end++;
            if (end == _pos) end = _pos + 1;
            return $"'{_text[_pos..end]}'";
        }

        private readonly string Shorten() => ErrorText.Echo(_text, 80);

        private readonly GenotypeFormatException Error(string what, int position) =>
            new($"DARTS genotype '{Shorten()}': {what}; {Expected}.", position);
    }
}

/// <summary>
/// The single changes of a DARTS genotype (docs/spec/algorithms.md §7.4, the A²M code's single move), shared by the search space's
/// <see cref="NasFlatness.SearchSpaces.Darts.DartsSearchSpace.Neighbors"/> and the landscape's DARTS neighbourhood: on every node of
/// either cell, for every input the node may read, either another operation on the kept edge from that input, or — for
/// an input the node does not read yet — either of the node's two edges moved to it with any operation.
/// </summary>
public static class DartsSingleChanges
{
    /// <summary>Every genotype one change away from <paramref name="genotype"/> over <paramref name="operations"/> (never <c>none</c> unless listed).</summary>
    public static IEnumerable<DartsGenotype> Enumerate(DartsGenotype genotype, IReadOnlyList<string> operations)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        ArgumentNullException.ThrowIfNull(operations);
        foreach (bool reduction in new[] { false, true })
        {
            var cell = genotype.Cell(reduction);
            for (int node = 0; node < DartsGenotype.NodeCount; node++)
            {
                for (int input = 0; input < 2 + node; input++)
                {
                    int slot = Slot(cell, node, input);
                    if (slot >= 0)
                    {
                        foreach (var op in operations)
                            if (op != cell[slot].Operation) yield return genotype.WithCell(reduction, Replace(cell, slot, new DartsEdge(op, input)));
                    }
                    else
                    {
                        for (int k = 0; k < 2; k++)
                            foreach (var op in operations)
                                yield return genotype.WithCell(reduction, Replace(cell, 2 * node + k, new DartsEdge(op, input)));
                    }
                }
            }
        }
    }

    /// <summary>The index in <paramref name="cell"/> of node <paramref name="node"/>'s edge from <paramref name="input"/>, or −1.</summary>
    public static int Slot(IReadOnlyList<DartsEdge> cell, int node, int input)
    {
        ArgumentNullException.ThrowIfNull(cell);
        for (int k = 0; k < 2; k++)
            if (cell[2 * node + k].Input == input) return 2 * node + k;
        return -1;
    }

    /// <summary>A copy of <paramref name="cell"/> with entry <paramref name="slot"/> replaced by <paramref name="edge"/>.</summary>
    public static DartsEdge[] Replace(IReadOnlyList<DartsEdge> cell, int slot, DartsEdge edge)
    {
        ArgumentNullException.ThrowIfNull(cell);
        var copy = cell.ToArray();
        copy[slot] = edge;
        return copy;
    }
}
