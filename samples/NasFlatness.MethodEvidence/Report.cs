using System.Globalization;
using System.Text;

namespace NasFlatness.MethodEvidence;

internal static class Report
{
    private static string F(double v, string format = "F2") => double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);

    private static string MeanStd(IEnumerable<double> values, string format = "F2")
    {
        var (mean, std) = SummaryStatistics.MeanAndStd(values);
        return double.IsNaN(mean) ? "–" : $"{F(mean, format)} ± {F(std, format)}";
    }

    private static readonly string[] Preferred = ["darts", "zo-darts", "zo-darts+", "zo-darts+@0.2M", "zo-darts+@0.4M", "zo-darts+@0.6M", "darts+prox", "darts-prime"];

    private static int Order(string method) => Array.IndexOf(Preferred, method) is var i and >= 0 ? i : Preferred.Length;

    public static string Markdown(IReadOnlyList<EvidenceRecord> records)
    {
        var sb = new StringBuilder();
        foreach (var experiment in records.Select(r => r.Experiment).Distinct().Order(StringComparer.Ordinal))
        {
            var rows = records.Where(r => r.Experiment == experiment).ToList();
            var methods = rows.Select(r => r.Method).Distinct().OrderBy(Order).ThenBy(m => m, StringComparer.Ordinal).ToList();
            sb.AppendLine($"### {experiment}: summary (mean ± sample std over seeds)").AppendLine();
            sb.AppendLine("| method | seeds | table CIFAR-10 % | params (C=16, N=5) | mean max p at end | exact zeros in p | α steps | loss at α | loss at one-hot | gap (one-hot − α) | s / step | wall s |");
            sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var m in methods)
            {
                var g = rows.Where(r => r.Method == m).OrderBy(r => r.Seed).ToList();
                sb.AppendLine($"| {m} | {string.Join(",", g.Select(r => r.Seed))} | {MeanStd(g.Select(r => r.TableCifar10Accuracy))} | {MeanStd(g.Select(r => r.Parameters / 1e6), "F3")} M | {MeanStd(g.Select(r => r.FinalMeanMaxWeight), "F3")} | {MeanStd(g.Select(r => (double)r.ExactZeros), "F1")} / {g[0].MixingEntries} | {MeanStd(g.Select(r => (double)r.ArchitectureUpdates), "F0")} | {MeanStd(g.Select(r => r.GapLossAtAlpha), "F3")} | {MeanStd(g.Select(r => r.GapLossAtOneHot), "F3")} | {MeanStd(g.Select(r => r.DiscretisationGap), "F3")} | {MeanStd(g.Select(r => r.SecondsPerStep), "F3")} | {MeanStd(g.Select(r => r.WallSeconds), "F0")} |");
            }
            sb.AppendLine();
            if (rows.Any(r => !double.IsNaN(r.BudgetUpper)))
            {
                sb.AppendLine("Budgets (params of the C = 16, N = 5 network):").AppendLine();
                sb.AppendLine("| method | seed | U | found params | within U | expected P(p) at end | table % | best cell ≤ U (table %) |");
                sb.AppendLine("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |");
                foreach (var r in rows.Where(r => !double.IsNaN(r.BudgetUpper)).OrderBy(r => r.BudgetUpper).ThenBy(r => r.Seed))
                    sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Method} | {r.Seed} | {r.BudgetUpper:N0} | {r.Parameters:N0} | {(r.Parameters <= r.BudgetUpper ? "yes" : "no")} | {r.ExpectedParametersAtEnd:N0} | {F(r.TableCifar10Accuracy)} | {F(r.BestUnderBudget)} |"));
                sb.AppendLine();
            }
            if (rows.Any(r => !double.IsNaN(r.TrainedTestAccuracy)))
            {
                sb.AppendLine("Trained found networks:").AppendLine();
                sb.AppendLine("| method | seed | test acc (last epoch) | best test acc over epochs | params | training | training s |");
                sb.AppendLine("| --- | ---: | ---: | ---: | ---: | --- | ---: |");
                foreach (var r in rows.Where(r => !double.IsNaN(r.TrainedTestAccuracy)))
                    sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Method} | {r.Seed} | {100 * r.TrainedTestAccuracy:F2} % | {100 * r.TrainedBestTestAccuracy:F2} % | {r.TrainedParameters:N0} | {r.TrainingSettings} | {r.TrainingWallSeconds:F0} |"));
                sb.AppendLine();
            }
            sb.AppendLine("Per run:").AppendLine();
            sb.AppendLine("| method | seed | genotype | table % | params | zeros per edge | mean max p per epoch (first, middle, last) | α-lr | τ last |");
            sb.AppendLine("| --- | ---: | --- | ---: | ---: | --- | --- | ---: | ---: |");
            foreach (var r in rows.OrderBy(r => methods.IndexOf(r.Method)).ThenBy(r => r.Seed))
            {
                var mm = r.MeanMaxWeightPerEpoch;
                string curve = mm.Length == 0 ? "" : string.Join(" → ", new[] { mm[0], mm[mm.Length / 2], mm[^1] }.Select(v => F(v, "F3")));
                sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Method} | {r.Seed} | `{r.Genotype}` | {F(r.TableCifar10Accuracy)} | {r.Parameters:N0} | {string.Join(",", r.ExactZerosPerEdge)} | {curve} | {r.ArchitectureLearningRate:G3} | {F(r.FinalTemperature, "F3")} |"));
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }
}
