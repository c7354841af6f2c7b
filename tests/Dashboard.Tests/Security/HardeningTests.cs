using System.Net;
using Dashboard.Auth;
using Dashboard.Security;
using Dashboard.Tests.Support;
using static Dashboard.Tests.Security.SecuredServer;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Security;

/// <summary>
/// The defences around authentication, over real HTTP: security headers, the Host header (DNS rebinding), the Origin of
/// state-changing requests (CSRF), antiforgery on forms, and the limit on failed authentications.
/// </summary>
public class HardeningTests(SharedServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/health")]
    [InlineData("/")]
    [InlineData("/api/2.0/mlflow/experiments/search?max_results=1")]
    [InlineData("/api/v1/openapi.json")]
    [InlineData("/api/2.0/mlflow/no-such-thing")]
    public async Task Every_answer_carries_the_security_headers(string path)
    {
        var server = await servers.GetAsync(Dashboard.Data.DatabaseProvider.Sqlite);

        using var response = await server.Client.GetAsync(path, Ct);

        response.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
        response.Headers.GetValues("X-Frame-Options").ShouldBe(["DENY"]);
        response.Headers.GetValues("Referrer-Policy").ShouldBe(["same-origin"]);
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        csp.ShouldContain("frame-ancestors 'none'");
        csp.ShouldContain("script-src 'self'");
        csp.ShouldContain("object-src 'none'");
        // HSTS only over HTTPS (a browser ignores it over HTTP, and a test server has no certificate).
        response.Headers.Contains("Strict-Transport-Security").ShouldBeFalse();
    }

    [Fact]
    public void In_Oidc_mode_forms_may_post_to_the_provider_too_for_the_sign_out_redirect()
    {
        Hardening.ContentSecurityPolicyFor(new AuthOptions()).ShouldContain("form-action 'self';");
        var oidc = new AuthOptions { Mode = AuthMode.Oidc, Oidc = new OidcOptions { Authority = "https://login.example.test/realms/acme", ClientId = "d" } };
        var policy = Hardening.ContentSecurityPolicyFor(oidc);
        policy.ShouldContain("form-action 'self' https://login.example.test;");
        // Only form-action changes.
        policy.Replace(" https://login.example.test", "", StringComparison.Ordinal).ShouldBe(Hardening.ContentSecurityPolicy);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.2")]
    [InlineData("[::1]")]
    public async Task Local_mode_answers_to_loopback_host_names_with_any_port(string host)
    {
        var server = await servers.GetAsync(Dashboard.Data.DatabaseProvider.Sqlite);
        foreach (var value in new[] { host, $"{host}:{server.Address.Port}", $"{host}:80" })
        {
            var reply = await server.SendAsync(HttpMethod.Get, $"{Mlflow}/experiments/search?max_results=1", null,
                headers: new Dictionary<string, string> { ["Host"] = value });
            reply.ShouldBeOk();
        }
    }

    [Theory]
    [InlineData("attacker.example")]
    [InlineData("attacker.example:5000")]
    [InlineData("localhost.attacker.example")]
    [InlineData("127.0.0.1.nip.io")]
    [InlineData("10.0.0.5")]
    public async Task Local_mode_refuses_a_rebound_host_name_with_400(string host)
    {
        var server = await servers.GetAsync(Dashboard.Data.DatabaseProvider.Sqlite);

        var reply = await server.SendAsync(HttpMethod.Get, $"{Mlflow}/experiments/search?max_results=1", null,
            headers: new Dictionary<string, string> { ["Host"] = host });

        reply.ShouldFail(HttpStatusCode.BadRequest, "BAD_REQUEST");
        reply.Text.ShouldNotContain("experiments\"");
        (await server.SendAsync(HttpMethod.Post, $"{Mlflow}/experiments/create", null, $$"""{"name": {{J(Name())}}}""",
            new Dictionary<string, string> { ["Host"] = host })).ShouldFail(HttpStatusCode.BadRequest, "BAD_REQUEST");
    }

    [Fact]
    public async Task Oidc_mode_answers_only_to_the_allowed_hosts()
    {
        await using var server = await StartOidcAsync(more: new Dictionary<string, string>
        {
            ["Dashboard:Security:AllowedHosts"] = "dash.example.com;*.ml.example.com",
        });

        foreach (var host in new[] { "dash.example.com", "DASH.example.com:8443", "team.ml.example.com" })
        {
            (await server.SendAsync(HttpMethod.Get, "/health", null, headers: new Dictionary<string, string> { ["Host"] = host }))
                .ShouldBeOk();
        }
        foreach (var host in new[] { "127.0.0.1", "attacker.example", "ml.example.com.attacker.example", "dash.example.com.evil" })
        {
            (await server.SendAsync(HttpMethod.Get, "/health", null, headers: new Dictionary<string, string> { ["Host"] = host }))
                .ShouldFail(HttpStatusCode.BadRequest, "BAD_REQUEST");
        }
    }

    [Fact]
    public async Task A_cross_origin_state_changing_request_is_403_and_a_client_without_origin_is_not()
    {
        var server = await servers.GetAsync(Dashboard.Data.DatabaseProvider.Sqlite);
        var own = $"http://127.0.0.1:{server.Address.Port}";

        foreach (var headers in new Dictionary<string, string>[]
        {
            new() { ["Origin"] = "http://attacker.example" },
            new() { ["Origin"] = "null" },
            new() { ["Origin"] = $"http://127.0.0.1:{server.Address.Port + 1}" },
            new() { ["Origin"] = "http://localhost" },
            new() { ["Sec-Fetch-Site"] = "cross-site" },
        })
        {
            var refused = await server.SendAsync(HttpMethod.Post, $"{Mlflow}/experiments/create", null,
                $$"""{"name": {{J(Name())}}}""", headers);
            refused.ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
            refused.Message!.ShouldContain("Cross-origin");
            var problem = await server.SendAsync(HttpMethod.Post, "/api/v1/tokens", null, """{"name": "x", "scope": "read"}""", headers);
            problem.Status.ShouldBe(HttpStatusCode.Forbidden);
            problem.Json!["error_code"]!.GetValue<string>().ShouldBe("PERMISSION_DENIED");
            problem.Json["detail"]!.GetValue<string>().ShouldContain("Cross-origin");
            // Reading is not a state change.
            (await server.SendAsync(HttpMethod.Get, $"{Mlflow}/experiments/search?max_results=1", null, headers: headers)).ShouldBeOk();
        }

        // An MLflow client sends no Origin; the dashboard's own pages send their own.
        (await server.SendAsync(HttpMethod.Post, $"{Mlflow}/experiments/create", null, $$"""{"name": {{J(Name())}}}""")).ShouldBeOk();
        (await server.SendAsync(HttpMethod.Post, $"{Mlflow}/experiments/create", null, $$"""{"name": {{J(Name())}}}""",
            new Dictionary<string, string> { ["Origin"] = own, ["Sec-Fetch-Site"] = "same-origin" })).ShouldBeOk();
    }

    [Fact]
    public async Task An_origin_in_the_allowed_origins_may_post()
    {
        await using var server = await DashboardServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Dashboard:Security:AllowedOrigins:0"] = "https://notebooks.example.com",
        });

        (await server.SendAsync(HttpMethod.Post, $"{Mlflow}/experiments/create", null, $$"""{"name": {{J(Name())}}}""",
            new Dictionary<string, string> { ["Origin"] = "https://notebooks.example.com" })).ShouldBeOk();
        (await server.SendAsync(HttpMethod.Post, $"{Mlflow}/experiments/create", null, $$"""{"name": {{J(Name())}}}""",
            new Dictionary<string, string> { ["Origin"] = "https://other.example.com" })).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
    }

    [Fact]
    public async Task A_cross_site_form_post_to_a_page_is_refused_and_a_same_origin_one_needs_an_antiforgery_token()
    {
        var server = await servers.GetAsync(Dashboard.Data.DatabaseProvider.Sqlite);
        var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["_handler"] = "signout", ["x"] = "1" });

        using var crossSite = new HttpRequestMessage(HttpMethod.Post, "/") { Content = form };
        crossSite.Headers.TryAddWithoutValidation("Origin", "http://attacker.example");
        crossSite.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "cross-site");
        using var refused = await server.Client.SendAsync(crossSite, Ct);
        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);

        using var sameOrigin = new HttpRequestMessage(HttpMethod.Post, "/")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["_handler"] = "signout" }),
        };
        sameOrigin.Headers.TryAddWithoutValidation("Origin", $"http://127.0.0.1:{server.Address.Port}");
        using var withoutToken = await server.Client.SendAsync(sameOrigin, Ct);
        withoutToken.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Failed_authentications_past_the_limit_are_429_with_Retry_After_while_a_valid_token_still_works()
    {
        await using var server = await StartOidcAsync(more: new Dictionary<string, string> { ["Dashboard:Security:FailedAuthLimit"] = "3" });
        var good = await server.TokenAsync(await server.UserAsync(DashboardRole.Contributor), TokenScope.Write);
        var wrong = Bearer(TokenService.TokenPrefix + new string('B', 43));
        var search = $"{Mlflow}/experiments/search?max_results=1";

        for (var i = 0; i < 3; i++)
        {
            (await server.SendAsync(HttpMethod.Get, search, wrong)).ShouldFail(HttpStatusCode.Unauthorized, "UNAUTHENTICATED");
            // Successes in between neither count nor reset.
            (await server.SendAsync(HttpMethod.Get, search, Bearer(good.Secret))).ShouldBeOk();
        }
        // Requests without credentials are not failed authentications.
        for (var i = 0; i < 5; i++)
        {
            (await server.SendAsync(HttpMethod.Get, search, null)).ShouldFail(HttpStatusCode.Unauthorized, "UNAUTHENTICATED");
        }

        using var limited = await server.Client.SendAsync(Request(HttpMethod.Get, search, Basic("x", "guess")), Ct);
        limited.StatusCode.ShouldBe((HttpStatusCode)429);
        var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        retryAfter.ShouldBeInRange(1, 60);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await limited.Content.ReadAsStringAsync(Ct))!;
        body["error_code"]!.GetValue<string>().ShouldBe("REQUEST_LIMIT_EXCEEDED");

        var problem = await server.SendAsync(HttpMethod.Get, "/api/v1/tokens", wrong);
        problem.Status.ShouldBe((HttpStatusCode)429);
        problem.Json!["error_code"]!.GetValue<string>().ShouldBe("REQUEST_LIMIT_EXCEEDED");
        // A caller with a valid token is not limited.
        (await server.SendAsync(HttpMethod.Get, search, Bearer(good.Secret))).ShouldBeOk();
        (await server.SendAsync(HttpMethod.Post, $"{Mlflow}/experiments/create", Bearer(good.Secret), $$"""{"name": {{J(Name())}}}"""))
            .ShouldBeOk();
    }
}
