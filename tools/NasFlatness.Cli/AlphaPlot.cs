using ScottPlot;

namespace NasFlatness.Cli;

/// <summary>The figures the tool writes (ScottPlot, PNG): rendered in memory, then written atomically (<see cref="OutputFolder.WriteFile(string, byte[])"/>).</summary>
internal static class AlphaPlot
{
    /// <summary>Max mixing weight per edge over the epochs: one line per edge; x = 0 is the start when <paramref name="hasStart"/>.</summary>
    public static void Save(string path, string title, IReadOnlyList<double[]> perEpoch, bool hasStart, IReadOnlyList<string> labels)
    {
        var plt = new Plot();
        int edges = perEpoch.Count == 0 ? 0 : perEpoch[0].Length;
        double[] xs = [.. Enumerable.Range(hasStart ? 0 : 1, perEpoch.Count).Select(i => (double)i)];
        for (int e = 0; e < edges; e++)
        {
            double[] ys = [.. perEpoch.Select(row => e < row.Length ? row[e] : double.NaN)];
            var line = plt.Add.Scatter(xs, ys);
            line.LegendText = e < labels.Count ? labels[e] : $"edge {e}";
            line.MarkerSize = perEpoch.Count > 30 ? 0 : 4;
            line.LineWidth = 1.5f;
        }
        if (xs.Length is > 0 and <= 30)
            plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(xs, [.. xs.Select(x => x.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        plt.Title(title);
        plt.XLabel(hasStart ? "epoch (0 = start)" : "epoch");
        plt.YLabel("max mixing weight");
        plt.Axes.SetLimitsY(0, 1.02);
        if (edges <= 14) plt.ShowLegend(Alignment.UpperLeft);
        OutputFolder.WriteFile(path, Png(plt));
    }

    /// <summary>Lines with optional error bars (compare: a metric per method over the epochs).</summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IEnumerable<(string Label, double[] Xs, double[] Ys)> series)
    {
        var plt = new Plot();
        foreach (var (label, xs, ys) in series)
        {
            var line = plt.Add.Scatter(xs, ys);
            line.LegendText = label;
            line.MarkerSize = 5;
            line.LineWidth = 2;
        }
        plt.Title(title);
        plt.XLabel(xLabel);
        plt.YLabel(yLabel);
        plt.ShowLegend(Alignment.LowerRight);
        OutputFolder.WriteFile(path, Png(plt));
    }

    private static byte[] Png(Plot plt)
    {
        using var image = plt.GetImage(900, 550);
        return image.GetImageBytes(ImageFormat.Png);
    }
}
