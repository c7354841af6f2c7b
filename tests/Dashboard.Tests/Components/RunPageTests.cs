using System.Text;
using Bunit;
using Dashboard.Artifacts;
using Dashboard.Components.Pages.Runs;
using Dashboard.ModelCards;
using Dashboard.Tracking;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using static Dashboard.Core.Tests.ModelCards.ModelFixtures;

namespace Dashboard.Tests.Components;

/// <summary>
/// The run page and its parts over a real SQLite database and a local artifact folder: chart options, the description
/// and tags edited through RunService with the API's rules, previews, markup as text, and a live run's updates.
/// </summary>
public sealed class RunPageTests : ComponentContext
{
    private const string Script = "<script>window.pwned = 1</script>";
    private const string Markup = "<img src=x onerror=alert(1)><b>bold</b>";

    private readonly string _artifactRoot = Path.Join(Path.GetTempPath(), $"run-page-{Guid.NewGuid():N}");
    private LocalArtifactStore? _store;

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    private async Task<(RunService Runs, Run Run)> SetUpAsync()
    {
        await UseDatabaseAsync();
        _store = new LocalArtifactStore(_artifactRoot);
        Services.AddSingleton<IArtifactStore>(_store);
        Services.AddSingleton(_ => new TempFolder(_artifactRoot));
        Services.AddSingleton<RunChanges>();
        Services.AddSingleton<MetricSeriesService>();
        Services.AddSingleton<RunArtifacts>();
        Services.AddSingleton<ModelCardService>();
        var runs = Services.GetRequiredService<RunService>();
        var run = await runs.CreateRunAsync("0", "alice", "run-a", 1_700_000_000_000,
            [new("mlflow.source.name", "train.py"), new("mlflow.source.git.commit", "0123456789abcdef0123"), new("team", Markup)], Ct);
        Services.GetRequiredService<TempFolder>();
        Render<MudBlazor.MudPopoverProvider>();
        return (runs, run);
    }

    private async Task PutAsync(Run run, string path, byte[] bytes) =>
        await _store!.WriteAsync(ArtifactLocations.StorePath(run.ArtifactUri)!.Value.Append(ArtifactPath.Parse(path, "path")), new MemoryStream(bytes), Ct);

    private static MetricSeries Series(int n) =>
        new("loss", Enumerable.Range(0, n).Select(i => new MetricPoint(i, 1_700_000_000_000 + (i * 1000), 1.0 / (i + 1), false)).ToList(), n, null);

    [Fact]
    public void A_chart_redraws_through_plotly_react_when_an_option_changes_and_not_otherwise()
    {
        var series = Series(100);
        var chart = Render<MetricChart>(p => p.Add(x => x.Series, series).Add(x => x.Options, new ChartOptions()).Add(x => x.RunStartMs, 1_700_000_000_000));
        var box = () => chart.Find("[data-testid=metric-chart]");
        box().GetAttribute("data-xaxis").ShouldBe("step");
        box().GetAttribute("data-points").ShouldBe("100");

        chart.Render(p => p.Add(x => x.Options, new ChartOptions(XAxisMode.RelativeTime, 0.6, true)));
        box().GetAttribute("data-xaxis").ShouldBe("relative");
        box().GetAttribute("data-log").ShouldBe("1");
        box().GetAttribute("data-smoothing").ShouldBe("0.6");
        box().GetAttribute("data-updates").ShouldBe("1");

        // The same options and series again: no redraw.
        chart.Render(p => p.Add(x => x.Options, new ChartOptions(XAxisMode.RelativeTime, 0.6, true)));
        box().GetAttribute("data-updates").ShouldBe("1");
    }

    [Fact]
    public void Chart_values_follow_the_x_axis_mode_gaps_for_NaN_and_infinity_and_debiased_smoothing()
    {
        MetricPoint[] points = [new(0, 1_700_000_001_500, 2, false), new(5, 1_700_000_003_000, 0, true), new(9, 1_700_000_004_000, double.PositiveInfinity, false),
            new(10, 1_700_000_005_000, 4, false)];
        ChartTraces.X(points, XAxisMode.Step, 1_700_000_000_000).ShouldBe([0L, 5L, 9L, 10L]);
        ChartTraces.X(points, XAxisMode.RelativeTime, 1_700_000_000_000).ShouldBe([1.5, 3.0, 4.0, 5.0]);
        ChartTraces.X(points, XAxisMode.WallTime, 0)[0].ShouldBe("2023-11-14 22:13:21.500");
        ChartTraces.Y(points).ShouldBe([2.0, null, null, 4.0]);
        var smoothed = ChartTraces.Smoothed(points, 0.5);
        smoothed[0].ShouldBe(2.0); // debiased: starts at the first value, not at half of it
        smoothed[1].ShouldBeNull();
        smoothed[2].ShouldBeNull();
        ((double)smoothed[3]!).ShouldBe(((0.5 * 1) + (0.5 * 4)) / 0.75, 1e-12);
        ChartOptions.From("relative", "0.5", "1").ShouldBe(new ChartOptions(XAxisMode.RelativeTime, 0.5, true));
        ChartOptions.From("bogus", "7", "yes").ShouldBe(new ChartOptions());
    }

