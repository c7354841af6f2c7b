using Bunit;
using Dashboard.Components.Pages.Experiments;
using Dashboard.Search;
using Dashboard.Tracking;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Components;

/// <summary>Names and values come from training scripts and other people: the dashboard shows them as text, never as markup.</summary>
public sealed class EscapingTests : ComponentContext
{
    private const string Script = "<script>window.pwned = 1</script>";
    private const string Markup = "<img src=x onerror=alert(1)><b>bold</b>";

    [Fact]
    public async Task Experiment_names_with_markup_long_names_and_unicode_render_as_text()
    {
        await UseDatabaseAsync();
        var experiments = Services.GetRequiredService<ExperimentService>();
        var longName = string.Concat(Enumerable.Repeat("långt-名前-", 60))[..TrackingValidation.MaxExperimentNameLength];
        string[] names = [Script, Markup, longName, "ünïcödé 実験 🧪 \u202Eright-to-left"];
        foreach (var name in names)
        {
            await experiments.CreateExperimentAsync(name, null, [new("note", Markup)], Xunit.TestContext.Current.CancellationToken);
        }
        Render<MudBlazor.MudPopoverProvider>();

        var page = Render<ExperimentsPage>();

        page.WaitForAssertion(() => page.FindAll("[data-testid=experiment-link]").Count.ShouldBe(names.Length + 1), TimeSpan.FromSeconds(10));
        var shown = page.FindAll("[data-testid=experiment-link]").Select(a => a.TextContent).ToList();
        foreach (var name in names)
        {
            shown.ShouldContain(name);
        }
        page.FindAll("script").ShouldBeEmpty();
        page.FindAll("img").ShouldBeEmpty();
        page.FindAll("b").ShouldBeEmpty();
        page.Markup.ShouldContain("&lt;script&gt;");
        page.FindAll(".mud-chip").Select(c => c.TextContent).ShouldContain(t => t.Contains("note=<img", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_names_params_and_tags_with_markup_render_as_text_in_the_runs_table()
    {
        await UseDatabaseAsync();
        var experiments = Services.GetRequiredService<ExperimentService>();
        var runs = Services.GetRequiredService<RunService>();
        var id = await experiments.CreateExperimentAsync(Script, null, null, Xunit.TestContext.Current.CancellationToken);
        var run = await runs.CreateRunAsync(id.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup, Script, 1700000000000, null,
            Xunit.TestContext.Current.CancellationToken);
        await runs.LogBatchAsync(run.Id, [new MetricInput("m", 1, 1700000000000, 0)], [new KeyValueInput("p", Script)], [new KeyValueInput("t", Markup)],
            Xunit.TestContext.Current.CancellationToken);
        Render<MudBlazor.MudPopoverProvider>();
        var navigation = Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo($"/experiments/{id}?cols=m:m,p:p,t:t");

        var page = Render<ExperimentPage>(p => p.Add(x => x.ExperimentId, id));

        page.WaitForAssertion(() => page.FindAll("[data-testid=run-name]").Count.ShouldBe(1), TimeSpan.FromSeconds(10));
        page.Find("[data-testid=experiment-name]").TextContent.ShouldBe(Script);
        page.Find("[data-testid=run-name]").TextContent.ShouldBe(Script);
        page.Find("[data-testid='cell:p:p']").TextContent.ShouldBe(Script);
        page.Find("[data-testid='cell:t:t']").TextContent.ShouldBe(Markup);
        page.FindAll("script").ShouldBeEmpty();
        page.FindAll("img").ShouldBeEmpty();
        page.FindAll("b").ShouldBeEmpty();
    }
}
