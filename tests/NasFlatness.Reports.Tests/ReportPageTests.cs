using System.Globalization;
using System.Text.RegularExpressions;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using NasFlatness.Reproducibility;
using Xunit;

namespace NasFlatness.Reports.Tests;

/// <summary>Result folders made once by tiny runs of the tool: a search, an evaluation and a comparison (2 methods × 2 seeds).</summary>
public sealed class TinyRuns : IDisposable
{
    public const string Cell = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|";
    private static readonly string[] Tiny = ["--channels", "4", "--cells", "1", "--train-examples", "64", "--threads", "1"];

    public TinyRuns()
    {
        new TorchFixture();
        Root = Path.Combine(Path.GetTempPath(), "nasflatness-reports-" + Guid.NewGuid().ToString("N"));
        Cli.Ok(["search", "--method", "darts", .. Tiny, "--valid-examples", "64", "--epochs", "2", "--alpha-hessian-every", "1", "--data", TestData.Cifar10, "-o", Search]);
        Cli.Ok(["evaluate", "--genotype", Cell, .. Tiny, "--test-examples", "64", "--epochs", "2", "--data", TestData.Cifar10, "-o", Evaluation]);
        Cli.Ok(["compare", "--method", "darts", "--method", "beta-darts", "--seeds", "0,1", .. Tiny, "--valid-examples", "64", "--epochs", "1", "--data", TestData.Cifar10, "-o", Comparison]);
    }

    public string Root { get; }

    public string Search => Path.Combine(Root, "search");

    public string Evaluation => Path.Combine(Root, "evaluate");

    public string Comparison => Path.Combine(Root, "compare");

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }
}

[Collection(TorchCollection.Name)]
public sealed class ReportPageTests(TinyRuns runs) : IClassFixture<TinyRuns>
{
    private static int Count(string html, string pattern) => Regex.Matches(html, pattern).Count;

    private static List<(string From, string To, string Op)> Nb201EdgesOfText(string text) =>
        [.. text.Split('+').SelectMany((group, i) => group.Split('|', StringSplitOptions.RemoveEmptyEntries)
            .Select(item => item.Split('~')).Select(p => (p[1], (i + 1).ToString(CultureInfo.InvariantCulture), p[0])))];

