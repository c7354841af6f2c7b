using Bunit;
using Dashboard.Components.Pages.Admin;
using Dashboard.Security;
using Dashboard.Tracking;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Components;

/// <summary>The Admin page of grants (/admin/permissions) against a real SQLite database, as the local Admin.</summary>
public sealed class PermissionsPageTests : ComponentContext
{
    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    [Fact]
    public async Task Grants_a_group_and_a_user_on_an_experiment_and_revokes_one()
    {
        await UseDatabaseAsync();
        Services.AddSingleton<UserDirectory>();
        var id = await Services.GetRequiredService<ExperimentService>().CreateExperimentAsync("admin-page", null, null, Ct);
        await Services.GetRequiredService<UserDirectory>().RecordSignInAsync("sub-pat", "pat", null, DashboardRole.Contributor, [], Ct);
        var permissions = Services.GetRequiredService<PermissionService>();

        var page = Render<PermissionsPage>();
        page.WaitForElement("[data-testid=resource]").Change(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        page.Find("[data-testid=show-grants]").Click();
        page.WaitForElement("[data-testid=no-grants]");
        page.Find("datalist option").GetAttribute("value").ShouldBe("pat");

        page.Find("[data-testid=principal-kind]").Change(PrincipalKind.Group);
        page.Find("[data-testid=principal]").Change("vision");
        page.Find("[data-testid=level]").Change(PermissionNames.Edit);
        page.Find("[data-testid=grant-submit]").Click();
        page.WaitForAssertion(() => page.FindAll("[data-testid=grant]").Count.ShouldBe(1));

        page.Find("[data-testid=principal-kind]").Change(PrincipalKind.User);
        page.Find("[data-testid=principal]").Change("pat");
        page.Find("[data-testid=level]").Change(PermissionNames.Manage);
        page.Find("[data-testid=grant-submit]").Click();
        page.WaitForAssertion(() => page.FindAll("[data-testid=grant]").Count.ShouldBe(2));

        (await permissions.ListExperimentGrantsAsync(id, Ct)).ShouldBe([
            new Grant(PrincipalKind.Group, "vision", AccessLevel.Edit), new Grant(PrincipalKind.User, "pat", AccessLevel.Manage)]);

        page.FindAll("[data-testid=revoke]")[0].Click();
        page.WaitForAssertion(() => page.FindAll("[data-testid=grant]").Count.ShouldBe(1));
        (await permissions.ListExperimentGrantsAsync(id, Ct)).ShouldBe([new Grant(PrincipalKind.User, "pat", AccessLevel.Manage)]);

        // The per-person view: what pat holds, linking back to the experiment's grants.
        page.Find("[data-testid=who]").Change("pat");
        page.Find("[data-testid=show-holdings]").Click();
        page.WaitForAssertion(() => page.FindAll("[data-testid=holding]").Count.ShouldBe(1));
        page.Find("[data-testid=holding]").TextContent.ShouldContain("admin-page");
        page.Find("[data-testid=holding]").TextContent.ShouldContain("MANAGE");
        page.Find("[data-testid=holding-link]").GetAttribute("href").ShouldBe($"/admin/permissions?experiment={id}");
        page.Find("[data-testid=who-kind]").Change(PrincipalKind.Group);
        page.Find("[data-testid=who]").Change("vision");
        page.Find("[data-testid=show-holdings]").Click();
        page.WaitForElement("[data-testid=no-holdings]");
    }

    [Fact]
    public async Task Shows_an_error_for_an_unknown_model_and_refuses_an_empty_name()
    {
        await UseDatabaseAsync();
        Services.AddSingleton<UserDirectory>();
        var page = Render<PermissionsPage>();
        page.WaitForElement("[data-testid=resource-kind]").Change("model");
        page.Find("[data-testid=resource]").Change("no-such-model");
        page.Find("[data-testid=show-grants]").Click();
        page.WaitForAssertion(() => page.Find("[data-testid=permission-error]").TextContent.ShouldContain("no-such-model"));

        var id = await Services.GetRequiredService<ExperimentService>().CreateExperimentAsync("admin-page-2", null, null, Ct);
        page.Find("[data-testid=resource-kind]").Change("experiment");
        page.Find("[data-testid=resource]").Change(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        page.Find("[data-testid=show-grants]").Click();
        page.WaitForElement("[data-testid=no-grants]");
        page.Find("[data-testid=grant-submit]").Click();
        page.WaitForAssertion(() => page.Find("[data-testid=permission-error]").TextContent.ShouldContain("username"));
    }
}
