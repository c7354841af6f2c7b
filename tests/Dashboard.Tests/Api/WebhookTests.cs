using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Governance;
using Dashboard.Security;
using Dashboard.Tests.Support;
using Dashboard.Workers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Dashboard.Tests.Support.Make;
using static Dashboard.Tests.Support.MakeRegistry;

namespace Dashboard.Tests.Api;

/// <summary>
/// Webhooks over real HTTP (issue 7, item 6): registry changes reach a receiver on loopback signed, failures are retried
/// and logged, a delivery written before a stop goes out after the next start on the same database, a failed change
/// announces nothing, "send test", Admins only, and bad input refused with nothing stored.
/// </summary>
public class WebhookTests
{
    private const string Hooks = "/api/v1/webhooks";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A dispatcher that looks often and retries soon, so the tests take seconds.</summary>
    private static readonly Dictionary<string, string> Fast = new()
    {
        ["Dashboard:Webhooks:PollSeconds"] = "0.1",
        ["Dashboard:Webhooks:RetryBaseSeconds"] = "0.2",
        ["Dashboard:Webhooks:TimeoutSeconds"] = "5",
    };

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_new_model_version_reaches_the_receiver_with_a_signature_it_can_verify()
    {
        await using var receiver = TestReceiver.Start();
        await using var server = await DashboardServer.StartAsync(settings: Fast);
        var (id, secret) = await CreateHookAsync(server, receiver.Url, events: $"[\"{WebhookEvents.VersionCreated}\"]");
        var model = await ModelAsync(server);

        var version = await VersionAsync(server, model);

        var request = (await receiver.WaitForAsync(r => r.Count >= 1, Wait)).ShouldHaveSingleItem();
        WebhookSignature.Verify(secret, request.Header("Dashboard-Signature"), request.Body, DateTimeOffset.UtcNow).ShouldBeTrue();
        WebhookSignature.Verify("whsec_not_the_secret_at_all", request.Header("Dashboard-Signature"), request.Body, DateTimeOffset.UtcNow)
            .ShouldBeFalse();
        request.Header("Dashboard-Event").ShouldBe(WebhookEvents.VersionCreated);
        var body = JsonNode.Parse(request.Text)!;
        body["type"]!.GetValue<string>().ShouldBe(WebhookEvents.VersionCreated);
        body["id"]!.GetValue<string>().ShouldBe(request.Header("Dashboard-Delivery"));
        request.Text.ShouldContain(model);
        request.Text.ShouldContain(Str(version["version"]));
        var delivery = await WaitForStateAsync(server, id, DeliveryState.Delivered);
        delivery["payload"]!.GetValue<string>().ShouldBe(request.Text);
        delivery["attempts"]!.AsArray().Single()!["status"]!.GetValue<int>().ShouldBe(200);
    }

    [Fact]
    public async Task A_receiver_that_fails_twice_gets_the_delivery_on_the_third_attempt_and_the_log_shows_all_three()
    {
        await using var receiver = TestReceiver.Start();
        receiver.Respond = n => n <= 2 ? 500 : 204;
        await using var server = await DashboardServer.StartAsync(settings: Fast);
        var (id, secret) = await CreateHookAsync(server, receiver.Url);
        var model = await ModelAsync(server);

        await VersionAsync(server, model);

        var requests = await receiver.WaitForAsync(r => r.Count >= 3, Wait);
        var delivery = await WaitForStateAsync(server, id, DeliveryState.Delivered);
        requests.Count.ShouldBe(3);
        requests.Select(r => r.Header("Dashboard-Delivery")).Distinct().ShouldHaveSingleItem();
        requests.ShouldAllBe(r => WebhookSignature.Verify(secret, r.Header("Dashboard-Signature"), r.Body, DateTimeOffset.UtcNow, null));
        delivery["attempt_count"]!.GetValue<int>().ShouldBe(3);
        delivery["attempts"]!.AsArray().Select(a => (a!["number"]!.GetValue<int>(), a["status"]!.GetValue<int>()))
            .ShouldBe([(1, 500), (2, 500), (3, 204)]);
        delivery["attempts"]![0]!["error"]!.GetValue<string>().ShouldStartWith("HTTP 500");
        delivery["last_status"]!.GetValue<int>().ShouldBe(204);
        delivery["delivered_time"].ShouldNotBeNull();
        await Task.Delay(500, Ct);
        receiver.Requests.Count.ShouldBe(3);
    }

