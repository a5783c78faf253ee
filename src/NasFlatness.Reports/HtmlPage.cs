using System.Text;

namespace NasFlatness.Reports;

/// <summary>The frame of every report page: one self-contained HTML document with inline CSS, no scripts, no external references.</summary>
internal static class HtmlPage
{
    private const string Css = """
        body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;margin:0 auto;max-width:1280px;padding:16px 24px;color:#222;background:#fff;line-height:1.4}
        h1{font-size:1.45em;margin:.2em 0 .3em}h2{font-size:1.15em;margin:1.4em 0 .5em;border-bottom:1px solid #ddd;padding-bottom:.2em}
        code{font-family:"DejaVu Sans Mono",Consolas,monospace;font-size:.92em;background:#f4f4f4;padding:1px 4px;border-radius:3px;word-break:break-all}
        table{border-collapse:collapse;font-size:.9em;margin:.4em 0}th,td{border:1px solid #d6d6d6;padding:3px 7px;text-align:left;vertical-align:top}
        th{background:#f2f4f7}td.num{text-align:right;font-variant-numeric:tabular-nums}td.best{font-weight:bold;background:#fff7d6}
        table.kv th{width:15em;font-weight:normal;color:#444}
        .grid{display:flex;flex-wrap:wrap;gap:10px}.grid figure{margin:0}
        figure{margin:.4em 0}figcaption{font-size:.85em;color:#555}
        .cells figure{border:1px solid #e2e2e2;padding:6px;border-radius:6px}.cells svg{max-width:560px;height:auto}
        .note{color:#555;font-size:.9em}.swatch{display:inline-block;width:.9em;height:.9em;border-radius:2px;vertical-align:middle;margin-right:3px}
        nav a{margin-right:1em}
        """;

    public static StringBuilder Start(string title)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.Append("<meta name=\"generator\" content=\"NasFlatness.Reports\">\n");
        sb.Append("<title>").Append(SvgText.E(title)).Append("</title>\n<style>\n").Append(Css).Append("\n</style>\n</head>\n<body>\n");
        return sb;
    }

    public static string End(StringBuilder sb)
    {
        sb.Append("<footer><p class=\"note\">Written by NasFlatness.Reports: one self-contained page (inline SVG and CSS, no scripts, nothing loaded from the network).</p></footer>\n");
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>A two-column table of names and values (values already HTML).</summary>
    public static void KeyValues(StringBuilder sb, string id, IEnumerable<(string Key, string ValueHtml)> rows)
    {
        sb.Append("<table class=\"kv\" id=\"").Append(id).Append("\">\n");
        foreach (var (key, value) in rows) sb.Append("<tr><th>").Append(SvgText.E(key)).Append("</th><td>").Append(value).Append("</td></tr>\n");
        sb.Append("</table>\n");
    }
}
