using System.Globalization;
using NasFlatness.Landscape;
using NasFlatness.Reproducibility;
using NasFlatness.Search;
using Xunit;

namespace NasFlatness.Cli.Tests;

/// <summary>
/// Every search report prints the found cell's neighbourhood flatness next to its table accuracy, and <c>--alpha-hessian-every</c>
/// records the dominant eigenvalue of ∇²_α L_val per epoch (console, epochs.jsonl, manifest, comparison table).
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class CellFlatnessAndCurvatureTests
{
    private static readonly string[] Ops = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"];

    /// <summary>The six (op, input) edges of an NB201 string, in order.</summary>
    private static (string Op, string Input)[] Edges(string cell) =>
        [.. cell.Split('|', StringSplitOptions.RemoveEmptyEntries).Where(t => t != "+").Select(t => (t.Split('~')[0], t.Split('~')[1]))];

    private static string Cell((string Op, string Input)[] e) =>
        $"|{e[0].Op}~{e[0].Input}|+|{e[1].Op}~{e[1].Input}|{e[2].Op}~{e[2].Input}|+|{e[3].Op}~{e[3].Input}|{e[4].Op}~{e[4].Input}|{e[5].Op}~{e[5].Input}|";

    /// <summary>Independent oracle: the CIFAR-10 accuracies of the cells exactly <paramref name="radius"/> edge changes away, by enumeration.</summary>
    private static double[] Neighbours(string cell, int radius)
    {
        var edges = Edges(cell);
        var result = new List<double>();
        void Walk(int from, int left, (string Op, string Input)[] current)
        {
            if (left == 0) { result.Add(Nb201Table.Embedded.Get(Cell(current)).Cifar10TestAccuracy); return; }
            for (int i = from; i < 6; i++)
                foreach (var op in Ops.Where(o => o != edges[i].Op))
                {
                    var next = ((string, string)[])current.Clone();
                    next[i] = (op, edges[i].Input);
                    Walk(i + 1, left - 1, next);
                }
        }
        Walk(0, radius, edges);
        return [.. result];
    }

    [Fact]
    public void A_search_reports_the_found_cells_neighbourhood_and_the_alpha_hessian_per_epoch()
    {
        var folder = Path.Combine(Path.GetTempPath(), "nasflatness-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, output, err) = Tool.Run("search", "--channels", "4", "--cells", "1", "--train-examples", "64", "--valid-examples", "64", "--epochs", "3",
                "--arch-lr", "0.03", "--seed", "1", "--alpha-hessian-every", "2", "--data", TestData.Cifar10, "--output", folder, "--json");
            Assert.True(code == 0, err);
            var lines = Tool.JsonLines(output);
            var epochs = lines.Where(l => l.GetProperty("event").GetString() == "epoch").ToArray();
            var result = lines.Single(l => l.GetProperty("event").GetString() == "result");
            var manifest = RunManifest.Read(Path.Combine(folder, RunManifest.FileName));

            // λmax: epochs k−1, 2k−1, … and the last (every 2 of 3 → epochs 2 and 3, one-based); absent elsewhere.
            Assert.Equal(System.Text.Json.JsonValueKind.Null, epochs[0].GetProperty("alphaHessianMaxEigenvalue").ValueKind);
            Assert.False(manifest.Epochs[0].Metrics.ContainsKey(ArchitectureHessianObserver.MetricName));
            foreach (int e in new[] { 1, 2 })
            {
                double lambda = epochs[e].GetProperty("alphaHessianMaxEigenvalue").GetDouble();
                Assert.True(double.IsFinite(lambda));
                Assert.Equal(lambda, manifest.Epochs[e].Metrics[ArchitectureHessianObserver.MetricName]);
            }
            Assert.Equal(manifest.Epochs[2].Metrics[ArchitectureHessianObserver.MetricName], result.GetProperty("alphaHessianMaxEigenvalue").GetDouble());
            var jsonl = Tool.JsonLines(File.ReadAllText(Path.Combine(folder, "epochs.jsonl")));
            Assert.Equal(manifest.Epochs[1].Metrics[ArchitectureHessianObserver.MetricName], jsonl[1].GetProperty("alphaHessianMaxEigenvalue").GetDouble());

            // Flatness of the found cell against enumeration of its 24 and 240 neighbours in the table.
            string cell = manifest.Outcome.Genotype;
            double centre = Nb201Table.Embedded.Get(cell).Cifar10TestAccuracy;
            var r1 = Neighbours(cell, 1);
            var r2 = Neighbours(cell, 2);
            Assert.Equal(24, r1.Length);
            Assert.Equal(240, r2.Length);
            var n = result.GetProperty("neighbourhood");
            Assert.Equal(r1.Average(), n.GetProperty("radius1").GetProperty("mean").GetDouble(), 9);
            Assert.Equal(r1.Min(), n.GetProperty("radius1").GetProperty("min").GetDouble(), 9);
            Assert.Equal(centre - r1.Average(), n.GetProperty("radius1").GetProperty("gap").GetDouble(), 9);
            Assert.Equal(r2.Average(), n.GetProperty("radius2").GetProperty("mean").GetDouble(), 9);
            Assert.Equal(r2.Min(), n.GetProperty("radius2").GetProperty("min").GetDouble(), 9);
            Assert.Equal(r1.Average(), manifest.Outcome.Metrics["Nb201Cifar10Radius1Mean"], 9);
            Assert.Equal(centre - r2.Average(), manifest.Outcome.Metrics["Nb201Cifar10Radius2Gap"], 9);

            // The human-readable report prints it next to the accuracy.
            (code, output, err) = Tool.Run("search", "--channels", "4", "--cells", "1", "--train-examples", "64", "--valid-examples", "64", "--epochs", "1",
                "--arch-lr", "0.03", "--seed", "1", "--alpha-hessian-every", "1", "--data", TestData.Cifar10, "--output", Path.Combine(folder, "text"));
            Assert.True(code == 0, err);
            Assert.Contains("λmax(∇²α) ", output);
            var text = RunManifest.Read(Path.Combine(folder, "text", RunManifest.FileName));
            string expected = string.Create(CultureInfo.InvariantCulture,
                $"mean {text.Outcome.Metrics["Nb201Cifar10Radius1Mean"]:F2} / {text.Outcome.Metrics["Nb201Cifar10Radius2Mean"]:F2} %");
            Assert.Contains(expected, output);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    public void A_hessian_interval_below_one_is_refused_naming_the_flag(string every)
    {
        var (code, _, err) = Tool.Run("search", "--alpha-hessian-every", every, "--epochs", "1", "--data", TestData.Cifar10, "--output", Path.Combine(Path.GetTempPath(), "never-" + Guid.NewGuid().ToString("N")));
        Assert.Equal(2, code);
        Assert.Contains($"--alpha-hessian-every {every} is invalid", err);
    }
}
