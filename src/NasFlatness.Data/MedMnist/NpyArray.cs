using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace NasFlatness.Data;

/// <summary>
/// One array of a NumPy <c>.npy</c> file: its element type (the header's <c>descr</c>), its shape and its raw
/// C-order bytes. Only what MedMNIST needs is supported: little-endian (or byte-sized) integer types, C order.
/// </summary>
internal sealed class NpyArray
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private NpyArray(string descr, long[] shape, byte[] data)
    {
        Descr = descr;
        Shape = shape;
        Data = data;
    }

    /// <summary>The element type as NumPy writes it, e.g. <c>|u1</c> or <c>&lt;i8</c>.</summary>
    public string Descr { get; }

    /// <summary>The array's shape (empty for a scalar).</summary>
    public long[] Shape { get; }

    /// <summary>The elements' bytes in C (row-major) order.</summary>
    public byte[] Data { get; }

    /// <summary>Number of elements (the product of <see cref="Shape"/>).</summary>
    public long Length => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Whether the elements are unsigned bytes (<c>|u1</c>).</summary>
    public bool IsBytes => Descr is "|u1" or "<u1" or ">u1";

    /// <summary>The shape as NumPy prints it, e.g. <c>(546, 28, 28)</c>.</summary>
    public string ShapeText => Shape.Length == 1 ? $"({Shape[0]},)" : "(" + string.Join(", ", Shape) + ")";

    /// <summary>Bytes per element of a supported integer <paramref name="descr"/>; null when it is not supported.</summary>
    internal static int? ItemSize(string descr)
    {
        if (descr.Length != 3) return null;
        char order = descr[0], kind = descr[1], size = descr[2];
        if (kind is not ('u' or 'i') || size is not ('1' or '2' or '4' or '8')) return null;
        int bytes = size - '0';
        // '|' (not applicable) and '=' (native) are accepted for single bytes; wider types must be little-endian.
        if (bytes == 1 ? order is not ('|' or '<' or '>' or '=') : order != '<') return null;
        return bytes;
    }

    /// <summary>The elements as 64-bit integers (any supported integer type).</summary>
    public long[] ToInt64()
    {
        int size = ItemSize(Descr) ?? throw new InvalidOperationException($"dtype '{Descr}' is not an integer type.");
        bool signed = Descr[1] == 'i';
        var result = new long[Data.Length / size];
        var span = Data.AsSpan();
        for (int i = 0; i < result.Length; i++)
        {
            var item = span.Slice(i * size, size);
            result[i] = (size, signed) switch
            {
                (1, false) => item[0],
                (1, true) => (sbyte)item[0],
                (2, false) => BinaryPrimitives.ReadUInt16LittleEndian(item),
                (2, true) => BinaryPrimitives.ReadInt16LittleEndian(item),
                (4, false) => BinaryPrimitives.ReadUInt32LittleEndian(item),
                (4, true) => BinaryPrimitives.ReadInt32LittleEndian(item),
                (8, false) => (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(item), long.MaxValue),
                _ => BinaryPrimitives.ReadInt64LittleEndian(item),
            };
        }
        return result;
    }

    /// <summary>
    /// Reads the member <paramref name="member"/> (without the <c>.npy</c> suffix) of the <c>.npz</c> archive
    /// <paramref name="archive"/>; <paramref name="file"/> names the archive in error messages.
    /// </summary>
    /// <exception cref="InvalidDataException">The member is missing, truncated or not a supported <c>.npy</c> array.</exception>
    public static NpyArray ReadMember(ZipArchive archive, string file, string member)
    {
        var entry = archive.GetEntry(member + ".npy") ?? archive.GetEntry(member)
            ?? throw new InvalidDataException(
                $"'{file}' has no member '{member}.npy' (it holds {string.Join(", ", archive.Entries.Select(e => e.FullName))}); a MedMNIST .npz holds train/val/test images and labels.");
        if (entry.Length > Array.MaxLength)
            throw new InvalidDataException($"'{file}' member '{entry.FullName}' is {entry.Length:N0} bytes, too large to read.");
        var bytes = new byte[entry.Length];
        try
        {
            using var stream = entry.Open();
            int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (read < bytes.Length)
                throw new InvalidDataException($"'{file}' member '{entry.FullName}' ends after {read:N0} of {bytes.Length:N0} bytes (truncated).");
        }
        catch (InvalidDataException ex) when (!ex.Message.StartsWith('\'' + file, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"'{file}' member '{entry.FullName}' cannot be decompressed (truncated or corrupt archive): {ex.Message}", ex);
        }
        return Parse(bytes, $"'{file}' member '{entry.FullName}'");
    }

    /// <summary>Parses the bytes of a whole <c>.npy</c> file; <paramref name="where"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a supported <c>.npy</c> array.</exception>
    public static NpyArray Parse(byte[] bytes, string where)
    {
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidDataException($"{where} is not a .npy array: it does not start with the magic bytes \\x93NUMPY.");
        int major = bytes[6];
        int headerLength, headerStart;
        switch (major)
        {
            case 1:
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8, 2));
                headerStart = 10;
                break;
            case 2 or 3:
                if (bytes.Length < 12) throw new InvalidDataException($"{where} ends inside the .npy header (truncated).");
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8, 4));
                if (length > int.MaxValue) throw new InvalidDataException($"{where} declares a .npy header of {length:N0} bytes.");
                headerLength = (int)length;
                headerStart = 12;
                break;
            default:
                throw new InvalidDataException($"{where} is .npy format version {major}.{bytes[7]}; versions 1, 2 and 3 are supported.");
        }
        if ((long)headerStart + headerLength > bytes.Length)
            throw new InvalidDataException($"{where} ends inside the .npy header (truncated).");
        var encoding = major == 3 ? Encoding.UTF8 : Encoding.Latin1;
        string header = encoding.GetString(bytes, headerStart, headerLength);
        var (descr, fortran, shape) = ParseHeader(header, where);
        if (fortran)
            throw new InvalidDataException($"{where} is stored in Fortran (column-major) order; only C order is supported (save it with numpy.ascontiguousarray).");
        int itemSize = ItemSize(descr)
            ?? throw new InvalidDataException($"{where} has dtype '{descr}'; supported are little-endian integer types such as '|u1' (uint8) and '<i8' (int64).");

        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new InvalidDataException($"{where} has a negative dimension in shape {Text(shape)}.");
            count = checked(count * d);
        }
        long expected = checked(count * itemSize);
        long available = bytes.Length - headerStart - headerLength;
        if (available < expected)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{where} holds {available:N0} data bytes but shape {Text(shape)} of '{descr}' needs {expected:N0} (truncated)."));
        if (available > expected)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{where} holds {available:N0} data bytes but shape {Text(shape)} of '{descr}' needs {expected:N0} (trailing data: not a plain array)."));
        var data = bytes.AsSpan(headerStart + headerLength).ToArray();
        return new NpyArray(descr, shape, data);
    }

    private static string Text(long[] shape) => shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";

    /// <summary>
    /// Parses the header, a Python dict literal such as <c>{'descr': '|u1', 'fortran_order': False, 'shape': (546, 28, 28), }</c>:
    /// string keys; values are strings, <c>True</c>/<c>False</c> or tuples of integers.
    /// </summary>
    private static (string Descr, bool Fortran, long[] Shape) ParseHeader(string header, string where)
    {
        var p = new HeaderParser(header.TrimEnd(' ', '\n', '\0'), where);
        string? descr = null;
        bool? fortran = null;
        long[]? shape = null;
        p.Expect('{');
        while (true)
        {
            p.SkipSpace();
            if (p.TryTake('}')) break;
            string key = p.String();
            p.Expect(':');
            p.SkipSpace();
            switch (key)
            {
                case "descr": descr = p.String(); break;
                case "fortran_order": fortran = p.Boolean(); break;
                case "shape": shape = p.Tuple(); break;
                default: throw p.Error($"has an unknown header key '{key}'");
            }
            p.SkipSpace();
            if (p.TryTake(',')) continue;
            p.Expect('}');
            break;
        }
        if (descr is null) throw p.Error("has no 'descr' in its header");
        if (fortran is null) throw p.Error("has no 'fortran_order' in its header");
        if (shape is null) throw p.Error("has no 'shape' in its header");
        return (descr, fortran.Value, shape);
    }

    private sealed class HeaderParser(string text, string where)
    {
        private int _at;

        public InvalidDataException Error(string what) => new($"{where} {what} (.npy header: {text}).");

        public void SkipSpace()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at])) _at++;
        }

        public bool TryTake(char c)
        {
            SkipSpace();
            if (_at < text.Length && text[_at] == c)
            {
                _at++;
                return true;
            }
            return false;
        }

        public void Expect(char c)
        {
            if (!TryTake(c)) throw Error($"has a malformed header: expected '{c}' at position {_at}");
        }

        public string String()
        {
            SkipSpace();
            if (_at >= text.Length || text[_at] is not ('\'' or '"')) throw Error($"has a malformed header: expected a quoted string at position {_at}");
            char quote = text[_at++];
            int end = text.IndexOf(quote, _at);
            if (end < 0) throw Error("has a malformed header: unterminated string");
            string s = text[_at..end];
            _at = end + 1;
            return s;
        }

        public bool Boolean()
        {
            if (text.AsSpan(_at).StartsWith("True", StringComparison.Ordinal)) { _at += 4; return true; }
            if (text.AsSpan(_at).StartsWith("False", StringComparison.Ordinal)) { _at += 5; return false; }
            throw Error($"has a malformed header: expected True or False at position {_at}");
        }

        public long[] Tuple()
        {
            Expect('(');
            var dims = new List<long>();
            while (true)
            {
                if (TryTake(')')) break;
                SkipSpace();
                int start = _at;
                while (_at < text.Length && char.IsAsciiDigit(text[_at])) _at++;
                // Python 2 wrote long dimensions as "546L".
                if (_at == start || !long.TryParse(text.AsSpan(start, _at - start), NumberStyles.None, CultureInfo.InvariantCulture, out long d))
                    throw Error($"has a malformed shape at position {start}");
                if (_at < text.Length && text[_at] == 'L') _at++;
                dims.Add(d);
                if (TryTake(',')) continue;
                Expect(')');
                break;
            }
            return [.. dims];
        }
    }
}