    [Fact]
    public async Task A_delivery_written_before_a_stop_is_sent_after_the_next_start_on_the_same_database()
    {
        await using var receiver = TestReceiver.Start();
        var (database, cleanup) = await TestDatabase.CreateEmptyAsync(DatabaseProvider.Sqlite);
        var artifacts = Directory.CreateDirectory(Path.Join(Path.GetTempPath(), $"dashboard-artifacts-{Guid.NewGuid():N}")).FullName;
        try
        {
            string secret;
            var model = Name("restart");
            // The first server records events but sends none (as if it stopped before its dispatcher got to them).
            await using (var first = await SameDatabaseServer.StartAsync(database, artifacts, new(Fast) { ["Dashboard:Webhooks:Dispatch"] = "false" }))
            {
                var made = await first.PostAsync(Hooks, $$"""{"name": "receiver", "url": {{J(receiver.Url)}}}""");
                made.Status.ShouldBe(HttpStatusCode.Created, made.Text);
                secret = made.Json!["secret"]!.GetValue<string>();
                var run = (await first.PostAsync($"{Mlflow}/runs/create", """{"experiment_id": "0"}""")).ShouldBeOk().Json!["run"]!["info"]!;
                (await first.PostAsync($"{Models}/create", $$"""{"name": {{J(model)}}}""")).ShouldBeOk();
                (await first.PostAsync($"{Versions}/create", $$"""
                    {"name": {{J(model)}}, "source": {{J(Str(run["artifact_uri"]) + "/model")}}, "run_id": {{J(Str(run["run_id"]))}}}
                    """)).ShouldBeOk();
                await Task.Delay(500, Ct);
                receiver.Requests.ShouldBeEmpty();
                await using var db = await first.Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync(Ct);
                (await db.WebhookDeliveries.SingleAsync(Ct)).State.ShouldBe(DeliveryState.Pending);
            }

            await using var second = await SameDatabaseServer.StartAsync(database, artifacts, Fast);

            var request = (await receiver.WaitForAsync(r => r.Count >= 1, Wait)).ShouldHaveSingleItem();
            request.Header("Dashboard-Event").ShouldBe(WebhookEvents.VersionCreated);
            request.Text.ShouldContain(model);
            WebhookSignature.Verify(secret, request.Header("Dashboard-Signature"), request.Body, DateTimeOffset.UtcNow).ShouldBeTrue();
        }
        finally
        {
            await cleanup();
            Directory.Delete(artifacts, recursive: true);
        }
    }

    [Fact]
    public async Task A_registry_change_that_fails_announces_nothing()
    {
        await using var receiver = TestReceiver.Start();
        await using var server = await DashboardServer.StartAsync(settings: Fast);
        var (id, _) = await CreateHookAsync(server, receiver.Url);
        var (runId, source) = await RunSourceAsync(server);

        (await CreateVersionAsync(server, Name("no-such-model"), source, runId)).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await SetAliasAsync(server, Name("no-such-model"), "champion", "1")).Status.ShouldBe(HttpStatusCode.NotFound);

