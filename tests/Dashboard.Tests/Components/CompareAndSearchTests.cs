using System.Globalization;
using Bunit;
using Dashboard.Components.Layout;
using Dashboard.Components.Pages.Best;
using Dashboard.Components.Pages.Compare;
using Dashboard.Components.Pages.KeywordSearch;
using Dashboard.Search;
using Dashboard.Tracking;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Components;

/// <summary>The compare page, the keyword search and the best configuration over a real SQLite database; every name and value is text.</summary>
public sealed class CompareAndSearchTests : ComponentContext
{
    private const string Script = "<script>window.pwned = 1</script>";
    private const string Markup = "<img src=x onerror=alert(1)><b>bold</b>";

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    /// <summary>Three runs of two experiments; names, keys and values with markup.</summary>
    private async Task<(string A, string B, string C)> SeedAsync()
    {
        await UseDatabaseAsync();
        var experiments = Services.GetRequiredService<ExperimentService>();
        var runs = Services.GetRequiredService<RunService>();
        var one = (await experiments.CreateExperimentAsync(Script, null, null, Ct)).ToString(CultureInfo.InvariantCulture);
        var two = (await experiments.CreateExperimentAsync("second", null, null, Ct)).ToString(CultureInfo.InvariantCulture);
        async Task<string> RunAsync(string experiment, string name, double loss, string optimizer, string task)
        {
            var run = await runs.CreateRunAsync(experiment, "ana", name, 1700000000000, null, Ct);
            await runs.LogBatchAsync(run.Id, [new MetricInput("val_loss", loss, 1700000000000, 0), new MetricInput("val_acc", 1 - loss, 1700000000000, 0)],
                [new KeyValueInput("lr", "0.001"), new KeyValueInput("optimizer", optimizer), new KeyValueInput("note", Markup)],
                [new KeyValueInput("task", task)], Ct);
            return run.Id;
        }
        return (await RunAsync(one, Script, 0.3, "adam", "ocr"), await RunAsync(one, "b", 0.1, "sgd", "ocr"), await RunAsync(two, "c", 0.2, Markup, "asr"));
    }

    [Fact]
    public async Task Compare_shows_params_side_by_side_tints_differences_hides_equal_rows_and_renders_markup_as_text()
    {
        var (a, b, c) = await SeedAsync();
        Render<MudBlazor.MudPopoverProvider>();
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/compare?runs={a},{b},{c}");

        var page = Render<ComparePage>();

        page.WaitForAssertion(() => page.FindAll("[data-testid=param-row]").Count.ShouldBe(3), TimeSpan.FromSeconds(10));
        page.Find("[data-testid=compare-title]").TextContent.ShouldBe("Compare 3 runs");
        page.FindAll("[data-testid=param-row]").Select(r => (r.GetAttribute("data-key"), r.GetAttribute("data-differs"), r.ClassList.Contains("differs")))
            .ShouldBe([("lr", "no", false), ("note", "no", false), ("optimizer", "yes", true)]);
        page.FindAll("[data-testid=run-link]").Select(l => l.TextContent).ShouldBe([Script, "b", "c"]);
        page.FindAll("[data-testid=run-link]")[0].GetAttribute("href").ShouldBe($"/runs/{a}");
        page.FindAll("[data-testid=param-value]").Select(v => v.TextContent).ShouldContain(Markup);
        page.Markup.ShouldContain("&lt;script&gt;");
        page.FindAll("script").ShouldBeEmpty();
        page.FindAll("img").ShouldBeEmpty();
        page.FindAll("b").ShouldBeEmpty();

        Services.GetRequiredService<NavigationManager>().NavigateTo($"/compare?runs={a},{b},{c}&equal=hide");
        page.WaitForAssertion(() => page.FindAll("[data-testid=param-row]").Select(r => r.GetAttribute("data-key")).ShouldBe(["optimizer"]));
    }

    [Fact]
    public async Task Compare_picks_the_best_run_per_metric_by_the_guessed_direction_and_by_the_one_in_the_url()
    {
        var (a, b, c) = await SeedAsync();
        Render<MudBlazor.MudPopoverProvider>();
        var navigation = Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo($"/compare?runs={a},{b},{c}&tab=best");

        var page = Render<ComparePage>();

        page.WaitForAssertion(() => page.FindAll("[data-testid=best-row]").Count.ShouldBe(2), TimeSpan.FromSeconds(10));
        string[] Best() => page.FindAll("[data-testid=best-row]").Select(r => $"{r.GetAttribute("data-metric")} {r.GetAttribute("data-goal")} " +
            r.QuerySelector("[data-testid=best-run]")!.TextContent).ToArray();
        Best().ShouldBe(["val_acc max b", "val_loss min b"]);

        navigation.NavigateTo($"/compare?runs={a},{b},{c}&tab=best&dir=val_loss:max");
        page.WaitForAssertion(() => Best().ShouldBe(["val_acc max b", $"val_loss max {Script}"]));
        page.FindAll("script").ShouldBeEmpty();
    }

    [Fact]
    public async Task Compare_with_fewer_than_two_runs_says_how_to_choose_them()
    {
        await UseDatabaseAsync();
        Services.GetRequiredService<NavigationManager>().NavigateTo("/compare?runs=0123456789abcdef0123456789abcdef,not-an-id");

        var page = Render<ComparePage>();

        page.WaitForAssertion(() => page.Find("[data-testid=compare-too-few]"), TimeSpan.FromSeconds(10));
        page.Find("[data-testid=compare-missing]").TextContent.ShouldBe("1 not found");
    }

