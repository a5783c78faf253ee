using System.Globalization;
using System.Text;
using System.Text.Json;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using NasFlatness.Reproducibility;
using NasFlatness.Search;

namespace NasFlatness.Reports;

/// <summary>Options of <see cref="RunReport"/>.</summary>
public sealed class RunReportOptions
{
    /// <summary>
    /// Turns one row of α logits into mixing weights, as the search did (its <c>IArchitectureActivation</c>); null uses softmax
    /// (<see cref="RunManifest.Softmax"/>).
    /// </summary>
    /// <value>Default null (softmax).</value>
    public Func<double[], double[]>? Activation { get; set; }

    /// <summary>The NAS-Bench-201 table for the accuracy, rank and neighbourhood of a found NB201 cell; null uses the built-in table.</summary>
    /// <value>Default null (<see cref="Nb201Table.Embedded"/>).</value>
    public Nb201Table? Nb201Table { get; set; }
}

/// <summary>The files <see cref="RunReport.Write"/> wrote.</summary>
/// <param name="Report">The path of <c>report.html</c>.</param>
/// <param name="Cell">The path of <c>cell.svg</c>, or null when the run's genotype cannot be drawn (an unknown space without <see cref="ICellGraphSource"/>).</param>
public sealed record RunReportFiles(string Report, string? Cell);

/// <summary>
/// The page of one search or evaluation: a self-contained <c>report.html</c> (run summary from the manifest, the cell drawing,
/// α's mixing weights per edge and operation over the epochs, loss and accuracy per epoch, λmax of ∇²_α L_val when recorded, and
/// on NAS-Bench-201 the table accuracy, rank and the radius-1 neighbourhood) and the drawing <c>cell.svg</c> (docs/reports.md).
/// </summary>
public static class RunReport
{
    /// <summary>The file name of the page.</summary>
    public const string FileName = "report.html";

    /// <summary>The file name of the cell drawing.</summary>
    public const string CellFileName = "cell.svg";

    /// <summary>
    /// Reads <c>manifest.json</c> in <paramref name="folder"/> (any run's) and writes
    /// <c>cell.svg</c> and <c>report.html</c> beside it.
    /// </summary>
    /// <exception cref="FileNotFoundException">The folder has no manifest.</exception>
    /// <exception cref="InvalidDataException">The manifest cannot be read.</exception>
    public static RunReportFiles Write(string folder, RunReportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var manifest = RunManifest.Read(Path.Combine(folder, RunManifest.FileName));
        string? cellPath = null;
        if (TryParse(manifest.Outcome.SpaceName, manifest.Outcome.Genotype) is { } genotype && TryDraw(genotype) is { } svg)
        {
            cellPath = Path.Combine(folder, CellFileName);
            WriteAtomically(cellPath, svg);
        }
        var reportPath = Path.Combine(folder, FileName);
        WriteAtomically(reportPath, Html(manifest, options, Directory.EnumerateFiles(folder).Select(Path.GetFileName).OfType<string>().ToList()));
        return new RunReportFiles(reportPath, cellPath);
    }

    /// <summary>Temporary file, fsync, rename (<see cref="AtomicFile"/>); a failed write leaves neither a cut file nor its temporary.</summary>
    internal static void WriteAtomically(string path, string text) => AtomicFile.WriteAllText(path, text);

    /// <summary>The page of <paramref name="manifest"/> as HTML text.</summary>
    public static string Html(RunManifest manifest, RunReportOptions? options = null) => Html(manifest, options, []);

