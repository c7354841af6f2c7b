using Microsoft.Playwright;

namespace Dashboard.Tests.Browser;

/// <summary>
/// One headless Debian Chromium for the browser journeys, driven by Playwright for .NET (its driver ships in the
/// package; Playwright's own browser download is never run). ./test.sh installs Chromium; without it these tests fail
/// with a message saying so, never skip.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>Debian's Chromium; DASHBOARD_CHROMIUM points elsewhere.</summary>
    public static string ExecutablePath => Environment.GetEnvironmentVariable("DASHBOARD_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser did not start.");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"Chromium is not at {ExecutablePath}: install it with `apt-get install -y chromium` (./test.sh does) or set DASHBOARD_CHROMIUM.");
        }
        // A loaded machine (two cores, four engineers) answers slower than Playwright's 5 s default.
        Assertions.SetDefaultExpectTimeout(15_000);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A fresh context (its own local storage) and page, the size of a laptop screen; downloads allowed.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1366, Height = 768 },
            AcceptDownloads = true,
        });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
    }
}

/// <summary>Browser journeys share one Chromium and run one after another: two cores, and each drives a live circuit.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserJourneys : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}

public static class PageExtensions
{
    /// <summary>Opens a dashboard address and waits until the Blazor circuit is up (the layout's data-interactive).</summary>
    public static async Task OpenAsync(this IPage page, Uri server, string path)
    {
        await page.GotoAsync(new Uri(server, path).ToString());
        await page.WaitForSelectorAsync("[data-interactive='yes']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
    }

    public static ILocator TestId(this IPage page, string id) => page.Locator($"[data-testid=\"{id}\"]");

    /// <summary>The input of a MudBlazor text field: MudTextField puts its extra attributes on the input element itself.</summary>
    public static ILocator Field(this IPage page, string id) => page.Locator($"input[data-testid=\"{id}\"]");

    /// <summary>A picture of the page in the test's output folder, to see what a failing journey saw.</summary>
    public static async Task SnapAsync(this IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Join(AppContext.BaseDirectory, "screenshots", name + ".png"), FullPage = true });
}
