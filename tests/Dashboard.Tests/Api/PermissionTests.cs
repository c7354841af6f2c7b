using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Security;
using Dashboard.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Api;

/// <summary>
/// Permissions over real HTTP in Oidc mode with real tokens (docs/adr/0012-authentication-and-permissions.md,
/// "Permissions"): each role against reads, writes, deletes, creation and grants; search filtered by what the caller
/// may read (pages and counts); MLflow's permission endpoints and their errors.
/// </summary>
public class PermissionTests
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    private static readonly Dictionary<string, string> Oidc = new()
    {
        ["Dashboard:Auth:Mode"] = "Oidc",
        ["Dashboard:Auth:Oidc:Authority"] = "http://127.0.0.1:9",
        ["Dashboard:Auth:Oidc:ClientId"] = "dashboard",
        ["Dashboard:Auth:Oidc:RequireHttpsMetadata"] = "false",
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A person who signed in with a role and groups, and a token of theirs with a scope.</summary>
    private sealed class Person(DashboardServer server, string token)
    {
        public async Task<Reply> SendAsync(string method, string path, string? json = null)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (json is not null)
            {
                request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }
            return await server.SendAsync(request);
        }

        public Task<Reply> GetAsync(string path) => SendAsync("GET", path);

        public Task<Reply> PostAsync(string path, string json) => SendAsync("POST", path, json);
    }

    private static async Task<Person> PersonAsync(DashboardServer server, string name, DashboardRole role, string[]? groups = null,
        TokenScope scope = TokenScope.Admin)
    {
        var user = await server.Services.GetRequiredService<UserDirectory>()
            .RecordSignInAsync($"sub-{name}", name, null, role, groups ?? [], Ct);
        var token = await server.Services.GetRequiredService<TokenService>().CreateAsync(user.Id, "test", scope, null, name, Ct);
        return new Person(server, token.Secret);
    }

    private static Task<DashboardServer> StartAsync(DatabaseProvider provider, string? defaultPermission = null)
    {
        var settings = new Dictionary<string, string>(Oidc);
        if (defaultPermission is not null)
        {
            settings["Dashboard:Auth:DefaultPermission"] = defaultPermission;
        }
        return DashboardServer.StartAsync(provider, settings: settings);
    }

    private static async Task<string> CreateExperimentAsync(Person who, string? name = null) =>
        (await who.PostAsync($"{Mlflow}/experiments/create", $$"""{"name": {{J(name ?? Name())}}}""")).ShouldBeOk()
        .Json!["experiment_id"]!.GetValue<string>();

    [Fact]
    public async Task A_viewer_reads_but_cannot_create_or_write()
    {
        await using var server = await StartAsync(DatabaseProvider.Sqlite);
        var owner = await PersonAsync(server, "olga", DashboardRole.Contributor);
        var viewer = await PersonAsync(server, "victor", DashboardRole.Viewer);
        var id = await CreateExperimentAsync(owner);
        var run = (await owner.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": "{{id}}"}""")).ShouldBeOk()
            .Json!["run"]!["info"]!["run_id"]!.GetValue<string>();

        (await viewer.GetAsync($"{Mlflow}/experiments/get?experiment_id={id}")).ShouldBeOk();
        (await viewer.GetAsync($"{Mlflow}/runs/get?run_id={run}")).ShouldBeOk();
        (await viewer.PostAsync($"{Mlflow}/experiments/create", $$"""{"name": {{J(Name())}}}"""))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await viewer.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": "{{id}}"}"""))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await viewer.PostAsync($"{Mlflow}/runs/log-metric", $$"""{"run_id": "{{run}}", "key": "a", "value": 1, "timestamp": 1}"""))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await viewer.PostAsync($"{Mlflow}/experiments/set-experiment-tag", $$"""{"experiment_id": "{{id}}", "key": "k", "value": "v"}"""))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await viewer.PostAsync($"{Mlflow}/registered-models/create", $$"""{"name": {{J(Name("model"))}}}"""))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await viewer.SendAsync("PUT", $"/api/2.0/mlflow-artifacts/artifacts/{id}/x.txt", "hello"))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");

        // Even a MANAGE grant does not lift a Viewer above reading.
        (await owner.PostAsync($"{Mlflow}/experiments/permissions/create",
            $$"""{"experiment_id": "{{id}}", "username": "victor", "permission": "MANAGE"}""")).ShouldBeOk();
        (await viewer.PostAsync($"{Mlflow}/runs/set-tag", $$"""{"run_id": "{{run}}", "key": "k", "value": "v"}"""))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
    }

    [Fact]
    public async Task Edit_writes_manage_deletes_and_a_read_token_cannot_write()
    {
        await using var server = await StartAsync(DatabaseProvider.Sqlite);
        var owner = await PersonAsync(server, "olga", DashboardRole.Contributor);
        var editor = await PersonAsync(server, "erik", DashboardRole.Contributor);
        var editorReadToken = await PersonAsync(server, "erik", DashboardRole.Contributor, scope: TokenScope.Read);
        var other = await PersonAsync(server, "otto", DashboardRole.Contributor);
        var id = await CreateExperimentAsync(owner);
        var run = (await owner.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": "{{id}}"}""")).ShouldBeOk()
            .Json!["run"]!["info"]!["run_id"]!.GetValue<string>();
        (await owner.PostAsync($"{Mlflow}/experiments/permissions/create",
            $$"""{"experiment_id": "{{id}}", "username": "erik", "permission": "EDIT"}""")).ShouldBeOk();

        // The default (READ) lets others read and nothing more.
        (await other.GetAsync($"{Mlflow}/runs/get?run_id={run}")).ShouldBeOk();
        (await other.PostAsync($"{Mlflow}/runs/set-tag", $$"""{"run_id": "{{run}}", "key": "k", "value": "v"}"""))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");

        (await editor.PostAsync($"{Mlflow}/runs/set-tag", $$"""{"run_id": "{{run}}", "key": "k", "value": "v"}""")).ShouldBeOk();
        (await editor.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": "{{id}}"}""")).ShouldBeOk();
        (await editor.SendAsync("PUT", $"/api/2.0/mlflow-artifacts/artifacts/{id}/{run}/artifacts/x.txt", "hello")).ShouldBeOk();
        (await editor.PostAsync($"{Mlflow}/runs/delete", $$"""{"run_id": "{{run}}"}"""))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await editor.PostAsync($"{Mlflow}/experiments/delete", $$"""{"experiment_id": "{{id}}"}"""))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await editor.GetAsync($"{Mlflow}/experiments/permissions/get?experiment_id={id}&username=erik"))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await editorReadToken.PostAsync($"{Mlflow}/runs/set-tag", $$"""{"run_id": "{{run}}", "key": "k", "value": "w"}"""))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await editorReadToken.GetAsync($"/api/2.0/mlflow-artifacts/artifacts/{id}/{run}/artifacts/x.txt")).ShouldBeOk().Text.ShouldBe("hello");

        // The creator manages: deletes runs and the experiment.
        (await owner.PostAsync($"{Mlflow}/runs/delete", $$"""{"run_id": "{{run}}"}""")).ShouldBeOk();
        (await owner.PostAsync($"{Mlflow}/experiments/delete", $$"""{"experiment_id": "{{id}}"}""")).ShouldBeOk();
    }

    [Fact]
    public async Task The_permission_endpoints_refuse_bad_input_with_mlflow_errors_and_store_nothing()
    {
        await using var server = await StartAsync(DatabaseProvider.Sqlite);
        var admin = await PersonAsync(server, "ada", DashboardRole.Admin);
        var id = await CreateExperimentAsync(admin, Name("perm-bad"));
        var model = Name("perm-bad-model");
        (await admin.PostAsync($"{MakeRegistry.Models}/create", $$"""{"name": {{J(model)}}}""")).ShouldBeOk();
        var create = $"{Mlflow}/experiments/permissions/create";
        string[] bad =
        [
            $$"""{"experiment_id": "{{id}}", "username": "rita", "permission": "read"}""",
            $$"""{"experiment_id": "{{id}}", "username": "rita", "permission": "OWNER"}""",
            $$"""{"experiment_id": "{{id}}", "username": "rita"}""",
            $$"""{"experiment_id": "{{id}}", "permission": "READ"}""",
            $$"""{"experiment_id": "{{id}}", "username": "rita", "group_name": "vision", "permission": "READ"}""",
            $$"""{"experiment_id": "{{id}}", "username": {{J(new string('u', 257))}}, "permission": "READ"}""",
            $$"""{"experiment_id": "{{id}}", "group_name": {{J(new string('g', 257))}}, "permission": "READ"}""",
            $$"""{"experiment_id": "{{id}}", "username": 7, "permission": "READ"}""",
            "{\"experiment_id\": \"" + id + "\", \"username\": ",
        ];
        foreach (var body in bad)
        {
            var reply = await admin.PostAsync(create, body);
            reply.Status.ShouldBe(HttpStatusCode.BadRequest, body + " → " + reply.Text);
            reply.ErrorCode.ShouldBeOneOf(["INVALID_PARAMETER_VALUE", "BAD_REQUEST"], body);
        }
        (await admin.PostAsync(create, """{"experiment_id": "987654321", "username": "rita", "permission": "READ"}"""))
            .ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await admin.PostAsync($"{Mlflow}/registered-models/permissions/create",
            $$"""{"name": {{J(model)}}, "username": "rita", "permission": "ALL"}""")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        await using var db = await server.Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>()
            .CreateDbContextAsync(Ct);
        (await db.ExperimentGrants.CountAsync(g => g.PrincipalName != "ada", Ct)).ShouldBe(0);
        (await db.RegisteredModelGrants.CountAsync(g => g.PrincipalName != "ada", Ct)).ShouldBe(0);
    }

    [Fact]
    public async Task The_record_of_blocked_secrets_refuses_a_bad_page_size_or_token()
    {
        await using var server = await StartAsync(DatabaseProvider.Sqlite);
        var admin = await PersonAsync(server, "ada", DashboardRole.Admin);
        foreach (var query in new[] { "max_results=0", "max_results=1001", "max_results=x", "page_token=abc", "page_token=-1" })
        {
            var reply = await admin.GetAsync($"/api/v1/secret-blocks?{query}");
            reply.Status.ShouldBe(HttpStatusCode.BadRequest, query + " → " + reply.Text);
        }
        (await admin.GetAsync("/api/v1/secret-blocks?max_results=5")).ShouldBeOk();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Search_shows_only_what_the_callers_groups_may_read_with_right_pages(DatabaseProvider provider)
    {
        await using var server = await StartAsync(provider, defaultPermission: "NO_PERMISSIONS");
        var admin = await PersonAsync(server, "ada", DashboardRole.Admin);
        var reader = await PersonAsync(server, "rita", DashboardRole.Viewer, ["vision"]);
        var prefix = Name("perm");
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add(await CreateExperimentAsync(admin, $"{prefix}-{i}"));
        }
        // Group vision reads 0, 2, 4; rita herself is refused 4 (her own grant outranks her group's).
        foreach (var i in new[] { 0, 2, 4 })
        {
            (await admin.PostAsync($"{Mlflow}/experiments/permissions/create",
                $$"""{"experiment_id": "{{ids[i]}}", "group_name": "vision", "permission": "READ"}""")).ShouldBeOk();
        }
        (await admin.PostAsync($"{Mlflow}/experiments/permissions/create",
            $$"""{"experiment_id": "{{ids[4]}}", "username": "rita", "permission": "NO_PERMISSIONS"}""")).ShouldBeOk();
        var run = (await admin.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": "{{ids[1]}}"}""")).ShouldBeOk()
            .Json!["run"]!["info"]!["run_id"]!.GetValue<string>();
        (await admin.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": "{{ids[0]}}"}""")).ShouldBeOk();

        var filter = J($"name LIKE '{prefix}%'");
        var first = (await reader.PostAsync($"{Mlflow}/experiments/search",
            $$"""{"filter": {{filter}}, "max_results": 1, "order_by": ["name ASC"]}""")).ShouldBeOk();
        first.Json!["experiments"]!.AsArray().Select(e => e!["name"]!.GetValue<string>()).ShouldBe([$"{prefix}-0"]);
        var token = first.Json["next_page_token"]!.GetValue<string>();
        var second = (await reader.PostAsync($"{Mlflow}/experiments/search",
            $$"""{"filter": {{filter}}, "max_results": 1, "order_by": ["name ASC"], "page_token": {{J(token)}}}""")).ShouldBeOk();
        second.Json!["experiments"]!.AsArray().Select(e => e!["name"]!.GetValue<string>()).ShouldBe([$"{prefix}-2"]);
        second.Json["next_page_token"].ShouldBeNull();
        (await admin.PostAsync($"{Mlflow}/experiments/search", $$"""{"filter": {{filter}}}""")).ShouldBeOk()
            .Json!["experiments"]!.AsArray().Count.ShouldBe(6);

        // runs/search drops the experiments the caller may not read, as MLflow's auth does.
        var runs = (await reader.PostAsync($"{Mlflow}/runs/search",
            $$"""{"experiment_ids": ["{{ids[0]}}", "{{ids[1]}}"]}""")).ShouldBeOk();
        runs.Json!["runs"]!.AsArray().Select(r => r!["info"]!["experiment_id"]!.GetValue<string>()).ShouldBe([ids[0]]);
        (await reader.PostAsync($"{Mlflow}/runs/search", $$"""{"experiment_ids": ["{{ids[1]}}"]}""")).ShouldBeOk()
            .Json!["runs"].ShouldBeNull();
        (await reader.GetAsync($"{Mlflow}/runs/get?run_id={run}")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await reader.GetAsync($"{Mlflow}/experiments/get?experiment_id={ids[4]}")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await reader.GetAsync($"{Mlflow}/experiments/get-by-name?experiment_name={Uri.EscapeDataString($"{prefix}-3")}"))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await reader.GetAsync($"{Mlflow}/experiments/get?experiment_id={ids[2]}")).ShouldBeOk();
    }

    [Fact]
    public async Task Registered_models_are_filtered_and_their_grants_managed_through_mlflows_endpoints()
    {
        await using var server = await StartAsync(DatabaseProvider.Sqlite, defaultPermission: "NO_PERMISSIONS");
        var owner = await PersonAsync(server, "olga", DashboardRole.Contributor);
        var other = await PersonAsync(server, "otto", DashboardRole.Contributor, ["nlp"]);
        var mine = Name("model");
        var shared = Name("model");
        (await owner.PostAsync($"{Mlflow}/registered-models/create", $$"""{"name": {{J(mine)}}}""")).ShouldBeOk();
        (await owner.PostAsync($"{Mlflow}/registered-models/create", $$"""{"name": {{J(shared)}}}""")).ShouldBeOk();

        // The creator's own grant, as MLflow makes it.
        var got = (await owner.GetAsync($"{Mlflow}/registered-models/permissions/get?name={shared}&username=olga")).ShouldBeOk();
        got.Json!["registered_model_permission"]!["permission"]!.GetValue<string>().ShouldBe("MANAGE");
        got.Json["registered_model_permission"]!["name"]!.GetValue<string>().ShouldBe(shared);

        (await other.GetAsync($"{Mlflow}/registered-models/get?name={shared}")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        var created = (await owner.PostAsync($"{Mlflow}/registered-models/permissions/create",
            $$"""{"name": {{J(shared)}}, "group_name": "nlp", "permission": "READ"}""")).ShouldBeOk();
        created.Json!["registered_model_permission"]!["group_name"]!.GetValue<string>().ShouldBe("nlp");
        (await owner.PostAsync($"{Mlflow}/registered-models/permissions/create",
            $$"""{"name": {{J(shared)}}, "group_name": "nlp", "permission": "READ"}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS");

        (await other.GetAsync($"{Mlflow}/registered-models/get?name={shared}")).ShouldBeOk();
        var search = (await other.GetAsync($"{Mlflow}/registered-models/search?max_results=100")).ShouldBeOk();
        search.Json!["registered_models"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()).ShouldBe([shared]);
        (await other.PostAsync($"{Mlflow}/registered-models/set-tag", $$"""{"name": {{J(shared)}}, "key": "k", "value": "v"}"""))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");

        (await owner.SendAsync("PATCH", $"{Mlflow}/registered-models/permissions/update",
            $$"""{"name": {{J(shared)}}, "group_name": "nlp", "permission": "EDIT"}""")).ShouldBeOk().Text.ShouldBe("{}");
        (await other.PostAsync($"{Mlflow}/registered-models/set-tag", $$"""{"name": {{J(shared)}}, "key": "k", "value": "v"}""")).ShouldBeOk();
        // EDIT does not manage grants.
        (await other.PostAsync($"{Mlflow}/registered-models/permissions/create",
            $$"""{"name": {{J(shared)}}, "username": "otto", "permission": "MANAGE"}"""))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");

        (await owner.SendAsync("DELETE", $"{Mlflow}/registered-models/permissions/delete",
            $$"""{"name": {{J(shared)}}, "group_name": "nlp"}""")).ShouldBeOk();
        (await owner.SendAsync("DELETE", $"{Mlflow}/registered-models/permissions/delete",
            $$"""{"name": {{J(shared)}}, "group_name": "nlp"}""")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await other.GetAsync($"{Mlflow}/registered-models/get?name={shared}")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
    }

    [Fact]
    public async Task Experiment_permission_endpoints_answer_mlflows_shapes_and_errors()
    {
        await using var server = await StartAsync(DatabaseProvider.Sqlite);
        var owner = await PersonAsync(server, "olga", DashboardRole.Contributor);
        var id = await CreateExperimentAsync(owner);

        var created = (await owner.PostAsync($"{Mlflow}/experiments/permissions/create",
            $$"""{"experiment_id": "{{id}}", "username": "pat", "permission": "EDIT"}""")).ShouldBeOk();
        created.Json!["experiment_permission"]!["experiment_id"]!.GetValue<string>().ShouldBe(id);
        created.Json["experiment_permission"]!["username"]!.GetValue<string>().ShouldBe("pat");
        created.Json["experiment_permission"]!["permission"]!.GetValue<string>().ShouldBe("EDIT");
        (await owner.GetAsync($"/ajax-api/2.0/mlflow/experiments/permissions/get?experiment_id={id}&username=pat")).ShouldBeOk()
            .Json!["experiment_permission"]!["permission"]!.GetValue<string>().ShouldBe("EDIT");
        (await owner.GetAsync($"{Mlflow}/experiments/permissions/get?experiment_id={id}&username=nobody"))
            .ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await owner.PostAsync($"{Mlflow}/experiments/permissions/create",
            $$"""{"experiment_id": "{{id}}", "username": "quinn", "permission": "OWNER"}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await owner.PostAsync($"{Mlflow}/experiments/permissions/create", $$"""{"experiment_id": "{{id}}", "permission": "READ"}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await owner.PostAsync($"{Mlflow}/experiments/permissions/create",
            $$"""{"experiment_id": "{{id}}", "username": "pat", "permission": "READ"}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS");
        (await owner.SendAsync("PATCH", $"{Mlflow}/experiments/permissions/update",
            $$"""{"experiment_id": "{{id}}", "username": "pat", "permission": "READ"}""")).ShouldBeOk();
        (await owner.GetAsync($"{Mlflow}/experiments/permissions/get?experiment_id={id}&username=pat")).ShouldBeOk()
            .Json!["experiment_permission"]!["permission"]!.GetValue<string>().ShouldBe("READ");
        (await owner.SendAsync("DELETE", $"{Mlflow}/experiments/permissions/delete",
            $$"""{"experiment_id": "{{id}}", "username": "pat"}""")).ShouldBeOk();
        (await owner.SendAsync("PATCH", $"{Mlflow}/experiments/permissions/update",
            $$"""{"experiment_id": "{{id}}", "username": "pat", "permission": "READ"}"""))
            .ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
    }

    [Fact]
    public async Task V1_and_the_dashboards_own_endpoints_refuse_unreadable_runs()
    {
        await using var server = await StartAsync(DatabaseProvider.Sqlite, defaultPermission: "NO_PERMISSIONS");
        var owner = await PersonAsync(server, "olga", DashboardRole.Contributor);
        var other = await PersonAsync(server, "otto", DashboardRole.Contributor);
        var id = await CreateExperimentAsync(owner);
        var run = (await owner.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": "{{id}}"}""")).ShouldBeOk()
            .Json!["run"]!["info"]!["run_id"]!.GetValue<string>();

        var v1 = await other.GetAsync($"/api/v1/runs/{run}/model-cards");
        v1.Status.ShouldBe(HttpStatusCode.Forbidden, v1.Text);
        v1.Json!["error_code"]!.GetValue<string>().ShouldBe("PERMISSION_DENIED");
        (await owner.GetAsync($"/api/v1/runs/{run}/model-cards")).ShouldBeOk();
        (await other.GetAsync($"{Mlflow}/metrics/get-history?run_id={run}&metric_key=a"))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await other.GetAsync($"{Mlflow}/artifacts/list?run_id={run}")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await other.GetAsync($"/experiments/{id}/runs.csv")).Status.ShouldBe(HttpStatusCode.Forbidden);
        (await owner.GetAsync($"/experiments/{id}/runs.csv")).ShouldBeOk();
    }
    [Theory, MemberData(nameof(Providers))]
    public async Task Model_versions_and_logged_models_are_searched_within_what_the_caller_may_read(DatabaseProvider provider)
    {
        await using var server = await StartAsync(provider, defaultPermission: "NO_PERMISSIONS");
        var owner = await PersonAsync(server, "olga", DashboardRole.Contributor);
        var reader = await PersonAsync(server, "rita", DashboardRole.Contributor, ["vision"]);
        var open = await CreateExperimentAsync(owner);
        var closed = await CreateExperimentAsync(owner);
        (await owner.PostAsync($"{Mlflow}/experiments/permissions/create",
            $$"""{"experiment_id": "{{open}}", "group_name": "vision", "permission": "READ"}""")).ShouldBeOk();
        foreach (var experiment in new[] { open, closed })
        {
            (await owner.PostAsync($"{Mlflow}/logged-models", $$"""{"experiment_id": "{{experiment}}", "name": "m-{{experiment}}"}""")).ShouldBeOk();
        }
        var models = (await reader.PostAsync($"{Mlflow}/logged-models/search", $$"""{"experiment_ids": ["{{open}}", "{{closed}}"]}""")).ShouldBeOk();
        models.Json!["models"]!.AsArray().Select(m => m!["info"]!["experiment_id"]!.GetValue<string>()).ShouldBe([open]);
        (await reader.PostAsync($"{Mlflow}/logged-models/search", $$"""{"experiment_ids": ["{{closed}}"]}""")).ShouldBeOk()
            .Json!["models"].ShouldBeNull();

        var run = (await owner.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": "{{open}}"}""")).ShouldBeOk().Json!["run"]!["info"]!;
        var source = run["artifact_uri"]!.GetValue<string>() + "/model";
        var runId = run["run_id"]!.GetValue<string>();
        var prefix = Name("reg");
        var shared = $"{prefix}-shared";
        foreach (var model in new[] { shared, $"{prefix}-private" })
        {
            (await owner.PostAsync($"{Mlflow}/registered-models/create", $$"""{"name": {{J(model)}}}""")).ShouldBeOk();
            for (var i = 0; i < 2; i++)
            {
                (await owner.PostAsync($"{Mlflow}/model-versions/create",
                    $$"""{"name": {{J(model)}}, "source": {{J(source)}}, "run_id": {{J(runId)}}}""")).ShouldBeOk();
            }
        }
        (await owner.PostAsync($"{Mlflow}/registered-models/permissions/create",
            $$"""{"name": {{J(shared)}}, "username": "rita", "permission": "READ"}""")).ShouldBeOk();
        var filter = Uri.EscapeDataString($"name LIKE '{prefix}%'");
        var first = (await reader.GetAsync($"{Mlflow}/model-versions/search?filter={filter}&max_results=1")).ShouldBeOk();
        first.Json!["model_versions"]!.AsArray().Select(v => v!["name"]!.GetValue<string>()).ShouldBe([shared]);
        var token = Uri.EscapeDataString(first.Json["next_page_token"]!.GetValue<string>());
        var second = (await reader.GetAsync($"{Mlflow}/model-versions/search?filter={filter}&max_results=1&page_token={token}")).ShouldBeOk();
        second.Json!["model_versions"]!.AsArray().Select(v => v!["name"]!.GetValue<string>()).ShouldBe([shared]);
        second.Json["next_page_token"].ShouldBeNull();
        (await owner.GetAsync($"{Mlflow}/model-versions/search?filter={filter}")).ShouldBeOk()
            .Json!["model_versions"]!.AsArray().Count.ShouldBe(4);
        (await reader.GetAsync($"{Mlflow}/model-versions/get?name={prefix}-private&version=1")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await reader.GetAsync($"/api/v1/model-uri?uri={Uri.EscapeDataString($"models:/{prefix}-private/1")}")).Status.ShouldBe(HttpStatusCode.Forbidden);
        (await reader.GetAsync($"/api/v1/model-uri?uri={Uri.EscapeDataString($"models:/{shared}/1")}")).ShouldBeOk();

        // Registering a version needs EDIT on the model and READ on the run it comes from.
        (await owner.SendAsync("PATCH", $"{Mlflow}/registered-models/permissions/update",
            $$"""{"name": {{J(shared)}}, "username": "rita", "permission": "EDIT"}""")).ShouldBeOk();
        var hidden = (await owner.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": "{{closed}}"}""")).ShouldBeOk().Json!["run"]!["info"]!;
        (await reader.PostAsync($"{Mlflow}/model-versions/create", $$"""{"name": {{J(shared)}}, "source": {{J(hidden["artifact_uri"]!.GetValue<string>() + "/model")}}, "run_id": {{J(hidden["run_id"]!.GetValue<string>())}}}"""))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await reader.PostAsync($"{Mlflow}/model-versions/create",
            $$"""{"name": {{J(shared)}}, "source": {{J(source)}}, "run_id": {{J(runId)}}}""")).ShouldBeOk();

        // The artifact proxy: an experiment's folder by its permission, anything else for the Admin role only.
        (await reader.GetAsync($"/api/2.0/mlflow-artifacts/artifacts?path={closed}")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await reader.GetAsync($"/api/2.0/mlflow-artifacts/artifacts?path={open}")).ShouldBeOk();
        (await reader.GetAsync("/api/2.0/mlflow-artifacts/artifacts")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
    }
}
