using System.Diagnostics;
using Dashboard.Data;
using Dashboard.Tests.Support;
using Microsoft.Playwright;
using static Dashboard.Tests.Support.Make;
using static Dashboard.Tests.Support.MakeRunArtifacts;
using static Microsoft.Playwright.Assertions;

namespace Dashboard.Tests.Browser;

/// <summary>
/// The run page in Debian's Chromium against the real server: open a run from the runs table, read its params and
/// charts, switch the x axis and the scale, edit the description and a tag, browse and preview artifacts, open the
/// model card, and watch a live run update while the test logs metrics through the MLflow API.
/// </summary>
[Collection(BrowserJourneys.Name)]
public sealed class RunPageJourneyTests(BrowserFixture browser, SharedServers servers)
{
    [Fact]
    public async Task Opens_a_run_from_the_table_edits_it_browses_its_artifacts_and_follows_it_live()
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);
        var page = await browser.NewPageAsync();
        try
        {
            await JourneyAsync(server, page);
        }
        catch
        {
            await page.SnapAsync(nameof(Opens_a_run_from_the_table_edits_it_browses_its_artifacts_and_follows_it_live));
            throw;
        }
    }

    private static async Task JourneyAsync(DashboardServer server, IPage page)
    {
        var experimentId = await ExperimentAsync(server, Name("run-page"));
        var runId = await RunAsync(server, experimentId, "train <b>1</b>");
        (await LogBatchAsync(server, runId,
            Array(200, s => Metric("loss", 10.0 / (s + 1), 1700000000000 + (s * 1000), s)),
            $"[{KeyValue("lr", "0.01")}, {KeyValue("optimizer", "adam")}]",
            $"[{KeyValue("team", "vision")}, {KeyValue("mlflow.source.name", "train.py")}, {KeyValue("mlflow.source.git.commit", "a1b2c3d4e5f6a7b8c9d0")}]"))
            .ShouldBeOk();
        await PutAsync(server, experimentId, runId, "tables/scores.csv", "epoch,score\n1,0.5\n2,0.75\n");
        await PutAsync(server, experimentId, runId, "plots/loss.png", Png, "image/png");
        await LogPaddleModelAsync(server, experimentId, runId);

        // From the runs table to the run.
        await page.OpenAsync(server.Address, $"/experiments/{experimentId}");
        await page.TestId("run-name").ClickAsync();
        await page.WaitForURLAsync($"**/runs/{runId}");
        await Expect(page.TestId("run-title")).ToHaveTextAsync("train <b>1</b>");
        await Expect(page.TestId("overview-source")).ToContainTextAsync("train.py");
        await Expect(page.TestId("overview-commit")).ToContainTextAsync("a1b2c3d4e5f6");
        await Expect(page.TestId("live")).ToBeVisibleAsync();

        // Params.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Params (2)" }).ClickAsync();
        await Expect(page.TestId("param-key")).ToHaveTextAsync(["lr", "optimizer"]);

        // Metrics: one chart, drawn by Plotly; the x axis and the scale change the same plot.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Metrics (1)" }).ClickAsync();
        var chart = page.Locator("[data-testid='metric-chart'][data-key='loss']");
        await Expect(chart).ToHaveAttributeAsync("data-total", "200");
        await Expect(chart.Locator(".js-plotly-plot .scatterlayer .trace")).ToHaveCountAsync(1);
        await page.TestId("xaxis-relative").ClickAsync();
        await Expect(chart).ToHaveAttributeAsync("data-xaxis", "relative");
        await Expect(chart.Locator(".xtitle")).ToHaveTextAsync("seconds since the run started");
        page.Url.ShouldContain("x=relative");
        await page.TestId("log-scale").CheckAsync();
        await Expect(chart).ToHaveAttributeAsync("data-log", "1");
        (await chart.Locator(".js-plotly-plot").EvaluateAsync<string>("e => e.layout.yaxis.type")).ShouldBe("log");
        await Expect(page.Locator(".js-plotly-plot")).ToHaveCountAsync(1);

        // Description and a tag, edited in place.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Overview" }).ClickAsync();
        await page.TestId("description-edit").ClickAsync();
        await page.Locator("textarea[data-testid='description-input']").FillAsync("Baseline <i>run</i>\nwith a second line");
        await page.TestId("description-save").ClickAsync();
        await Expect(page.TestId("description")).ToHaveTextAsync("Baseline <i>run</i>\nwith a second line");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Tags (1)" }).ClickAsync();
        await page.TestId("tag-edit").ClickAsync();
        await page.Locator("textarea[data-testid='tag-value-input']").FillAsync("speech");
        await page.TestId("tag-save").ClickAsync();
        await Expect(page.TestId("tag-value")).ToHaveTextAsync("speech");
        var stored = await GetRunAsync(server, runId);
        ValueOf(stored["data"]!["tags"], "team").ShouldBe("speech");
        ValueOf(stored["data"]!["tags"], "mlflow.note.content").ShouldBe("Baseline <i>run</i>\nwith a second line");

        // Artifacts: a lazy tree, a CSV as a table, an image, the MLmodel as a model card.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Artifacts" }).ClickAsync();
        await page.Locator("[data-testid='artifact-folder'][data-path='tables']").ClickAsync();
        await page.Locator("[data-testid='artifact-file'][data-path='tables/scores.csv']").ClickAsync();
        await Expect(page.TestId("preview-csv-row")).ToHaveCountAsync(2);
        await Expect(page.Locator("[data-testid='preview-csv'] th")).ToHaveTextAsync(["epoch", "score"]);
        page.Url.ShouldContain("file=tables%2Fscores.csv");
        await page.Locator("[data-testid='artifact-folder'][data-path='plots']").ClickAsync();
        await page.Locator("[data-testid='artifact-file'][data-path='plots/loss.png']").ClickAsync();
        await Expect(page.TestId("preview-image")).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => document.querySelector(\"[data-testid='preview-image']\")?.naturalWidth === 1");
        await page.Locator("[data-testid='artifact-folder'][data-path='model']").ClickAsync();
        await page.Locator("[data-testid='artifact-file'][data-path='model/MLmodel']").ClickAsync();
        await Expect(page.TestId("model-card")).ToBeVisibleAsync();
        await Expect(page.TestId("model-paddle")).ToContainTextAsync("2.6");
        await Expect(page.TestId("model-flavor")).ToContainTextAsync(["paddle", "python_function"], new() { UseInnerText = true });

        // Live: the test logs through the MLflow API; the open chart grows without a reload.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Metrics (1)" }).ClickAsync();
        await Expect(chart).ToHaveAttributeAsync("data-total", "200");
        var delays = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            (await LogBatchAsync(server, runId, $"[{Metric("loss", 0.01, 1700000300000 + i, 200 + i)}]")).ShouldBeOk();
            await Expect(chart).ToHaveAttributeAsync("data-total", (201 + i).ToString(System.Globalization.CultureInfo.InvariantCulture));
            delays.Add(watch.ElapsedMilliseconds);
        }
        TestContext.Current.SendDiagnosticMessage($"log-batch to chart update: {string.Join(", ", delays)} ms");
        (await server.PostAsync($"{Mlflow}/runs/update", $$"""{"run_id": "{{runId}}", "status": "FINISHED"}""")).ShouldBeOk();
        await Expect(page.TestId("run-status").First).ToHaveTextAsync("FINISHED");
        await Expect(page.TestId("live")).ToHaveCountAsync(0);
    }
}
