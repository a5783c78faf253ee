using System.Globalization;
using System.Text;
using NasFlatness.Optimizers;

namespace NasFlatness.Comparison;

internal static class Report
{
    private static string F(double v, string format = "F2") => v.ToString(format, CultureInfo.InvariantCulture);

    private static (double Mean, double Std) Stats(IReadOnlyList<double> v)
    {
        double mean = v.Average();
        double std = v.Count > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1)) : 0;
        return (mean, std);
    }

    public static string Markdown(IReadOnlyList<RunRecord> records, string command)
    {
        // One record per (method, seed): the first wins if a run was repeated.
        records = records.GroupBy(r => (r.Preset, r.Seed)).Select(g => g.First()).ToList();
        var sb = new StringBuilder();
        var c = records[0].Config;
        sb.AppendLine("# Comparison results (CPU proxy)");
        sb.AppendLine();
        sb.AppendLine("Every method preset searched NAS-Bench-201 on CIFAR-10 at a CPU proxy; the final genotype was looked up in the");
        sb.AppendLine("NAS-Bench-201 table (CIFAR-10 test accuracy, 200-epoch training, `hp=200`).");
        sb.AppendLine();
        sb.AppendLine("## Summary (mean ± sample std over seeds)");
        sb.AppendLine();
        sb.AppendLine("| method | runs | test acc. (selected) % | test acc. (last epoch) % | mean max softmax(α) at end | parameter-free ops (of 6) | s / epoch | peak RSS MiB |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var name in MethodPresets.Names)
        {
            var runs = records.Where(r => r.Preset == name).ToList();
            if (runs.Count == 0) continue;
            var acc = Stats(runs.Select(r => r.TestAccuracy).ToList());
            var lastAcc = Stats(runs.Select(r => r.LastEpochTestAccuracy).ToList());
            var peak = Stats(runs.Select(r => r.FinalMeanMaxWeight).ToList());
            sb.AppendLine($"| {name} | {runs.Count} | {F(acc.Mean)} ± {F(acc.Std)} | {F(lastAcc.Mean)} ± {F(lastAcc.Std)} | {F(peak.Mean, "F3")} ± {F(peak.Std, "F3")} | " +
                          $"{F(runs.Average(r => r.ParameterFreeOps), "F1")} | {F(runs.Average(r => r.SecondsPerEpoch), "F1")} | {F(runs.Max(r => r.PeakRssMiB), "F0")} |");
        }
        sb.AppendLine();
        sb.AppendLine("## Per run");
        sb.AppendLine();
        sb.AppendLine("| method | seed | genotype (selected) | epoch | test acc. % | last-epoch test acc. % | mean max softmax(α) per epoch | max softmax per edge at end | s / epoch | peak RSS MiB |");
        sb.AppendLine("| --- | ---: | --- | ---: | ---: | ---: | --- | --- | ---: | ---: |");
        foreach (var r in records.OrderBy(r => Array.IndexOf(MethodPresets.Names.ToArray(), r.Preset)).ThenBy(r => r.Seed))
        {
            sb.AppendLine($"| {r.Preset} | {r.Seed} | `{r.Genotype.Replace("|", "\\|", StringComparison.Ordinal)}` | {r.SelectedEpoch} | {F(r.TestAccuracy)} | {F(r.LastEpochTestAccuracy)} | " +
                          $"{string.Join(" ", r.MeanMaxWeightPerEpoch.Select(v => F(v, "F2")))} | {string.Join(" ", r.MaxWeightPerEdge.Select(v => F(v, "F2")))} | " +
                          $"{F(r.SecondsPerEpoch, "F1")} | {F(r.PeakRssMiB, "F0")}{(r.PeakRssReset ? "" : "*")} |");
        }
        sb.AppendLine();
        sb.AppendLine("## Configuration");
        sb.AppendLine();
        sb.AppendLine($"* Command: `{command}`");
        sb.AppendLine($"* Proxy: C = {c.Channels}, N = {c.Cells}, batch {c.BatchSize} for every method, {c.Epochs} epochs, {c.TrainExamples} + {c.ValidExamples} CIFAR-10 training images (weight / α split), " +
                      $"α learning rate × {F(c.ArchLrScale, "G")} of each preset's, warm-up epochs scaled by {c.Epochs}/50, β-decay λ_t = {F(double.IsNaN(c.BetaSlope) ? 0.5 * 50 / c.Epochs : c.BetaSlope, "G")}·t, end-of-epoch supernet validation on {c.EpochValidationBatches} batches.");
        sb.AppendLine($"* Regularizers per method: {string.Join("; ", records.GroupBy(r => r.Preset).Select(g => $"{g.Key}: {(g.First().Regularizers.Length == 0 ? "none" : g.First().Regularizers)}, α-lr {F(g.First().ArchitectureLearningRate, "G3")}, warm-up {g.First().WarmupEpochs}"))}.");
        return sb.ToString();
    }
}
