using System.Text.RegularExpressions;
using Dashboard.Data;
using Dashboard.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dashboard.Tests.Browser;

/// <summary>
/// Comparing runs, the app bar's keyword search and the best configuration, in Debian's Chromium against the real
/// server (SQLite). Names are unique per test: the server is shared with the other journeys and API tests.
/// </summary>
[Collection(BrowserJourneys.Name)]
public sealed partial class CompareJourneyTests(BrowserFixture browser, SharedServers servers)
{
    private static async Task RunJourneyAsync(IPage page, string name, Func<Task> journey)
    {
        try
        {
            await journey();
        }
        catch
        {
            await page.SnapAsync(name);
            throw;
        }
    }

    /// <summary>Three runs of a new experiment: lr equal, optimizer different, a loss curve and an accuracy.</summary>
    private static async Task<(string Experiment, string[] Runs)> SeedAsync(DashboardServer server, string prefix, string tag = "none")
    {
        var experiment = await Make.ExperimentAsync(server, $"{prefix} {Guid.NewGuid():N}");
        var runs = new string[3];
        for (var i = 0; i < runs.Length; i++)
        {
            runs[i] = await Make.RunAsync(server, experiment, $"{prefix}-run-{i}");
            (await Make.LogBatchAsync(server, runs[i],
                Make.Array(20, s => Make.Metric("loss", (1.0 / (s + 1)) + (0.1 * i), 1700000000000 + s, s)).TrimEnd(']') + "," +
                    Make.Metric("accuracy", 0.7 + (0.1 * i), 1700000000000, 0) + "]",
                $"[{Make.KeyValue("lr", "0.001")}, {Make.KeyValue("optimizer", i == 1 ? "sgd" : $"adam-{i}")}, {Make.KeyValue("layers", $"{2 * (i + 1)}")}]",
                $"[{Make.KeyValue("task", tag)}]")).ShouldBeOk();
        }
        return (experiment, runs);
    }

