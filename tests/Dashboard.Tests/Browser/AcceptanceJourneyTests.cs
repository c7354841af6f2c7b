using System.Globalization;
using System.Text.RegularExpressions;
using Dashboard.Data;
using Dashboard.Tests.Support;
using Microsoft.Playwright;
using static Dashboard.Tests.Support.Make;
using static Dashboard.Tests.Support.MakeRunArtifacts;
using static Microsoft.Playwright.Assertions;

namespace Dashboard.Tests.Browser;

/// <summary>
/// Issue 5's "Done when", end to end in Debian's Chromium against the real server (SQLite): a person finds the best
/// MNIST run by accuracy with an MLflow filter, compares it with two others in a parallel coordinates plot and metric
/// overlays, opens its artifacts and model card, copies its params, and sends the URL of that view to a colleague
/// (a second browser context, its own storage) who sees the same.
/// </summary>
[Collection(BrowserJourneys.Name)]
public sealed partial class AcceptanceJourneyTests(BrowserFixture browser, SharedServers servers)
{
    /// <summary>
    /// Six MNIST runs. The best by accuracy overall is an sgd run, so the filter matters: among the adam runs the best
    /// is mnist-1, then mnist-0, mnist-5, mnist-2.
    /// </summary>
    private static readonly (string Name, string Lr, string BatchSize, string Optimizer, double Accuracy)[] Runs =
    [
        ("mnist-0", "0.001", "64", "adam", 0.95),
        ("mnist-1", "0.01", "128", "adam", 0.97),
        ("mnist-2", "0.0001", "32", "adam", 0.91),
        ("mnist-3", "0.1", "64", "sgd", 0.99),
        ("mnist-4", "0.01", "128", "sgd", 0.88),
        ("mnist-5", "0.003", "256", "adam", 0.93),
    ];

    private const int Steps = 5;

