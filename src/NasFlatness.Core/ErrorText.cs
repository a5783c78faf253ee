using System.Globalization;
using System.Text;

namespace NasFlatness;

/// <summary>
/// How user input is echoed in error messages: at most <see cref="MaxLength"/> characters (longer input is cut and the
/// total length said), control characters escaped (<c>\n</c>, <c>\t</c>, <c>\u001b</c> …), so a 10 kB argument or a
/// terminal escape sequence cannot flood or garble an error line.
/// </summary>
internal static class ErrorText
{
    /// <summary>The most characters of an input an error message repeats.</summary>
    public const int MaxLength = 200;

    /// <summary>The text to put in an error message for <paramref name="input"/> (null gives <c>null</c>).</summary>
    /// <param name="input">What the user gave.</param>
    /// <param name="maxLength">The most characters repeated (at least 1).</param>
    public static string Echo(string? input, int maxLength = MaxLength)
    {
        if (input is null) return "null";
        maxLength = Math.Max(1, maxLength);
        var sb = new StringBuilder(Math.Min(input.Length, maxLength) + 32);
        int shown = 0;
        foreach (var c in input)
        {
            if (shown >= maxLength) break;
            switch (c)
            {
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsControl(c) || c is '\u2028' or '\u2029' || char.GetUnicodeCategory(c) == UnicodeCategory.Format)
                        sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    else sb.Append(c);
                    break;
            }
            shown++;
        }
        if (input.Length > shown) sb.Append(CultureInfo.InvariantCulture, $"… ({input.Length:N0} characters in all)");
        return sb.ToString();
    }

    /// <summary>
    /// The known name closest to <paramref name="input"/> by edit distance (case-insensitive), when it is close enough to
    /// be a typo (at most 2 edits, or a third of the name); null otherwise.
    /// </summary>
    /// <param name="input">What the user gave.</param>
    /// <param name="known">The valid names.</param>
    public static string? Closest(string? input, IEnumerable<string> known)
    {
        ArgumentNullException.ThrowIfNull(known);
        if (string.IsNullOrEmpty(input) || input.Length > 100) return null;
        var lower = input.ToLowerInvariant();
        var best = known.Select(k => (Name: k, Distance: EditDistance(lower, k.ToLowerInvariant()))).OrderBy(x => x.Distance).FirstOrDefault();
        return best.Name is not null && best.Distance > 0 && best.Distance <= Math.Max(2, input.Length / 3) ? best.Name : null;
    }

    /// <summary>The number of single-character insertions, deletions and substitutions turning <paramref name="a"/> into <paramref name="b"/>.</summary>
    /// <param name="a">One string.</param>
    /// <param name="b">The other.</param>
    public static int EditDistance(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
