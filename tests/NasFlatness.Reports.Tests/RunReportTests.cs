using System.Globalization;
using System.Text.RegularExpressions;
using NasFlatness.Genotypes;
using NasFlatness.Reproducibility;
using Xunit;

namespace NasFlatness.Reports.Tests;

/// <summary>Run pages of manifests written here (no search): α row names per space, evaluation pages, undrawable genotypes.</summary>
public sealed class RunReportTests
{
    private static double[][] Rows(int rows, int columns, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, columns).Select(_ => random.NextDouble()).ToArray())];
    }

    private static RunManifest Search(string space, string genotype, Func<int, IReadOnlyList<double[][]>> alpha, int epochs = 3) => new()
    {
        Kind = "search",
        Composition = new Dictionary<string, string> { ["SearchSpace"] = space, ["Method"] = "darts" },
        Epochs = [.. Enumerable.Range(0, epochs).Select(e => new EpochManifest { Epoch = e, Genotype = genotype, Alpha = alpha(e), TrainLoss = 2 - 0.1 * e, ValidationLoss = 2.1 - 0.1 * e, TrainAccuracy = 0.1 * e, ValidationAccuracy = 0.1 * e, MeanMaxWeight = 0.3 })],
        Outcome = new RunOutcome { Genotype = genotype, SpaceName = space, SelectedEpoch = epochs - 1 },
    };

    private static List<string> ChartIds(string html) => [.. Regex.Matches(html, "data-chart=\"alpha-([^\"]+)\"").Select(m => System.Net.WebUtility.HtmlDecode(m.Groups[1].Value))];

    [Fact]
    public void A_darts_page_names_every_alpha_row_by_its_cell_node_and_input_and_shows_the_last_softmax()
    {
        var text = DartsGenotype.DartsV2.ToString();
        var manifest = Search("darts", text, e => [Rows(14, 8, e), Rows(14, 8, 100 + e)]);
        var html = RunReport.Html(manifest);
        // Rows of a cell: node n (0..3) has inputs c_{k-2}, c_{k-1} and nodes 0..n-1, in that order.
        var expected = new List<string>();
        foreach (var cell in new[] { "normal", "reduce" })
            for (int node = 0; node < 4; node++)
                for (int input = 0; input < node + 2; input++)
                    expected.Add($"{cell}: {node} ← {(input == 0 ? "c_{k-2}" : input == 1 ? "c_{k-1}" : (input - 2).ToString(CultureInfo.InvariantCulture))}");
        Assert.Equal(expected, ChartIds(html));
        Assert.Equal(2, Regex.Matches(html, "<g class=\"cell\" data-cell=").Count);
        // The last epoch's weights in the table are softmax of its logits (first row of the normal cell, first operation).
        var logits = manifest.Epochs[^1].Alpha[0][0];
        double softmax = Math.Exp(logits[0]) / logits.Sum(Math.Exp);
        var row = Regex.Match(html, "<tr><td>normal: 0 ← c_\\{k-2\\}</td><td>(.*?)</td></tr>").Groups[1].Value;
        Assert.Contains($"none {softmax.ToString("F3", CultureInfo.InvariantCulture)}", row);
        Assert.DoesNotContain("id=\"nb201\"", html);
    }

    [Fact]
    public void A_varied_page_has_operation_kernel_and_depth_charts()
    {
        const string text = "cells=2 |nor_conv_7x7~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2| / cells=1 |nor_conv_5x5~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2| / cells=2 |nor_conv_1x1~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|";
        var html = RunReport.Html(Search("nas-bench-201-varied", text, e => [Rows(18, 5, e), Rows(18, 3, 10 + e), Rows(3, 2, 20 + e)]));
        var ids = ChartIds(html);
        Assert.Equal(18 + 18 + 3, ids.Count);
        Assert.Equal("stage 1: 1←0", ids[0]);
        Assert.Equal("stage 3: 3←2 kernel", ids[35]);
        Assert.Equal(["stage 1: depth", "stage 2: depth", "stage 3: depth"], ids[36..]);
        Assert.Contains("data-series=\"nor_conv_7x7\"", html);
        Assert.Contains("data-series=\"2 cells\"", html);
    }

    [Fact]
    public void A_page_of_an_unknown_space_shows_generic_alpha_rows_and_says_the_cell_cannot_be_drawn()
    {
        var html = RunReport.Html(Search("mine", "x", e => [Rows(2, 3, e)]));
        Assert.Equal(["α[0] row 0", "α[0] row 1"], ChartIds(html));
        Assert.Contains("cannot be drawn", html);
        Assert.Contains("data-series=\"choice 2\"", html);
    }

    [Fact]
    public void An_evaluation_page_of_a_manifest_without_epochs_says_so()
    {
        var manifest = new RunManifest
        {
            Kind = "evaluation",
            Outcome = new RunOutcome { Genotype = "DARTS_V2", SpaceName = "darts", Metrics = { ["TestAccuracy"] = 0.5 } },
        };
        var html = RunReport.Html(manifest);
        Assert.Contains("recorded no epochs", html);
        Assert.Equal(14, Regex.Matches(html, "<g class=\"node ").Count);
        Assert.DoesNotContain("id=\"alpha\"", html);
    }
}
