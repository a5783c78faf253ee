using System.Globalization;
using NasFlatness.Genotypes;
using Xunit;

namespace NasFlatness.Reports.Tests;

public sealed class DrawCommandTests
{
    [Fact]
    public void Draw_writes_the_genotype_edges_and_the_same_file_every_time()
    {
        const string text = "|nor_conv_1x1~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
        var folder = Path.Combine(Path.GetTempPath(), "nasflatness-draw-" + Guid.NewGuid().ToString("N"));
        try
        {
            var a = Path.Combine(folder, "a.svg");
            var b = Path.Combine(folder, "b", "cell.svg");
            Cli.Ok("draw", text, "-o", a);
            Cli.Ok("draw", text, "--space", "nas-bench-201", "-o", b);
            Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
            var cell = Assert.Single(SvgCells.Read(File.ReadAllText(a)));
            var genotype = Nb201Genotype.Parse(text);
            var expected = Nb201Genotype.Edges.Select((e, k) => (e.From.ToString(CultureInfo.InvariantCulture), e.To.ToString(CultureInfo.InvariantCulture), genotype.OperationNamesPerEdge[k])).Order().ToList();
            Assert.Equal(expected, cell.Edges.Select(e => (e.From, e.To, e.Operation)).Order().ToList());

            var darts = Path.Combine(folder, "darts.svg");
            Cli.Ok("draw", DartsGenotype.PcDarts.ToString(), "-o", darts);
            var cells = SvgCells.Read(File.ReadAllText(darts));
            Assert.Equal(16, cells.Sum(c => c.Edges.Count));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("draw", "not-a-genotype")]
    [InlineData("draw", "|nor_conv_3x3~0|+|bogus~0|none~1|+|none~0|none~1|none~2|")]
    [InlineData("draw", "DARTS_V2", "--exits", "0")]
    [InlineData("draw", "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "--exits", "7")]
    [InlineData("draw", "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "--space", "nowhere")]
    public void Bad_genotypes_and_options_are_one_error_line_and_exit_code_2(params string[] args)
    {
        var (code, _, error) = Cli.Run(args);
        Assert.Equal(2, code);
        Assert.StartsWith("error:", error);
    }

    [Fact]
    public async Task A_darts_drawing_opens_in_chromium_with_both_cells_their_nodes_and_labelled_edges()
    {
        await using var browser = await Browser.LaunchAsync();
        // A DARTS drawing from `draw`: two cells of 7 nodes (c_{k-2}, c_{k-1}, 0..3, c_{k}) and 8 labelled edges each.
        var svg = Path.Combine(Path.GetTempPath(), "nasflatness-darts-v2-" + Guid.NewGuid().ToString("N") + ".svg");
        Cli.Ok("draw", "DARTS_V2", "-o", svg);
        var page = await browser.OpenAsync(svg);
        Browser.AssertCleanAndOffline(page, svg);
        Assert.Equal(2, await page.Page.Locator("g.cell").CountAsync());
        Assert.Equal(14, await page.Page.Locator("g.node").CountAsync());
        int dartsLabelled = DartsGenotype.DartsV2.Normal.Concat(DartsGenotype.DartsV2.Reduce).Count(e => e.Operation != "none");
        Assert.Equal(dartsLabelled, await page.Page.Locator("g.edge:not(.edge-none)").CountAsync());
        Assert.Equal(dartsLabelled, await page.Page.Locator("text.edge-label").CountAsync());
        await Browser.ScreenshotAsync(page.Page, "darts-v2.png", fullPage: false);
        File.Delete(svg);
    }
}
