using System.Net;
using System.Net.Http.Headers;
using Dashboard.Auth;
using Dashboard.Security;
using Dashboard.Tests.Support;
using Dashboard.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Api;

/// <summary>One provider and one dashboard in Oidc mode (DefaultRole None) for the API tests of Oidc mode.</summary>
public sealed class OidcApiFixture : IAsyncLifetime
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
/// Oidc mode over real HTTP: the provider's client-credentials access tokens (JWT) act on the MLflow API with the role
/// their <c>roles</c> claim maps to; a token for another audience, from another issuer or mapping to no role is a 401.
/// </summary>
public sealed class OidcApiTests(OidcApiFixture fixture) : IClassFixture<OidcApiFixture>
{
    private DashboardServer Server => fixture.Server;

    private static HttpRequestMessage Request(HttpMethod method, string path, string? bearer, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }
        return request;
    }

    [Fact]
    public async Task A_client_credentials_token_of_a_contributor_service_creates_an_experiment()
    {
        var token = await fixture.Provider.ClientCredentialsTokenAsync("trainer");
        using var create = Request(HttpMethod.Post, "/api/2.0/mlflow/experiments/create", token, """{"name": "jwt-made"}""");
        var reply = (await Server.SendAsync(create)).ShouldBeOk();
        var id = reply.Json!["experiment_id"]!.GetValue<string>();

        using var get = Request(HttpMethod.Get, $"/api/2.0/mlflow/experiments/get?experiment_id={id}", token);
        (await Server.SendAsync(get)).ShouldBeOk().Json!["experiment"]!["name"]!.GetValue<string>().ShouldBe("jwt-made");
    }

    [Fact]
    public async Task A_client_credentials_token_acts_as_the_client_it_was_issued_to()
    {
        var token = await fixture.Provider.ClientCredentialsTokenAsync("trainer");
        using var create = Request(HttpMethod.Post, "/api/2.0/mlflow/registered-models/create", token, """{"name": "jwt-model"}""");
        (await Server.SendAsync(create)).ShouldBeOk();
        // The registry records who created the model: the client the provider issued the token to.
        await using var db = await Server.Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>()
            .CreateDbContextAsync(TestContext.Current.CancellationToken);
        (await db.RegisteredModels.SingleAsync(m => m.Name == "jwt-model", TestContext.Current.CancellationToken)).UserId.ShouldBe("trainer");
    }

    [Fact]
    public async Task Without_credentials_the_api_answers_401_with_a_challenge()
    {
        using var search = Request(HttpMethod.Get, "/api/2.0/mlflow/experiments/search?max_results=5", null);
        var reply = await Server.SendAsync(search);
        reply.ShouldFail(HttpStatusCode.Unauthorized, "UNAUTHENTICATED");
    }

    [Fact]
    public async Task A_token_for_another_audience_is_401()
    {
        var token = await fixture.Provider.ClientCredentialsTokenAsync("other-api-bot");
        await ShouldBeRefusedAsync(token);
    }

    [Fact]
    public async Task A_token_from_another_issuer_is_401()
    {
        await using var other = await TestOidcProvider.StartAsync();
        var token = await other.ClientCredentialsTokenAsync("trainer");
        await ShouldBeRefusedAsync(token);
    }

    [Fact]
    public async Task A_token_whose_roles_map_to_no_role_is_401_when_the_default_role_is_none()
    {
        var token = await fixture.Provider.ClientCredentialsTokenAsync("stranger-bot");
        await ShouldBeRefusedAsync(token);
    }

    [Fact]
    public async Task A_bearer_that_is_no_jwt_at_all_is_401()
    {
        await ShouldBeRefusedAsync("not-a-jwt");
    }

    [Fact]
    public async Task A_dashboard_token_of_a_recorded_person_works_beside_the_provider_tokens()
    {
        var users = Server.Services.GetRequiredService<UserDirectory>();
        var person = await users.RecordSignInAsync("sub-api-person", "api-person", null, DashboardRole.Contributor, ["ml-team"],
            TestContext.Current.CancellationToken);
        var issued = await Server.Services.GetRequiredService<TokenService>()
            .CreateAsync(person.Id, "laptop", TokenScope.Write, null, "api-person", TestContext.Current.CancellationToken);
        using var create = Request(HttpMethod.Post, "/api/2.0/mlflow/experiments/create", issued.Secret, """{"name": "token-made"}""");
        (await Server.SendAsync(create)).ShouldBeOk();
    }

    [Fact]
    public async Task The_sign_in_endpoint_sends_a_browser_to_the_provider()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Server.Address };
        using var response = await client.GetAsync("/experiments", TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var login = response.Headers.Location!;
        login.IsAbsoluteUri.ShouldBeTrue();
        login.PathAndQuery.ShouldBe("/account/signin?returnUrl=%2Fexperiments");

        using var signIn = await client.GetAsync("/account/signin?returnUrl=%2Fexperiments", TestContext.Current.CancellationToken);
        signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var location = signIn.Headers.Location!;
        location.GetLeftPart(UriPartial.Path).ShouldBe(new Uri(fixture.Provider.Issuer, "connect/authorize").ToString());
        location.Query.ShouldContain("code_challenge_method=S256");
        location.Query.ShouldContain("response_type=code");
    }

    [Theory]
    [InlineData("/runs?x=1", "/runs?x=1")]
    [InlineData("/", "/")]
    [InlineData("//elsewhere.invalid/x", "/")]
    [InlineData("/\\elsewhere.invalid", "/")]
    [InlineData("http://127.0.0.1:1/x", "/")]
    [InlineData("", "/")]
    [InlineData(null, "/")]
    public void Return_urls_stay_on_this_server(string? url, string expected)
    {
        OidcSetup.LocalOrRoot(url).ShouldBe(expected);
    }

    [Fact]
    public async Task Sign_out_without_the_antiforgery_token_is_refused()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Server.Address };
        using var response = await client.PostAsync("/account/signout", new FormUrlEncodedContent([]), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Headers.Contains("Set-Cookie").ShouldBeFalse();
    }

    private async Task ShouldBeRefusedAsync(string token)
    {
        using var search = Request(HttpMethod.Get, "/api/2.0/mlflow/experiments/search?max_results=5", token);
        using var response = await Server.Client.SendAsync(search);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, text);
        response.Headers.WwwAuthenticate.ToString().ShouldContain("Bearer");
        text.ShouldContain("UNAUTHENTICATED");
    }
}
