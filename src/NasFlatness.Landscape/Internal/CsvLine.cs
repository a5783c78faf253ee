using System.Text;

namespace NasFlatness.Landscape.Internal;

/// <summary>Splits one CSV line (RFC 4180 quoting within a line: <c>"a,b"</c>, <c>""</c> for a quote).</summary>
internal static class CsvLine
{
    public static void Split(string line, List<string> fields)
    {
        fields.Clear();
        if (line.IndexOf('"') < 0)
        {
            int start = 0;
            while (true)
            {
                int comma = line.IndexOf(',', start);
                if (comma < 0)
                {
                    fields.Add(line[start..]);
                    return;
                }
                fields.Add(line[start..comma]);
                start = comma + 1;
            }
        }
        var sb = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"')
                {
                    if (i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                    else quoted = false;
                }
                else sb.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(ch);
        }
        fields.Add(sb.ToString());
    }
}
