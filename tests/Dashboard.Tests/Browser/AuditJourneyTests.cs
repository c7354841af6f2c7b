using Dashboard.Data;
using Dashboard.Tests.Support;
using Microsoft.Playwright;
using static Dashboard.Tests.Support.Make;
using static Microsoft.Playwright.Assertions;

namespace Dashboard.Tests.Browser;

/// <summary>
/// The audit trail in Debian's Chromium against the real server: a script registers a model and moves a version; the
/// Admin opens Audit from the navigation, filters by action and model (the filters land in the URL), reads the change as
/// a diff, downloads the filtered CSV through the export link, and follows the model to its promotion timeline.
/// </summary>
[Collection(BrowserJourneys.Name)]
public sealed class AuditJourneyTests(BrowserFixture browser, SharedServers servers)
{
    [Fact]
    public async Task Filters_the_audit_log_by_action_reads_the_diff_exports_the_view_and_opens_the_models_timeline()
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);
        var page = await browser.NewPageAsync();
        try
        {
            await JourneyAsync(server, page);
        }
        catch
        {
            await page.SnapAsync(nameof(Filters_the_audit_log_by_action_reads_the_diff_exports_the_view_and_opens_the_models_timeline));
            throw;
        }
    }

    private static async Task JourneyAsync(DashboardServer server, IPage page)
    {
        // Markup in the name: it must show as text everywhere.
        var name = $"audit <i>model<i> {Guid.NewGuid():N}"; // no "/": registry names cannot hold one
        await MakeRegistry.ModelAsync(server, name);
        await MakeRegistry.VersionAsync(server, name);
        await MakeRegistry.VersionAsync(server, name);
        (await server.PostAsync($"{Mlflow}/model-versions/transition-stage",
            $$"""{"name": {{J(name)}}, "version": "2", "stage": "Staging", "archive_existing_versions": false}""")).ShouldBeOk();

        await page.OpenAsync(server.Address, "/");
        await page.TestId("nav-audit").ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/audit", new() { WaitUntil = WaitUntilState.Commit });
        await Expect(page.TestId("audit-event").First).ToBeVisibleAsync();

        await page.Field("audit-filter-name").FillAsync(name);
        await page.WaitForURLAsync(url => url.Contains("name=", StringComparison.Ordinal), new() { WaitUntil = WaitUntilState.Commit });
        await Expect(page.TestId("audit-event")).ToHaveCountAsync(4);
        await page.Field("audit-filter-action").FillAsync("model_version.stage_changed");
        await page.WaitForURLAsync(url => url.Contains("action=model_version.stage_changed", StringComparison.Ordinal)
            && url.Contains("name=", StringComparison.Ordinal), new() { WaitUntil = WaitUntilState.Commit });
        await Expect(page.TestId("audit-event")).ToHaveCountAsync(1);
        await Expect(page.TestId("audit-action")).ToHaveTextAsync("model_version.stage_changed");
        await Expect(page.TestId("audit-model")).ToHaveTextAsync(name);
        await Expect(page.TestId("audit-version")).ToHaveTextAsync("v2");
        await Expect(page.Locator("[data-testid='audit-events'] i")).ToHaveCountAsync(0);

        // The change as a diff: the stage, from None to Staging.
        await page.TestId("audit-toggle").ClickAsync();
        var stage = page.Locator("[data-testid='audit-diff-line'][data-changed='yes']");
        await Expect(stage).ToHaveCountAsync(1);
        await Expect(stage).ToContainTextAsync("None");
        await Expect(stage).ToContainTextAsync("Staging");

        // A prefix of actions: every version event of the model.
        await page.Field("audit-filter-action").FillAsync("model_version.");
        await Expect(page.TestId("audit-event")).ToHaveCountAsync(3);
        await page.Field("audit-filter-action").FillAsync("model_version.stage_changed");
        await Expect(page.TestId("audit-event")).ToHaveCountAsync(1);

        // The export link carries the filters: the download holds the one event, as CSV.
        var download = await page.RunAndWaitForDownloadAsync(() => page.TestId("audit-export-csv").ClickAsync());
        download.SuggestedFilename.ShouldEndWith(".csv");
        var csv = await File.ReadAllTextAsync(await download.PathAsync(), TestContext.Current.CancellationToken);
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBe(2);
        lines[0].ShouldStartWith("id,time,time_ms,actor,action");
        lines[1].ShouldContain(",model_version.stage_changed,");
        lines[1].ShouldContain(name);

        // From the model to its timeline.
        await page.TestId("audit-model").ClickAsync();
        await Expect(page.TestId("model-name")).ToHaveTextAsync(name);
        await page.TestId("model-timeline").ClickAsync();
        await Expect(page.TestId("timeline-model")).ToHaveTextAsync(name);
        await Expect(page.TestId("timeline-summary")).ToHaveTextAsync([
            "Version 2 → Staging by local",
            "Version 2 created by local",
            "Version 1 created by local",
            "Model created by local",
        ]);
    }
}