    internal static Genotype? TryParse(string space, string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            return CellGraphs.ParseGenotype(text, string.IsNullOrEmpty(space) ? null : space);
        }
        catch (Exception ex) when (ex is GenotypeFormatException or ArgumentException)
        {
            return null;
        }
    }

    internal static string? TryDraw(Genotype genotype)
    {
        try
        {
            return CellDrawing.Svg(genotype);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static string Html(RunManifest manifest, RunReportOptions? options, IReadOnlyList<string> files)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        options ??= new RunReportOptions();
        var activation = options.Activation ?? RunManifest.Softmax;
        var outcome = manifest.Outcome;
        string method = manifest.Kind == "search" ? ComparisonRun.MethodOf(manifest) : "";
        string space = outcome.SpaceName.Length > 0 ? outcome.SpaceName : manifest.Composition.GetValueOrDefault("SearchSpace") ?? "";
        string title = manifest.Kind == "evaluation" ? $"evaluation of a {space} cell" : $"{manifest.Kind}: {(method.Length > 0 ? method + " on " : "")}{space}";
        var sb = HtmlPage.Start($"NasFlatness {title}");
        sb.Append("<header><h1>").Append(SvgText.E(title)).Append("</h1>\n");
        if (outcome.Genotype.Length > 0) sb.Append("<p>genotype: <code id=\"genotype\">").Append(SvgText.E(outcome.Genotype)).Append("</code></p>\n");
        var links = new[] { RunManifest.FileName, "epochs.jsonl", "alpha.png", CellFileName }.Where(files.Contains).ToList();
        if (links.Count > 0) sb.Append("<nav>files: ").Append(string.Join("", links.Select(f => $"<a href=\"{SvgText.E(f)}\">{SvgText.E(f)}</a>"))).Append("</nav>\n");
        var env = manifest.Environment;
        sb.Append("<p class=\"note\" id=\"headline\">").Append(SvgText.E(string.Join(" · ", new[]
        {
            $"seed {manifest.Seed}", $"device {env.Device}", env.CpuKernels, $"{manifest.Epochs.Count} epochs",
            string.Create(CultureInfo.InvariantCulture, $"{outcome.Seconds:F0} s"), manifest.Dataset?.Name ?? "", manifest.CreatedUtc.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
        }.Where(s => s.Length > 0)))).Append("</p>\n");
        sb.Append("</header>\n");

        var genotype = TryParse(space, outcome.Genotype);
        sb.Append("<section id=\"cell\"><h2>").Append(manifest.Kind == "evaluation" ? "Evaluated cell" : "Found cell").Append("</h2>\n");
        string? svg = genotype is null ? null : TryDraw(genotype);
        sb.Append(svg is null ? "<p class=\"note\">This genotype cannot be drawn (its space is unknown to NasFlatness.Reports and its genotype does not implement ICellGraphSource).</p>\n"
            : "<div class=\"cells\"><figure>" + svg + "</figure></div>\n");
        sb.Append("</section>\n");
        if (genotype is Nb201Genotype nb201) Nb201Section(sb, nb201, manifest, options.Nb201Table ?? Nb201Table.Embedded);
        AlphaSection(sb, manifest, space, activation);
        Curves(sb, manifest);
        Summary(sb, manifest, method);
        return HtmlPage.End(sb);
    }

    private static string Code(string text) => "<code>" + SvgText.E(text) + "</code>";

    private static void Summary(StringBuilder sb, RunManifest manifest, string method)
    {
        var env = manifest.Environment;
        var o = manifest.Outcome;
        var rows = new List<(string, string)>
        {
            ("kind", SvgText.E(manifest.Kind)),
            ("finished (UTC)", SvgText.E(manifest.CreatedUtc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))),
            ("command", manifest.Command.Count == 0 ? "–" : Code("nasflatness " + string.Join(" ", manifest.Command.Select(Quote)))),
            ("seed", manifest.Seed.ToString(CultureInfo.InvariantCulture)),
        };
        if (method.Length > 0) rows.Add(("method", SvgText.E(method)));
        foreach (var (k, v) in manifest.Composition.Where(kv => kv.Value.Length > 0 && kv.Key != "Method")) rows.Add((k, SvgText.E(v)));
        rows.Add(("device", SvgText.E(env.Device)));
        rows.Add(("CPU kernels", SvgText.E(env.CpuKernels + (env.OneDnnFailure is { } f ? $" ({f})" : ""))));
        rows.Add(("threads / processors", SvgText.E(string.Create(CultureInfo.InvariantCulture, $"{env.Threads} / {env.ProcessorCount}"))));
        rows.Add(("CPU", SvgText.E(env.CpuModel)));
        rows.Add(("versions", SvgText.E($"NasFlatness {env.LibraryVersion}{(env.GitCommit.Length > 0 ? $" ({env.GitCommit})" : "")}, TorchSharp {env.TorchSharpVersion}, libtorch {env.LibTorchVersion}, .NET {env.DotNetVersion}, {env.OperatingSystem} {env.Architecture}")));
        if (manifest.SearchOptions is { } options)
        {
            var element = JsonSerializer.SerializeToElement(options, RunManifest.JsonOptions);
            rows.Add(("search options", string.Join(", ", element.EnumerateObject().Where(p => p.Value.ValueKind != JsonValueKind.Null).Select(p => $"{SvgText.E(p.Name)} = <code>{SvgText.E(p.Value.ToString())}</code>"))));
        }
        foreach (var (k, v) in manifest.Settings.Where(kv => kv.Value.Length > 0)) rows.Add((k, Code(v)));
        if (manifest.Dataset is { } data)
        {
            rows.Add(("data", SvgText.E(data.Name) + ", splits " + SvgText.E(string.Join(", ", data.Splits.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key} {s.Value:N0}"))))));
            rows.Add(("data fingerprint", Code("sha256:" + data.Sha256) + $" over {data.Files.Count} file{(data.Files.Count == 1 ? "" : "s")}"));
        }
        if (manifest.TableVersion is { } table) rows.Add(("benchmark table", Code(table)));
        rows.Add(("wall time", SvgText.E(string.Create(CultureInfo.InvariantCulture, $"{o.Seconds:F1} s"))));
        if (manifest.Kind == "search") rows.Add(("selected epoch", SvgText.E((o.SelectedEpoch + 1).ToString(CultureInfo.InvariantCulture))));
        rows.Add(("final train loss", SvgText.F(o.TrainLoss, "F4")));
        rows.Add((manifest.Kind == "evaluation" ? "test loss" : "final validation loss", SvgText.F(o.ValidationLoss, "F4")));
        foreach (var (k, v) in o.Metrics) rows.Add((k, SvgText.E(v.ToString("G6", CultureInfo.InvariantCulture))));
        sb.Append("<section id=\"summary\"><h2>Run details (manifest.json)</h2>\n");
        HtmlPage.KeyValues(sb, "summary-table", rows);
        sb.Append("</section>\n");
    }

    private static string Quote(string arg) => arg.Length == 0 || arg.Any(ch => char.IsWhiteSpace(ch) || ch is '|' or '\'' or '"' or '(' or ')' or '$' or '&' or ';' or '<' or '>')
        ? "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'" : arg;

    private static void Nb201Section(StringBuilder sb, Nb201Genotype cell, RunManifest manifest, Nb201Table table)
    {
        var record = table.Get(cell);
        int rank = 1 + table.Records.Count(r => r.Cifar10TestAccuracy > record.Cifar10TestAccuracy);
        var quality = Nb201CellQualityMeter.Embedded.Measure(cell);
        if (!ReferenceEquals(table, Nb201Table.Embedded)) quality = new Nb201CellQualityMeter(table).Measure(cell);
        sb.Append("<section id=\"nb201\"><h2>NAS-Bench-201</h2>\n");
        HtmlPage.KeyValues(sb, "nb201-table",
        [
            ("CIFAR-10 test accuracy", string.Create(CultureInfo.InvariantCulture, $"<span id=\"nb201-accuracy\">{record.Cifar10TestAccuracy:F2}</span> %")),
            ("rank among the 15,625 cells", string.Create(CultureInfo.InvariantCulture, $"<span id=\"nb201-rank\">{rank}</span> (top {100.0 * rank / table.Count:F1} %)")),
            ("CIFAR-100 / ImageNet16-120", string.Create(CultureInfo.InvariantCulture, $"{record.Cifar100TestAccuracy:F2} % / {record.ImageNet16TestAccuracy:F2} %")),
            ("radius 1: neighbour mean / min / gap", string.Create(CultureInfo.InvariantCulture, $"{quality.Radius1.NeighborMean:F2} % / {quality.Radius1.NeighborMin:F2} % / {quality.Radius1.Gap:F2} points")),
            ("radius 2: neighbour mean / min / gap", string.Create(CultureInfo.InvariantCulture, $"{quality.Radius2.NeighborMean:F2} % / {quality.Radius2.NeighborMin:F2} % / {quality.Radius2.Gap:F2} points")),
        ]);
        if (manifest.Kind == "search" && manifest.Epochs.Count > 0)
        {
            var accuracy = manifest.Epochs.Select(e => TryParse(Nb201Genotype.Space, e.Genotype) is Nb201Genotype g ? table.Get(g).Cifar10TestAccuracy : double.NaN).ToArray();
            sb.Append("<div class=\"grid\"><figure>")
              .Append(LineChart.Svg("nb201-accuracy-per-epoch", "table accuracy of each epoch's genotype", "epoch", "CIFAR-10 test accuracy (%)",
                  [new ChartSeries("NB201 CIFAR-10", LineChart.SeriesColour(0), [.. manifest.Epochs.Select(e => e.Epoch + 1.0)], accuracy)], legend: false))
              .Append("</figure></div>\n");
        }
        string which = manifest.Kind == "search" ? "found cell" : "cell";
        sb.Append("<h3>The ").Append(which).Append(" among its radius-1 neighbours</h3>\n<figure>").Append(NeighbourhoodDrawing.Svg(cell, table, which)).Append("</figure>\n</section>\n");
    }

    private static void AlphaSection(StringBuilder sb, RunManifest manifest, string space, Func<double[], double[]> activation)
    {
        var epochs = manifest.Epochs.Where(e => e.Alpha.Count > 0).ToList();
        if (epochs.Count == 0) return;
        var rows = AlphaRows.For(space, epochs[^1].Alpha);
        double[] xs = [.. epochs.Select(e => e.Epoch + 1.0)];
        sb.Append("<section id=\"alpha\"><h2>Mixing weights of α per edge</h2>\n");
        sb.Append("<p class=\"note\">Each chart is one edge (one row of α): the weight of every operation after each epoch, ")
          .Append(SvgText.E(manifest.Composition.GetValueOrDefault("Activation") is { Length: > 0 } name ? $"under the search's activation ({name})" : "softmax(α)"))
          .Append("; colours are the operations' colours in the cell drawing.</p>\n<div class=\"grid\" id=\"alpha-charts\">\n");
        var weights = epochs.Select(e => e.Alpha.SelectMany(t => t).Select(activation).ToArray()).ToArray();
        for (int k = 0; k < rows.Count; k++)
        {
            var row = rows[k];
            var series = row.Columns.Select((name, j) => new ChartSeries(name, row.Operations ? OperationColors.Of(name) : LineChart.SeriesColour(j), xs,
                [.. weights.Select(w => k < w.Length && j < w[k].Length ? w[k][j] : double.NaN)])).ToList();
            sb.Append("<figure>").Append(LineChart.Svg("alpha-" + row.Label, row.Label, "epoch", "mixing weight", series, 0, 1, 330, 220)).Append("</figure>\n");
        }
        sb.Append("</div>\n<h3>Weights after the last epoch</h3>\n<table id=\"alpha-table\"><tr><th>edge</th><th>weights (largest in bold)</th></tr>\n");
        var last = weights[^1];
        for (int k = 0; k < rows.Count && k < last.Length; k++)
        {
            int best = Array.IndexOf(last[k], last[k].DefaultIfEmpty(double.NaN).Max());
            sb.Append("<tr><td>").Append(SvgText.E(rows[k].Label)).Append("</td><td>");
            sb.Append(string.Join(" ", last[k].Select((v, j) =>
            {
                string name = j < rows[k].Columns.Count ? rows[k].Columns[j] : $"#{j}";
                string swatch = rows[k].Operations ? $"<span class=\"swatch\" style=\"background:{OperationColors.Of(name)}\"></span>" : "";
                string text = string.Create(CultureInfo.InvariantCulture, $"{SvgText.E(name)} {v:F3}");
                return swatch + (j == best ? "<b>" + text + "</b>" : text);
            })));
            sb.Append("</td></tr>\n");
        }
        sb.Append("</table>\n</section>\n");
    }

    private static void Curves(StringBuilder sb, RunManifest manifest)
    {
        var epochs = manifest.Epochs;
        sb.Append("<section id=\"curves\"><h2>Per epoch</h2>\n");
        if (epochs.Count == 0)
        {
            sb.Append("<p class=\"note\">This run recorded no epochs in its manifest.</p>\n</section>\n");
            return;
        }
        double[] xs = [.. epochs.Select(e => e.Epoch + 1.0)];
        bool evaluation = manifest.Kind == "evaluation";
        sb.Append("<div class=\"grid\">\n<figure>");
        var loss = new List<ChartSeries> { new("train", LineChart.SeriesColour(0), xs, [.. epochs.Select(e => e.TrainLoss)]) };
        if (epochs.Any(e => double.IsFinite(e.ValidationLoss))) loss.Add(new ChartSeries(evaluation ? "test" : "validation", LineChart.SeriesColour(1), xs, [.. epochs.Select(e => e.ValidationLoss)]));
        sb.Append(LineChart.Svg("loss", "loss per epoch", "epoch", "cross-entropy", loss)).Append("</figure>\n<figure>");
        var accuracy = new List<ChartSeries> { new("train", LineChart.SeriesColour(0), xs, [.. epochs.Select(e => 100 * e.TrainAccuracy)]) };
        if (epochs.Any(e => double.IsFinite(e.ValidationAccuracy))) accuracy.Add(new ChartSeries(evaluation ? "test" : "validation", LineChart.SeriesColour(1), xs, [.. epochs.Select(e => 100 * e.ValidationAccuracy)]));
        sb.Append(LineChart.Svg("accuracy", "accuracy per epoch", "epoch", "accuracy (%)", accuracy)).Append("</figure>\n");
        if (!evaluation)
            sb.Append("<figure>").Append(LineChart.Svg("mean-max-weight", "mean over edges of the largest mixing weight", "epoch", "mean max weight",
                [new ChartSeries("mean max p", LineChart.SeriesColour(2), xs, [.. epochs.Select(e => e.MeanMaxWeight)])], 0, 1, legend: false)).Append("</figure>\n");
        foreach (var metric in epochs.SelectMany(e => e.Metrics.Keys).Distinct().OrderBy(k => k, StringComparer.Ordinal))
        {
            string name = metric == ArchitectureHessianObserver.MetricName ? "λmax of ∇²α L_val" : metric;
            sb.Append("<figure>").Append(LineChart.Svg("metric-" + metric, name, "epoch", name,
                [new ChartSeries(name, LineChart.SeriesColour(3), xs, [.. epochs.Select(e => e.Metrics.TryGetValue(metric, out var v) ? v : double.NaN)])], legend: false)).Append("</figure>\n");
        }
        sb.Append("</div>\n<table id=\"epochs-table\"><tr><th>epoch</th><th>train loss</th><th>train acc %</th>");
        sb.Append(evaluation ? "" : "<th>valid loss</th><th>valid acc %</th><th>mean max p</th>");
        var metrics = epochs.SelectMany(e => e.Metrics.Keys).Distinct().OrderBy(k => k, StringComparer.Ordinal).ToList();
        foreach (var metric in metrics) sb.Append("<th>").Append(SvgText.E(metric == ArchitectureHessianObserver.MetricName ? "λmax(∇²α)" : metric)).Append("</th>");
        sb.Append("<th>seconds</th>").Append(evaluation ? "" : "<th>genotype</th>").Append("</tr>\n");
        foreach (var e in epochs)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"num\">{e.Epoch + 1}</td><td class=\"num\">{SvgText.F(e.TrainLoss, "F4")}</td><td class=\"num\">{SvgText.F(100 * e.TrainAccuracy, "F1")}</td>");
            if (!evaluation) sb.Append(CultureInfo.InvariantCulture, $"<td class=\"num\">{SvgText.F(e.ValidationLoss, "F4")}</td><td class=\"num\">{SvgText.F(100 * e.ValidationAccuracy, "F1")}</td><td class=\"num\">{SvgText.F(e.MeanMaxWeight, "F3")}</td>");
            foreach (var metric in metrics) sb.Append("<td class=\"num\">").Append(SvgText.F(e.Metrics.TryGetValue(metric, out var v) ? v : null, "G4")).Append("</td>");
            sb.Append(CultureInfo.InvariantCulture, $"<td class=\"num\">{SvgText.F(e.Seconds, "F1")}</td>");
            if (!evaluation) sb.Append("<td><code>").Append(SvgText.E(e.Genotype)).Append("</code></td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</table>\n</section>\n");
    }
}