    [Fact]
    public void Compare_state_round_trips_through_the_url_and_ignores_what_a_hand_edited_url_gets_wrong()
    {
        var state = CompareState.From("abc,ABC,zz,abc,", "scatter", "hide", "val loss", "p:lr,m:loss,t:team,x:y", "p:lr", "p:opt", "loss:max,acc:min,bad:up");

        state.Runs.ShouldBe(["abc", "ABC"]);
        state.Tab.ShouldBe(Tab.Scatter);
        state.HideEqual.ShouldBeTrue();
        state.Axes!.Select(a => a.Token).ShouldBe(["p:lr", "m:loss"]);
        state.X!.Token.ShouldBe("p:lr");
        state.Y.ShouldBeNull();
        state.Goal("loss").ShouldBe(MetricGoal.Max);
        state.Goal("val_loss").ShouldBe(MetricGoal.Min);
        state.Goal("acc").ShouldBe(MetricGoal.Min);
        state.WithGoal("acc", MetricGoal.Max).ToQuery()["dir"].ShouldBe("loss:max");
        state.ToQuery().ShouldBe(new Dictionary<string, object?>
        {
            ["runs"] = "abc,ABC", ["tab"] = "scatter", ["equal"] = "hide", ["metric"] = "val loss", ["axes"] = "p:lr,m:loss",
            ["x"] = "p:lr", ["y"] = null, ["dir"] = "acc:min,loss:max",
        }, ignoreOrder: true);
        CompareState.From(null, "nonsense", null, null, null, null, null, null).ToQuery()["tab"].ShouldBeNull();
    }

    [Fact]
    public async Task The_search_page_groups_ranked_results_and_shows_markup_as_text()
    {
        var (a, _, c) = await SeedAsync();
        Services.GetRequiredService<NavigationManager>().NavigateTo("/search?q=" + Uri.EscapeDataString("<img"));

        var page = Render<SearchPage>();

        page.WaitForAssertion(() => page.FindAll("[data-testid=result-run]").Count.ShouldBe(3), TimeSpan.FromSeconds(10));
        // Every run's note is the markup itself (an exact match, the key shown); names do not hold it.
        page.FindAll("[data-testid=result-run] [data-testid=result-why]").Select(w => w.TextContent).ShouldBe(Enumerable.Repeat($"param note = {Markup}", 3));
        page.FindAll("[data-testid=result-run]").Select(r => r.GetAttribute("href")).ShouldContain($"/runs/{a}");
        page.FindAll("[data-testid=result-run]").Select(r => r.GetAttribute("href")).ShouldContain($"/runs/{c}");
        page.FindAll("img").ShouldBeEmpty();
        page.FindAll("b").ShouldBeEmpty();

        Services.GetRequiredService<NavigationManager>().NavigateTo("/search?q=" + Uri.EscapeDataString("<script>"));
        page.WaitForAssertion(() => page.FindAll("[data-testid=result-experiment] [data-testid=result-label]").Select(e => e.TextContent).ShouldBe([Script]));
        page.FindAll("script").ShouldBeEmpty();
    }

    [Fact]
    public async Task The_app_bar_search_lists_runs_experiments_and_a_link_to_all_results()
    {
        await SeedAsync();
        var popovers = Render<MudBlazor.MudPopoverProvider>();
        var search = Render<GlobalSearch>();

        search.Find("input").Input("sgd");

        // The dropdown renders in the popover provider, as in the app.
        popovers.WaitForAssertion(() => popovers.FindAll("[data-testid=search-hit]").Select(h => h.GetAttribute("data-kind")).ShouldBe(["run", "all"]),
            TimeSpan.FromSeconds(10));
        popovers.FindAll("[data-testid=search-hit-label]").Select(l => l.TextContent).ShouldBe(["b", "All results for “sgd”"]);
    }

    [Fact]
    public async Task Best_configuration_of_a_tag_lists_the_top_runs_with_their_params_and_copies_them_as_a_python_dict()
    {
        var (a, b, _) = await SeedAsync();
        Render<MudBlazor.MudPopoverProvider>();
        var dialogs = Render<MudBlazor.MudDialogProvider>();
        Services.GetRequiredService<NavigationManager>().NavigateTo("/best?tag=task:ocr&metric=val_loss");

        var page = Render<BestPage>();

        page.WaitForAssertion(() => page.FindAll("[data-testid=run-link]").Count.ShouldBe(2), TimeSpan.FromSeconds(10));
        page.FindAll("[data-testid=run-link]").Select(l => l.GetAttribute("href")).ShouldBe([$"/runs/{b}", $"/runs/{a}"]);
        page.FindAll("[data-testid=best-value]").Select(v => v.TextContent).ShouldBe(["val_loss = 0.1", "val_loss = 0.3"]);
        page.FindAll("[data-testid=param-row]").Where(r => r.GetAttribute("data-differs") == "yes").Select(r => r.GetAttribute("data-key")).ShouldBe(["optimizer"]);

        page.FindAll("[data-testid=copy-dict]")[0].Click();

        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=copy-text]").TextContent
            .ShouldBe("{\"lr\": 0.001, \"note\": \"<img src=x onerror=alert(1)><b>bold</b>\", \"optimizer\": \"sgd\"}"));
        dialogs.FindAll("img").ShouldBeEmpty();
    }
}
