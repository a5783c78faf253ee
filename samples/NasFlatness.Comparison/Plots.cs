using System.Globalization;
using ScottPlot;

namespace NasFlatness.Comparison;

/// <summary>The report's figures (ScottPlot PNGs): α sharpening and curvature per epoch, and accuracy against neighbourhood flatness.</summary>
internal static class Plots
{
    /// <summary>Writes <c>alpha-max-weight.png</c>, <c>alpha-hessian.png</c> and <c>accuracy-vs-flatness.png</c> into <paramref name="folder"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Write(string folder, IReadOnlyList<RunRecord> records, Func<string, int> order)
    {
        Directory.CreateDirectory(folder);
        // The ρ-sweep labels ("…-rho0.1") are left out of the figures (their numbers are in the report's tables).
        records = [.. records.Where(r => !r.Method.Contains("-rho", StringComparison.Ordinal))];
        var searches = records.Where(r => r.MeanMaxWeightPerEpoch.Length > 0).GroupBy(r => r.Method).OrderBy(g => order(g.Key)).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
        var paths = new List<string>();

        // Mean over seeds of the mean max mixing weight at the end of each epoch.
        var weight = new Plot();
        foreach (var g in searches)
        {
            int n = g.Max(r => r.MeanMaxWeightPerEpoch.Length);
            double[] xs = [.. Enumerable.Range(1, n).Select(e => (double)e)];
            double[] ys = [.. Enumerable.Range(0, n).Select(e => Report.Stats(g.Where(r => r.MeanMaxWeightPerEpoch.Length > e).Select(r => r.MeanMaxWeightPerEpoch[e])).Mean)];
            Line(weight, g.Key, xs, ys, g.Count());
        }
        Finish(weight, "mean max softmax(α) per epoch (mean over seeds; uniform = 0.2)", "epoch", "mean max mixing weight", Path.Combine(folder, "alpha-max-weight.png"), paths, Alignment.UpperLeft);

        // Mean over seeds of the dominant eigenvalue of ∇²α L_val at the measured epochs.
        var curvature = new Plot();
        foreach (var g in searches)
        {
            int n = g.Max(r => r.HessianEigenvaluePerEpoch.Length);
            var points = Enumerable.Range(0, n)
                .Select(e => (X: e + 1.0, Y: Report.Stats(g.Where(r => r.HessianEigenvaluePerEpoch.Length > e).Select(r => r.HessianEigenvaluePerEpoch[e])).Mean))
                .Where(p => !double.IsNaN(p.Y)).ToArray();
            if (points.Length > 1) Line(curvature, g.Key, [.. points.Select(p => p.X)], [.. points.Select(p => p.Y)], g.Count());
        }
        Finish(curvature, "dominant eigenvalue of ∇²α L_val (mean over seeds)", "epoch", "λmax", Path.Combine(folder, "alpha-hessian.png"), paths, Alignment.UpperLeft);

        // Every found cell: CIFAR-10 table accuracy against the mean accuracy of its 24 radius-1 neighbours. The axes cover the
        // good region (x ≥ 80 %, y ≥ 78 %); the title counts the cells outside it (collapsed cells at 10–65 %).
        const double MinX = 80, MinY = 78;
        var scatter = new Plot();
        var cells = records.Where(r => !double.IsNaN(r.Radius1Mean)).ToList();
        foreach (var g in cells.GroupBy(r => r.Method).OrderBy(g => order(g.Key)).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            double[] xs = [.. g.Select(r => r.Radius1Mean)], ys = [.. g.Select(r => r.TestAccuracy)];
            var s = scatter.Add.ScatterPoints(xs, ys);
            s.LegendText = g.Key;
            s.MarkerSize = 9;
            s.MarkerShape = g.Key.Contains("+a2m", StringComparison.Ordinal) ? MarkerShape.FilledSquare
                : g.Key is "rs" or "na-rs" ? MarkerShape.FilledTriangleUp : MarkerShape.FilledCircle;
        }
        int outside = cells.Count(r => r.Radius1Mean < MinX || r.TestAccuracy < MinY);
        scatter.Axes.SetLimits(MinX, 95, MinY, 95);
        Finish(scatter, string.Create(CultureInfo.InvariantCulture, $"found cells: accuracy vs radius-1 neighbourhood (NAS-Bench-201, CIFAR-10); {outside} of {cells.Count} outside the axes"),
            "mean accuracy of the 24 radius-1 neighbours (%)", "table test accuracy of the cell (%)", Path.Combine(folder, "accuracy-vs-flatness.png"), paths, Alignment.LowerRight);
        return paths;
    }

    private static void Line(Plot plot, string method, double[] xs, double[] ys, int seeds)
    {
        var line = plot.Add.Scatter(xs, ys);
        line.LegendText = string.Create(CultureInfo.InvariantCulture, $"{method} ({seeds})");
        line.MarkerSize = 4;
        line.LineWidth = 1.5f;
    }

    private static void Finish(Plot plot, string title, string x, string y, string path, List<string> paths, Alignment legend)
    {
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        plot.ShowLegend(legend);
        plot.SavePng(path, 1000, 620);
        paths.Add(path);
    }
}
