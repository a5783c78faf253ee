using System.Globalization;
using System.Text;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;

namespace NasFlatness.Reports;

/// <summary>
/// The found NAS-Bench-201 cell among its 24 radius-1 neighbours (one edge's operation changed): the cell in the middle, each
/// neighbour on a circle, coloured by its table accuracy against the cell's (green better, red worse), the spoke in the colour of
/// the neighbour's new operation and labelled with the edge it changes.
/// </summary>
internal static class NeighbourhoodDrawing
{
    private static readonly Dictionary<string, string> Short = new(StringComparer.Ordinal)
    {
        ["none"] = "none", ["skip_connect"] = "skip", ["nor_conv_1x1"] = "1×1", ["nor_conv_3x3"] = "3×3", ["avg_pool_3x3"] = "pool",
    };

    public static string Svg(Nb201Genotype centre, Nb201Table table, string centreLabel)
    {
        const double radius = 205, size = 2 * (radius + 30), middle = size / 2;
        double own = table.Get(centre).Cifar10TestAccuracy;
        var neighbours = new List<(Nb201Genotype Genotype, int Edge, double Accuracy)>();
        for (int e = 0; e < Nb201Genotype.EdgeCount; e++)
            for (int op = 0; op < Nb201Genotype.OperationCount; op++)
                if (op != centre.Operations[e])
                {
                    var g = centre.With(e, op);
                    neighbours.Add((g, e, table.Get(g).Cifar10TestAccuracy));
                }
        double spread = Math.Max(1, neighbours.Max(n => Math.Abs(n.Accuracy - own)));
        var sb = new StringBuilder();
        SvgText.Open(sb, size, size + 24, "neighbourhood", $"{centre} and its {neighbours.Count} radius-1 neighbours (NAS-Bench-201 CIFAR-10 test accuracy)");
        var spokes = new StringBuilder();
        var nodes = new StringBuilder();
        for (int i = 0; i < neighbours.Count; i++)
        {
            var (g, e, accuracy) = neighbours[i];
            double angle = -Math.PI / 2 + 2 * Math.PI * i / neighbours.Count;
            double x = middle + radius * Math.Cos(angle), y = middle + radius * Math.Sin(angle);
            string op = Nb201Genotype.OperationNames[g.Operations[e]];
            var (to, from) = Nb201Genotype.Edges[e];
            spokes.Append(CultureInfo.InvariantCulture,
                $"<line x1=\"{SvgText.N(middle)}\" y1=\"{SvgText.N(middle)}\" x2=\"{SvgText.N(x)}\" y2=\"{SvgText.N(y)}\" stroke=\"{OperationColors.Of(op)}\" stroke-width=\"1.4\" opacity=\"0.7\"/>\n");
            double t = Math.Clamp((accuracy - own) / spread, -1, 1);
            string fill = t >= 0 ? Mix("#ffffff", "#2e9d4f", t) : Mix("#ffffff", "#d64541", -t);
            string edge = string.Create(CultureInfo.InvariantCulture, $"{to}←{from}");
            nodes.Append(CultureInfo.InvariantCulture,
                $"<g class=\"neighbour\" data-genotype=\"{SvgText.E(g.ToString())}\" data-edge=\"{edge}\" data-op=\"{op}\" data-accuracy=\"{accuracy.ToString("R", CultureInfo.InvariantCulture)}\"><title>{SvgText.E(g.ToString())}: {accuracy.ToString("F2", CultureInfo.InvariantCulture)} %</title>");
            nodes.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{SvgText.N(x)}\" cy=\"{SvgText.N(y)}\" r=\"23\" fill=\"{fill}\" stroke=\"#555\"/>");
            nodes.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(x)}\" y=\"{SvgText.N(y - 3)}\" text-anchor=\"middle\" font-size=\"9.5\" fill=\"#222\">{edge} {SvgText.E(Short.GetValueOrDefault(op, op))}</text>");
            nodes.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(x)}\" y=\"{SvgText.N(y + 10)}\" text-anchor=\"middle\" font-size=\"10\" font-weight=\"bold\" fill=\"#222\">{accuracy.ToString("F1", CultureInfo.InvariantCulture)}</text></g>\n");
        }
        sb.Append("<g class=\"spokes\">").Append(spokes).Append("</g>\n").Append(nodes);
        sb.Append(CultureInfo.InvariantCulture, $"<g class=\"centre\" data-genotype=\"{SvgText.E(centre.ToString())}\" data-accuracy=\"{own.ToString("R", CultureInfo.InvariantCulture)}\">");
        sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{SvgText.N(middle)}\" cy=\"{SvgText.N(middle)}\" r=\"38\" fill=\"#fcf3cf\" stroke=\"#222\" stroke-width=\"2\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(middle)}\" y=\"{SvgText.N(middle - 4)}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#222\">{SvgText.E(centreLabel)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(middle)}\" y=\"{SvgText.N(middle + 12)}\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\" fill=\"#222\">{own.ToString("F2", CultureInfo.InvariantCulture)} %</text></g>\n");
        int better = neighbours.Count(n => n.Accuracy > own);
        sb.Append(CultureInfo.InvariantCulture,
            $"<text x=\"12\" y=\"{SvgText.N(size + 2)}\" font-size=\"11\" fill=\"#333\">{better} of {neighbours.Count} neighbours are better (green), {neighbours.Count - better} not (red).</text>" +
            $"<text x=\"12\" y=\"{SvgText.N(size + 17)}\" font-size=\"11\" fill=\"#333\">Each neighbour: the edge it changes, its new operation, its CIFAR-10 accuracy (%).</text>\n");
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static string Mix(string a, string b, double t)
    {
        int Channel(string c, int i) => Convert.ToInt32(c.Substring(1 + 2 * i, 2), 16);
        var parts = Enumerable.Range(0, 3).Select(i => (int)Math.Round(Channel(a, i) + (Channel(b, i) - Channel(a, i)) * (0.15 + 0.85 * t)));
        return "#" + string.Concat(parts.Select(p => p.ToString("x2", CultureInfo.InvariantCulture)));
    }
}