    [Fact]
    public async Task A_person_finds_the_best_mnist_run_compares_it_opens_its_model_card_and_shares_the_view()
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);
        var page = await browser.NewPageAsync();
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        IPage? colleague = null;
        try
        {
            await JourneyAsync(server, page, async () => colleague = await browser.NewPageAsync());
        }
        catch
        {
            await page.SnapAsync(nameof(A_person_finds_the_best_mnist_run_compares_it_opens_its_model_card_and_shares_the_view));
            if (colleague is not null)
            {
                await colleague.SnapAsync(nameof(A_person_finds_the_best_mnist_run_compares_it_opens_its_model_card_and_shares_the_view) + "-colleague");
            }
            throw;
        }
        finally
        {
            await page.Context.CloseAsync();
            if (colleague is not null)
            {
                await colleague.Context.CloseAsync();
            }
        }
    }

    private static async Task JourneyAsync(DashboardServer server, IPage page, Func<Task<IPage>> newColleaguePage)
    {
        // A training script logs six runs through the MLflow API; the best adam run also logs its model.
        var experimentId = await ExperimentAsync(server, Name("mnist"));
        var ids = new Dictionary<string, string>();
        for (var i = 0; i < Runs.Length; i++)
        {
            var (name, lr, batchSize, optimizer, accuracy) = Runs[i];
            var runId = await RunAsync(server, experimentId, name);
            ids[name] = runId;
            var metrics = Array(Steps, s => Metric("accuracy", accuracy * (0.8 + (0.05 * s)), 1700000000000 + (s * 1000), s)).TrimEnd(']') + "," +
                Array(Steps, s => Metric("loss", (1.0 - accuracy) * (Steps - s), 1700000000000 + (s * 1000), s)).TrimStart('[');
            (await LogBatchAsync(server, runId, metrics,
                $"[{KeyValue("lr", lr)}, {KeyValue("batch_size", batchSize)}, {KeyValue("optimizer", optimizer)}]",
                $"[{KeyValue("mlflow.source.name", "train_mnist.py")}]")).ShouldBeOk();
            (await server.PostAsync($"{Mlflow}/runs/update", $$"""{"run_id": "{{runId}}", "status": "FINISHED"}""")).ShouldBeOk();
        }
        var best = ids["mnist-1"];
        await PutAsync(server, experimentId, best, "plots/confusion.png", Png, "image/png");
        await LogPaddleModelAsync(server, experimentId, best);

        // Find the best adam run: an MLflow filter, then accuracy, highest first.
        await page.OpenAsync(server.Address, $"/experiments/{experimentId}");
        await Expect(page.TestId("run-name")).ToHaveCountAsync(Runs.Length);
        await page.Field("filter-input").FillAsync("params.optimizer = 'adam'");
        await page.Field("filter-input").PressAsync("Enter");
        await Expect(page.TestId("run-name")).ToHaveCountAsync(4);
        page.Url.ShouldContain("filter=");
        var accuracySort = page.TestId("sort:metrics.`accuracy`");
        await accuracySort.ClickAsync();
        await Expect(accuracySort).ToHaveAttributeAsync("data-sort", "desc");
        await Expect(page.TestId("run-name")).ToHaveTextAsync(["mnist-1", "mnist-0", "mnist-5", "mnist-2"]);
        await Expect(page.TestId("run-name").First).ToHaveAttributeAsync("href", $"/runs/{best}");

        // Select it and the next two, one tick at a time (each tick is a navigation), and compare.
        string[] compared = ["mnist-1", "mnist-0", "mnist-5"];
        for (var i = 0; i < compared.Length; i++)
        {
            await page.TestId($"select:{ids[compared[i]]}").ClickAsync();
            await Expect(page.TestId("selected-count")).ToContainTextAsync($"{i + 1} selected");
        }
        await page.TestId("compare").ClickAsync();
        await page.WaitForURLAsync(new Regex("/compare\\?runs="));
        await page.WaitForSelectorAsync("[data-interactive='yes']", new() { State = WaitForSelectorState.Attached });
        await Expect(page.TestId("compare-title")).ToHaveTextAsync("Compare 3 runs");
        await Expect(page.TestId("run-link")).ToHaveTextAsync(compared);
        await Expect(page.Locator("[data-testid='param-row'][data-key='optimizer']")).ToHaveAttributeAsync("data-differs", "no");
        await Expect(page.Locator("[data-testid='param-row'][data-key='lr']")).ToHaveAttributeAsync("data-differs", "yes");

        // Parallel coordinates: the differing params (lr, batch_size) and the metrics (accuracy, loss), a line per run.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Parallel coordinates" }).ClickAsync();
        await Expect(page.TestId("parallel")).ToHaveAttributeAsync("data-dimensions", "4");
        await Expect(page.TestId("parallel")).ToHaveAttributeAsync("data-lines", "3");
        await Expect(page.Locator("[data-testid='parallel'] .parcoords .axis-title")).ToHaveCountAsync(4);
        page.Url.ShouldContain("tab=parallel");

        // Metric overlays: accuracy first, then the loss chosen; a curve per run.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Metrics" }).ClickAsync();
        var overlay = page.TestId("overlay");
        await Expect(overlay).ToHaveAttributeAsync("data-metric", "accuracy");
        await Expect(overlay).ToHaveAttributeAsync("data-series", "3");
        await Expect(page.Locator("[data-testid='overlay'] .scatterlayer .trace")).ToHaveCountAsync(3);
        await page.TestId("overlay-metric").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasTextRegex = new Regex("^loss$") }).ClickAsync();
        await Expect(overlay).ToHaveAttributeAsync("data-metric", "loss");
        await Expect(overlay).ToHaveAttributeAsync("data-series", "3");
        await Expect(page.Locator("[data-testid='overlay'] .scatterlayer .trace")).ToHaveCountAsync(3);
        await page.WaitForURLAsync(new Regex("metric=loss"));
        page.Url.ShouldContain("tab=metrics");
        (await TraceNamesAsync(page)).ShouldBe(compared);

        // The colleague opens the address in a browser of their own: the same runs, tab and metric.
        var comparison = page.Url;
        var colleague = await newColleaguePage();
        await colleague.GotoAsync(comparison);
        await colleague.WaitForSelectorAsync("[data-interactive='yes']", new() { State = WaitForSelectorState.Attached });
        await Expect(colleague.TestId("compare-title")).ToHaveTextAsync("Compare 3 runs");
        await Expect(colleague.GetByRole(AriaRole.Tab, new() { Name = "Metrics" })).ToHaveAttributeAsync("aria-selected", "true");
        await Expect(colleague.TestId("overlay")).ToHaveAttributeAsync("data-metric", "loss");
        await Expect(colleague.TestId("overlay")).ToHaveAttributeAsync("data-series", "3");
        await Expect(colleague.Locator("[data-testid='overlay'] .scatterlayer .trace")).ToHaveCountAsync(3);
        (await TraceNamesAsync(colleague)).ShouldBe(compared);
        await colleague.GetByRole(AriaRole.Tab, new() { Name = "Parallel coordinates" }).ClickAsync();
        await Expect(colleague.TestId("parallel")).ToHaveAttributeAsync("data-lines", "3");
        await Expect(colleague.Locator("[data-testid='parallel'] .parcoords .axis-title")).ToHaveCountAsync(4);

        // From the comparison to the best run by accuracy, then its artifacts and the model card.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Best per metric" }).ClickAsync();
        var bestByAccuracy = page.Locator("[data-testid='best-row'][data-metric='accuracy'] [data-testid='best-run']");
        await Expect(bestByAccuracy).ToHaveTextAsync("mnist-1");
        await Expect(page.Locator("[data-testid='best-row'][data-metric='accuracy'] [data-testid='best-value']"))
            .ToHaveTextAsync(Format(0.97));
        await bestByAccuracy.ClickAsync();
        await page.WaitForURLAsync($"**/runs/{best}");
        await page.WaitForSelectorAsync("[data-interactive='yes']", new() { State = WaitForSelectorState.Attached });
        await Expect(page.TestId("run-title")).ToHaveTextAsync("mnist-1");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Artifacts" }).ClickAsync();
        await page.Locator("[data-testid='artifact-folder'][data-path='model']").ClickAsync();
        await page.Locator("[data-testid='artifact-file'][data-path='model/MLmodel']").ClickAsync();
        await Expect(page.TestId("model-card")).ToBeVisibleAsync();
        await Expect(page.TestId("model-flavor")).ToContainTextAsync(["paddle", "python_function"], new() { UseInnerText = true });
        await Expect(page.TestId("model-paddle")).ToContainTextAsync("2.6");
        page.Url.ShouldContain("tab=artifacts");
        page.Url.ShouldContain("file=model%2FMLmodel");
        var modelCard = page.Url;

        // The colleague opens the run page's address: the same tab and the same model card.
        await colleague.GotoAsync(modelCard);
        await colleague.WaitForSelectorAsync("[data-interactive='yes']", new() { State = WaitForSelectorState.Attached });
        await Expect(colleague.TestId("run-title")).ToHaveTextAsync("mnist-1");
        await Expect(colleague.GetByRole(AriaRole.Tab, new() { Name = "Artifacts" })).ToHaveAttributeAsync("aria-selected", "true");
        await Expect(colleague.TestId("model-card")).ToBeVisibleAsync();
        await Expect(colleague.TestId("model-flavor")).ToContainTextAsync(["paddle", "python_function"], new() { UseInnerText = true });

        // Copy its params: the best configuration of the experiment by accuracy (all runs, so the sgd run leads),
        // and the best adam run's params as a Python dict.
        await page.OpenAsync(server.Address, $"/best?experiment={experimentId}&metric=accuracy");
        await Expect(page.TestId("run-link")).ToHaveTextAsync(["mnist-3", "mnist-1", "mnist-0", "mnist-5", "mnist-2", "mnist-4"]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy the params of mnist-1 as a Python dict" }).ClickAsync();
        const string dict = "{\"batch_size\": 128, \"lr\": 0.01, \"optimizer\": \"adam\"}";
        await Expect(page.TestId("copy-text")).ToHaveTextAsync(dict);
        await page.TestId("copy-button").ClickAsync();
        await Expect(page.TestId("copy-status")).ToHaveTextAsync("Copied.");
        (await page.EvaluateAsync<string>("() => navigator.clipboard.readText()")).ShouldBe(dict);
    }

    /// <summary>The names of the overlay's Plotly traces, as drawn.</summary>
    private static async Task<string[]> TraceNamesAsync(IPage page) =>
        await page.Locator("[data-testid='overlay'] .js-plotly-plot").EvaluateAsync<string[]>("e => e.data.map(t => t.name)");

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
