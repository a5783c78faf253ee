using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace NasFlatness.Genotypes;

/// <summary>The parser of the DARTS <c>Genotype(...)</c> text format.</summary>
public sealed partial class DartsGenotype
{
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
