using Bunit;
using Dashboard.Components.Pages.Audit;
using Dashboard.Components.Pages.Models;
using Dashboard.Data;
using Dashboard.Governance;
using Dashboard.Registry;
using Dashboard.Search;
using Dashboard.Tracking;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Components;

/// <summary>The Audit page and a model's timeline page show names, targets, reasons and states as text, never as markup.</summary>
public sealed class AuditPagesTests : ComponentContext
{
    private const string Markup = "<img src=x onerror=alert(1)><b>bold</b>";

    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    private async Task<RegistryService> SetUpAsync()
    {
        await UseDatabaseAsync();
        var factory = Database.Factory;
        Services.AddSingleton<AuditService>();
        Render<MudBlazor.MudPopoverProvider>();
        return new RegistryService(factory, TimeProvider.System, new ModelSourceResolver(factory), new LoggedModelService(factory, TimeProvider.System),
            new RegistrySearchService(factory));
    }

    [Fact]
    public async Task The_audit_page_shows_markup_in_actors_targets_reasons_and_states_as_text_and_the_change_as_a_diff()
    {
        var registry = await SetUpAsync();
        await registry.CreateRegisteredModelAsync("m<b>bold<b>", [], null, new Actor(Markup), Ct); // no "/" in a model name
        await using (var db = await Database.Factory.CreateDbContextAsync(Ct))
        {
            AuditLog.Add(db, 1000, Markup, AuditActions.ModelUpdated, AuditTargets.RegisteredModel, Markup,
                new { description = Markup }, new { description = "plain" }, reason: Markup);
            await db.SaveChangesAsync(Ct);
        }

        var page = Render<AuditPage>();
        page.WaitForAssertion(() => page.FindAll("[data-testid=audit-event]").Count.ShouldBe(2), TimeSpan.FromSeconds(10));
        page.Find("[data-testid=audit-toggle]").Click();

        page.WaitForAssertion(() => page.FindAll("[data-testid=audit-diff-line]").Count.ShouldBe(1));
        page.Find("[data-testid=audit-diff-line]").GetAttribute("data-changed").ShouldBe("yes");
        page.Find("[data-testid=audit-diff-line]").TextContent.ShouldContain(Markup);
        page.FindAll("[data-testid=audit-actor]").Select(a => a.TextContent).ShouldAllBe(t => t == Markup);
        page.Find("[data-testid=audit-model]").TextContent.ShouldBe("m<b>bold<b>");
        page.FindAll("img").ShouldBeEmpty();
        page.FindAll("b").ShouldBeEmpty();
        // An Admin sees every event: no note about the models one may read.
        page.FindAll("[data-testid=audit-scope]").ShouldBeEmpty();
        page.Find("[data-testid=audit-export-csv]").GetAttribute("href").ShouldBe("/api/v1/audit-events/export?format=csv");
    }

    [Fact]
    public async Task The_audit_page_reads_its_filters_from_the_address_and_says_what_is_wrong_with_a_bad_one()
    {
        var registry = await SetUpAsync();
        await registry.CreateRegisteredModelAsync("fraud", [], null, new Actor("alice"), Ct);
        await registry.CreateRegisteredModelAsync("churn", [], null, new Actor("bob"), Ct);
        var navigation = Services.GetRequiredService<NavigationManager>();

        navigation.NavigateTo("/audit?actor=bob");
        var page = Render<AuditPage>();
        page.WaitForAssertion(() => page.FindAll("[data-testid=audit-model]").Select(a => a.TextContent).ShouldBe(["churn"]), TimeSpan.FromSeconds(10));
        page.Find("[data-testid=audit-export-json]").GetAttribute("href").ShouldBe("/api/v1/audit-events/export?format=json&actor=bob");

        navigation.NavigateTo("/audit?from=yesterday");
        var bad = Render<AuditPage>();
        bad.WaitForAssertion(() => bad.Find("[data-testid=audit-error]").TextContent.ShouldContain("'from'"), TimeSpan.FromSeconds(10));
        bad.FindAll("[data-testid=audit-event]").ShouldBeEmpty();
    }

    [Fact]
    public async Task The_timeline_page_shows_entries_newest_first_with_markup_as_text()
    {
        var registry = await SetUpAsync();
        await registry.CreateRegisteredModelAsync("fraud", [], null, new Actor(Markup), Ct);

        var page = Render<ModelTimelinePage>(p => p.Add(x => x.Name, "fraud"));

        page.WaitForAssertion(() => page.FindAll("[data-testid=timeline-summary]").Select(s => s.TextContent)
            .ShouldBe([$"Model created by {Markup}"]), TimeSpan.FromSeconds(10));
        page.FindAll("img").ShouldBeEmpty();
        var missing = Render<ModelTimelinePage>(p => p.Add(x => x.Name, "nope"));
        missing.WaitForAssertion(() => missing.Find("[data-testid=timeline-error]").TextContent.ShouldContain("No registered model"),
            TimeSpan.FromSeconds(10));
    }
}
