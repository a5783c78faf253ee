using System.CommandLine;
using System.Globalization;
using NasFlatness.Genotypes;
using NasFlatness.Optimizers;
using NasFlatness.Reports;
using NasFlatness.Reproducibility;
using NasFlatness.MultiObjective.Nachos;
using TorchSharp;

namespace NasFlatness.Cli;

/// <summary>Writes the report pages after a run; a failure is one warning line and never loses the run's result (its manifest is written first).</summary>
internal static class ReportFiles
{
    /// <summary>Writes <c>cell.svg</c> and <c>report.html</c> into a search's or evaluation's <paramref name="folder"/> (after its manifest).</summary>
    public static void TryWriteRun(string folder, CliOutput o, Func<double[], double[]>? activation = null)
    {
        try
        {
            var files = RunReport.Write(folder, new RunReportOptions { Activation = activation });
            o.Text($"report:   {files.Report}");
        }
        catch (Exception ex) when (!CliApp.IsCancellation(ex))
        {
            Warn(o, $"the report page of '{folder}' was not written ({ex.GetType().Name}: {ex.Message}); the run's results are complete. 'nasflatness report {folder}' writes it again.");
        }
    }

    /// <summary>Writes the comparison's <c>report.html</c> (and the page of any run that lacks one) into <paramref name="folder"/>.</summary>
    public static void TryWriteComparison(string folder, IReadOnlyList<ComparisonRow> rows, CliOutput o)
    {
        try
        {
            var path = ComparisonPage.Write(folder, [.. rows.Select(r => new ComparisonRun(r.Method, r.Seed, r.Manifest, r.Folder))]);
            o.Text($"report: {path}");
        }
        catch (Exception ex) when (!CliApp.IsCancellation(ex))
        {
            Warn(o, $"the comparison page of '{folder}' was not written ({ex.GetType().Name}: {ex.Message}); results.md and the manifests are complete. 'nasflatness report {folder}' writes it again.");
        }
    }

    private static void Warn(CliOutput o, string message)
    {
        o.Event("warning", new { message });
        o.Error.WriteLine($"warning: {message}");
    }

    /// <summary>The search's activation by its registry name (softmax when empty or unknown), as a function on one row of logits.</summary>
    public static Func<double[], double[]>? ActivationOf(RunManifest manifest)
    {
        var name = manifest.Composition.GetValueOrDefault("Activation");
        if (string.IsNullOrEmpty(name) || name == SoftmaxActivation.ActivationName) return null;
        var registry = new NasFlatnessRegistry().AddBuiltInMethods();
        if (!registry.Activations.Contains(name)) return null;
        var activation = registry.Activations.Create(name);
        return row =>
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            return activation.Activate(torch.tensor(row, torch.float64).unsqueeze(0)).squeeze(0).to(torch.float64).data<double>().ToArray();
        };
    }
}

