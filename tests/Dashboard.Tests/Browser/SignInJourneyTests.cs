using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dashboard.Data;
using Dashboard.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dashboard.Tests.Browser;

/// <summary>The test OpenID provider and one dashboard in Oidc mode pointed at it (role mapping of the provider, DefaultRole None).</summary>
public sealed class OidcJourneyFixture : IAsyncLifetime
{
    private TestOidcProvider? _provider;
    private DashboardServer? _server;

    public TestOidcProvider Provider => _provider!;
    public DashboardServer Server => _server!;

    public async ValueTask InitializeAsync()
    {
        _provider = await TestOidcProvider.StartAsync();
        _server = await _provider.StartDashboardAsync(new Dictionary<string, string> { ["Dashboard:Auth:Oidc:DefaultRole"] = "None" });
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }
    }
}

/// <summary>
/// Signing in through a real OpenID provider (OpenIddict in the test process) in Debian's Chromium: a visit without a
/// session goes to the provider's login and comes back signed in, with the app bar naming the person and their mapped
/// role; a token made on /tokens is shown once and works on the MLflow API; signing out ends both sessions; a person
/// whose groups map to no role is refused.
/// </summary>
[Collection(BrowserJourneys.Name)]
public sealed class SignInJourneyTests(BrowserFixture browser, SharedServers servers, OidcJourneyFixture oidc) : IClassFixture<OidcJourneyFixture>
{
    private DashboardServer Server => oidc.Server;

