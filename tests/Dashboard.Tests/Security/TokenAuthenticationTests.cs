using System.Net;
using System.Net.Http.Headers;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Security;
using Dashboard.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static Dashboard.Tests.Security.SecuredServer;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Security;

/// <summary>
/// Programs in Oidc mode: personal and service tokens as MLflow clients send them (Bearer from MLFLOW_TRACKING_TOKEN,
/// Basic from MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD), over real HTTP against a real database.
/// </summary>
public class TokenAuthenticationTests
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory, MemberData(nameof(Providers))]
    public async Task A_bearer_token_logs_a_run_like_an_mlflow_client_with_MLFLOW_TRACKING_TOKEN(DatabaseProvider provider)
    {
        await using var server = await StartOidcAsync(provider);
        var token = await server.TokenAsync(await server.UserAsync(DashboardRole.Contributor), TokenScope.Write);

        await LogsARunAsync(server, Bearer(token.Secret));
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Basic_with_any_user_name_and_the_token_as_password_logs_a_run(DatabaseProvider provider)
    {
        await using var server = await StartOidcAsync(provider);
        var token = await server.TokenAsync(await server.UserAsync(DashboardRole.Contributor), TokenScope.Write);

        await LogsARunAsync(server, Basic("whoever", token.Secret));
        await LogsARunAsync(server, Basic("", token.Secret));
    }

    [Fact]
    public async Task A_call_without_credentials_is_401_with_WWW_Authenticate_and_mlflows_error()
    {
        await using var server = await StartOidcAsync();

        using var response = await server.Client.SendAsync(Request(HttpMethod.Post, $"{Mlflow}/experiments/create", null,
            $$"""{"name": {{J(Name())}}}"""), Ct);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        challenge.ShouldContain("Bearer");
        challenge.ShouldContain("Basic");
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
        body["error_code"]!.GetValue<string>().ShouldBe("UNAUTHENTICATED");
        body["message"]!.GetValue<string>().ShouldContain("MLFLOW_TRACKING_TOKEN");
        (await server.SendAsync(HttpMethod.Get, $"{Mlflow}/experiments/search?max_results=1", null))
            .ShouldFail(HttpStatusCode.Unauthorized, "UNAUTHENTICATED");
        (await server.SendAsync(HttpMethod.Get, "/api/v1/tokens", null)).Status.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Wrong_and_garbled_credentials_are_401()
    {
        await using var server = await StartOidcAsync();
        var token = await server.TokenAsync(await server.UserAsync(DashboardRole.Contributor), TokenScope.Write);
        var wrong = TokenService.TokenPrefix + new string('A', 43);
        var search = $"{Mlflow}/experiments/search?max_results=1";

        foreach (var auth in new AuthenticationHeaderValue[]
        {
            Bearer(wrong),
            Bearer("not-a-token"),
            Bearer(token.Secret[..^1]),
            Bearer(token.Secret + "x"),
            Basic("user", wrong),
            Basic("user", ""),
            new("Basic", "!!! not base64 !!!"),
            new("Basic", Convert.ToBase64String("no colon here"u8.ToArray())),
            new("Digest", "username=\"x\""),
        })
        {
            var reply = await server.SendAsync(HttpMethod.Get, search, auth);
            reply.ShouldFail(HttpStatusCode.Unauthorized, "UNAUTHENTICATED");
        }
        (await server.SendAsync(HttpMethod.Get, search, Bearer(token.Secret))).ShouldBeOk();
    }

    [Fact]
    public async Task An_expired_token_is_401()
    {
        await using var server = await StartOidcAsync();
        var token = await server.TokenAsync(await server.UserAsync(DashboardRole.Contributor), TokenScope.Write);
        var search = $"{Mlflow}/experiments/search?max_results=1";
        (await server.SendAsync(HttpMethod.Get, search, Bearer(token.Secret))).ShouldBeOk();

        // Its expiry passes (the row as it will be a day later).
        var dbs = server.Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>();
        await using (var db = await dbs.CreateDbContextAsync(Ct))
        {
            var past = DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeMilliseconds();
            await db.AccessTokens.Where(t => t.Id == token.Token.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiryTime, past), Ct);
        }

        (await server.SendAsync(HttpMethod.Get, search, Bearer(token.Secret))).ShouldFail(HttpStatusCode.Unauthorized, "UNAUTHENTICATED");
        (await server.SendAsync(HttpMethod.Get, search, Basic("x", token.Secret))).ShouldFail(HttpStatusCode.Unauthorized, "UNAUTHENTICATED");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_revoked_token_is_401_on_the_very_next_request(DatabaseProvider provider)
    {
        await using var server = await StartOidcAsync(provider);
        var user = await server.UserAsync(DashboardRole.Contributor);
        var worker = await server.TokenAsync(user, TokenScope.Write);
        var manager = await server.TokenAsync(user, TokenScope.Admin);
        var search = $"{Mlflow}/experiments/search?max_results=1";
        (await server.SendAsync(HttpMethod.Get, search, Bearer(worker.Secret))).ShouldBeOk();

        var revoke = await server.SendAsync(HttpMethod.Delete, $"/api/v1/tokens/{worker.Token.Id}", Bearer(manager.Secret));

        revoke.Status.ShouldBe(HttpStatusCode.NoContent, revoke.Text);
        (await server.SendAsync(HttpMethod.Get, search, Bearer(worker.Secret))).ShouldFail(HttpStatusCode.Unauthorized, "UNAUTHENTICATED");
        (await server.SendAsync(HttpMethod.Get, search, Bearer(manager.Secret))).ShouldBeOk();
        var listed = (await server.SendAsync(HttpMethod.Get, "/api/v1/tokens", Bearer(manager.Secret))).ShouldBeOk();
        listed.Json!["tokens"]!.AsArray().Single(t => t!["id"]!.GetValue<long>() == worker.Token.Id)!["status"]!.GetValue<string>()
            .ShouldBe("revoked");
    }

    [Fact]
    public async Task A_tokens_last_use_is_recorded()
    {
        await using var server = await StartOidcAsync();
        var token = await server.TokenAsync(await server.UserAsync(DashboardRole.Viewer), TokenScope.Read);
        var tokens = server.Services.GetRequiredService<TokenService>();
        (await tokens.FindAsync(token.Token.Id, CancellationToken.None))!.LastUsedTime.ShouldBeNull();
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        (await server.SendAsync(HttpMethod.Get, $"{Mlflow}/experiments/search?max_results=1", Bearer(token.Secret))).ShouldBeOk();

        var used = (await tokens.FindAsync(token.Token.Id, CancellationToken.None))!.LastUsedTime;
        used.ShouldNotBeNull();
        used.Value.ShouldBeInRange(before - 1000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1000);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_token_made_through_the_api_logs_runs_and_is_stored_only_as_its_hash(DatabaseProvider provider)
    {
        await using var server = await StartOidcAsync(provider);
        var user = await server.UserAsync(DashboardRole.Contributor);
        var manager = await server.TokenAsync(user, TokenScope.Admin);

        var created = await server.SendAsync(HttpMethod.Post, "/api/v1/tokens", Bearer(manager.Secret),
            """{"name": "training on gpu-3", "scope": "write", "expires_in_days": 30}""");

        created.Status.ShouldBe(HttpStatusCode.Created, created.Text);
        var secret = created.Json!["secret"]!.GetValue<string>();
        TokenService.LooksLikeToken(secret).ShouldBeTrue();
        var message = created.Json["token"]!;
        message["name"]!.GetValue<string>().ShouldBe("training on gpu-3");
        message["scope"]!.GetValue<string>().ShouldBe("write");
        message["owner"]!.GetValue<string>().ShouldBe(user.Name);
        message["status"]!.GetValue<string>().ShouldBe("active");
        secret.ShouldStartWith(message["prefix"]!.GetValue<string>());
        DateTimeOffset.Parse(message["expiry_time"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)
            .ShouldBe(DateTimeOffset.UtcNow.AddDays(30), TimeSpan.FromMinutes(1));
        await LogsARunAsync(server, Bearer(secret));

        // The list never shows a secret; the table holds the hash and the prefix, never the text.
        var listed = (await server.SendAsync(HttpMethod.Get, "/api/v1/tokens", Bearer(manager.Secret))).ShouldBeOk();
        listed.Text.ShouldNotContain(secret);
        listed.Text.ShouldNotContain(manager.Secret);
        var dbs = server.Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>();
        await using var db = await dbs.CreateDbContextAsync(Ct);
        var row = await db.AccessTokens.AsNoTracking().SingleAsync(t => t.Id == message["id"]!.GetValue<long>(), Ct);
        row.Hash.ShouldBe(TokenService.HashOf(secret));
        new[] { row.Hash, row.Prefix, row.Name, row.CreatedBy }.ShouldNotContain(secret);
        if (provider == DatabaseProvider.Sqlite)
        {
            // Not in any column nor page of the database file or its write-ahead log.
            var file = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(
                server.Services.GetRequiredService<IConfiguration>()["ConnectionStrings:Dashboard"]).DataSource;
            var text = new System.Text.StringBuilder();
            foreach (var path in new[] { file, file + "-wal" }.Where(File.Exists))
            {
                await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
                text.Append(await reader.ReadToEndAsync(Ct));
            }
            var bytes = text.ToString();
            bytes.ShouldContain(row.Hash);
            bytes.ShouldNotContain(secret[12..]);
        }
    }

    [Fact]
    public async Task A_read_or_write_token_cannot_make_tokens()
    {
        await using var server = await StartOidcAsync();
        var user = await server.UserAsync(DashboardRole.Admin);
        foreach (var scope in new[] { TokenScope.Read, TokenScope.Write })
        {
            var token = await server.TokenAsync(user, scope);
            var reply = await server.SendAsync(HttpMethod.Post, "/api/v1/tokens", Bearer(token.Secret),
                """{"name": "more", "scope": "read"}""");
            reply.Status.ShouldBe(HttpStatusCode.Forbidden, reply.Text);
            reply.Json!["error_code"]!.GetValue<string>().ShouldBe("PERMISSION_DENIED");
            (await server.SendAsync(HttpMethod.Get, "/api/v1/tokens", Bearer(token.Secret))).Status.ShouldBe(HttpStatusCode.Forbidden);
        }
    }

    [Fact]
    public async Task A_viewer_makes_read_tokens_only()
    {
        await using var server = await StartOidcAsync();
        var viewer = await server.UserAsync(DashboardRole.Viewer);
        var manager = await server.TokenAsync(viewer, TokenScope.Admin);

        foreach (var scope in new[] { "write", "admin" })
        {
            var refused = await server.SendAsync(HttpMethod.Post, "/api/v1/tokens", Bearer(manager.Secret),
                $$"""{"name": "too much", "scope": "{{scope}}"}""");
            refused.Status.ShouldBe(HttpStatusCode.Forbidden, refused.Text);
            refused.Json!["error_code"]!.GetValue<string>().ShouldBe("PERMISSION_DENIED");
        }
        var read = await server.SendAsync(HttpMethod.Post, "/api/v1/tokens", Bearer(manager.Secret), """{"name": "reader", "scope": "read"}""");
        read.Status.ShouldBe(HttpStatusCode.Created, read.Text);
        // Without an expiry the token lives the default 90 days.
        DateTimeOffset.Parse(read.Json!["token"]!["expiry_time"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)
            .ShouldBe(DateTimeOffset.UtcNow.AddDays(90), TimeSpan.FromMinutes(1));
        var secret = read.Json["secret"]!.GetValue<string>();
        (await server.SendAsync(HttpMethod.Get, $"{Mlflow}/experiments/search?max_results=1", Bearer(secret))).ShouldBeOk();
    }

    [Fact]
    public async Task Bad_token_requests_are_400_problem_details()
    {
        await using var server = await StartOidcAsync();
        var manager = await server.TokenAsync(await server.UserAsync(DashboardRole.Contributor), TokenScope.Admin);

        foreach (var body in new[]
        {
            """{"name": "x", "scope": "everything"}""",
            """{"name": "x", "scope": 2}""",
            """{"name": "", "scope": "read"}""",
            $$"""{"name": "{{new string('n', 101)}}", "scope": "read"}""",
            """{"name": "x", "scope": "read", "expires_in_days": 0}""",
            """{"name": "x", "scope": "read", "expires_in_days": 3651}""",
            """{"name": "x", "scope": "read", "expires_at": "2000-01-01T00:00:00Z"}""",
            """{"name": "x", "scope": "read", "expires_in_days": 3, "expires_at": "2999-01-01T00:00:00Z"}""",
            """{"name": "x", "scope": "read", "expires_in_days": "3"}""",
            """not json""",
            """null""",
        })
        {
            var reply = await server.SendAsync(HttpMethod.Post, "/api/v1/tokens", Bearer(manager.Secret), body);
            reply.Status.ShouldBe(HttpStatusCode.BadRequest, body + " → " + reply.Text);
            reply.Json!["error_code"]!.GetValue<string>().ShouldBe("INVALID_PARAMETER_VALUE", body);
            reply.Json["detail"].ShouldNotBeNull(body);
        }
    }

    [Fact]
    public async Task Only_the_owner_or_an_admin_revokes_a_token_and_only_admins_list_everyones()
    {
        await using var server = await StartOidcAsync();
        var alice = await server.UserAsync(DashboardRole.Contributor);
        var bob = await server.UserAsync(DashboardRole.Contributor);
        var admin = await server.UserAsync(DashboardRole.Admin);
        var alices = await server.TokenAsync(alice, TokenScope.Write);
        var bobsManager = await server.TokenAsync(bob, TokenScope.Admin);
        var adminsManager = await server.TokenAsync(admin, TokenScope.Admin);

        var byBob = await server.SendAsync(HttpMethod.Delete, $"/api/v1/tokens/{alices.Token.Id}", Bearer(bobsManager.Secret));
        byBob.Status.ShouldBe(HttpStatusCode.NotFound, byBob.Text);
        byBob.Json!["error_code"]!.GetValue<string>().ShouldBe("RESOURCE_DOES_NOT_EXIST");
        (await server.SendAsync(HttpMethod.Delete, "/api/v1/tokens/999999", Bearer(bobsManager.Secret))).Status.ShouldBe(HttpStatusCode.NotFound);
        (await server.SendAsync(HttpMethod.Delete, "/api/v1/tokens/abc", Bearer(bobsManager.Secret))).Status.ShouldBe(HttpStatusCode.NotFound);
        (await server.SendAsync(HttpMethod.Get, $"{Mlflow}/experiments/search?max_results=1", Bearer(alices.Secret))).ShouldBeOk();

        var bobsList = (await server.SendAsync(HttpMethod.Get, "/api/v1/tokens", Bearer(bobsManager.Secret))).ShouldBeOk();
        bobsList.Json!["tokens"]!.AsArray().Select(t => t!["owner"]!.GetValue<string>()).ShouldBe([bob.Name]);
        (await server.SendAsync(HttpMethod.Get, "/api/v1/tokens?all=true", Bearer(bobsManager.Secret))).Status.ShouldBe(HttpStatusCode.Forbidden);
        var all = (await server.SendAsync(HttpMethod.Get, "/api/v1/tokens?all=true", Bearer(adminsManager.Secret))).ShouldBeOk();
        all.Json!["tokens"]!.AsArray().Select(t => t!["owner"]!.GetValue<string>()).ShouldBe([alice.Name, bob.Name, admin.Name], ignoreOrder: true);

        (await server.SendAsync(HttpMethod.Delete, $"/api/v1/tokens/{alices.Token.Id}", Bearer(adminsManager.Secret))).Status
            .ShouldBe(HttpStatusCode.NoContent);
        (await server.SendAsync(HttpMethod.Get, $"{Mlflow}/experiments/search?max_results=1", Bearer(alices.Secret)))
            .ShouldFail(HttpStatusCode.Unauthorized, "UNAUTHENTICATED");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task An_admin_makes_a_service_account_whose_token_logs_runs(DatabaseProvider provider)
    {
        await using var server = await StartOidcAsync(provider);
        var admin = await server.TokenAsync(await server.UserAsync(DashboardRole.Admin), TokenScope.Admin);
        var contributor = await server.TokenAsync(await server.UserAsync(DashboardRole.Contributor), TokenScope.Admin);
        var name = $"trainer-{Guid.NewGuid():N}"[..16];

        (await server.SendAsync(HttpMethod.Post, "/api/v1/service-accounts", Bearer(contributor.Secret),
            $$"""{"name": "{{name}}", "role": "contributor"}""")).Status.ShouldBe(HttpStatusCode.Forbidden);
        var account = await server.SendAsync(HttpMethod.Post, "/api/v1/service-accounts", Bearer(admin.Secret),
            $$"""{"name": "{{name}}", "role": "contributor"}""");
        account.Status.ShouldBe(HttpStatusCode.Created, account.Text);
        account.Json!["role"]!.GetValue<string>().ShouldBe("contributor");
        (await server.SendAsync(HttpMethod.Post, "/api/v1/service-accounts", Bearer(admin.Secret),
            $$"""{"name": "{{name}}", "role": "viewer"}""")).Status.ShouldBe(HttpStatusCode.BadRequest);
        (await server.SendAsync(HttpMethod.Post, "/api/v1/service-accounts", Bearer(admin.Secret),
            """{"name": "has space", "role": "viewer"}""")).Status.ShouldBe(HttpStatusCode.BadRequest);
        (await server.SendAsync(HttpMethod.Post, "/api/v1/service-accounts", Bearer(admin.Secret),
            """{"name": "ok-name", "role": "1"}""")).Status.ShouldBe(HttpStatusCode.BadRequest);

        (await server.SendAsync(HttpMethod.Post, $"/api/v1/service-accounts/{name}/tokens", Bearer(contributor.Secret),
            """{"name": "ci", "scope": "write"}""")).Status.ShouldBe(HttpStatusCode.Forbidden);
        (await server.SendAsync(HttpMethod.Post, "/api/v1/service-accounts/nobody-here/tokens", Bearer(admin.Secret),
            """{"name": "ci", "scope": "write"}""")).Status.ShouldBe(HttpStatusCode.NotFound);
        var token = await server.SendAsync(HttpMethod.Post, $"/api/v1/service-accounts/{name}/tokens", Bearer(admin.Secret),
            """{"name": "ci", "scope": "write", "expires_at": "2999-01-01T00:00:00Z"}""");
        token.Status.ShouldBe(HttpStatusCode.BadRequest, token.Text);
        token = await server.SendAsync(HttpMethod.Post, $"/api/v1/service-accounts/{name}/tokens", Bearer(admin.Secret),
            $$"""{"name": "ci", "scope": "write", "expires_at": "{{DateTimeOffset.UtcNow.AddDays(7):O}}"}""");
        token.Status.ShouldBe(HttpStatusCode.Created, token.Text);
        token.Json!["token"]!["owner"]!.GetValue<string>().ShouldBe(name);
        token.Json["token"]!["service_account"]!.GetValue<bool>().ShouldBeTrue();

        await LogsARunAsync(server, Basic(name, token.Json["secret"]!.GetValue<string>()));
        var accounts = (await server.SendAsync(HttpMethod.Get, "/api/v1/service-accounts", Bearer(admin.Secret))).ShouldBeOk();
        accounts.Json!["service_accounts"]!.AsArray().Select(a => a!["name"]!.GetValue<string>()).ShouldContain(name);
    }

    [Fact]
    public async Task In_local_mode_the_local_admin_manages_tokens()
    {
        await using var server = await DashboardServer.StartAsync();

        var created = await server.SendAsync(HttpMethod.Post, "/api/v1/tokens", null, """{"name": "for later", "scope": "admin"}""");

        created.Status.ShouldBe(HttpStatusCode.Created, created.Text);
        created.Json!["token"]!["owner"]!.GetValue<string>().ShouldBe("local");
        var listed = (await server.SendAsync(HttpMethod.Get, "/api/v1/tokens", null)).ShouldBeOk();
        listed.Json!["tokens"]!.AsArray().Count.ShouldBe(1);
        (await server.SendAsync(HttpMethod.Post, "/api/v1/tokens", null, """{"name": "again", "scope": "read"}""")).Status
            .ShouldBe(HttpStatusCode.Created);
        (await server.SendAsync(HttpMethod.Get, "/api/v1/tokens", null)).ShouldBeOk().Json!["tokens"]!.AsArray().Count.ShouldBe(2);
    }

    /// <summary>What a training script does: an experiment, a run, a batch of metrics, params and tags, and a search.</summary>
    private static async Task LogsARunAsync(DashboardServer server, AuthenticationHeaderValue auth)
    {
        var experiment = (await server.SendAsync(HttpMethod.Post, $"{Mlflow}/experiments/create", auth, $$"""{"name": {{J(Name())}}}"""))
            .ShouldBeOk().Json!["experiment_id"]!.GetValue<string>();
        var run = (await server.SendAsync(HttpMethod.Post, $"{Mlflow}/runs/create", auth,
            $$"""{"experiment_id": {{J(experiment)}}, "start_time": 1700000000000}""")).ShouldBeOk().Json!["run"]!["info"]!["run_id"]!
            .GetValue<string>();
        (await server.SendAsync(HttpMethod.Post, $"{Mlflow}/runs/log-batch", auth, $$"""
            {"run_id": {{J(run)}}, "metrics": [{"key": "loss", "value": 0.5, "timestamp": 1700000000000, "step": 1}],
             "params": [{"key": "optimizer", "value": "adam"}], "tags": [{"key": "team", "value": "vision"}]}
            """)).ShouldBeOk();
        var found = (await server.SendAsync(HttpMethod.Post, $"{Mlflow}/runs/search", auth,
            $$"""{"experiment_ids": [{{J(experiment)}}], "filter": "params.optimizer = 'adam'"}""")).ShouldBeOk();
        found.Json!["runs"]!.AsArray().Single()!["info"]!["run_id"]!.GetValue<string>().ShouldBe(run);
        (await server.SendAsync(HttpMethod.Get, $"{Mlflow}/runs/get?run_id={run}", auth)).ShouldBeOk()
            .Json!["run"]!["data"]!["metrics"]!.AsArray().Single()!["value"]!.GetValue<double>().ShouldBe(0.5);
    }
}
