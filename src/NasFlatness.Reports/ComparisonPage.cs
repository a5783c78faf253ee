using System.Globalization;
using System.Text;
using NasFlatness.Landscape;
using NasFlatness.Reproducibility;
using NasFlatness.Search;

namespace NasFlatness.Reports;

/// <summary>One search of a comparison: its method, seed, manifest and result folder.</summary>
/// <param name="Method">The method's name (preset, or optimizer and regularizers joined by <c>+</c>).</param>
/// <param name="Seed">The seed.</param>
/// <param name="Manifest">The run's manifest.</param>
/// <param name="Folder">The run's result folder (where its <c>report.html</c> is or will be).</param>
public sealed record ComparisonRun(string Method, int Seed, RunManifest Manifest, string Folder)
{
    /// <summary>The NAS-Bench-201 CIFAR-10 test accuracy of the found cell, when the run recorded it.</summary>
    public double? TableAccuracy => Metric(OutcomeMetrics.Nb201Cifar10TestAccuracy);

    /// <summary>An outcome metric of the run (<see cref="RunOutcome.Metrics"/>), or null.</summary>
    public double? Metric(string name) => Manifest.Outcome.Metrics.TryGetValue(name, out var v) ? v : null;

    /// <summary>The method of a search manifest: its preset's name, or the optimizer and regularizers joined by '+'.</summary>
    public static string MethodOf(RunManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var c = manifest.Composition;
        return c.GetValueOrDefault("Method") is { Length: > 0 } preset ? preset
            : string.Join("+", new[] { c.GetValueOrDefault("Optimizer") ?? "" }.Concat((c.GetValueOrDefault("Regularizers") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)));
    }

    /// <summary>The run of a search manifest read from <paramref name="folder"/>.</summary>
    public static ComparisonRun FromManifest(RunManifest manifest, string folder) => new(MethodOf(manifest), manifest.Seed, manifest, folder);
}

