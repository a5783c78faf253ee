using System.CommandLine;
using System.Globalization;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using Spectre.Console;

namespace NasFlatness.Cli;

/// <summary><c>nasflatness landscape</c>: the flatness of a cell's NAS-Bench-201 neighbourhood.</summary>
internal static class LandscapeCommand
{
    public static Command Create(Func<ParseResult, CliOutput> output)
    {
        var cell = new Argument<string>("cell") { Description = "A NAS-Bench-201 arch string." };
        var radius = new Option<int>("--radius") { Description = "Neighbourhood radius in operation changes (1: 24 neighbours, 2: 264).", DefaultValueFactory = _ => 1 };
        var metric = new Option<string>("--metric") { Description = "Table column: cifar10, cifar100 or ImageNet16-120 (test accuracy).", DefaultValueFactory = _ => "cifar10" };
        var outputOption = new Option<string?>("--output", "-o") { Description = "Also write the neighbours' scores as a PNG (neighbours.png) into this folder." };
        var command = new Command("landscape",
            "Summarise a cell's NAS-Bench-201 neighbourhood (NasFlatness.Landscape): its score, the mean, spread, minimum and maximum of its neighbours within --radius, " +
            "the gap (score − neighbour mean), and its rank among the 15,625 cells and among its neighbours.\n\n" +
            "Examples:\n  nasflatness landscape '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|' --radius 2\n" +
            "  nasflatness landscape '|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|' --json")
        {
            cell, radius, metric, outputOption,
        };
        command.SetAction(parse =>
        {
            var o = output(parse);
            int r = parse.GetValue(radius);
            if (r is < 1 or > 6) throw new CliInputException($"--radius {r} is invalid: must be in 1..6.");
            var metricName = parse.GetValue(metric)!;
            var m = metricName.ToLowerInvariant() switch
            {
                "cifar10" => Nb201Metrics.Cifar10TestAccuracy,
                "cifar100" => Nb201Metrics.Cifar100TestAccuracy,
                "imagenet16-120" or "imagenet16" => Nb201Metrics.ImageNet16TestAccuracy,
                _ => throw new CliInputException($"--metric '{metricName}' is invalid: expected cifar10, cifar100 or ImageNet16-120."),
            };
            var genotype = Nb201Genotype.Parse(parse.GetValue(cell)!);
            var table = Nb201Table.Embedded;
            var landscape = Nb201Landscape.FromTable(table, m);
            var flat = landscape.Flatness(genotype, r);
            int rank = 1 + table.Records.Count(x => table.GetValue(x.Index, m) > flat.CenterScore);
            int better = flat.NeighborScores.Count(s => s > flat.CenterScore);
            o.Event("landscape", new
            {
                cell = genotype.ToString(), metric = m.ToString(), radius = r, score = flat.CenterScore, neighbours = flat.Neighbors.Count,
                neighbourMean = flat.NeighborMean, neighbourStd = flat.NeighborStd, neighbourMin = flat.NeighborMin, neighbourMax = flat.NeighborMax, gap = flat.Gap,
                rank, of = table.Count, betterNeighbours = better, tableVersion = SearchJob.TableVersion(),
            });
            if (!o.Json)
            {
                var t = new Table().AddColumns("quantity", "value");
                void Row(string k, string v) => t.AddRow(Markup.Escape(k), Markup.Escape(v));
                Row("cell", genotype.ToString());
                Row("metric", m.ToString());
                Row("score", F(flat.CenterScore));
                Row($"rank among {table.Count:N0}", rank.ToString("N0", CultureInfo.InvariantCulture));
                Row($"neighbours (radius {r})", flat.Neighbors.Count.ToString(CultureInfo.InvariantCulture));
                Row("neighbour mean ± std", $"{F(flat.NeighborMean)} ± {F(flat.NeighborStd)}");
                Row("neighbour min / max", $"{F(flat.NeighborMin)} / {F(flat.NeighborMax)}");
                Row("gap (score − neighbour mean)", F(flat.Gap));
                Row("neighbours better than the cell", better.ToString(CultureInfo.InvariantCulture));
                o.Console.Write(t);
            }
            if (parse.GetValue(outputOption) is { } folder)
            {
                Directory.CreateDirectory(folder);
                var sorted = flat.NeighborScores.Order().ToArray();
                AlphaPlot.Lines(Path.Combine(folder, "neighbours.png"), $"radius-{r} neighbours of the cell ({m})", "neighbour (sorted)", m.ToString(),
                    [("neighbours", [.. Enumerable.Range(1, sorted.Length).Select(i => (double)i)], sorted),
                     ("cell", [1.0, sorted.Length], [flat.CenterScore, flat.CenterScore])]);
                o.Text($"plot: {Path.Combine(folder, "neighbours.png")}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
}
