using Microsoft.Playwright;
using Xunit;

namespace NasFlatness.Reports.Tests;

/// <summary>
/// Headless Chromium through Playwright, with the system's browser (Debian's <c>chromium</c>, installed by scripts/prerequisites.sh;
/// Playwright never downloads one). Every page opened records its console errors, page errors and every request it makes.
/// </summary>
internal sealed class Browser : IAsyncDisposable
{
    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser"];

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private Browser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("NASFLATNESS_CHROMIUM") is { Length: > 0 } given ? given
        : Candidates.FirstOrDefault(File.Exists)
          ?? throw new InvalidOperationException($"No Chromium found at {string.Join(", ", Candidates)}: run scripts/prerequisites.sh (it installs Debian's 'chromium'), or set NASFLATNESS_CHROMIUM.");

    public static async Task<Browser> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        return new Browser(playwright, browser);
    }

    /// <summary>A loaded page and what it did: console errors, uncaught page errors, and every URL it requested (blocked unless it is a local file).</summary>
    public sealed record OpenedPage(IPage Page, List<string> Errors, List<string> Requests);

    public async Task<OpenedPage> OpenAsync(string path)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        var requests = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
        page.PageError += (_, error) => errors.Add(error);
        page.Request += (_, request) => requests.Add(request.Url);
        // Anything but the page's own local files is blocked (and still recorded above), so a page that would reach the network fails the test without reaching it.
        await context.RouteAsync("**/*", route => route.Request.Url.StartsWith("file://", StringComparison.Ordinal) ? route.ContinueAsync() : route.AbortAsync());
        var url = new Uri(Path.GetFullPath(path)).AbsoluteUri;
        var response = await page.GotoAsync(url, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        return new OpenedPage(page, errors, requests);
    }

    /// <summary>Checks that the page logged no error and requested nothing but itself.</summary>
    public static void AssertCleanAndOffline(OpenedPage opened, string path)
    {
        Assert.True(opened.Errors.Count == 0, "console/page errors: " + string.Join(" | ", opened.Errors));
        Assert.Equal([new Uri(Path.GetFullPath(path)).AbsoluteUri], opened.Requests.Distinct().ToArray());
    }

    /// <summary>Saves a screenshot into the test output folder (screenshots/): the full page, or the viewport (a bare SVG document, which has no page to scroll).</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name, bool fullPage = true)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage });
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.CloseAsync();
        _playwright.Dispose();
    }
}
