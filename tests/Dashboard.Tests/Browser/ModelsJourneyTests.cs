using Dashboard.Data;
using Dashboard.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dashboard.Tests.Browser;

/// <summary>
/// The registry in Debian's Chromium against the real server: a training script registers a model with versions
/// through the MLflow API, then a person finds it under /models, promotes versions (archiving the older one), sets and
/// moves the champion alias, and reads the history of what happened.
/// </summary>
[Collection(BrowserJourneys.Name)]
public sealed class ModelsJourneyTests(BrowserFixture browser, SharedServers servers)
{
    [Fact]
    public async Task Finds_a_registered_model_promotes_a_version_with_archiving_moves_an_alias_and_reads_the_history()
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);
        var page = await browser.NewPageAsync();
        try
        {
            await JourneyAsync(server, page);
        }
        catch
        {
            await page.SnapAsync(nameof(Finds_a_registered_model_promotes_a_version_with_archiving_moves_an_alias_and_reads_the_history));
            throw;
        }
    }

    private static async Task JourneyAsync(DashboardServer server, IPage page)
    {
        // A name with a space, unicode and markup: it travels URL-encoded and shows as text.
        var name = $"ocr recognizer <b>ü {Guid.NewGuid():N}"; // no "/": registry names cannot hold one
        await MakeRegistry.ModelAsync(server, name, """, "tags": [{"key": "task", "value": "ocr"}]""");
        await MakeRegistry.VersionAsync(server, name);
        await MakeRegistry.VersionAsync(server, name);

        await page.OpenAsync(server.Address, "/models?tag=task%3Docr");
        var link = page.TestId("model-link").Filter(new() { HasText = name });
        await Expect(link).ToHaveCountAsync(1);
        await link.ClickAsync();
        var address = new Uri(server.Address, "/models/" + Uri.EscapeDataString(name)).AbsoluteUri;
        await page.WaitForURLAsync(url => url == address, new() { WaitUntil = WaitUntilState.Commit });
        await Expect(page.TestId("model-name")).ToHaveTextAsync(name);
        await Expect(page.TestId("version-row")).ToHaveCountAsync(2);

        // Version 1 to Production.
        await page.Locator("[data-testid='version-row'][data-version='1'] [data-testid='version-link']").ClickAsync();
        await Expect(page.TestId("version-panel")).ToHaveAttributeAsync("data-version", "1");
        await page.TestId("stage-to:Production").ClickAsync();
        await Expect(Stage(page, "1")).ToHaveAttributeAsync("data-stage", "Production");

        // Version 2 to Production, archiving the version there.
        await page.Locator("[data-testid='version-row'][data-version='2'] [data-testid='version-link']").ClickAsync();
        await Expect(page.TestId("version-panel")).ToHaveAttributeAsync("data-version", "2");
        await page.Locator("input[data-testid='archive-existing']").CheckAsync();
        await page.TestId("stage-to:Production").ClickAsync();
        await Expect(Stage(page, "2")).ToHaveAttributeAsync("data-stage", "Production");
        await Expect(Stage(page, "1")).ToHaveAttributeAsync("data-stage", "Archived");

        // A bad alias is refused beside the form; then champion on 1, moved to 2.
        await page.Field("alias-name").FillAsync("latest");
        await page.Field("alias-version").FillAsync("1");
        await page.TestId("alias-set").ClickAsync();
        await Expect(page.TestId("alias-error")).ToContainTextAsync("reserved");
        await page.Field("alias-name").FillAsync("champion");
        await page.Field("alias-version").FillAsync("1");
        await page.TestId("alias-set").ClickAsync();
        await Expect(page.Locator("[data-testid='alias'][data-alias='champion']")).ToContainTextAsync("version 1");
        await Expect(page.TestId("alias-error")).ToHaveCountAsync(0);
        await page.Field("alias-name").FillAsync("champion");
        await page.Field("alias-version").FillAsync("2");
        await page.TestId("alias-set").ClickAsync();
        await Expect(page.Locator("[data-testid='alias'][data-alias='champion']")).ToContainTextAsync("version 2");

        // The history, newest first: who, when, from → to.
        await Expect(page.TestId("history-what")).ToHaveTextAsync([
            "@champion moved: version 1 → 2",
            "@champion set to version 1",
            "Version 1: Production → Archived",
            "Version 2: None → Production",
            "Version 1: None → Production",
        ]);
        await Expect(page.TestId("history-who").First).ToHaveTextAsync("local");

        // A reload shows the same model and version (the version is in the address).
        await page.ReloadAsync();
        await page.WaitForSelectorAsync("[data-interactive='yes']", new() { State = WaitForSelectorState.Attached });
        await Expect(page.TestId("version-panel")).ToHaveAttributeAsync("data-version", "2");
        await Expect(page.Locator("[data-testid='version-row'][data-version='2'] [data-testid='version-alias']")).ToHaveTextAsync("@champion");
    }

    private static ILocator Stage(IPage page, string version) =>
        page.Locator($"[data-testid='version-row'][data-version='{version}'] [data-testid='stage-chip']");
}