    [Fact]
    public void A_search_writes_cell_svg_of_its_genotype_and_a_page_with_alpha_curves_and_the_nb201_numbers()
    {
        var manifest = RunManifest.Read(Path.Combine(runs.Search, RunManifest.FileName));
        var cell = Assert.Single(SvgCells.Read(File.ReadAllText(Path.Combine(runs.Search, RunReport.CellFileName))));
        Assert.Equal(Nb201EdgesOfText(manifest.Outcome.Genotype).OrderBy(e => e).ToList(), cell.Edges.Select(e => (e.From, e.To, e.Operation)).OrderBy(e => e).ToList());

        var html = File.ReadAllText(Path.Combine(runs.Search, RunReport.FileName));
        Assert.Equal(6, Count(html, "data-chart=\"alpha-edge "));                       // one chart per NB201 edge
        var alphaCharts = Regex.Match(html, "<div class=\"grid\" id=\"alpha-charts\">.*?</div>", RegexOptions.Singleline).Value;
        Assert.Equal(6 * 5, Count(alphaCharts, "<g class=\"series\" data-series=\"[a-z_0-9]+\" data-points=\"2\"")); // 5 operations × 2 epochs each
        Assert.Equal(manifest.Epochs.Count + 1, Count(Regex.Match(html, "<table id=\"epochs-table\">.*?</table>", RegexOptions.Singleline).Value, "<tr>"));
        Assert.Contains("data-chart=\"metric-" + NasFlatness.Search.ArchitectureHessianObserver.MetricName + "\"", html);
        // The NB201 numbers, against the table directly.
        var table = Nb201Table.Embedded;
        double accuracy = table.Get(manifest.Outcome.Genotype).Cifar10TestAccuracy;
        Assert.Contains($"<span id=\"nb201-accuracy\">{accuracy.ToString("F2", CultureInfo.InvariantCulture)}</span>", html);
        int rank = 1 + table.Records.Count(r => r.Cifar10TestAccuracy > accuracy);
        Assert.Contains($"<span id=\"nb201-rank\">{rank}</span>", html);
        Assert.Equal(24, Count(html, "<g class=\"neighbour\""));
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_rebuilds_the_page_of_a_run_made_before_reports_existed_and_writes_the_same_page_every_time()
    {
        var old = Path.Combine(runs.Root, "old-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(old);
        foreach (var file in new[] { RunManifest.FileName, "epochs.jsonl", "alpha.png" }) File.Copy(Path.Combine(runs.Search, file), Path.Combine(old, file));
        var (code, output, error) = Cli.Run("report", old, "--json");
        Assert.True(code == 0, error);
        Assert.Contains(Path.Combine(old, RunReport.FileName), output);
        var first = File.ReadAllText(Path.Combine(old, RunReport.FileName));
        Assert.Equal(File.ReadAllText(Path.Combine(runs.Search, RunReport.CellFileName)), File.ReadAllText(Path.Combine(old, RunReport.CellFileName)));
        Assert.Equal(0, Cli.Run("report", old).Code);
        Assert.Equal(first, File.ReadAllText(Path.Combine(old, RunReport.FileName)));
        // The rebuilt page has what the search's own page has.
        var original = File.ReadAllText(Path.Combine(runs.Search, RunReport.FileName));
        foreach (var pattern in new[] { "data-chart=\"alpha-", "<g class=\"neighbour\"", "<table id=\"alpha-table\">", "<tr>" })
            Assert.Equal(Count(original, pattern), Count(first, pattern));
    }

    [Fact]
    public void Report_of_a_folder_without_a_manifest_is_bad_input()
    {
        var empty = Path.Combine(runs.Root, "empty");
        Directory.CreateDirectory(empty);
        var (code, _, error) = Cli.Run("report", empty);
        Assert.Equal(2, code);
        Assert.Contains("manifest.json", error);
        Assert.Equal(2, Cli.Run("report", Path.Combine(runs.Root, "no-such-folder")).Code);
    }

    [Fact]
    public void An_evaluation_page_has_its_training_curve()
    {
        var manifest = RunManifest.Read(Path.Combine(runs.Evaluation, RunManifest.FileName));
        Assert.Equal(2, manifest.Epochs.Count);
        var html = File.ReadAllText(Path.Combine(runs.Evaluation, RunReport.FileName));
        Assert.Contains("data-chart=\"loss\"", html);
        Assert.Contains("<g class=\"series\" data-series=\"train\" data-points=\"2\"", html);
        Assert.Single(SvgCells.Read(File.ReadAllText(Path.Combine(runs.Evaluation, RunReport.CellFileName))));
    }

    [Fact]
    public void A_comparison_page_links_every_run_page_and_draws_every_found_cell()
    {
        var manifest = RunManifest.Read(Path.Combine(runs.Comparison, RunManifest.FileName));
        Assert.Equal(4, manifest.Runs.Count);
        var html = File.ReadAllText(Path.Combine(runs.Comparison, RunReport.FileName));
        var links = Regex.Matches(html, "<a class=\"run-link\" href=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        var expected = manifest.Runs.Select(r => Path.GetFullPath(Path.Combine(runs.Comparison, Path.GetDirectoryName(r)!, RunReport.FileName))).Order().ToList();
        Assert.Equal(expected, links.Select(l => Path.GetFullPath(Path.Combine(runs.Comparison, l))).Order().ToList());
        Assert.All(expected, path => Assert.True(File.Exists(path), path));
        Assert.Equal(4, Count(html, "<figure class=\"found-cell\""));
        Assert.Contains("<table id=\"paired-table\">", html);
        // darts vs beta-darts over seeds 0 and 1: 2 pairs.
        Assert.Matches("<td>darts</td><td>beta-darts</td><td class=\"num\">2</td>", html);
    }

    [Fact]
    public void A_report_that_cannot_be_written_is_a_warning_and_the_search_result_stays()
    {
        var folder = Path.Combine(runs.Root, "blocked");
        Directory.CreateDirectory(Path.Combine(folder, RunReport.FileName)); // a folder where the page should go
        var (code, _, error) = Cli.Run(["search", "--method", "darts", "--channels", "4", "--cells", "1", "--train-examples", "64", "--valid-examples", "64", "--threads", "1", "--epochs", "1", "--data", TestData.Cifar10, "-o", folder]);
        Assert.Equal(0, code);
        Assert.Contains("warning: the report page", error);
        Assert.Single(RunManifest.Read(Path.Combine(folder, RunManifest.FileName)).Epochs);
    }

    [Fact]
    public async Task The_pages_open_in_chromium_without_errors_or_requests_and_show_the_cell_alpha_and_tables()
    {
        await using var browser = await Browser.LaunchAsync();

        var searchPage = Path.Combine(runs.Search, RunReport.FileName);
        var manifest = RunManifest.Read(Path.Combine(runs.Search, RunManifest.FileName));
        var page = await browser.OpenAsync(searchPage);
        Browser.AssertCleanAndOffline(page, searchPage);
        var p = page.Page;
        Assert.Equal(1, await p.Locator("#cell svg g.cell").CountAsync());
        Assert.Equal(4, await p.Locator("#cell svg g.node").CountAsync());
        int labelled = Nb201EdgesOfText(manifest.Outcome.Genotype).Count(e => e.Op != "none");
        Assert.Equal(labelled, await p.Locator("#cell svg g.edge:not(.edge-none)").CountAsync());
        Assert.Equal(labelled, await p.Locator("#cell svg text.edge-label").CountAsync());
        Assert.Equal(6, await p.Locator("#alpha-charts svg.chart").CountAsync());
        Assert.True(await p.Locator("#alpha-charts svg.chart").First.IsVisibleAsync());
        Assert.True(await p.Locator("#alpha-table").IsVisibleAsync());
        Assert.Equal(7, await p.Locator("#alpha-table tr").CountAsync());
        Assert.Equal(manifest.Epochs.Count + 1, await p.Locator("#epochs-table tr").CountAsync());
        Assert.Equal(24, await p.Locator("svg.neighbourhood g.neighbour").CountAsync());
        // The drawing is laid out: the cell has a real size on the page.
        var box = await p.Locator("#cell svg.nasflatness-cell").BoundingBoxAsync();
        Assert.True(box is { Width: > 200, Height: > 80 });
        Assert.True(new FileInfo(await Browser.ScreenshotAsync(p, "search-report.png")).Length > 10_000);

        var evaluationPage = Path.Combine(runs.Evaluation, RunReport.FileName);
        page = await browser.OpenAsync(evaluationPage);
        Browser.AssertCleanAndOffline(page, evaluationPage);
        Assert.Equal(1, await page.Page.Locator("svg[data-chart=loss]").CountAsync());
        await Browser.ScreenshotAsync(page.Page, "evaluation-report.png");

        var comparisonPage = Path.Combine(runs.Comparison, RunReport.FileName);
        page = await browser.OpenAsync(comparisonPage);
        Browser.AssertCleanAndOffline(page, comparisonPage);
        Assert.Equal(4, await page.Page.Locator("a.run-link").CountAsync());
        Assert.Equal(4, await page.Page.Locator("#found-cells svg.nasflatness-cell").CountAsync());
        Assert.True(await page.Page.Locator("#paired-table").IsVisibleAsync());
        Assert.True(await page.Page.Locator("svg[data-chart=accuracy-per-seed]").IsVisibleAsync());
        await Browser.ScreenshotAsync(page.Page, "comparison-report.png");
        // A run link leads to that run's page.
        await page.Page.Locator("a.run-link").First.ClickAsync();
        await page.Page.WaitForLoadStateAsync();
        Assert.EndsWith("/" + RunReport.FileName, page.Page.Url, StringComparison.Ordinal);
        Assert.Equal(1, await page.Page.Locator("#cell svg g.cell").CountAsync());
        Assert.Empty(page.Errors);
    }
}
