using System.Security.Claims;
using Dashboard.Auth;
using Dashboard.Components.Pages.Tokens;
using Dashboard.Security;
using Microsoft.Extensions.Configuration;

namespace Dashboard.Tests.Auth;

/// <summary>How a provider's claims are read, what scopes a role may give its tokens, and the example configuration.</summary>
public sealed class OidcClaimsTests
{
    private static ClaimsPrincipal With(params (string Type, string Value)[] claims) =>
        new(new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value)), "test"));

    [Fact]
    public void Repeated_claims_are_each_a_value()
    {
        OidcSetup.ValuesOf(With(("groups", "ml-team"), ("groups", "readers"), ("roles", "x")), "groups").ShouldBe(["ml-team", "readers"]);
    }

    [Fact]
    public void A_claim_holding_a_json_array_is_its_elements()
    {
        OidcSetup.ValuesOf(With(("roles", """["Dashboard.Contributor", "Dashboard.Viewer"]""")), "roles")
            .ShouldBe(["Dashboard.Contributor", "Dashboard.Viewer"]);
    }

    [Fact]
    public void Text_that_only_starts_like_an_array_is_one_value_and_duplicates_count_once()
    {
        OidcSetup.ValuesOf(With(("groups", "[team"), ("groups", "[team"), ("groups", " ")), "groups").ShouldBe(["[team"]);
    }

    [Fact]
    public void A_missing_claim_has_no_values()
    {
        OidcSetup.ValuesOf(With(("sub", "x")), "groups").ShouldBeEmpty();
    }

    [Fact]
    public void A_viewer_makes_read_tokens_only_and_a_contributor_any_scope()
    {
        TokensPage.ScopesFor(DashboardRole.Viewer).ShouldBe([TokenScope.Read]);
        TokensPage.ScopesFor(DashboardRole.Contributor).ShouldBe([TokenScope.Read, TokenScope.Write, TokenScope.Admin]);
        TokensPage.ScopesFor(DashboardRole.Admin).ShouldBe([TokenScope.Read, TokenScope.Write, TokenScope.Admin]);
    }

    [Fact]
    public void The_example_configuration_reads_as_oidc_options_once_a_provider_is_named()
    {
        var path = Path.Join(RepositoryRoot(), "appsettings.example.json");
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(path)
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Dashboard:Auth:Mode"] = "Oidc",
                ["Dashboard:Auth:Oidc:Authority"] = "http://127.0.0.1:9/",
                ["Dashboard:Auth:Oidc:ClientId"] = "dashboard",
            })
            .Build();
        var options = AuthOptions.Read(configuration);
        options.Mode.ShouldBe(AuthMode.Oidc);
        options.Oidc.RoleOf(["ml-team"]).ShouldBe(DashboardRole.Contributor);
        options.Oidc.RoleOf(["ml-team", "dashboard-admins"]).ShouldBe(DashboardRole.Admin);
        options.Oidc.RoleOf(["someone-else"]).ShouldBe(DashboardRole.Viewer);
        options.Oidc.Scopes.ShouldBe(["email"]);
        options.Oidc.RequireHttpsMetadata.ShouldBeTrue();
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Join(folder.FullName, "Dashboard.sln")))
        {
            folder = folder.Parent;
        }
        return folder?.FullName ?? throw new InvalidOperationException("The repository root (Dashboard.sln) was not found.");
    }
}