    [Fact]
    public async Task A_person_signs_in_through_the_provider_makes_a_token_that_works_once_shown_revokes_it_and_signs_out()
    {
        var page = await browser.NewPageAsync();
        await RunAsync(page, nameof(A_person_signs_in_through_the_provider_makes_a_token_that_works_once_shown_revokes_it_and_signs_out), async () =>
        {
            await oidc.Provider.OpenSignedInAsync(page, Server, "/experiments", "alice");
            await Expect(page.TestId("user-name")).ToHaveTextAsync("alice (Contributor)");

            // Tokens, through the app bar's menu.
            await page.TestId("user-button").ClickAsync();
            await page.TestId("menu-tokens").ClickAsync();
            await page.WaitForURLAsync(new Uri(Server.Address, "/tokens").ToString());
            await page.Field("token-name").FillAsync("laptop");
            await page.TestId("token-create").ClickAsync();
            var secret = (await page.TestId("token-secret").InnerTextAsync()).Trim();
            secret.ShouldStartWith("dsh_");
            secret.Length.ShouldBe(47);
            var environment = await page.TestId("token-environment").InnerTextAsync();
            environment.ShouldContain($"MLFLOW_TRACKING_URI={Server.Address.ToString().TrimEnd('/')}");
            environment.ShouldContain($"MLFLOW_TRACKING_TOKEN={secret}");

            // The token works as a Bearer and as Basic's password; nothing at all is a 401.
            (await SearchAsync(new AuthenticationHeaderValue("Bearer", secret))).ShouldBe(HttpStatusCode.OK);
            (await SearchAsync(new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:" + secret)))))
                .ShouldBe(HttpStatusCode.OK);
            (await SearchAsync(null)).ShouldBe(HttpStatusCode.Unauthorized);

            // Shown once: after a reload the list has it (and its last use), the text is gone.
            await page.ReloadAsync();
            await WaitForCircuitAsync(page);
            var row = page.TestId("token-row").Filter(new() { HasText = "laptop" });
            await Expect(row).ToHaveCountAsync(1);
            await Expect(row.Locator("[data-testid='token-state']")).ToHaveTextAsync("active");
            await Expect(row.Locator("[data-testid='token-last-used']")).Not.ToHaveTextAsync("never");
            await Expect(page.TestId("token-secret")).ToHaveCountAsync(0);
            (await page.ContentAsync()).ShouldNotContain(secret);

            // Revoked, it no longer works.
            await row.Locator("[data-testid='token-revoke']").ClickAsync();
            await Expect(row.Locator("[data-testid='token-state']")).ToHaveTextAsync("revoked");
            (await SearchAsync(new AuthenticationHeaderValue("Bearer", secret))).ShouldBe(HttpStatusCode.Unauthorized);

            // Sign out: the dashboard's session and the provider's end; the next visit asks for the password again.
            await page.TestId("user-button").ClickAsync();
            await page.TestId("menu-sign-out").ClickAsync();
            await page.TestId("sign-out-confirm").ClickAsync();
            await page.WaitForURLAsync(new Uri(Server.Address, "/account/signed-out").ToString());
            await Expect(page.TestId("account-title")).ToHaveTextAsync("Signed out");
            (await page.Context.CookiesAsync()).ShouldNotContain(c => c.Name == "dashboard.session");
            await page.GotoAsync(new Uri(Server.Address, "/experiments").ToString());
            await page.WaitForURLAsync(url => url.StartsWith(new Uri(oidc.Provider.Issuer, "login").ToString(), StringComparison.Ordinal));
        });
    }

    [Fact]
    public async Task A_person_whose_groups_map_to_no_role_is_refused()
    {
        var page = await browser.NewPageAsync();
        await RunAsync(page, nameof(A_person_whose_groups_map_to_no_role_is_refused), async () =>
        {
            await page.GotoAsync(new Uri(Server.Address, "/models").ToString());
            await oidc.Provider.SignInAtLoginFormAsync(page, "nora");
            await page.WaitForURLAsync(url => url.StartsWith(new Uri(Server.Address, "/account/denied").ToString(), StringComparison.Ordinal));
            await Expect(page.TestId("account-title")).ToHaveTextAsync("Access denied");
            await Expect(page.TestId("account-message")).ToContainTextAsync("no Dashboard role");
            (await page.Context.CookiesAsync()).ShouldNotContain(c => c.Name == "dashboard.session");
        });
    }

    [Fact]
    public async Task A_person_whose_name_a_service_account_has_is_refused()
    {
        await Server.Services.GetRequiredService<Dashboard.Security.UserDirectory>()
            .EnsureServiceAccountAsync("sam", Dashboard.Security.DashboardRole.Viewer, TestContext.Current.CancellationToken);
        var page = await browser.NewPageAsync();
        await RunAsync(page, nameof(A_person_whose_name_a_service_account_has_is_refused), async () =>
        {
            await page.GotoAsync(new Uri(Server.Address, "/experiments").ToString());
            await oidc.Provider.SignInAtLoginFormAsync(page, "sam");
            await page.WaitForURLAsync(url => url.StartsWith(new Uri(Server.Address, "/account/denied").ToString(), StringComparison.Ordinal));
            await Expect(page.TestId("account-message")).ToContainTextAsync("already called 'sam'");
            (await page.Context.CookiesAsync()).ShouldNotContain(c => c.Name == "dashboard.session");
        });
    }

    [Fact]
    public async Task A_viewer_signs_in_and_a_return_url_to_another_site_lands_on_the_dashboard()
    {
        var page = await browser.NewPageAsync();
        await RunAsync(page, nameof(A_viewer_signs_in_and_a_return_url_to_another_site_lands_on_the_dashboard), async () =>
        {
            await page.GotoAsync(new Uri(Server.Address, "/account/signin?returnUrl=" + Uri.EscapeDataString("http://127.0.0.1:1/elsewhere")).ToString());
            await oidc.Provider.SignInAtLoginFormAsync(page, "victor");
            await page.WaitForURLAsync(url => url.StartsWith(Server.Address.ToString(), StringComparison.Ordinal)
                && !url.Contains("signin", StringComparison.Ordinal));
            await WaitForCircuitAsync(page);
            await Expect(page.TestId("user-name")).ToHaveTextAsync("victor (Viewer)");
            await page.GotoAsync(new Uri(Server.Address, "/tokens").ToString());
            await WaitForCircuitAsync(page);
            await Expect(page.TestId("my-tokens")).ToBeVisibleAsync();
            // No Admin: no service accounts.
            await Expect(page.TestId("service-tokens")).ToHaveCountAsync(0);
        });
    }

    [Fact]
    public async Task An_admin_makes_a_service_account_whose_token_acts_as_it_on_the_api()
    {
        var page = await browser.NewPageAsync();
        await RunAsync(page, nameof(An_admin_makes_a_service_account_whose_token_acts_as_it_on_the_api), async () =>
        {
            await oidc.Provider.OpenSignedInAsync(page, Server, "/tokens", "ada");
            await Expect(page.TestId("user-name")).ToHaveTextAsync("ada (Admin)");

            await page.Field("service-name").FillAsync("ci-bot");
            await page.TestId("service-create").ClickAsync();
            await page.Field("service-token-name").FillAsync("nightly");
            await page.TestId("service-token-create").ClickAsync();
            await Expect(page.TestId("token-issued")).ToContainTextAsync("for ci-bot");
            var secret = (await page.TestId("token-secret").InnerTextAsync()).Trim();
            var row = page.TestId("service-tokens").Locator("[data-testid='token-row']").Filter(new() { HasText = "nightly" });
            await Expect(row).ToContainTextAsync("ci-bot");
            // Ada's own list does not hold it: it is the service account's.
            await Expect(page.TestId("my-tokens").Locator("[data-testid='token-row']")).ToHaveCountAsync(0);

            // The token acts as the service account (its default role, Contributor, may create).
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/2.0/mlflow/registered-models/create")
            {
                Content = new StringContent("""{"name": "made-by-ci-bot"}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
            (await Server.SendAsync(request)).ShouldBeOk();
            await using var db = await Server.Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync();
            (await db.RegisteredModels.SingleAsync(m => m.Name == "made-by-ci-bot")).UserId.ShouldBe("ci-bot");

            await row.Locator("[data-testid='token-revoke']").ClickAsync();
            await Expect(row.Locator("[data-testid='token-state']")).ToHaveTextAsync("revoked");
            (await SearchAsync(new AuthenticationHeaderValue("Bearer", secret))).ShouldBe(HttpStatusCode.Unauthorized);
        });
    }

    [Fact]
    public async Task In_local_mode_the_app_bar_shows_the_local_admin_whose_tokens_page_makes_tokens()
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);
        var page = await browser.NewPageAsync();
        await RunAsync(page, nameof(In_local_mode_the_app_bar_shows_the_local_admin_whose_tokens_page_makes_tokens), async () =>
        {
            await page.OpenAsync(server.Address, "/tokens");
            await Expect(page.TestId("user-name")).ToHaveTextAsync("local (Admin)");
            await page.TestId("user-button").ClickAsync();
            await Expect(page.TestId("menu-tokens")).ToBeVisibleAsync();
            await Expect(page.TestId("menu-sign-out")).ToHaveCountAsync(0);
            await page.Keyboard.PressAsync("Escape");
            var name = $"local-{Guid.NewGuid():N}"[..20];
            await page.Field("token-name").FillAsync(name);
            await page.TestId("token-create").ClickAsync();
            (await page.TestId("token-secret").InnerTextAsync()).Trim().ShouldStartWith("dsh_");
            await Expect(page.TestId("token-row").Filter(new() { HasText = name })).ToHaveCountAsync(1);
            // An Admin keeps service accounts here too.
            await Expect(page.TestId("service-tokens")).ToBeVisibleAsync();
        });
    }

    private async Task<HttpStatusCode> SearchAsync(AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/2.0/mlflow/experiments/search?max_results=5");
        request.Headers.Authorization = authorization;
        using var response = await Server.Client.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task WaitForCircuitAsync(IPage page) =>
        await page.WaitForSelectorAsync("[data-interactive='yes']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });

    private static async Task RunAsync(IPage page, string name, Func<Task> journey)
    {
        try
        {
            await journey();
        }
        catch
        {
            await page.SnapAsync(name);
            throw;
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }
}