    [Fact]
    public async Task Selected_runs_compare_as_a_params_diff_parallel_coordinates_a_scatter_overlays_and_the_best_per_metric()
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);
        var page = await browser.NewPageAsync();
        await RunJourneyAsync(page, nameof(Selected_runs_compare_as_a_params_diff_parallel_coordinates_a_scatter_overlays_and_the_best_per_metric), async () =>
        {
            var (experiment, runs) = await SeedAsync(server, "compare");
            await page.OpenAsync(server.Address, $"/experiments/{experiment}");
            await Expect(page.TestId("run-name")).ToHaveCountAsync(3);
            // One at a time: each tick is a navigation, and a tick before the previous one's URL arrives builds on the
            // old selection (the experiment page keeps its state in the URL only).
            for (var i = 0; i < runs.Length; i++)
            {
                await page.TestId($"select:{runs[i]}").ClickAsync();
                await Expect(page.TestId("selected-count")).ToContainTextAsync($"{i + 1} selected");
            }
            await page.TestId("compare").ClickAsync();
            await page.WaitForURLAsync(new Regex("/compare\\?runs="));
            await page.WaitForSelectorAsync("[data-interactive='yes']", new() { State = WaitForSelectorState.Attached });

            // The params diff: equal rows plain, differing rows tinted; equal rows hidden on request (and in the URL).
            await Expect(page.TestId("compare-title")).ToHaveTextAsync("Compare 3 runs");
            await Expect(page.TestId("param-row")).ToHaveCountAsync(3);
            await Expect(page.Locator("[data-testid='param-row'][data-key='optimizer']")).ToHaveClassAsync(new Regex("differs"));
            await Expect(page.Locator("[data-testid='param-row'][data-key='lr']")).Not.ToHaveClassAsync(new Regex("differs"));
            var tint = await page.Locator("[data-testid='param-row'][data-key='optimizer'] td").First.EvaluateAsync<string>("e => getComputedStyle(e).backgroundImage");
            tint.ShouldContain("gradient");
            await page.TestId("hide-equal").First.ClickAsync();
            await Expect(page.TestId("param-row")).ToHaveCountAsync(2);
            page.Url.ShouldContain("equal=hide");

            // Parallel coordinates: the differing params and the metrics as axes, a line per run.
            await page.GetByRole(AriaRole.Tab, new() { Name = "Parallel coordinates" }).ClickAsync();
            await Expect(page.TestId("parallel")).ToHaveAttributeAsync("data-dimensions", "4");
            await Expect(page.TestId("parallel")).ToHaveAttributeAsync("data-lines", "3");
            await Expect(page.Locator("[data-testid='parallel'] .parcoords .axis-title")).ToHaveCountAsync(4);

            // A param against a metric: a point per run.
            await page.GetByRole(AriaRole.Tab, new() { Name = "Scatter" }).ClickAsync();
            await Expect(page.TestId("scatter")).ToHaveAttributeAsync("data-points", "3");
            await Expect(page.Locator("[data-testid='scatter'] .scatterlayer .point")).ToHaveCountAsync(3);

            // Metric overlays, downsampled on the server: a curve per run.
            await page.GetByRole(AriaRole.Tab, new() { Name = "Metrics" }).ClickAsync();
            await Expect(page.TestId("overlay")).ToHaveAttributeAsync("data-series", "3");
            await Expect(page.Locator("[data-testid='overlay'] .scatterlayer .trace")).ToHaveCountAsync(3);

            // The best run per metric: accuracy highest, loss lowest; the direction switches and stays in the URL.
            await page.GetByRole(AriaRole.Tab, new() { Name = "Best per metric" }).ClickAsync();
            var loss = page.Locator("[data-testid='best-row'][data-metric='loss']");
            await Expect(loss).ToHaveAttributeAsync("data-goal", "min");
            await Expect(loss.Locator("[data-testid='best-run']")).ToHaveTextAsync("compare-run-0");
            await Expect(page.Locator("[data-testid='best-row'][data-metric='accuracy'] [data-testid='best-run']")).ToHaveTextAsync("compare-run-2");
            await page.TestId("goal:loss").ClickAsync();
            await Expect(loss).ToHaveAttributeAsync("data-goal", "max");
            await Expect(loss.Locator("[data-testid='best-run']")).ToHaveTextAsync("compare-run-2");
            page.Url.ShouldContain("dir=loss%3Amax");

            // A reload shows the same view.
            await page.ReloadAsync();
            await page.WaitForSelectorAsync("[data-interactive='yes']", new() { State = WaitForSelectorState.Attached });
            await Expect(page.Locator("[data-testid='best-row'][data-metric='loss']")).ToHaveAttributeAsync("data-goal", "max");
        });
    }

    [Fact]
    public async Task The_app_bar_search_finds_a_run_by_a_param_value_and_a_registered_model_by_name()
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);
        var page = await browser.NewPageAsync();
        await RunJourneyAsync(page, nameof(The_app_bar_search_finds_a_run_by_a_param_value_and_a_registered_model_by_name), async () =>
        {
            var value = $"kw{Guid.NewGuid():N}";
            var experiment = await Make.ExperimentAsync(server);
            var run = await Make.RunAsync(server, experiment, "found-by-param");
            (await Make.LogParamAsync(server, run, "checkpoint", value)).ShouldBeOk();
            var model = await MakeRegistry.ModelAsync(server, $"reader-{Guid.NewGuid():N}");

            await page.OpenAsync(server.Address, "/experiments");
            await page.Keyboard.PressAsync("/");
            await page.Keyboard.TypeAsync(value);
            var hit = page.Locator("[data-testid='search-hit'][data-kind='run']");
            await Expect(hit).ToHaveCountAsync(1);
            await Expect(hit).ToContainTextAsync("found-by-param");
            await Expect(hit).ToContainTextAsync($"param checkpoint = {value}");
            await hit.ClickAsync();
            await page.WaitForURLAsync(new Regex($"/runs/{run}$"));

            await page.OpenAsync(server.Address, "/experiments");
            await page.Locator("#global-search input").FillAsync(model);
            var modelHit = page.Locator("[data-testid='search-hit'][data-kind='model']");
            await Expect(modelHit).ToHaveCountAsync(1);
            await Expect(modelHit).ToContainTextAsync(model);

            // All results: the grouped page.
            await page.Locator("[data-testid='search-hit'][data-kind='all']").ClickAsync();
            await page.WaitForURLAsync(new Regex("/search\\?q="));
            await Expect(page.Locator("[data-testid='result-model'] [data-testid='result-label']")).ToHaveTextAsync(model);
        });
    }

    [Fact]
    public async Task Best_configuration_of_a_tag_shows_the_top_runs_and_copies_one_as_a_python_dict()
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);
        var page = await browser.NewPageAsync();
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await RunJourneyAsync(page, nameof(Best_configuration_of_a_tag_shows_the_top_runs_and_copies_one_as_a_python_dict), async () =>
        {
            var task = $"ocr{Guid.NewGuid():N}";
            await SeedAsync(server, "best", task);

            await page.OpenAsync(server.Address, "/best");
            await page.Field("best-tag").FillAsync($"task:{task}");
            await page.Field("best-tag").PressAsync("Enter");
            await page.WaitForURLAsync(new Regex("tag=task"));
            await page.Field("best-metric").FillAsync("accuracy");
            await page.Field("best-metric").PressAsync("Enter");
            await Expect(page.TestId("run-link")).ToHaveTextAsync(["best-run-2", "best-run-1", "best-run-0"]);
            page.Url.ShouldContain("metric=accuracy");
            await Expect(page.Locator("[data-testid='param-row'][data-differs='yes']")).ToHaveCountAsync(2);

            await page.TestId("copy-dict").First.ClickAsync();
            const string dict = "{\"layers\": 6, \"lr\": 0.001, \"optimizer\": \"adam-2\"}";
            await Expect(page.TestId("copy-text")).ToHaveTextAsync(dict);
            await page.TestId("copy-button").ClickAsync();
            await Expect(page.TestId("copy-status")).ToHaveTextAsync("Copied.");
            (await page.EvaluateAsync<string>("() => navigator.clipboard.readText()")).ShouldBe(dict);
        });
    }
}
