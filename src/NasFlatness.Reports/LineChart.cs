using System.Globalization;
using System.Text;

namespace NasFlatness.Reports;

/// <summary>One line of a <see cref="LineChart"/>.</summary>
internal sealed record ChartSeries(string Label, string Colour, double[] Xs, double[] Ys, bool Dashed = false);

/// <summary>A small line chart drawn as inline SVG (axes, ticks, one path with markers per series, a legend).</summary>
internal static class LineChart
{
    public static string Svg(string id, string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series,
        double? yMin = null, double? yMax = null, double width = 420, double height = 260, bool legend = true, bool integerX = true)
    {
        const double left = 54, right = 12, top = 26, bottom = 40;
        var points = series.SelectMany(s => s.Xs.Zip(s.Ys)).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second)).ToList();
        double x0 = points.Count == 0 ? 0 : points.Min(p => p.First), x1 = points.Count == 0 ? 1 : points.Max(p => p.First);
        double y0 = yMin ?? (points.Count == 0 ? 0 : points.Min(p => p.Second)), y1 = yMax ?? (points.Count == 0 ? 1 : points.Max(p => p.Second));
        if (x1 <= x0) { x0 -= 0.5; x1 += 0.5; }
        if (y1 <= y0) { double pad = Math.Abs(y0) > 0 ? Math.Abs(y0) * 0.05 : 0.5; y0 -= pad; y1 += pad; }
        else if (yMin is null || yMax is null)
        {
            double pad = (y1 - y0) * 0.06;
            if (yMin is null) y0 -= pad;
            if (yMax is null) y1 += pad;
        }
        double legendRows = legend ? Math.Ceiling(series.Count / Math.Max(1.0, Math.Floor((width - left) / 120))) : 0;
        double totalHeight = height + (legendRows > 0 ? legendRows * 16 + 6 : 0);
        double plotW = width - left - right, plotH = height - top - bottom;
        double X(double v) => left + (v - x0) / (x1 - x0) * plotW;
        double Y(double v) => top + (1 - (v - y0) / (y1 - y0)) * plotH;

        var sb = new StringBuilder();
        SvgText.Open(sb, width, totalHeight, "chart", title, $" data-chart=\"{SvgText.E(id)}\"");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(left)}\" y=\"16\" font-size=\"12.5\" font-weight=\"bold\" fill=\"#222\">{SvgText.E(title)}</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{SvgText.N(left)}\" y=\"{SvgText.N(top)}\" width=\"{SvgText.N(plotW)}\" height=\"{SvgText.N(plotH)}\" fill=\"#fcfcfc\" stroke=\"#999\" stroke-width=\"0.8\"/>\n");
        foreach (double t in Ticks(y0, y1, 5))
        {
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{SvgText.N(left)}\" x2=\"{SvgText.N(left + plotW)}\" y1=\"{SvgText.N(Y(t))}\" y2=\"{SvgText.N(Y(t))}\" stroke=\"#e3e3e3\" stroke-width=\"0.8\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(left - 5)}\" y=\"{SvgText.N(Y(t) + 4)}\" text-anchor=\"end\" font-size=\"10\" fill=\"#444\">{Format(t, y1 - y0)}</text>\n");
        }
        var xTicks = integerX ? Ticks(x0, x1, 8).Where(t => Math.Abs(t - Math.Round(t)) < 1e-9).ToList() : Ticks(x0, x1, 6);
        foreach (double t in xTicks)
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(X(t))}\" y=\"{SvgText.N(top + plotH + 14)}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#444\">{(integerX ? t.ToString("0", CultureInfo.InvariantCulture) : Format(t, x1 - x0))}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"\n<text x=\"{SvgText.N(left + plotW / 2)}\" y=\"{SvgText.N(top + plotH + 30)}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333\">{SvgText.E(xLabel)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(13,{SvgText.N(top + plotH / 2)}) rotate(-90)\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333\">{SvgText.E(yLabel)}</text>\n");
        foreach (var s in series)
        {
            var valid = s.Xs.Zip(s.Ys).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second)).ToList();
            sb.Append(CultureInfo.InvariantCulture, $"<g class=\"series\" data-series=\"{SvgText.E(s.Label)}\" data-points=\"{valid.Count}\">");
            if (valid.Count > 1)
            {
                var d = string.Join(" ", valid.Select((p, i) => (i == 0 ? "M" : "L") + SvgText.N(X(p.First)) + "," + SvgText.N(Y(p.Second))));
                sb.Append(CultureInfo.InvariantCulture, $"<path d=\"{d}\" fill=\"none\" stroke=\"{s.Colour}\" stroke-width=\"1.8\"{(s.Dashed ? " stroke-dasharray=\"5 3\"" : "")}/>");
            }
            if (valid.Count <= 40)
                foreach (var p in valid)
                    sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{SvgText.N(X(p.First))}\" cy=\"{SvgText.N(Y(p.Second))}\" r=\"2.6\" fill=\"{s.Colour}\"/>");
            sb.Append("</g>\n");
        }
        if (legend && series.Count > 0)
        {
            int perRow = (int)Math.Max(1, Math.Floor((width - left) / 120));
            for (int i = 0; i < series.Count; i++)
            {
                double lx = left + i % perRow * 120, ly = height + 10 + i / perRow * 16;
                sb.Append(CultureInfo.InvariantCulture, $"<g class=\"legend-item\"><rect x=\"{SvgText.N(lx)}\" y=\"{SvgText.N(ly - 8)}\" width=\"12\" height=\"8\" fill=\"{series[i].Colour}\"/>");
                string label = series[i].Label.Length > 18 ? series[i].Label[..17] + "…" : series[i].Label;
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(lx + 16)}\" y=\"{SvgText.N(ly)}\" font-size=\"10\" fill=\"#333\">{SvgText.E(label)}</text></g>");
            }
        }
        sb.Append("\n</svg>\n");
        return sb.ToString();
    }

    /// <summary>A tick value with as many decimals as the tick step needs.</summary>
    private static string Format(double v, double range)
    {
        double step = Ticks(0, range, 5) is { Count: > 1 } t ? t[1] - t[0] : range;
        int decimals = step <= 0 || !double.IsFinite(step) ? 2 : Math.Clamp((int)Math.Ceiling(-Math.Log10(step) - 1e-9), 0, 8);
        if (step > 0 && Math.Abs(Math.Round(step * Math.Pow(10, decimals)) - step * Math.Pow(10, decimals)) > 1e-6) decimals++;
        return v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>About <paramref name="count"/> round tick values in [lo, hi].</summary>
    internal static List<double> Ticks(double lo, double hi, int count)
    {
        double raw = (hi - lo) / Math.Max(1, count);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        var ticks = new List<double>();
        for (double t = Math.Ceiling(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.Add(Math.Abs(t) < step * 1e-9 ? 0 : t);
        return ticks;
    }

    /// <summary>Colours for series that are not operations (methods, curves), fixed order.</summary>
    public static string SeriesColour(int i) => Palette[i % Palette.Length];

    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
}
