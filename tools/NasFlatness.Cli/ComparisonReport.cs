using System.Globalization;
using System.Text;
using NasFlatness.Reproducibility;
using NasFlatness.Search;
using Spectre.Console;

namespace NasFlatness.Cli;

/// <summary>One search in a comparison: its method, seed, manifest and folder.</summary>
internal sealed record ComparisonRow(string Method, int Seed, RunManifest Manifest, string Folder)
{
    public double? TableAccuracy => Manifest.Outcome.Metrics.TryGetValue(OutcomeMetrics.Nb201Cifar10TestAccuracy, out var a) ? a : null;

    public int? Rank => Manifest.Outcome.Metrics.TryGetValue(OutcomeMetrics.Nb201Cifar10Rank, out var r) ? (int)r : null;

    /// <summary>A table metric of the found cell (e.g. <c>Nb201Cifar10Radius1Mean</c>), null when not recorded.</summary>
    public double? Metric(string name) => Manifest.Outcome.Metrics.TryGetValue(name, out var v) ? v : null;

    /// <summary>The last measured dominant eigenvalue of ∇²_α L_val (null when the search did not measure it).</summary>
    public double? LastHessianEigenvalue => LastMeasuredHessianEigenvalue(Manifest.Epochs);

    /// <summary>The last epoch's dominant eigenvalue of ∇²_α L_val among <paramref name="epochs"/> that measured it (null: none did).</summary>
    public static double? LastMeasuredHessianEigenvalue(IEnumerable<EpochManifest> epochs) =>
        epochs.Select(e => e.Metrics.TryGetValue(ArchitectureHessianObserver.MetricName, out var v) ? v : (double?)null).LastOrDefault(v => v is not null);

    /// <summary>A row from a search manifest: the preset name, or the optimizer and regularizers joined by '+'.</summary>
    public static ComparisonRow FromManifest(RunManifest manifest, string folder) =>
        new(NasFlatness.Reports.ComparisonRun.MethodOf(manifest), manifest.Seed, manifest, folder);
}