    [Fact]
    public async Task The_overview_shows_the_system_tags_and_saves_the_description_as_text_with_the_APIs_limit()
    {
        var (runs, run) = await SetUpAsync();
        var loaded = await runs.GetRunAsync(run.Id, Ct);
        var page = Render<RunOverview>(p => p.Add(x => x.Run, loaded).Add(x => x.Now, DateTimeOffset.UtcNow));
        page.Find("[data-testid=overview-source]").TextContent.ShouldContain("train.py");
        page.Find("[data-testid=overview-commit] code").TextContent.ShouldBe("0123456789ab");
        page.Find("[data-testid=overview-user]").TextContent.ShouldBe("alice");

        page.Find("[data-testid=description-edit]").Click();
        page.Find("textarea").Change(new string('x', TrackingValidation.MaxRunTagValueLength + 1));
        page.Find("[data-testid=description-save]").Click();
        page.WaitForAssertion(() => page.Markup.ShouldContain("exceeds the maximum length"));

        page.Find("textarea").Change(Script + "\nsecond line");
        page.Find("[data-testid=description-save]").Click();
        page.WaitForAssertion(() => page.Find("[data-testid=description]").TextContent.ShouldBe(Script + "\nsecond line"));
        page.FindAll("script").ShouldBeEmpty();
        (await runs.GetRunAsync(run.Id, Ct)).Tags.Single(t => t.Key == RunOverview.NoteTag).Value.ShouldBe(Script + "\nsecond line");
    }

    [Fact]
    public async Task Tags_are_edited_added_and_deleted_through_the_service_and_its_errors_show_inline()
    {
        var (runs, run) = await SetUpAsync();
        var loaded = await runs.GetRunAsync(run.Id, Ct);
        var page = Render<RunTags>(p => p.Add(x => x.Run, loaded));
        page.FindAll("[data-testid=tag-key]").Select(e => e.TextContent).ShouldBe(["team"]);
        page.Find("[data-testid=tag-value]").TextContent.ShouldBe(Markup);
        page.FindAll("img").ShouldBeEmpty();

        page.Find("[data-testid=tag-edit]").Click();
        page.Find("textarea").Change("speech");
        page.Find("[data-testid=tag-save]").Click();
        page.WaitForAssertion(() => page.Find("[data-testid=tag-value]").TextContent.ShouldBe("speech"));

        // A key MLflow refuses: the API's message, nothing stored.
        page.Find("input[data-testid=tag-new-key]").Change("bad key!");
        page.Find("[data-testid=tag-add]").Click();
        page.WaitForAssertion(() => page.Markup.ShouldContain("Invalid value \"bad key!\" for parameter"));
        page.Find("input[data-testid=tag-new-key]").Change("mlflow.user");
        page.Find("[data-testid=tag-add]").Click();
        page.WaitForAssertion(() => page.Markup.ShouldContain("MLflow's own"));

        page.Find("input[data-testid=tag-new-key]").Change("owner");
        page.Find("input[data-testid=tag-new-value]").Change("bob");
        page.Find("[data-testid=tag-add]").Click();
        page.WaitForAssertion(() => page.FindAll("[data-testid=tag-key]").Select(e => e.TextContent).ShouldBe(["owner", "team"]));
        page.FindAll("[data-testid=tag-delete]")[1].Click();
        page.WaitForAssertion(() => page.FindAll("[data-testid=tag-key]").Select(e => e.TextContent).ShouldBe(["owner"]));

        var stored = (await runs.GetRunAsync(run.Id, Ct)).Tags.Where(t => !RunTags.IsSystem(t.Key)).ToDictionary(t => t.Key, t => t.Value);
        stored.ShouldBe(new Dictionary<string, string> { ["owner"] = "bob" });
    }

