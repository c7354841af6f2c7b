using System.Security.Claims;
using Bunit;
using Dashboard.Components.Pages.Experiments;
using Dashboard.Components.Pages.KeywordSearch;
using Dashboard.Security;
using Dashboard.Tracking;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Components;

/// <summary>
/// The pages as a signed-in Viewer sees them (issue 6): only the experiments their groups may read, in the list, its
/// count and the keyword search, and no edit controls; an experiment they may not read is not shown.
/// </summary>
public sealed class PermissionFilteringTests : ComponentContext
{
    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    private async Task<(long Readable, long Hidden)> SeedAsViewerAsync()
    {
        await UseDatabaseAsync();
        // Nobody reads what nobody granted them.
        Services.AddSingleton(new PermissionDefaults(AccessLevel.NoPermissions, GrantCreators: true));
        var experiments = Services.GetRequiredService<ExperimentService>();
        var readable = await experiments.CreateExperimentAsync("vision-readable", null, null, Ct);
        var hidden = await experiments.CreateExperimentAsync("vision-hidden", null, null, Ct);
        await Services.GetRequiredService<PermissionService>().SetExperimentGrantAsync(readable, PrincipalKind.Group, "vision", AccessLevel.Read, Ct);
        Authorization.SetAuthorized("rita");
        Authorization.SetClaims(new Claim(DashboardClaims.Role, nameof(DashboardRole.Viewer)), new Claim(DashboardClaims.Group, "vision"));
        Render<MudBlazor.MudPopoverProvider>();
        return (readable, hidden);
    }

    [Fact]
    public async Task A_viewer_lists_only_what_their_group_may_read_and_sees_no_edit_controls()
    {
        await SeedAsViewerAsync();
        var page = Render<ExperimentsPage>();
        page.WaitForAssertion(() => page.FindAll("[data-testid=experiment-link]").Select(a => a.TextContent.Trim()).ShouldBe(["vision-readable"]),
            TimeSpan.FromSeconds(10));
        page.FindAll("[data-testid=create-experiment]").ShouldBeEmpty();
        page.FindAll("[data-testid=rename-experiment]").ShouldBeEmpty();
        page.FindAll("[data-testid=delete-experiment]").ShouldBeEmpty();
    }

    [Fact]
    public async Task The_keyword_search_finds_only_readable_experiments_and_an_unreadable_experiment_page_says_so()
    {
        var (_, hidden) = await SeedAsViewerAsync();
        Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo("/search?q=vision");
        var search = Render<SearchPage>();
        search.WaitForAssertion(() => search.Markup.ShouldContain("vision-readable"), TimeSpan.FromSeconds(10));
        search.Markup.ShouldNotContain("vision-hidden");

        var page = Render<ExperimentPage>(p => p.Add(x => x.ExperimentId, hidden));
        page.WaitForAssertion(() => page.Markup.ShouldContain("Permission denied"), TimeSpan.FromSeconds(10));
        page.Markup.ShouldNotContain("vision-hidden");
    }
}
