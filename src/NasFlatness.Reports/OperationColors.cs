namespace NasFlatness.Reports;

/// <summary>
/// The colour of every operation, the same in every drawing and chart (cells, α charts, neighbourhoods), so that a colour
/// means one operation across a whole report. Known operations of the built-in spaces have fixed colours; any other name
/// gets one from a fixed palette chosen by a stable hash of the name (the same on every machine and run).
/// </summary>
public static class OperationColors
{
    private static readonly Dictionary<string, string> Known = new(StringComparer.Ordinal)
    {
        ["none"] = "#b8b8b8",
        ["skip_connect"] = "#4c78a8",
        ["nor_conv_1x1"] = "#f58518",
        ["nor_conv_3x3"] = "#e45756",
        ["nor_conv_5x5"] = "#b5367a",
        ["nor_conv_7x7"] = "#7b3294",
        ["kernel_variable_conv"] = "#9c3f6e",
        ["avg_pool_3x3"] = "#54a24b",
        ["max_pool_3x3"] = "#2d7d6f",
        ["sep_conv_3x3"] = "#d6a400",
        ["sep_conv_5x5"] = "#9d755d",
        ["dil_conv_3x3"] = "#17becf",
        ["dil_conv_5x5"] = "#1f4e79",
    };

    private static readonly string[] Palette =
        ["#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354"];

    /// <summary>The colour (<c>#rrggbb</c>) of <paramref name="operation"/>; an empty name (a plain connection) is dark grey.</summary>
    public static string Of(string operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (operation.Length == 0) return "#555555";
        if (Known.TryGetValue(operation, out var colour)) return colour;
        uint hash = 2166136261;
        foreach (char c in operation)
        {
            hash ^= c;
            hash *= 16777619;
        }
        return Palette[hash % (uint)Palette.Length];
    }
}