/// <summary>
/// The page of a comparison (<c>nasflatness compare</c>, <c>collect</c>): a self-contained <c>report.html</c> with the table of
/// runs (each linking to its own page), the summary per method, paired tests between methods over common seeds (exact Wilcoxon
/// signed-rank and paired t), per-method plots and a drawing of each found cell.
/// </summary>
public static class ComparisonPage
{
    /// <summary>
    /// Writes <c>report.html</c> into <paramref name="folder"/>, first writing the page of every run whose folder has none.
    /// Returns the page's path.
    /// </summary>
    /// <exception cref="ArgumentException">No runs.</exception>
    public static string Write(string folder, IReadOnlyList<ComparisonRun> runs, RunReportOptions? runOptions = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0) throw new ArgumentException("A comparison page needs at least one run.", nameof(runs));
        Directory.CreateDirectory(folder);
        foreach (var run in runs)
            if (!File.Exists(Path.Combine(run.Folder, RunReport.FileName)) && File.Exists(Path.Combine(run.Folder, RunManifest.FileName)))
                RunReport.Write(run.Folder, runOptions);
        var path = Path.Combine(folder, RunReport.FileName);
        RunReport.WriteAtomically(path, Html(folder, runs));
        return path;
    }

    /// <summary>Rebuilds the page of the comparison whose manifest (<c>Kind = comparison</c>) is in <paramref name="folder"/>, from its runs' manifests.</summary>
    /// <exception cref="FileNotFoundException">The comparison manifest or a run's manifest is missing.</exception>
    /// <exception cref="InvalidDataException">The manifest is not a comparison's.</exception>
    public static string Rebuild(string folder, RunReportOptions? runOptions = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var manifest = RunManifest.Read(Path.Combine(folder, RunManifest.FileName));
        if (manifest.Kind != "comparison") throw new InvalidDataException($"'{Path.Combine(folder, RunManifest.FileName)}' is the manifest of a {manifest.Kind}, not of a comparison.");
        var runs = manifest.Runs.Select(relative =>
        {
            var path = Path.GetFullPath(Path.Combine(folder, relative));
            return ComparisonRun.FromManifest(RunManifest.Read(path), Path.GetDirectoryName(path)!);
        }).ToList();
        return Write(folder, runs, runOptions);
    }

    /// <summary>The page as HTML text; links to the runs' pages are relative to <paramref name="folder"/>.</summary>
    public static string Html(string folder, IReadOnlyList<ComparisonRun> runs)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(runs);
        var methods = runs.Select(r => r.Method).Distinct().ToList();
        var sb = HtmlPage.Start("NasFlatness comparison");
        sb.Append(CultureInfo.InvariantCulture, $"<header><h1>Comparison: {runs.Count} run{(runs.Count == 1 ? "" : "s")} of {methods.Count} method{(methods.Count == 1 ? "" : "s")}</h1>\n");
        var first = runs[0].Manifest;
        sb.Append("<p class=\"note\">").Append(SvgText.E(string.Join(" · ", new[]
        {
            first.Composition.GetValueOrDefault("SearchSpace") ?? first.Outcome.SpaceName,
            first.Dataset is { } d ? $"{d.Name} (sha256:{d.Sha256[..Math.Min(12, d.Sha256.Length)]}…)" : "",
            $"device {first.Environment.Device}, {first.Environment.CpuKernels}",
            $"NasFlatness {first.Environment.LibraryVersion}",
        }.Where(s => s.Length > 0)))).Append("</p>\n</header>\n");

        string Link(ComparisonRun run) => Path.GetRelativePath(Path.GetFullPath(folder), Path.GetFullPath(Path.Combine(run.Folder, RunReport.FileName))).Replace('\\', '/');
        bool nb201 = runs.All(r => r.TableAccuracy is not null);

        // Runs.
        sb.Append("<section id=\"runs\"><h2>Runs</h2>\n<table id=\"runs-table\"><tr><th>method</th><th>seed</th>");
        if (nb201) sb.Append("<th>NB201 CIFAR-10 %</th><th>rank</th><th>r=1 mean / min / gap</th>");
        sb.Append("<th>λmax(∇²α) last</th><th>final valid loss</th><th>mean max p</th><th>seconds</th><th>genotype</th><th>page</th></tr>\n");
        foreach (var run in runs)
        {
            var o = run.Manifest.Outcome;
            sb.Append("<tr class=\"run\"><td>").Append(SvgText.E(run.Method)).Append("</td><td class=\"num\">").Append(run.Seed.ToString(CultureInfo.InvariantCulture)).Append("</td>");
            if (nb201)
                sb.Append("<td class=\"num\">").Append(SvgText.F(run.TableAccuracy)).Append("</td><td class=\"num\">").Append(SvgText.F(run.Metric(OutcomeMetrics.Nb201Cifar10Rank), "F0"))
                  .Append("</td><td class=\"num\">").Append($"{SvgText.F(run.Metric(OutcomeMetrics.Nb201Cifar10Radius1Mean))} / {SvgText.F(run.Metric(OutcomeMetrics.Nb201Cifar10Radius1Min))} / {SvgText.F(run.Metric(OutcomeMetrics.Nb201Cifar10Radius1Gap))}").Append("</td>");
            sb.Append("<td class=\"num\">").Append(SvgText.F(LastLambda(run), "G4")).Append("</td><td class=\"num\">").Append(SvgText.F(o.ValidationLoss, "F4"))
              .Append("</td><td class=\"num\">").Append(SvgText.F(run.Manifest.Epochs.LastOrDefault()?.MeanMaxWeight, "F3")).Append("</td><td class=\"num\">").Append(SvgText.F(o.Seconds, "F0"))
              .Append("</td><td><code>").Append(SvgText.E(o.Genotype)).Append("</code></td><td><a class=\"run-link\" href=\"").Append(SvgText.E(Link(run))).Append("\">report</a></td></tr>\n");
        }
        sb.Append("</table>\n</section>\n");

        // Summary per method.
        sb.Append("<section id=\"summary\"><h2>Per method (mean ± sample std over seeds)</h2>\n<table id=\"summary-table\"><tr><th>method</th><th>runs</th>");
        if (nb201) sb.Append("<th>NB201 CIFAR-10 %</th><th>r=1 neighbour mean %</th><th>r=1 gap</th>");
        sb.Append("<th>final valid loss</th></tr>\n");
        foreach (var method in methods)
        {
            var group = runs.Where(r => r.Method == method).ToList();
            sb.Append("<tr><td>").Append(SvgText.E(method)).Append("</td><td class=\"num\">").Append(group.Count.ToString(CultureInfo.InvariantCulture)).Append("</td>");
            if (nb201)
                sb.Append("<td class=\"num\">").Append(MeanStd(group.Select(r => r.TableAccuracy))).Append("</td><td class=\"num\">").Append(MeanStd(group.Select(r => r.Metric(OutcomeMetrics.Nb201Cifar10Radius1Mean))))
                  .Append("</td><td class=\"num\">").Append(MeanStd(group.Select(r => r.Metric(OutcomeMetrics.Nb201Cifar10Radius1Gap)))).Append("</td>");
            sb.Append("<td class=\"num\">").Append(MeanStd(group.Select(r => (double?)r.Manifest.Outcome.ValidationLoss), "F4")).Append("</td></tr>\n");
        }
        sb.Append("</table>\n</section>\n");

        PairedTests(sb, runs, methods, nb201);
        Plots(sb, runs, methods, nb201);

        // Cells.
        sb.Append("<section id=\"found-cells\"><h2>Found cells</h2>\n<div class=\"grid cells\">\n");
        foreach (var run in runs)
        {
            var genotype = RunReport.TryParse(run.Manifest.Outcome.SpaceName, run.Manifest.Outcome.Genotype);
            string? svg = genotype is null ? null : RunReport.TryDraw(genotype);
            sb.Append("<figure class=\"found-cell\" data-method=\"").Append(SvgText.E(run.Method)).Append("\" data-seed=\"").Append(run.Seed.ToString(CultureInfo.InvariantCulture)).Append("\">");
            sb.Append(svg ?? "<p class=\"note\">(no drawing)</p>");
            sb.Append("<figcaption><a href=\"").Append(SvgText.E(Link(run))).Append("\">").Append(SvgText.E($"{run.Method}, seed {run.Seed}"))
              .Append("</a>").Append(run.TableAccuracy is double a ? string.Create(CultureInfo.InvariantCulture, $": {a:F2} %") : "").Append("</figcaption></figure>\n");
        }
        sb.Append("</div>\n</section>\n");
        return HtmlPage.End(sb);
    }

    private static double? LastLambda(ComparisonRun run) =>
        run.Manifest.Epochs.Select(e => e.Metrics.TryGetValue(ArchitectureHessianObserver.MetricName, out var v) ? v : (double?)null).LastOrDefault(v => v is not null);

    private static string MeanStd(IEnumerable<double?> values, string format = "F2")
    {
        var v = values.OfType<double>().Where(double.IsFinite).ToArray();
        if (v.Length == 0) return "–";
        var (mean, std) = SummaryStatistics.MeanAndStd(v);
        return $"{mean.ToString(format, CultureInfo.InvariantCulture)} ± {std.ToString(format, CultureInfo.InvariantCulture)}";
    }

    private static void PairedTests(StringBuilder sb, IReadOnlyList<ComparisonRun> runs, IReadOnlyList<string> methods, bool nb201)
    {
        string metric = nb201 ? "NAS-Bench-201 CIFAR-10 test accuracy (%)" : "final validation loss";
        double Value(ComparisonRun r) => nb201 ? r.TableAccuracy!.Value : r.Manifest.Outcome.ValidationLoss;
        sb.Append("<section id=\"paired-tests\"><h2>Paired tests</h2>\n<p class=\"note\">Each pair of methods over the seeds both ran; difference = second − first in ")
          .Append(SvgText.E(metric)).Append(". Wilcoxon signed-rank (exact, two-sided) and paired t-test (two-sided).</p>\n");
        sb.Append("<table id=\"paired-table\"><tr><th>first</th><th>second</th><th>pairs</th><th>mean difference</th><th>median difference</th><th>Wilcoxon W⁺ / W⁻</th><th>Wilcoxon p</th><th>t</th><th>t-test p</th></tr>\n");
        int rows = 0;
        for (int i = 0; i < methods.Count; i++)
            for (int j = i + 1; j < methods.Count; j++)
            {
                var a = runs.Where(r => r.Method == methods[i]).GroupBy(r => r.Seed).ToDictionary(g => g.Key, g => Value(g.First()));
                var b = runs.Where(r => r.Method == methods[j]).GroupBy(r => r.Seed).ToDictionary(g => g.Key, g => Value(g.First()));
                var seeds = a.Keys.Intersect(b.Keys).Where(s => double.IsFinite(a[s]) && double.IsFinite(b[s])).Order().ToList();
                double[] x = [.. seeds.Select(s => a[s])], y = [.. seeds.Select(s => b[s])];
                sb.Append("<tr><td>").Append(SvgText.E(methods[i])).Append("</td><td>").Append(SvgText.E(methods[j])).Append("</td><td class=\"num\">").Append(seeds.Count.ToString(CultureInfo.InvariantCulture)).Append("</td>");
                rows++;
                if (seeds.Count < 2 || seeds.Count(s => a[s] != b[s]) > WilcoxonSignedRank.MaxExactPairs)
                {
                    sb.Append("<td class=\"num\">").Append(SvgText.F(seeds.Count == 1 ? y[0] - x[0] : null, "F3")).Append("</td><td colspan=\"5\" class=\"note\">")
                      .Append(seeds.Count < 2 ? "a test needs at least 2 common seeds" : "too many pairs for the exact test").Append("</td></tr>\n");
                    continue;
                }
                var w = WilcoxonSignedRank.Test(x, y);
                var (_, mean, t, p) = PairedTTest.Test(x, y);
                sb.Append(CultureInfo.InvariantCulture, $"<td class=\"num\">{SvgText.F(mean, "F3")}</td><td class=\"num\">{SvgText.F(w.MedianDifference, "F3")}</td><td class=\"num\">{w.WPlus:0.#} / {w.WMinus:0.#}</td>");
                sb.Append(CultureInfo.InvariantCulture, $"<td class=\"num\">{SvgText.F(w.PValue, "F3")}</td><td class=\"num\">{SvgText.F(t, "F2")}</td><td class=\"num\">{SvgText.F(p, "F3")}</td></tr>\n");
            }
        if (rows == 0) sb.Append("<tr><td colspan=\"9\" class=\"note\">one method only: nothing to pair</td></tr>\n");
        sb.Append("</table>\n</section>\n");
    }

    private static void Plots(StringBuilder sb, IReadOnlyList<ComparisonRun> runs, IReadOnlyList<string> methods, bool nb201)
    {
        string Colour(string method) => LineChart.SeriesColour(methods.ToList().IndexOf(method));
        sb.Append("<section id=\"plots\"><h2>Per method</h2>\n<div class=\"grid\">\n");
        if (nb201)
            sb.Append("<figure>").Append(LineChart.Svg("accuracy-per-seed", "NAS-Bench-201 CIFAR-10 accuracy of the found cell", "seed", "accuracy (%)",
                [.. methods.Select(m => new ChartSeries(m, Colour(m), [.. runs.Where(r => r.Method == m).Select(r => (double)r.Seed)], [.. runs.Where(r => r.Method == m).Select(r => r.TableAccuracy ?? double.NaN)]))],
                width: 460, height: 280)).Append("</figure>\n");
        ChartSeries PerEpoch(ComparisonRun r, Func<EpochManifest, double> value) =>
            new($"{r.Method} s{r.Seed}", Colour(r.Method), [.. r.Manifest.Epochs.Select(e => e.Epoch + 1.0)], [.. r.Manifest.Epochs.Select(value)], Dashed: runs.Where(x => x.Method == r.Method).ToList().IndexOf(r) % 2 == 1);
        sb.Append("<figure>").Append(LineChart.Svg("sharpening", "mean max mixing weight over the epochs", "epoch", "mean max weight",
            [.. runs.Select(r => PerEpoch(r, e => e.MeanMaxWeight))], 0, 1, 460, 280)).Append("</figure>\n");
        sb.Append("<figure>").Append(LineChart.Svg("validation-loss", "supernet validation loss", "epoch", "cross-entropy",
            [.. runs.Select(r => PerEpoch(r, e => e.ValidationLoss))], width: 460, height: 280)).Append("</figure>\n");
        if (runs.Any(r => r.Manifest.Epochs.Any(e => e.Metrics.ContainsKey(ArchitectureHessianObserver.MetricName))))
            sb.Append("<figure>").Append(LineChart.Svg("lambda-max", "λmax of ∇²α L_val per epoch", "epoch", "λmax",
                [.. runs.Select(r => PerEpoch(r, e => e.Metrics.TryGetValue(ArchitectureHessianObserver.MetricName, out var v) ? v : double.NaN))], width: 460, height: 280)).Append("</figure>\n");
        sb.Append("</div>\n</section>\n");
    }
}