/// <summary>The report of <c>compare</c> and <c>collect</c>: results.csv, results.md, accuracy.png, sharpening.png, a comparison manifest and a console table.</summary>
internal static class ComparisonReport
{
    /// <summary>Writes the report of <paramref name="rows"/> into <paramref name="folder"/>; returns the comparison manifest's path.</summary>
    public static string Write(string folder, IReadOnlyList<ComparisonRow> rows, IReadOnlyList<string> command, CliOutput o)
    {
        Directory.CreateDirectory(folder);
        var csv = new StringBuilder("method,seed,genotype,nb201_cifar10,nb201_rank,r1_mean,r1_min,r1_gap,r2_mean,r2_min,r2_gap,alpha_hessian_max_eigenvalue,final_train_loss,final_valid_loss,mean_max_weight,seconds\n");
        var md = new StringBuilder("| method | seed | NB201 CIFAR-10 | rank | r=1 mean / min / gap | r=2 mean / min / gap | λmax(∇²α) | final valid loss | mean max p | genotype |\n|---|---|---|---|---|---|---|---|---|---|\n");
        var table = new Table().AddColumns("method", "seed", "NB201 C10", "rank", "r=1 mean/min/gap", "λmax(∇²α)", "valid loss", "mean max p", "genotype");
        foreach (var row in rows)
        {
            var outcome = row.Manifest.Outcome;
            var last = row.Manifest.Epochs.LastOrDefault();
            string acc = row.TableAccuracy is double t ? t.ToString("F2", CultureInfo.InvariantCulture) : "";
            string rank = row.Rank?.ToString(CultureInfo.InvariantCulture) ?? "";
            string valid = outcome.ValidationLoss.ToString("F4", CultureInfo.InvariantCulture);
            string sharp = (last?.MeanMaxWeight ?? double.NaN).ToString("F3", CultureInfo.InvariantCulture);
            string M(string name) => row.Metric(name) is double v ? v.ToString("F2", CultureInfo.InvariantCulture) : "";
            string[] r1 = [M(OutcomeMetrics.Nb201Cifar10Radius1Mean), M(OutcomeMetrics.Nb201Cifar10Radius1Min), M(OutcomeMetrics.Nb201Cifar10Radius1Gap)];
            string[] r2 = [M(OutcomeMetrics.Nb201Cifar10Radius2Mean), M(OutcomeMetrics.Nb201Cifar10Radius2Min), M(OutcomeMetrics.Nb201Cifar10Radius2Gap)];
            string lambda = row.LastHessianEigenvalue is double l ? l.ToString("G4", CultureInfo.InvariantCulture) : "";
            string Joined(string[] v) => v[0].Length == 0 ? "" : string.Join(" / ", v);
            csv.Append(CultureInfo.InvariantCulture, $"{row.Method},{row.Seed},\"{outcome.Genotype}\",{acc},{rank},{string.Join(",", r1)},{string.Join(",", r2)},{lambda},{outcome.TrainLoss.ToString("R", CultureInfo.InvariantCulture)},{outcome.ValidationLoss.ToString("R", CultureInfo.InvariantCulture)},{sharp},{outcome.Seconds:F1}\n");
            md.Append(CultureInfo.InvariantCulture, $"| {row.Method} | {row.Seed} | {acc} | {rank} | {Joined(r1)} | {Joined(r2)} | {lambda} | {valid} | {sharp} | `{outcome.Genotype}` |\n");
            table.AddRow(Markup.Escape(row.Method), row.Seed.ToString(CultureInfo.InvariantCulture), acc, rank, Joined(r1), lambda, valid, sharp, Markup.Escape(outcome.Genotype));
            o.Event("run", new
            {
                method = row.Method, seed = row.Seed, genotype = outcome.Genotype, nb201Cifar10 = row.TableAccuracy, nb201Rank = row.Rank,
                radius1Mean = row.Metric(OutcomeMetrics.Nb201Cifar10Radius1Mean), radius1Min = row.Metric(OutcomeMetrics.Nb201Cifar10Radius1Min), radius1Gap = row.Metric(OutcomeMetrics.Nb201Cifar10Radius1Gap),
                radius2Mean = row.Metric(OutcomeMetrics.Nb201Cifar10Radius2Mean), radius2Min = row.Metric(OutcomeMetrics.Nb201Cifar10Radius2Min), radius2Gap = row.Metric(OutcomeMetrics.Nb201Cifar10Radius2Gap),
                alphaHessianMaxEigenvalue = row.LastHessianEigenvalue, folder = row.Folder,
            });
        }
        md.Append("\n| method | runs | NB201 CIFAR-10 mean ± std | r=1 neighbour mean ± std | r=1 gap ± std |\n|---|---|---|---|---|\n");
        foreach (var group in rows.GroupBy(x => x.Method))
        {
            var (mean, std) = Stats(group.Select(x => x.TableAccuracy));
            md.Append(CultureInfo.InvariantCulture, $"| {group.Key} | {group.Count()} | {mean:F2} ± {std:F2} | {MeanStd(group.Select(x => x.Metric(OutcomeMetrics.Nb201Cifar10Radius1Mean)))} | {MeanStd(group.Select(x => x.Metric(OutcomeMetrics.Nb201Cifar10Radius1Gap)))} |\n");
            o.Event("summary", new { method = group.Key, runs = group.Count(), nb201Cifar10Mean = double.IsNaN(mean) ? (double?)null : mean, nb201Cifar10Std = std });
        }
        OutputFolder.WriteText(Path.Combine(folder, "results.csv"), csv.ToString());
        OutputFolder.WriteText(Path.Combine(folder, "results.md"), md.ToString());
        if (rows.Any(x => x.TableAccuracy is not null))
        {
            AlphaPlot.Lines(Path.Combine(folder, "accuracy.png"), "NAS-Bench-201 CIFAR-10 test accuracy of the found cell", "seed", "accuracy (%)",
                rows.GroupBy(x => x.Method).Select(g => (g.Key, g.Select(x => (double)x.Seed).ToArray(), g.Select(x => x.TableAccuracy ?? double.NaN).ToArray())));
        }
        AlphaPlot.Lines(Path.Combine(folder, "sharpening.png"), "mean max mixing weight over the epochs", "epoch", "mean max mixing weight",
            rows.Select(x => ($"{x.Method} s{x.Seed}", x.Manifest.Epochs.Select(e => (double)e.Epoch + 1).ToArray(), x.Manifest.Epochs.Select(e => e.MeanMaxWeight).ToArray())));
        var first = rows[0].Manifest;
        var manifest = new RunManifest
        {
            Kind = "comparison",
            Command = [.. command],
            Environment = first.Environment,
            Seed = rows[0].Seed,
            Composition = new Dictionary<string, string>
            {
                ["Methods"] = string.Join(",", rows.Select(r => r.Method).Distinct()),
                ["Seeds"] = string.Join(",", rows.Select(r => r.Seed).Distinct().Select(s => s.ToString(CultureInfo.InvariantCulture))),
            },
            SearchOptions = null,
            Settings = first.Settings,
            Dataset = first.Dataset,
            TableVersion = first.TableVersion,
            Runs = [.. rows.Select(x => Path.GetRelativePath(folder, Path.Combine(x.Folder, RunManifest.FileName)))],
        };
        var path = Path.Combine(folder, RunManifest.FileName);
        manifest.Write(path);
        ReportFiles.TryWriteComparison(folder, rows, o);
        if (!o.Json)
        {
            o.Console.Write(table);
            o.Text($"results: {Path.Combine(folder, "results.md")}, manifest: {path}");
        }
        return path;
    }

    /// <summary>Mean and sample standard deviation of the recorded values (NaN mean and std 0 when none was recorded).</summary>
    private static (double Mean, double Std) Stats(IEnumerable<double?> values)
    {
        var (mean, std) = SummaryStatistics.MeanAndStd(values.OfType<double>());
        return (mean, double.IsNaN(std) ? 0 : std);
    }

    /// <summary>"mean ± sample std" of the recorded values (empty when none was recorded).</summary>
    private static string MeanStd(IEnumerable<double?> values)
    {
        var (mean, std) = Stats(values);
        return double.IsNaN(mean) ? "" : string.Create(CultureInfo.InvariantCulture, $"{mean:F2} ± {std:F2}");
    }
}
