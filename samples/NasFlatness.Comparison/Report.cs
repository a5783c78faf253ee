using System.Globalization;
using System.Text;
using NasFlatness.Landscape;
using NasFlatness.Optimizers;

namespace NasFlatness.Comparison;

internal static class Report
{
    private static string F(double v, string format = "F2") => double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);

    public static (double Mean, double Std) Stats(IEnumerable<double> values) => SummaryStatistics.MeanAndStd(values);

    private static string MeanStd(IEnumerable<double> values, string format = "F2")
    {
        var (m, s) = Stats(values);
        return $"{F(m, format)} ± {F(s, format)}";
    }

    /// <summary>One record per (method, seed): the first wins if a run was repeated.</summary>
    public static IReadOnlyList<RunRecord> Unique(IReadOnlyList<RunRecord> records) => records.GroupBy(r => (r.Method, r.Seed)).Select(g => g.First()).ToList();

    /// <summary>Paired t-test of treated − host: mean difference, t and the two-sided p (Student's t with n − 1 degrees of freedom; NasFlatness.Reports).</summary>
    public static (double MeanDifference, double T, double PValue) PairedT(IReadOnlyList<double> host, IReadOnlyList<double> treated)
    {
        var result = NasFlatness.Reports.PairedTTest.Test(host, treated);
        return (result.MeanDifference, result.T, result.PValue);
    }

    public static int Order(string method)
    {
        int i = MethodPresets.Names.ToList().FindIndex(n => method == n || method.StartsWith(n + "-rho", StringComparison.Ordinal));
        return i >= 0 ? i : method is "na-rs" ? 1000 : method is "rs" ? 1001 : 500;
    }

    /// <summary>Host / host + A²M pairs present in the records: every label "X+a2m…" against "X".</summary>
    public static IEnumerable<(string Host, string Treated)> A2MPairs(IEnumerable<string> methods)
    {
        var set = methods.ToHashSet(StringComparer.Ordinal);
        foreach (var m in set.OrderBy(Order).ThenBy(m => m, StringComparer.Ordinal))
        {
            int at = m.IndexOf("+a2m", StringComparison.Ordinal);
            if (at > 0 && set.Contains(m[..at])) yield return (m[..at], m);
        }
    }

    public static string Markdown(IReadOnlyList<RunRecord> records, string command)
    {
        // One record per (method, seed): the first wins if a run was repeated.
        records = Unique(records);
        var methods = records.Select(r => r.Method).Distinct().OrderBy(Order).ThenBy(m => m, StringComparer.Ordinal).ToList();
        var sb = new StringBuilder();
        sb.AppendLine("# Comparison results");
        sb.AppendLine();
        sb.AppendLine("Every found cell looked up in the NAS-Bench-201 table (test accuracy %, 200-epoch training) with its neighbourhood");
        sb.AppendLine("flatness on CIFAR-10 (mean and minimum accuracy of the cells at Hamming distance exactly 1 (24 cells) and 2 (240 cells),");
        sb.AppendLine("gap = own accuracy − neighbour mean) and its rank among the 15,625 cells (1 = best).");
        sb.AppendLine();
        sb.AppendLine("## Summary (mean ± sample std over seeds)");
        sb.AppendLine();
        sb.AppendLine("| method | runs | CIFAR-10 | CIFAR-100 | ImageNet16-120 | rank | r=1 mean | r=1 min | r=1 gap | r=2 mean | r=2 min | r=2 gap | param-free edges | mean max p at end | λmax(∇²α) last epoch | s / epoch |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var name in methods)
        {
            var runs = records.Where(r => r.Method == name).ToList();
            double LastLambda(RunRecord r) => r.HessianEigenvaluePerEpoch.Length > 0 ? r.HessianEigenvaluePerEpoch[^1] : double.NaN;
            sb.AppendLine($"| {name} | {runs.Count} | {MeanStd(runs.Select(r => r.TestAccuracy))} | {MeanStd(runs.Select(r => r.Cifar100Accuracy))} | {MeanStd(runs.Select(r => r.ImageNet16Accuracy))} | " +
                          $"{F(runs.Average(r => (double)r.Rank), "F0")} | {MeanStd(runs.Select(r => r.Radius1Mean))} | {MeanStd(runs.Select(r => r.Radius1Min))} | {MeanStd(runs.Select(r => r.Radius1Gap))} | " +
                          $"{MeanStd(runs.Select(r => r.Radius2Mean))} | {MeanStd(runs.Select(r => r.Radius2Min))} | {MeanStd(runs.Select(r => r.Radius2Gap))} | " +
                          $"{F(runs.Average(r => (double)r.ParameterFreeOps), "F1")} | {MeanStd(runs.Select(r => r.FinalMeanMaxWeight), "F3")} | {MeanStd(runs.Select(LastLambda), "G3")} | {F(Stats(runs.Select(r => r.SecondsPerEpoch)).Mean, "F1")} |");
        }
        sb.AppendLine();
        sb.AppendLine("## Paired tests: host vs host + A²M (same seeds; Wilcoxon signed-rank, exact, two-sided)");
        sb.AppendLine();
        sb.AppendLine("Δ = treated − host. With 5 pairs the smallest two-sided Wilcoxon p is 2/32 = 0.0625, so the paired t-test (normality assumed) is given beside it.");
        sb.AppendLine();
        sb.AppendLine("| host | treated | pairs | median Δ CIFAR-10 | W⁺ / W⁻ | p | mean Δ CIFAR-10 | t | p (t) | median Δ r=1 mean | p (r=1 mean) | p (t, r=1 mean) | identical genotypes |");
        sb.AppendLine("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (host, treated) in A2MPairs(methods))
        {
            var pairs = records.Where(r => r.Method == host)
                .Join(records.Where(r => r.Method == treated), r => r.Seed, r => r.Seed, (h, t) => (h, t)).ToList();
            if (pairs.Count == 0) continue;
            var acc = WilcoxonSignedRank.Test(pairs.Select(p => p.h.TestAccuracy).ToArray(), pairs.Select(p => p.t.TestAccuracy).ToArray());
            var flat = WilcoxonSignedRank.Test(pairs.Select(p => p.h.Radius1Mean).ToArray(), pairs.Select(p => p.t.Radius1Mean).ToArray());
            var accT = PairedT(pairs.Select(p => p.h.TestAccuracy).ToArray(), pairs.Select(p => p.t.TestAccuracy).ToArray());
            var flatT = PairedT(pairs.Select(p => p.h.Radius1Mean).ToArray(), pairs.Select(p => p.t.Radius1Mean).ToArray());
            sb.AppendLine($"| {host} | {treated} | {pairs.Count} | {F(acc.MedianDifference)} | {F(acc.WPlus, "G")} / {F(acc.WMinus, "G")} | {F(acc.PValue, "F3")} | {F(accT.MeanDifference)} | {F(accT.T)} | {F(accT.PValue, "F3")} | {F(flat.MedianDifference)} | {F(flat.PValue, "F3")} | {F(flatT.PValue, "F3")} | {pairs.Count(p => p.h.Genotype == p.t.Genotype)} |");
        }
        sb.AppendLine();
        sb.AppendLine("## Dominant eigenvalue of ∇²_α L_val per epoch (mean over seeds)");
        sb.AppendLine();
        foreach (var name in methods)
        {
            var runs = records.Where(r => r.Method == name && r.HessianEigenvaluePerEpoch.Length > 0).ToList();
            if (runs.Count == 0) continue;
            int n = runs.Max(r => r.HessianEigenvaluePerEpoch.Length);
            var mean = Enumerable.Range(0, n).Select(e => Stats(runs.Where(r => r.HessianEigenvaluePerEpoch.Length > e).Select(r => r.HessianEigenvaluePerEpoch[e])).Mean);
            sb.AppendLine($"* {name}: {string.Join(" ", mean.Select(v => F(v, "G3")))}");
        }
        sb.AppendLine();
        sb.AppendLine("## Per run");
        sb.AppendLine();
        sb.AppendLine("| method | seed | genotype | CIFAR-10 | CIFAR-100 | IN16 | rank | r=1 mean / min / gap | r=2 mean / min / gap | param-free | mean max p per epoch | λmax per epoch | s / epoch |");
        sb.AppendLine("| --- | ---: | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | --- | --- | ---: |");
        foreach (var r in records.OrderBy(r => Order(r.Method)).ThenBy(r => r.Method, StringComparer.Ordinal).ThenBy(r => r.Seed))
        {
            sb.AppendLine($"| {r.Method} | {r.Seed} | `{r.Genotype.Replace("|", "\\|", StringComparison.Ordinal)}` | {F(r.TestAccuracy)} | {F(r.Cifar100Accuracy)} | {F(r.ImageNet16Accuracy)} | {r.Rank} | " +
                          $"{F(r.Radius1Mean)} / {F(r.Radius1Min)} / {F(r.Radius1Gap)} | {F(r.Radius2Mean)} / {F(r.Radius2Min)} / {F(r.Radius2Gap)} | {r.ParameterFreeOps} | " +
                          $"{string.Join(" ", r.MeanMaxWeightPerEpoch.Select(v => F(v, "F2")))} | {string.Join(" ", r.HessianEigenvaluePerEpoch.Select(v => F(v, "G2")))} | {F(r.SecondsPerEpoch, "F1")} |");
        }
        sb.AppendLine();
        sb.AppendLine("## Configuration");
        sb.AppendLine();
        sb.AppendLine($"* Command: `{command}`");
        foreach (var g in records.Where(r => r.Config is not null).GroupBy(r => r.Protocol))
        {
            var c = g.First().Config!;
            sb.AppendLine($"* Protocol {g.Key}: C = {c.Channels}, N = {c.Cells}, batch {c.BatchSize}, {c.Epochs} epochs, {c.TrainExamples} + {c.ValidExamples} CIFAR-10 training images, " +
                          $"β-decay slope {F(c.BetaSlope, "G")}, end-of-epoch validation on {c.EpochValidationBatches} batches.");
        }
        sb.AppendLine($"* α learning rate and warm-up per method: {string.Join("; ", records.Where(r => r.Config is not null).GroupBy(r => r.Method).Select(g => $"{g.Key}: {(g.First().Regularizers.Length == 0 ? "no regularizer" : g.First().Regularizers)}, α-lr {F(g.First().ArchitectureLearningRate, "G3")}, warm-up {g.First().WarmupEpochs}"))}.");
        foreach (var g in records.Where(r => r.ScorerCalls > 0).GroupBy(r => r.Method))
            sb.AppendLine($"* {g.Key}: {g.First().Protocol}, {F(g.Average(r => (double)r.ScorerCalls), "F0")} scorer calls per search on average.");
        return sb.ToString();
    }
}
