using ScottPlot;

namespace NasFlatness.LandscapeReport;

/// <summary>The two kinds of figure the report draws.</summary>
internal static class Plots
{
    /// <summary>Density histograms (drawn as step-free polylines over bin centres) of several samples on one axis.</summary>
    public static void Densities(string path, string title, string xLabel, IEnumerable<(string Label, IReadOnlyList<double> Values)> series, double dropAtOrBelow, int bins = 60)
    {
        var kept = series.Select(s => (s.Label, Values: s.Values.Where(v => v > dropAtOrBelow).ToArray())).Where(s => s.Values.Length > 0).ToList();
        double lo = kept.Min(s => s.Values.Min()), hi = kept.Max(s => s.Values.Max());
        double width = (hi - lo) / bins;
        var plt = new Plot();
        foreach (var (label, values) in kept)
        {
            var counts = new double[bins];
            foreach (var v in values) counts[Math.Min(bins - 1, (int)((v - lo) / width))]++;
            var xs = Enumerable.Range(0, bins).Select(b => lo + (b + 0.5) * width).ToArray();
            var ys = counts.Select(c => c / (values.Length * width)).ToArray();
            var line = plt.Add.Scatter(xs, ys);
            line.LegendText = $"{label} (n = {values.Length:N0})";
            line.MarkerSize = 0;
            line.LineWidth = 2;
        }
        plt.Title(title);
        plt.XLabel(xLabel);
        plt.YLabel("density");
        plt.ShowLegend(Alignment.UpperLeft);
        plt.SavePng(path, 900, 550);
    }

    /// <summary>Lines with markers and optional error bars.</summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IEnumerable<(string Label, double[] Xs, double[] Ys, double[]? Errors)> series)
    {
        var plt = new Plot();
        var all = series.ToList();
        double[] ticks = [.. all.SelectMany(s => s.Xs).Distinct().Order()];
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks, ticks.Select(t => t.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        series = all;
        foreach (var (label, xs, ys, errors) in series)
        {
            var line = plt.Add.Scatter(xs, ys);
            line.LegendText = label;
            line.MarkerSize = 8;
            line.LineWidth = 2;
            if (errors is not null)
            {
                var bars = plt.Add.ErrorBar(xs, ys, errors);
                bars.Color = line.Color;
            }
        }
        plt.Title(title);
        plt.XLabel(xLabel);
        plt.YLabel(yLabel);
        plt.ShowLegend(Alignment.LowerLeft);
        plt.SavePng(path, 900, 550);
    }
}
