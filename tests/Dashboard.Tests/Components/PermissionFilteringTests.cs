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
    [Fact]
    public async Task A_contributor_sees_rename_only_with_edit_and_delete_or_restore_only_with_manage_on_each_experiment()
    {
        // Everyone reads by default (Dashboard:Auth:DefaultPermission READ): a Contributor's role alone edits nothing.
        await UseDatabaseAsync();
        var experiments = Services.GetRequiredService<ExperimentService>();
        var permissions = Services.GetRequiredService<PermissionService>();
        await experiments.CreateExperimentAsync("plain", null, null, Ct);
        var edited = await experiments.CreateExperimentAsync("edited", null, null, Ct);
        var managed = await experiments.CreateExperimentAsync("managed", null, null, Ct);
        var grouped = await experiments.CreateExperimentAsync("grouped", null, null, Ct);
        await permissions.SetExperimentGrantAsync(edited, PrincipalKind.User, "cora", AccessLevel.Edit, Ct);
        await permissions.SetExperimentGrantAsync(managed, PrincipalKind.User, "cora", AccessLevel.Manage, Ct);
        await permissions.SetExperimentGrantAsync(grouped, PrincipalKind.Group, "vision", AccessLevel.Manage, Ct);
        Authorization.SetAuthorized("cora");
        Authorization.SetClaims(new Claim(DashboardClaims.Role, nameof(DashboardRole.Contributor)), new Claim(DashboardClaims.Group, "vision"));
        Render<MudBlazor.MudPopoverProvider>();

        var page = Render<ExperimentsPage>();
        page.WaitForAssertion(() => page.FindAll("[data-testid=experiment-link]").Count.ShouldBe(5), TimeSpan.FromSeconds(10));
        page.Find("[data-testid=create-experiment]");
        page.FindAll("[data-testid=rename-experiment]").Select(b => b.GetAttribute("aria-label"))
            .ShouldBe(["Rename edited", "Rename managed", "Rename grouped"], ignoreOrder: true);
        page.FindAll("[data-testid=delete-experiment]").Select(b => b.GetAttribute("aria-label"))
            .ShouldBe(["Delete managed", "Delete grouped"], ignoreOrder: true);

        foreach (var id in new[] { edited, managed })
        {
            await experiments.DeleteExperimentAsync(id.ToString(System.Globalization.CultureInfo.InvariantCulture), Ct);
        }
        Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo("/experiments?deleted=true");
        var deleted = Render<ExperimentsPage>();
        deleted.WaitForAssertion(() => deleted.Markup.ShouldContain("edited"), TimeSpan.FromSeconds(10));
        deleted.Markup.ShouldContain("managed");
        deleted.FindAll("[data-testid=restore-experiment]").Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_contributor_without_grants_sees_no_rename_delete_or_restore()
    {
        await UseDatabaseAsync();
        var experiments = Services.GetRequiredService<ExperimentService>();
        await experiments.CreateExperimentAsync("theirs", null, null, Ct);
        var gone = await experiments.CreateExperimentAsync("gone", null, null, Ct);
        await experiments.DeleteExperimentAsync(gone.ToString(System.Globalization.CultureInfo.InvariantCulture), Ct);
        Authorization.SetAuthorized("cora");
        Authorization.SetClaims(new Claim(DashboardClaims.Role, nameof(DashboardRole.Contributor)));
        Render<MudBlazor.MudPopoverProvider>();

        var page = Render<ExperimentsPage>();
        page.WaitForAssertion(() => page.FindAll("[data-testid=experiment-link]").Select(a => a.TextContent.Trim()).ShouldContain("theirs"),
            TimeSpan.FromSeconds(10));
        page.Find("[data-testid=create-experiment]");
        page.FindAll("[data-testid=rename-experiment]").ShouldBeEmpty();
        page.FindAll("[data-testid=delete-experiment]").ShouldBeEmpty();

        Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo("/experiments?deleted=true");
        var deleted = Render<ExperimentsPage>();
        deleted.WaitForAssertion(() => deleted.Markup.ShouldContain("gone"), TimeSpan.FromSeconds(10));
        deleted.FindAll("[data-testid=restore-experiment]").ShouldBeEmpty();
    }
}