/// <summary><c>nasflatness draw</c>: a genotype's cells as SVG.</summary>
internal static class DrawCommand
{
    public static Command Create(Func<ParseResult, CliOutput> output)
    {
        var genotype = new Argument<string>("genotype") { Description = "The genotype: a NAS-Bench-201 arch string, DARTS Genotype(...) text or a published name (DARTS_V2), or a nas-bench-201-varied genotype." };
        var space = new Option<string?>("--space") { Description = "The genotype's space: nas-bench-201, darts, nas-bench-201-varied (default: recognised from the text)." };
        var exits = new Option<string?>("--exits") { Description = "NAS-Bench-201 only: draw the early-exit network with exits after these cells (comma-separated global cell indices, 0 … 3N − 2)." };
        var cells = new Option<int>("--cells") { Description = "With --exits: cells per stage N.", DefaultValueFactory = _ => 1 };
        var outputOption = new Option<string>("--output", "-o") { Description = "The SVG file to write.", DefaultValueFactory = _ => "cell.svg" };
        var command = new Command("draw",
            "Draw a genotype's cells as SVG: nodes, edges labelled with their operation (one colour per operation), 'none' edges faint; DARTS genotypes give the normal and " +
            "the reduction cell, nas-bench-201-varied genotypes their three stages with the depth kept, --exits an NB201 early-exit network.\n\n" +
            "Examples:\n  nasflatness draw '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|' -o cell.svg\n" +
            "  nasflatness draw DARTS_V2 -o darts_v2.svg\n" +
            "  nasflatness draw '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|' --exits 1,3 --cells 2 -o exits.svg")
        {
            genotype, space, exits, cells, outputOption,
        };
        command.SetAction(parse =>
        {
            var o = output(parse);
            var g = CellGraphs.ParseGenotype(parse.GetValue(genotype)!, parse.GetValue(space));
            string svg;
            if (parse.GetValue(exits) is { } exitText)
            {
                if (g is not Nb201Genotype cell) throw new CliInputException($"--exits draws NAS-Bench-201 early-exit networks; '{g.SpaceName}' genotypes have no exits.");
                var list = new List<int>();
                foreach (var part in exitText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    list.Add(int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : throw new CliInputException($"--exits '{part}' is not a cell index."));
                int n = parse.GetValue(cells);
                if (n < 1) throw new CliInputException($"--cells {n} is invalid: must be at least 1.");
                svg = CellDrawing.EarlyExitNetwork(cell, new Nb201ExitPlacement(n, list));
            }
            else svg = CellDrawing.Svg(g);
            var path = Path.GetFullPath(parse.GetValue(outputOption)!);
            OutputFolder.WriteText(path, svg);
            o.Event("result", new { genotype = g.ToString(), space = g.SpaceName, svg = path });
            o.Text($"cell drawing: {path}");
            return ExitCodes.Ok;
        });
        return command;
    }
}

/// <summary><c>nasflatness report</c>: rebuilds a result folder's report page from its files.</summary>
internal static class ReportCommand
{
    public static Command Create(Func<ParseResult, CliOutput> output)
    {
        var folder = new Argument<string>("folder") { Description = "A result folder with a manifest.json: a search, an evaluation, or a comparison (compare, collect)." };
        var command = new Command("report",
            "Rebuild report.html (and cell.svg) of a result folder from its manifest.json, also for runs made before reports existed. A comparison folder gets its page " +
            "with a link to every run's page (written first where missing).\n\nExamples:\n  nasflatness report results/search-20261129-120000\n  nasflatness report results/compare-20261129-130000")
        {
            folder,
        };
        command.SetAction(parse =>
        {
            var o = output(parse);
            var path = parse.GetValue(folder)!;
            var manifestPath = Path.Combine(path, RunManifest.FileName);
            if (!Directory.Exists(path)) throw new CliInputException($"The result folder '{path}' does not exist.");
            if (!File.Exists(manifestPath)) throw new CliInputException($"'{path}' has no {RunManifest.FileName}: give a result folder of search, evaluate, compare or collect.");
            var manifest = RunManifest.Read(manifestPath);
            string report;
            if (manifest.Kind == "comparison")
            {
                var runs = manifest.Runs.Select(r => Path.GetFullPath(Path.Combine(path, r))).ToList();
                var missing = runs.FirstOrDefault(r => !File.Exists(r));
                if (missing is not null) throw new CliInputException($"The comparison lists the run '{missing}', which does not exist.");
                foreach (var run in runs.Select(Path.GetDirectoryName))
                    RunReport.Write(run!, new RunReportOptions { Activation = ReportFiles.ActivationOf(RunManifest.Read(Path.Combine(run!, RunManifest.FileName))) });
                report = ComparisonPage.Rebuild(path);
            }
            else report = RunReport.Write(path, new RunReportOptions { Activation = ReportFiles.ActivationOf(manifest) }).Report;
            o.Event("result", new { kind = manifest.Kind, report });
            o.Text($"report: {report}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