    [Fact]
    public async Task Previews_show_csv_as_a_table_images_through_the_download_url_pages_as_text_and_MLmodel_as_a_card()
    {
        var (_, run) = await SetUpAsync();
        await PutAsync(run, "data/t.csv", Encoding.UTF8.GetBytes($"name,value\n{Script},1\n\"b, c\",2\n"));
        await PutAsync(run, "plot.png", [0x89, 0x50]);
        await PutAsync(run, "report.html", Encoding.UTF8.GetBytes(Markup));
        foreach (var (name, content) in Files(Paddle217))
        {
            await PutAsync(run, $"model/{name}", content);
        }

        var csv = Render<ArtifactPreviewView>(p => p.Add(x => x.RunId, run.Id).Add(x => x.Path, "data/t.csv"));
        csv.WaitForAssertion(() => csv.FindAll("[data-testid=preview-csv-row]").Count.ShouldBe(2));
        csv.FindAll("th").Select(t => t.TextContent).ShouldBe(["name", "value"]);
        csv.FindAll("[data-testid=preview-csv-row] td").Select(t => t.TextContent).ShouldBe([Script, "1", "b, c", "2"]);
        csv.FindAll("script").ShouldBeEmpty();

        var image = Render<ArtifactPreviewView>(p => p.Add(x => x.RunId, run.Id).Add(x => x.Path, "plot.png"));
        image.WaitForAssertion(() => image.Find("[data-testid=preview-image]").GetAttribute("src").ShouldBe($"/runs/{run.Id}/artifact?path=plot.png"));

        var html = Render<ArtifactPreviewView>(p => p.Add(x => x.RunId, run.Id).Add(x => x.Path, "report.html"));
        html.WaitForAssertion(() => html.Find("[data-testid=preview-text]").TextContent.ShouldBe(Markup));
        html.FindAll("img").ShouldBeEmpty();

        var model = Render<ArtifactPreviewView>(p => p.Add(x => x.RunId, run.Id).Add(x => x.Path, "model/MLmodel"));
        model.WaitForAssertion(() => model.Find("[data-testid=model-card]"), TimeSpan.FromSeconds(10));
        model.FindAll("[data-testid=model-flavor]").Select(f => f.TextContent).ShouldContain("paddle");
        model.Find("[data-testid=model-paddle]").TextContent.ShouldContain("2.6");
        model.Find("[data-testid=model-python]").TextContent.ShouldContain("3.");
        model.FindAll("[data-testid=model-requirement]").ShouldNotBeEmpty();

        var traversal = Render<ArtifactPreviewView>(p => p.Add(x => x.RunId, run.Id).Add(x => x.Path, "../../secret"));
        traversal.WaitForAssertion(() => traversal.Find("[data-testid=preview-error]").TextContent.ShouldContain("'.' and '..' segments are not allowed"));
    }

    [Fact]
    public async Task A_live_run_page_draws_new_points_and_the_new_status_without_a_reload()
    {
        var (runs, run) = await SetUpAsync();
        for (var b = 0; b < 3; b++)
        {
            await runs.LogBatchAsync(run.Id, Enumerable.Range(b * 1000, 1000).Select(i => new MetricInput("loss", 1.0 / (i + 1), 1_700_000_000_000 + i, i)).ToList(),
                null, null, Ct);
        }
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/runs/{run.Id}?tab=metrics");
        var page = Render<RunPage>(p => p.Add(x => x.RunId, run.Id));
        page.WaitForAssertion(() => page.Find("[data-testid=metric-chart]").GetAttribute("data-total").ShouldBe("3000"), TimeSpan.FromSeconds(10));
        int.Parse(page.Find("[data-testid=metric-chart]").GetAttribute("data-points")!, System.Globalization.CultureInfo.InvariantCulture)
            .ShouldBeInRange(900, MetricSeriesService.DefaultBudget);
        page.Find("[data-testid=live]");
        Services.GetRequiredService<RunChanges>().Watchers(run.Id).ShouldBe(1);

        await runs.LogBatchAsync(run.Id, [new MetricInput("loss", 99, 1_700_000_100_000, 3000), new MetricInput("acc", 0.5, 1_700_000_100_000, 0)], null, null, Ct);
        page.WaitForAssertion(() => page.Find("[data-key=loss]").GetAttribute("data-total").ShouldBe("3001"), TimeSpan.FromSeconds(5));
        page.WaitForAssertion(() => page.FindAll("[data-testid=metric-chart]").Count.ShouldBe(2), TimeSpan.FromSeconds(5));

        await runs.UpdateRunAsync(run.Id, RunStatus.Finished, 1_700_000_200_000, null, Ct);
        page.WaitForAssertion(() => page.Find("[data-testid=run-status]").TextContent.ShouldBe(RunStatus.Finished), TimeSpan.FromSeconds(5));
        page.WaitForAssertion(() => page.FindAll("[data-testid=live]").ShouldBeEmpty());
        // The loop ends after its last look, without a render to wait for: polled.
        var changes = Services.GetRequiredService<RunChanges>();
        for (var i = 0; i < 50 && changes.Watchers(run.Id) > 0; i++)
        {
            await Task.Delay(100, Ct);
        }
        changes.Watchers(run.Id).ShouldBe(0);
    }

    [Fact]
    public async Task An_unknown_run_says_so()
    {
        await SetUpAsync();
        var page = Render<RunPage>(p => p.Add(x => x.RunId, "0123456789abcdef0123456789abcdef"));
        page.WaitForAssertion(() => page.Find("[data-testid=run-not-found]").TextContent.ShouldContain("not found"));
    }

    /// <summary>Made by the container, so that disposing the test context deletes the artifact folder.</summary>
    private sealed class TempFolder(string path) : IDisposable
    {
        public void Dispose()
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
    }
}
