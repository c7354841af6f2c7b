using System.Text.RegularExpressions;
using Dashboard.Data;
using Dashboard.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dashboard.Tests.Browser;

/// <summary>
/// What a person does in the dashboard, in Debian's Chromium against the real server (Kestrel on 127.0.0.1, SQLite):
/// create an experiment, log runs through the MLflow API as a training script would, then find, filter, sort, pick
/// columns, select, chart, reload and export.
/// </summary>
[Collection(BrowserJourneys.Name)]
public sealed partial class RunsJourneyTests(BrowserFixture browser, SharedServers servers)
{
    [Fact]
    public async Task Finds_filters_sorts_charts_and_exports_runs_and_a_reload_shows_the_same_view()
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);
        var page = await browser.NewPageAsync();
        try
        {
            await JourneyAsync(server, page);
        }
        catch
        {
            await page.SnapAsync(nameof(Finds_filters_sorts_charts_and_exports_runs_and_a_reload_shows_the_same_view));
            throw;
        }
    }

    private static async Task JourneyAsync(DashboardServer server, IPage page)
    {

        // Open the app; "/" focuses the global search.
        await page.OpenAsync(server.Address, "/");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Experiments" })).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("/");
        (await page.EvaluateAsync<bool>("() => document.activeElement?.closest('#global-search') !== null")).ShouldBeTrue();
        await page.Keyboard.PressAsync("Escape");

        // The dark theme, remembered by the browser (checked again after the reload below).
        const string background = "() => getComputedStyle(document.body).backgroundColor";
        var light = await page.EvaluateAsync<string>(background);
        await page.TestId("theme-toggle").ClickAsync();
        await page.WaitForFunctionAsync($"b => ({background})() !== b", light);
        var dark = await page.EvaluateAsync<string>(background);
        (await page.EvaluateAsync<string>("() => localStorage.getItem('dashboard.theme')")).ShouldBe("dark");

        // Create an experiment through the UI (a name with markup and unicode stays text).
        var name = $"journey <b>bold</b> ü {Guid.NewGuid():N}";
        await page.TestId("create-experiment").ClickAsync();
        await page.Field("name-input").FillAsync(name);
        await page.TestId("name-submit").ClickAsync();
        await page.WaitForURLAsync(ExperimentUrl());
        var experimentId = ExperimentUrl().Match(page.Url).Groups[1].Value;
        await Expect(page.TestId("experiment-name")).ToHaveTextAsync(name);

        // Log runs through the MLflow API, as a training script does.
        var runs = new Dictionary<string, string>();
        for (var i = 0; i < 4; i++)
        {
            var runId = await Make.RunAsync(server, experimentId, $"run-{i}");
            runs[$"run-{i}"] = runId;
            (await Make.LogBatchAsync(server, runId,
                Make.Array(30, s => Make.Metric("loss", 2.0 / (s + 1) + i, 1700000000000 + s, s)).TrimEnd(']') + "," +
                    Make.Metric("accuracy", 0.80 + (0.05 * i), 1700000000000, 0) + "]",
                $"[{Make.KeyValue("lr", $"0.00{i + 1}")}, {Make.KeyValue("optimizer", i % 2 == 0 ? "adam" : "sgd")}]",
                $"[{Make.KeyValue("team", i < 2 ? "vision" : "speech")}]")).ShouldBeOk();
        }
        // A new document of the page it is on: a reload, not a goto to the URL it already has. Twice in about eight full
        // runs the page after such a goto showed no runs and never changed. The test database has no connection pool, so
        // a stale SQLite snapshot is ruled out; the suspect is the same-URL goto keeping the document (and circuit) of
        // the experiment's creation, which was made before the runs.
        page.Url.ShouldBe(new Uri(server.Address, $"/experiments/{experimentId}").ToString());
        await page.ReloadAsync();
        await page.WaitForSelectorAsync("[data-interactive='yes']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        await Expect(page.TestId("run-name")).ToHaveCountAsync(4);

        // Filter with MLflow's syntax.
        await page.Field("filter-input").FillAsync("metrics.accuracy > 0.82");
        await page.Field("filter-input").PressAsync("Enter");
        await Expect(page.TestId("run-name")).ToHaveCountAsync(3);
        page.Url.ShouldContain("filter=");

        // A bad filter: the parser's message, the fault marked at its position, and no runs.
        await page.Field("filter-input").FillAsync("metrics.accuracy >> 0.8");
        await page.Field("filter-input").PressAsync("Enter");
        await Expect(page.TestId("filter-error")).ToBeVisibleAsync();
        await Expect(page.TestId("filter-error-message")).ToContainTextAsync("Invalid comparator");
        await Expect(page.TestId("filter-error-at")).ToHaveTextAsync(">");
        (await page.TestId("filter-error").GetAttributeAsync("data-position")).ShouldBe("17");
        await Expect(page.TestId("no-runs")).ToBeVisibleAsync();

        await page.Field("filter-input").FillAsync("metrics.accuracy > 0.82");
        await page.Field("filter-input").PressAsync("Enter");
        await Expect(page.TestId("filter-error")).ToHaveCountAsync(0);
        await Expect(page.TestId("run-name")).ToHaveCountAsync(3);

        // Sort by a metric: best first, then turned round.
        var accuracy = page.TestId("sort:metrics.`accuracy`");
        await accuracy.ClickAsync();
        await Expect(accuracy).ToHaveAttributeAsync("data-sort", "desc");
        await Expect(page.TestId("run-name")).ToHaveTextAsync(["run-3", "run-2", "run-1"]);
        await accuracy.ClickAsync();
        await Expect(accuracy).ToHaveAttributeAsync("data-sort", "asc");
        await Expect(page.TestId("run-name")).ToHaveTextAsync(["run-1", "run-2", "run-3"]);

        // Pick columns: add the tag "team".
        await page.TestId("choose-columns").ClickAsync();
        await page.TestId("column:t:team").ClickAsync();
        await page.TestId("columns-save").ClickAsync();
        await Expect(page.TestId("cell:t:team")).ToHaveTextAsync(["vision", "speech", "speech"]);
        page.Url.ShouldContain("t%3Ateam");

        // Select two runs and compare their curves.
        await page.TestId($"select:{runs["run-2"]}").ClickAsync();
        await page.TestId($"select:{runs["run-3"]}").ClickAsync();
        await Expect(page.TestId("selected-count")).ToContainTextAsync("2 selected");
        await page.TestId("chart-selected").ClickAsync();
        await Expect(page.TestId("chart")).ToHaveAttributeAsync("data-series", "2");
        await Expect(page.Locator("[data-testid='chart'] .js-plotly-plot")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-testid='chart'] .scatterlayer .trace")).ToHaveCountAsync(2);

        // Reload the address: the same view.
        var url = page.Url;
        await page.ReloadAsync();
        await page.WaitForSelectorAsync("[data-interactive='yes']", new() { State = WaitForSelectorState.Attached });
        page.Url.ShouldBe(url);
        await page.WaitForFunctionAsync($"d => ({background})() === d", dark);
        await Expect(page.TestId("chart")).ToHaveAttributeAsync("data-series", "2");
        await Expect(page.TestId("selected-count")).ToContainTextAsync("2 selected");
        await Expect(page.Field("filter-input")).ToHaveValueAsync("metrics.accuracy > 0.82");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Runs" }).ClickAsync();
        await Expect(page.TestId("run-name")).ToHaveTextAsync(["run-1", "run-2", "run-3"]);
        await Expect(page.TestId("sort:metrics.`accuracy`")).ToHaveAttributeAsync("data-sort", "asc");
        await Expect(page.TestId("cell:t:team")).ToHaveCountAsync(3);

        // Export the current view as CSV: the same runs, order and columns.
        var download = await page.RunAndWaitForDownloadAsync(() => page.TestId("export-csv").ClickAsync());
        var csv = await File.ReadAllLinesAsync(await download.PathAsync(), TestContext.Current.CancellationToken);
        csv[0].ShouldContain("metrics.accuracy");
        csv[0].ShouldEndWith("tags.team");
        csv.Skip(1).Select(l => l.Split(',')[1]).ShouldBe(["run-1", "run-2", "run-3"]);
    }

    [GeneratedRegex(@"/experiments/(\d+)")]
    private static partial Regex ExperimentUrl();
}