        // Something that does happen afterwards is announced: the dispatcher is running, and it had nothing before.
        var model = await ModelAsync(server);
        await VersionAsync(server, model);
        var request = (await receiver.WaitForAsync(r => r.Count >= 1, Wait)).ShouldHaveSingleItem();
        request.Text.ShouldContain(model);
        await Task.Delay(300, Ct);
        receiver.Requests.Count.ShouldBe(1);
        (await DeliveriesAsync(server, id)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task Send_test_queues_a_test_event_that_the_receiver_gets_and_the_log_shows_delivered()
    {
        await using var receiver = TestReceiver.Start();
        await using var server = await DashboardServer.StartAsync(settings: Fast);
        var (id, secret) = await CreateHookAsync(server, receiver.Url, events: $"[\"{WebhookEvents.StageChanged}\"]");

        var queued = await server.PostAsync($"{Hooks}/{id}/test", "");

        queued.Status.ShouldBe(HttpStatusCode.Accepted, queued.Text);
        queued.Json!["event_type"]!.GetValue<string>().ShouldBe(WebhookEvents.Test);
        queued.Json["state"]!.GetValue<string>().ShouldBe(DeliveryState.Pending);
        var request = (await receiver.WaitForAsync(r => r.Count >= 1, Wait)).ShouldHaveSingleItem();
        request.Header("Dashboard-Event").ShouldBe(WebhookEvents.Test);
        WebhookSignature.Verify(secret, request.Header("Dashboard-Signature"), request.Body, DateTimeOffset.UtcNow).ShouldBeTrue();
        var delivered = await WaitForStateAsync(server, id, DeliveryState.Delivered);
        delivered["id"]!.GetValue<long>().ShouldBe(queued.Json["id"]!.GetValue<long>());

        // Sent again from the log: the same event, once more.
        (await server.PostAsync($"{Hooks}/deliveries/{delivered["id"]}/redeliver", "")).Status.ShouldBe(HttpStatusCode.Accepted);
        var requests = await receiver.WaitForAsync(r => r.Count >= 2, Wait);
        requests.Select(r => r.Header("Dashboard-Delivery")).Distinct().ShouldHaveSingleItem();
        await WaitForStateAsync(server, id, DeliveryState.Delivered);
    }

    [Fact]
    public async Task Webhooks_are_managed_by_admins_only()
    {
        await using var server = await DashboardServer.StartAsync(settings: new Dictionary<string, string>(Fast)
        {
            ["Dashboard:Auth:Mode"] = "Oidc",
            ["Dashboard:Auth:Oidc:Authority"] = "http://127.0.0.1:9",
            ["Dashboard:Auth:Oidc:ClientId"] = "dashboard",
            ["Dashboard:Auth:Oidc:RequireHttpsMetadata"] = "false",
        });
        var alice = await TokenAsync(server, "alice", DashboardRole.Contributor, TokenScope.Write);
        var ada = await TokenAsync(server, "ada", DashboardRole.Admin, TokenScope.Admin);
        var adaWriting = await TokenAsync(server, "ada", DashboardRole.Admin, TokenScope.Write);
        var body = """{"name": "deploys", "url": "http://127.0.0.1:9/hook"}""";

        var made = await SendAsync(server, ada, "POST", Hooks, body);
        made.Status.ShouldBe(HttpStatusCode.Created, made.Text);
        var id = made.Json!["webhook"]!["id"]!.GetValue<long>();
        foreach (var token in new[] { alice, adaWriting })
        {
            (await SendAsync(server, token, "GET", Hooks)).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
            (await SendAsync(server, token, "POST", Hooks, body)).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
            (await SendAsync(server, token, "GET", $"{Hooks}/{id}")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
            (await SendAsync(server, token, "PATCH", $"{Hooks}/{id}", """{"enabled": false}""")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
            (await SendAsync(server, token, "POST", $"{Hooks}/{id}/test", "")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
            (await SendAsync(server, token, "POST", $"{Hooks}/{id}/rotate-secret", "")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
            (await SendAsync(server, token, "GET", $"{Hooks}/{id}/deliveries")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
            (await SendAsync(server, token, "DELETE", $"{Hooks}/{id}")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        }
        var list = await SendAsync(server, ada, "GET", Hooks);
        list.ShouldBeOk().Json!["webhooks"]!.AsArray().Count.ShouldBe(1);
        list.Json!["webhooks"]![0]!["enabled"]!.GetValue<bool>().ShouldBeTrue();
        (await SendAsync(server, null, "GET", Hooks)).Status.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_secret_is_answered_by_create_and_rotate_only()
    {
        await using var server = await DashboardServer.StartAsync(settings: Fast);
        var (id, secret) = await CreateHookAsync(server, "http://127.0.0.1:9/hook");

        var list = await server.GetAsync(Hooks);
        var one = await server.GetAsync($"{Hooks}/{id}");
        var patched = await server.PostAsync($"{Hooks}/{id}", """{"name": "renamed", "enabled": false}""", "PATCH");
        var rotated = await server.PostAsync($"{Hooks}/{id}/rotate-secret", "");

        secret.ShouldStartWith("whsec_");
        foreach (var reply in new[] { list, one, patched.ShouldBeOk() })
        {
            reply.Text.ShouldNotContain(secret);
            reply.Text.ShouldContain(secret[..8] + "…");
        }
        patched.Json!["name"]!.GetValue<string>().ShouldBe("renamed");
        patched.Json["enabled"]!.GetValue<bool>().ShouldBeFalse();
        var newSecret = rotated.ShouldBeOk().Json!["secret"]!.GetValue<string>();
        newSecret.ShouldNotBe(secret);
        (await server.GetAsync($"{Hooks}/{id}")).Text.ShouldNotContain(newSecret);
        (await server.PostAsync($"{Hooks}/{id}", "", "DELETE")).Status.ShouldBe(HttpStatusCode.NoContent);
        (await server.GetAsync($"{Hooks}/{id}")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
    }

    private static readonly (string What, string Body)[] BadBodies =
    [
        ("not an http URL", """{"name": "h", "url": "ftp://127.0.0.1/hook"}"""),
        ("a file URL", """{"name": "h", "url": "file:///etc/passwd"}"""),
        ("a relative URL", """{"name": "h", "url": "/hook"}"""),
        ("user info", """{"name": "h", "url": "http://user:pass@127.0.0.1/hook"}"""),
        ("a fragment", """{"name": "h", "url": "http://127.0.0.1/hook#x"}"""),
        ("no URL", """{"name": "h"}"""),
        ("no name", """{"url": "http://127.0.0.1/hook"}"""),
        ("a huge name", $$"""{"name": "{{new string('n', 101)}}", "url": "http://127.0.0.1/hook"}"""),
        ("an unknown event", """{"name": "h", "url": "http://127.0.0.1/hook", "events": ["model_version.created", "run.created"]}"""),
        ("no events", """{"name": "h", "url": "http://127.0.0.1/hook", "events": []}"""),
        ("events as a string", """{"name": "h", "url": "http://127.0.0.1/hook", "events": "*"}"""),
        ("a number name", """{"name": 5, "url": "http://127.0.0.1/hook"}"""),
        ("enabled as a string", """{"name": "h", "url": "http://127.0.0.1/hook", "enabled": "yes"}"""),
        ("a short secret", """{"name": "h", "url": "http://127.0.0.1/hook", "secret": "short"}"""),
        ("malformed JSON", """{"name": "h", "url": """),
        ("not an object", """["h"]"""),
        ("null", "null"),
        ("an empty body", ""),
    ];

    [Fact]
    public async Task Bad_input_is_a_400_problem_and_stores_nothing()
    {
        // One server for every case (each starts costs seconds); each case says which it is when it fails.
        await using var server = await DashboardServer.StartAsync(settings: Fast);

        foreach (var row in BadBodies)
        {
            var (what, body) = row;
            var reply = await server.PostAsync(Hooks, body);

            reply.Status.ShouldBe(HttpStatusCode.BadRequest, $"{what}: {reply.Text}");
            reply.ErrorCode.ShouldBe("INVALID_PARAMETER_VALUE", what);
            reply.Json!["detail"]!.GetValue<string>().ShouldNotBeNullOrEmpty(what);
            (await server.GetAsync(Hooks)).ShouldBeOk().Json!["webhooks"]!.AsArray().ShouldBeEmpty(what);
        }
    }

    [Fact]
    public async Task Bad_ids_updates_page_sizes_and_tokens_are_refused()
    {
        await using var server = await DashboardServer.StartAsync(settings: Fast);
        var (id, _) = await CreateHookAsync(server, "http://127.0.0.1:9/hook");
        await server.PostAsync($"{Hooks}/{id}", """{"enabled": false}""", "PATCH");
        var test = (await server.PostAsync($"{Hooks}/{id}/test", "")).Json!["id"]!.GetValue<long>();

        (await server.GetAsync($"{Hooks}/abc")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.GetAsync($"{Hooks}/999")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.PostAsync($"{Hooks}/999/test", "")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.PostAsync($"{Hooks}/{id}", """{"url": "gopher://127.0.0.1/"}""", "PATCH")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.PostAsync($"{Hooks}/{id}", """{"events": ["nope"]}""", "PATCH")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.PostAsync($"{Hooks}/{id}", """{"name": """, "PATCH")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.PostAsync($"{Hooks}/{id}", """{"secret": "a-secret-of-my-own-choosing"}""", "PATCH"))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.GetAsync($"{Hooks}/{id}/deliveries?max_results=abc")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.GetAsync($"{Hooks}/{id}/deliveries?max_results=0")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.GetAsync($"{Hooks}/{id}/deliveries?page_token=xyz")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        // The webhook is paused: its test delivery waits, and a waiting delivery cannot be sent "again".
        (await server.PostAsync($"{Hooks}/deliveries/{test}/redeliver", "")).ShouldFail(HttpStatusCode.Conflict, "INVALID_STATE");
        (await server.PostAsync($"{Hooks}/deliveries/999/redeliver", "")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        var hook = (await server.GetAsync($"{Hooks}/{id}")).ShouldBeOk().Json!;
        hook["url"]!.GetValue<string>().ShouldBe("http://127.0.0.1:9/hook");
        hook["events"]!.AsArray().Select(e => e!.GetValue<string>()).ShouldBe(["*"]);
    }

    [Fact]
    public async Task The_delivery_log_pages_with_a_token()
    {
        await using var server = await DashboardServer.StartAsync(settings: new Dictionary<string, string>(Fast) { ["Dashboard:Webhooks:Dispatch"] = "false" });
        var (id, _) = await CreateHookAsync(server, "http://127.0.0.1:9/hook");
        for (var i = 0; i < 3; i++)
        {
            (await server.PostAsync($"{Hooks}/{id}/test", "")).Status.ShouldBe(HttpStatusCode.Accepted);
        }

        var first = (await server.GetAsync($"{Hooks}/{id}/deliveries?max_results=2")).ShouldBeOk().Json!;
        var token = first["next_page_token"]!.GetValue<string>();
        var second = (await server.GetAsync($"{Hooks}/{id}/deliveries?max_results=2&page_token={Uri.EscapeDataString(token)}")).ShouldBeOk().Json!;

        var ids = first["deliveries"]!.AsArray().Concat(second["deliveries"]!.AsArray()).Select(d => d!["id"]!.GetValue<long>()).ToList();
        ids.Count.ShouldBe(3);
        ids.ShouldBeInOrder(SortDirection.Descending);
        second["next_page_token"].ShouldBeNull();
        first["deliveries"]![0]!["next_attempt_time"].ShouldNotBeNull();
    }

    [Fact]
    public void The_dispatcher_options_are_read_from_configuration_and_bad_values_stop_the_start()
    {
        static WebhookOptions Read(Dictionary<string, string?> values)
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
            return new ServiceCollection().AddWebhooks(configuration).BuildServiceProvider().GetRequiredService<WebhookOptions>();
        }

        var defaults = Read([]);
        var set = Read(new()
        {
            ["Dashboard:Webhooks:PollSeconds"] = "0.5",
            ["Dashboard:Webhooks:TimeoutSeconds"] = "3",
            ["Dashboard:Webhooks:RetryBaseSeconds"] = "30",
            ["Dashboard:Webhooks:MaxAttempts"] = "5",
            ["Dashboard:Webhooks:Dispatch"] = "false",
        });

        (defaults.PollSeconds, defaults.TimeoutSeconds, defaults.RetryBaseSeconds, defaults.MaxAttempts, defaults.Dispatch)
            .ShouldBe((2, 10, 10, 8, true));
        (set.PollSeconds, set.TimeoutSeconds, set.RetryBaseSeconds, set.MaxAttempts, set.Dispatch).ShouldBe((0.5, 3, 30, 5, false));
        Should.Throw<InvalidOperationException>(() => Read(new() { ["Dashboard:Webhooks:MaxAttempts"] = "0" }))
            .Message.ShouldContain("MaxAttempts");
        Should.Throw<InvalidOperationException>(() => Read(new() { ["Dashboard:Webhooks:PollSeconds"] = "soon" }));
    }

    private static async Task<(long Id, string Secret)> CreateHookAsync(DashboardServer server, string url, string events = "[\"*\"]")
    {
        var reply = await server.PostAsync(Hooks, $$"""{"name": "receiver", "url": {{J(url)}}, "events": {{events}}}""");
        reply.Status.ShouldBe(HttpStatusCode.Created, reply.Text);
        return (reply.Json!["webhook"]!["id"]!.GetValue<long>(), reply.Json["secret"]!.GetValue<string>());
    }

    private static async Task<JsonArray> DeliveriesAsync(DashboardServer server, long id) =>
        (await server.GetAsync($"{Hooks}/{id}/deliveries")).ShouldBeOk().Json!["deliveries"]!.AsArray();

    /// <summary>The newest delivery of the webhook, once it is in <paramref name="state"/>.</summary>
    private static async Task<JsonNode> WaitForStateAsync(DashboardServer server, long id, string state)
    {
        var until = DateTime.UtcNow + Wait;
        while (true)
        {
            var newest = (await DeliveriesAsync(server, id)).FirstOrDefault();
            if (newest?["state"]?.GetValue<string>() == state)
            {
                return newest;
            }
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"The newest delivery of webhook {id} is not {state}: {newest?.ToJsonString()}");
            }
            await Task.Delay(100, Ct);
        }
    }

    private static async Task<string> TokenAsync(DashboardServer server, string name, DashboardRole role, TokenScope scope)
    {
        var user = await server.Services.GetRequiredService<UserDirectory>().RecordSignInAsync($"sub-{name}", name, null, role, [], Ct);
        return (await server.Services.GetRequiredService<TokenService>().CreateAsync(user.Id, Name("t"), scope, null, name, Ct)).Secret;
    }

    private static async Task<Reply> SendAsync(DashboardServer server, string? token, string method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        return await server.SendAsync(request);
    }

    /// <summary>The app over a database that outlives it (another server is started on it after this one stops).</summary>
    private sealed class SameDatabaseServer : IAsyncDisposable
    {
        private readonly Factory _factory;
        private readonly HttpClient _client;

        private SameDatabaseServer(Factory factory, Uri address)
        {
            _factory = factory;
            _client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        }

        public IServiceProvider Services => _factory.Services;

        public static Task<SameDatabaseServer> StartAsync(DatabaseOptions database, string artifacts, Dictionary<string, string> settings)
        {
            var factory = new Factory(database, artifacts, settings);
            factory.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            factory.StartServer();
            var address = new Uri(factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return Task.FromResult(new SameDatabaseServer(factory, address));
        }

        public async Task<Reply> PostAsync(string path, string json)
        {
            using var response = await _client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"), Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            return new Reply(response.StatusCode, text, text.Length > 0 ? JsonNode.Parse(text) : null);
        }

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            await _factory.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }

        private sealed class Factory(DatabaseOptions database, string artifacts, Dictionary<string, string> settings) : WebApplicationFactory<Program>
        {
            protected override void ConfigureWebHost(IWebHostBuilder builder)
            {
                builder.UseEnvironment("Testing");
                builder.UseSetting("urls", "http://127.0.0.1:0");
                builder.UseSetting("Dashboard:Database:Provider", database.Provider.ToString());
                builder.UseSetting("ConnectionStrings:Dashboard", database.ConnectionString);
                builder.UseSetting("Dashboard:Artifacts:Root", Path.Join(artifacts, "artifacts"));
                foreach (var (key, value) in settings)
                {
                    builder.UseSetting(key, value);
                }
                builder.ConfigureServices(s => s.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2)));
            }
        }
    }
}
