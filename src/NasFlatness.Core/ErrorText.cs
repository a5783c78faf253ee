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
}
