using System.Globalization;
using System.Net;
using System.Text;

namespace NasFlatness.Reports;

/// <summary>Small helpers for writing SVG and HTML text: escaping and invariant numbers.</summary>
internal static class SvgText
{
    /// <summary>Escapes text for an XML/HTML text node or a double-quoted attribute.</summary>
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    /// <summary>A coordinate with at most one decimal, invariant culture.</summary>
    public static string N(double v) => Math.Round(v, 1).ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>A number for display: <paramref name="format"/> or an en dash for NaN / null.</summary>
    public static string F(double? v, string format = "F2") =>
        v is double d && double.IsFinite(d) ? d.ToString(format, CultureInfo.InvariantCulture) : "–";

    /// <summary>Approximate width in pixels of <paramref name="text"/> at <paramref name="fontSize"/> (sans-serif; for label boxes).</summary>
    public static double TextWidth(string text, double fontSize) => text.Length * fontSize * 0.58;

    /// <summary>Opens an <c>svg</c> element with the namespace, size, view box, a class and an accessible label.</summary>
    public static void Open(StringBuilder sb, double width, double height, string cssClass, string label, string attributes = "")
    {
        sb.Append(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"{cssClass}\"{attributes} width=\"{N(width)}\" height=\"{N(height)}\" viewBox=\"0 0 {N(width)} {N(height)}\" role=\"img\" aria-label=\"{E(label)}\" font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\">\n");
        sb.Append("<title>").Append(E(label)).Append("</title>\n");
    }
}
