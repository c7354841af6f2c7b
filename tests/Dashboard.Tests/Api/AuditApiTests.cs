using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Governance;
using Dashboard.Security;
using Dashboard.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Api;

/// <summary>
/// The audit trail over real HTTP in Oidc mode with real tokens (issue 7, item 5): /api/v1/audit-events with each role
/// (an Admin sees every event, a Contributor those of the models they may read, a Viewer without a model's read none),
/// its exports (content types, attachment, content, the cap's headers), the model timeline, and bad filters as 400
/// ProblemDetails.
/// </summary>
public class AuditApiTests
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string V1 = "/api/v1";

    private sealed class Person(DashboardServer server, string token)
    {
        public string Secret => token;

        public async Task<HttpResponseMessage> RawAsync(string path)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return await server.Client.SendAsync(request, Ct);
        }

        public async Task<Reply> SendAsync(string method, string path, string? json = null)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (json is not null)
            {
                request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
            }
            return await server.SendAsync(request);
        }

        public Task<Reply> GetAsync(string path) => SendAsync("GET", path);

        public Task<Reply> PostAsync(string path, string json) => SendAsync("POST", path, json);
    }

    private static async Task<Person> PersonAsync(DashboardServer server, string name, DashboardRole role, string[]? groups = null)
    {
        var user = await server.Services.GetRequiredService<UserDirectory>().RecordSignInAsync($"sub-{name}", name, null, role, groups ?? [], Ct);
        var token = await server.Services.GetRequiredService<TokenService>().CreateAsync(user.Id, "test", TokenScope.Admin, null, name, Ct);
        return new Person(server, token.Secret);
    }

    /// <summary>Oidc mode where nobody reads what they were not granted: alice (Contributor) made "fraud", ada (Admin) "vault".</summary>
    private static async Task<(DashboardServer Server, Person Ada, Person Alice, Person Victor)> StartAsync(DatabaseProvider provider)
    {
        var server = await DashboardServer.StartAsync(provider, settings: new Dictionary<string, string>
        {
            ["Dashboard:Auth:Mode"] = "Oidc",
            ["Dashboard:Auth:Oidc:Authority"] = "http://127.0.0.1:9",
            ["Dashboard:Auth:Oidc:ClientId"] = "dashboard",
            ["Dashboard:Auth:Oidc:RequireHttpsMetadata"] = "false",
            ["Dashboard:Auth:DefaultPermission"] = "NO_PERMISSIONS",
        });
        var ada = await PersonAsync(server, "ada", DashboardRole.Admin, ["admins"]);
        var alice = await PersonAsync(server, "alice", DashboardRole.Contributor, ["ml-team"]);
        var victor = await PersonAsync(server, "victor", DashboardRole.Viewer, ["readers"]);
        (await alice.PostAsync($"{Mlflow}/registered-models/create", """{"name": "fraud"}""")).ShouldBeOk();
        (await alice.PostAsync($"{Mlflow}/registered-models/set-tag", """{"name": "fraud", "key": "team", "value": "=1+1"}""")).ShouldBeOk();
        (await ada.PostAsync($"{Mlflow}/registered-models/create", """{"name": "vault"}""")).ShouldBeOk();
        return (server, ada, alice, victor);
    }

    private static List<JsonNode> Events(Reply reply) => [.. reply.ShouldBeOk().Json!["events"]!.AsArray().Select(e => e!)];

    [Theory, MemberData(nameof(Providers))]
    public async Task An_admin_sees_every_event_a_contributor_those_of_models_they_read_and_a_viewer_without_read_none(DatabaseProvider provider)
    {
        var (server, ada, alice, victor) = await StartAsync(provider);
        await using var _ = server;

        var all = Events(await ada.GetAsync($"{V1}/audit-events"));
        var mine = Events(await alice.GetAsync($"{V1}/audit-events"));
        var none = Events(await victor.GetAsync($"{V1}/audit-events"));

        // The tokens made for the test are audited too (no model: only an Admin or Approver sees them).
        all.ShouldContain(e => e["action"]!.GetValue<string>() == AuditActions.TokenCreated);
        all.ShouldContain(e => e["model_name"] != null && e["model_name"]!.GetValue<string>() == "vault");
        all.Select(e => e["id"]!.GetValue<long>()).ShouldBe(all.Select(e => e["id"]!.GetValue<long>()).OrderDescending());
        mine.ShouldNotBeEmpty();
        mine.ShouldAllBe(e => e["model_name"]!.GetValue<string>() == "fraud");
        // alice's creator grant, as she made the model, with the level and principal in its after state.
        var grant = mine.Single(e => e["action"]!.GetValue<string>() == AuditActions.PermissionCreated);
        grant["actor"]!.GetValue<string>().ShouldBe("alice");
        grant["after"]!["permission"]!.GetValue<string>().ShouldBe("MANAGE");
        grant["after"]!["principal"]!.GetValue<string>().ShouldBe("alice");
        none.ShouldBeEmpty();

        // A grant made through MLflow's permission API names its caller and shows at once to the one it opens the model to.
        (await alice.PostAsync($"{Mlflow}/registered-models/permissions/create",
            """{"name": "fraud", "username": "victor", "permission": "READ"}""")).ShouldBeOk();
        var opened = Events(await victor.GetAsync($"{V1}/audit-events?action=permission.created"));
        opened.Count.ShouldBe(2);
        opened[0]["actor"]!.GetValue<string>().ShouldBe("alice");
        opened[0]["target"]!.GetValue<string>().ShouldBe("fraud user:victor");
        opened[0]["target_type"]!.GetValue<string>().ShouldBe(AuditTargets.RegisteredModelPermission);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Filters_and_pages_follow_the_query_string(DatabaseProvider provider)
    {
        var (server, ada, _, _) = await StartAsync(provider);
        await using var __ = server;

        var created = Events(await ada.GetAsync($"{V1}/audit-events?action=registered_model.created"));
        created.Select(e => e["target"]!.GetValue<string>()).ShouldBe(["vault", "fraud"]);
        Events(await ada.GetAsync($"{V1}/audit-events?action=registered_model.&actor=alice&name=fraud"))
            .Select(e => e["action"]!.GetValue<string>()).ShouldBe([AuditActions.ModelTagSet, AuditActions.ModelCreated]);
        Events(await ada.GetAsync($"{V1}/audit-events?target_type=access_token")).Count.ShouldBe(3);
        Events(await ada.GetAsync($"{V1}/audit-events?q=VAU")).ShouldAllBe(e => e["target"]!.GetValue<string>().Contains("vau"));
        Events(await ada.GetAsync($"{V1}/audit-events?from=2000-01-01&to=2000-01-02")).ShouldBeEmpty();
        Events(await ada.GetAsync($"{V1}/audit-events?from=2000-01-01T00:00:00Z")).Count.ShouldBeGreaterThan(3);

        var first = (await ada.GetAsync($"{V1}/audit-events?max_results=2")).ShouldBeOk();
        var token = first.Json!["next_page_token"]!.GetValue<string>();
        var second = (await ada.GetAsync($"{V1}/audit-events?max_results=2&page_token={Uri.EscapeDataString(token)}")).ShouldBeOk();
        var ids = first.Json!["events"]!.AsArray().Concat(second.Json!["events"]!.AsArray()).Select(e => e!["id"]!.GetValue<long>()).ToList();
        ids.Count.ShouldBe(4);
        ids.ShouldBeUnique();
        ids.ShouldBe(ids.OrderDescending());
    }

    [Theory]
    [InlineData("from=yesterday", "'from'")]
    [InlineData("to=2026-02-30", "'to'")]
    [InlineData("from=2026-01-02&to=2026-01-01", "'from'")]
    [InlineData("max_results=1001", "max_results")]
    [InlineData("max_results=0", "max_results")]
    [InlineData("max_results=ten", "max_results")]
    [InlineData("page_token=abc", "page token")]
    [InlineData("version=seven", "'version'")]
    [InlineData("version=0", "'version'")]
    [InlineData("request_id=-1", "'request_id'")]
    [InlineData("action=DROP%20TABLE", "'action'")]
    [InlineData("target_type=a.b", "'target_type'")]
    [InlineData("actor=a&actor=b", "'actor'")]
    public async Task A_bad_filter_is_a_400_problem_naming_it(string query, string named)
    {
        var (server, ada, _, _) = await StartAsync(DatabaseProvider.Sqlite);
        await using var _ = server;

        foreach (var path in new[] { $"{V1}/audit-events?{query}", $"{V1}/audit-events/export?format=csv&{query}" })
        {
            if (path.Contains("/export", StringComparison.Ordinal) && query.Contains("max_results", StringComparison.Ordinal)
                || path.Contains("/export", StringComparison.Ordinal) && query.Contains("page_token", StringComparison.Ordinal))
            {
                // An export has no pages: it ignores the paging parameters.
                continue;
            }
            using var response = await ada.RawAsync(path);
            var text = await response.Content.ReadAsStringAsync(Ct);
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, path + " → " + text);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            var problem = JsonNode.Parse(text)!;
            problem["error_code"]!.GetValue<string>().ShouldBe("INVALID_PARAMETER_VALUE");
            problem["detail"]!.GetValue<string>().ShouldContain(named);
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Exports_download_csv_and_json_attachments_with_the_filters_and_the_cap_in_headers(DatabaseProvider provider)
    {
        var (server, ada, alice, _) = await StartAsync(provider);
        await using var _ = server;

        using var csv = await ada.RawAsync($"{V1}/audit-events/export?format=csv&name=fraud");
        var csvText = await csv.Content.ReadAsStringAsync(Ct);
        csv.StatusCode.ShouldBe(HttpStatusCode.OK, csvText);
        csv.Content.Headers.ContentType!.MediaType.ShouldBe("text/csv");
        csv.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        csv.Content.Headers.ContentDisposition.FileName!.Trim('"').ShouldEndWith(".csv");
        csv.Headers.GetValues("X-Export-Row-Limit").Single().ShouldBe("100000");
        csv.Headers.GetValues("X-Export-Truncated").Single().ShouldBe("false");
        var lines = csvText.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldBe(string.Join(',', AuditExportWriter.CsvColumns));
        lines.Length.ShouldBe(1 + Events(await ada.GetAsync($"{V1}/audit-events?name=fraud")).Count);
        lines.Skip(1).ShouldAllBe(l => l.Contains(",fraud,", StringComparison.Ordinal));
        // The tag's value "=1+1" is in the after state (a JSON cell, quoted, starting with '{'); nothing starts a formula.
        csvText.ShouldContain("\"{\"\"key\"\":\"\"team\"\",\"\"value\"\":\"\"=1+1\"\"}\"");

        using var json = await alice.RawAsync($"{V1}/audit-events/export?format=json");
        var jsonText = await json.Content.ReadAsStringAsync(Ct);
        json.StatusCode.ShouldBe(HttpStatusCode.OK, jsonText);
        json.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        json.Content.Headers.ContentDisposition!.FileName!.Trim('"').ShouldEndWith(".json");
        var events = JsonDocument.Parse(jsonText).RootElement;
        events.ValueKind.ShouldBe(JsonValueKind.Array);
        events.GetArrayLength().ShouldBeGreaterThan(0);
        events.EnumerateArray().ShouldAllBe(e => e.GetProperty("model_name").GetString() == "fraud");
        jsonText.ShouldNotContain(alice.Secret);

        using var xml = await ada.RawAsync($"{V1}/audit-events/export?format=xml");
        xml.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task The_timeline_answers_readable_entries_to_a_reader_and_403_or_404_otherwise(DatabaseProvider provider)
    {
        var (server, ada, alice, victor) = await StartAsync(provider);
        await using var _ = server;
        (await ada.PostAsync($"{Mlflow}/experiments/permissions/create", """{"experiment_id": "0", "username": "alice", "permission": "EDIT"}"""))
            .ShouldBeOk();
        var run = (await alice.PostAsync($"{Mlflow}/runs/create", """{"experiment_id": "0"}""")).ShouldBeOk()
            .Json!["run"]!["info"]!["run_id"]!.GetValue<string>();
        (await alice.PostAsync($"{Mlflow}/model-versions/create",
            $$"""{"name": "fraud", "source": "runs:/{{run}}/model", "run_id": "{{run}}"}""")).ShouldBeOk();
        (await alice.PostAsync($"{Mlflow}/model-versions/transition-stage",
            """{"name": "fraud", "version": "1", "stage": "Staging", "archive_existing_versions": false}""")).ShouldBeOk();

        var timeline = (await alice.GetAsync($"{V1}/registered-models/fraud/timeline")).ShouldBeOk().Json!;

        timeline["name"]!.GetValue<string>().ShouldBe("fraud");
        var entries = timeline["entries"]!.AsArray();
        entries[0]!["kind"]!.GetValue<string>().ShouldBe(TimelineKinds.StageChanged);
        entries[0]!["text"]!.GetValue<string>().ShouldBe("Version 1 → Staging by alice, was None");
        entries[0]!["version"]!.GetValue<int>().ShouldBe(1);
        entries.Select(e => e!["kind"]!.GetValue<string>()).ShouldBe(
            [TimelineKinds.StageChanged, TimelineKinds.VersionCreated, TimelineKinds.ModelCreated]);
        (await victor.GetAsync($"{V1}/registered-models/fraud/timeline")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await ada.GetAsync($"{V1}/registered-models/nope/timeline")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
    }
}
