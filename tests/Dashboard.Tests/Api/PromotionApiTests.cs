using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Dashboard.Data;
using Dashboard.Governance;
using Dashboard.Security;
using Dashboard.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Api;

/// <summary>
/// One OpenID Connect provider and one dashboard in Oidc mode whose role mapping makes the provider's "outsiders" group
/// Approvers (so the stranger-bot service client and nora are Approvers), with EDIT as the default permission.
/// </summary>
public sealed class PromotionApiFixture : IAsyncLifetime
{
    private TestOidcProvider? _provider;
    private DashboardServer? _server;

    public TestOidcProvider Provider => _provider!;
    public DashboardServer Server => _server!;

    public async ValueTask InitializeAsync()
    {
        _provider = await TestOidcProvider.StartAsync();
        _server = await _provider.StartDashboardAsync(new Dictionary<string, string>
        {
            ["Dashboard:Auth:Oidc:Roles:Approver:0"] = "outsiders",
            ["Dashboard:Auth:DefaultPermission"] = "EDIT",
        });
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
/// The promotion API over real HTTP (issue 7): policies, requests, reviews and the gates under /api/v1 with their
/// ProblemDetails errors, and the direct MLflow stage and alias calls that a protected target refuses to those who may
/// not approve. Callers are the provider's service clients (JWTs whose roles the mapping turns into Contributor and
/// Approver) and people with personal tokens.
/// </summary>
public sealed class PromotionApiTests(PromotionApiFixture fixture) : IClassFixture<PromotionApiFixture>
{
    private DashboardServer Server => fixture.Server;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string V1 = "/api/v1";

    /// <summary>Someone with a bearer token.</summary>
    private sealed class Client(DashboardServer server, string token)
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

        public Task<Reply> PutAsync(string path, string json) => SendAsync("PUT", path, json);
    }

    private async Task<Client> ServiceAsync(string clientId) => new(Server, await fixture.Provider.ClientCredentialsTokenAsync(clientId));

    private async Task<Client> PersonAsync(string name, DashboardRole role, params string[] groups)
    {
        var user = await Server.Services.GetRequiredService<UserDirectory>().RecordSignInAsync($"sub-{name}", name, null, role, groups, Ct);
        var token = await Server.Services.GetRequiredService<TokenService>().CreateAsync(user.Id, "test", TokenScope.Admin, null, name, Ct);
        return new Client(Server, token.Secret);
    }

    /// <summary>A model with versions registered from runs that logged these accuracies; answers its name.</summary>
    private static async Task<string> ModelAsync(Client owner, params double[] accuracies)
    {
        var name = Name("promo");
        var experiment = (await owner.PostAsync($"{Mlflow}/experiments/create", $$"""{"name": {{J(Name())}}}""")).ShouldBeOk()
            .Json!["experiment_id"]!.GetValue<string>();
        (await owner.PostAsync($"{Mlflow}/registered-models/create", $$"""{"name": {{J(name)}}}""")).ShouldBeOk();
        foreach (var accuracy in accuracies)
        {
            var run = (await owner.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": "{{experiment}}"}""")).ShouldBeOk().Json!["run"]!["info"]!;
            var runId = run["run_id"]!.GetValue<string>();
            (await owner.PostAsync($"{Mlflow}/runs/log-metric",
                $$"""{"run_id": "{{runId}}", "key": "val_accuracy", "value": {{accuracy.ToString(System.Globalization.CultureInfo.InvariantCulture)}}, "timestamp": 1}"""))
                .ShouldBeOk();
            (await owner.PostAsync($"{Mlflow}/model-versions/create", $$"""
                {"name": {{J(name)}}, "source": {{J(run["artifact_uri"]!.GetValue<string>() + "/model")}}, "run_id": "{{runId}}"}
                """)).ShouldBeOk();
        }
        return name;
    }

    private static async Task<string> StageOfAsync(Client who, string name, string version) =>
        (await who.GetAsync($"{Mlflow}/model-versions/get?name={name}&version={version}")).ShouldBeOk()
        .Json!["model_version"]!["current_stage"]!.GetValue<string>();

    private static string Policy(string stages = "[\"Production\"]", string aliases = "[\"champion\"]", string extra = "") =>
        $$"""{"protected_stages": {{stages}}, "protected_aliases": {{aliases}}{{extra}}}""";

    private static Reply Problem(Reply reply, HttpStatusCode status, string errorCode)
    {
        reply.ShouldFail(status, errorCode);
        reply.Json!["detail"].ShouldNotBeNull();
        reply.Json!["status"]!.GetValue<int>().ShouldBe((int)status);
        return reply;
    }

    [Fact]
    public async Task A_contributors_direct_mlflow_change_of_a_protected_target_is_refused_with_a_pointer_and_an_approvers_is_allowed()
    {
        var trainer = await ServiceAsync("trainer");
        var approver = await ServiceAsync("stranger-bot");
        var name = await ModelAsync(trainer, 0.9, 0.95);
        var admin = await PersonAsync("ada", DashboardRole.Admin, "dashboard-admins");
        (await admin.PutAsync($"{V1}/registered-models/{name}/promotion-policy", Policy())).ShouldBeOk();

        var stage = await trainer.PostAsync($"{Mlflow}/model-versions/transition-stage",
            $$"""{"name": {{J(name)}}, "version": "1", "stage": "Production", "archive_existing_versions": false}""");
        stage.ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        stage.Message.ShouldBe($"Stage 'Production' of model '{name}' is protected: open a promotion request " +
            "(POST /api/v1/promotion-requests or the version's page in Dashboard).");
        var alias = await trainer.PostAsync($"{Mlflow}/registered-models/alias", $$"""{"name": {{J(name)}}, "alias": "champion", "version": "1"}""");
        alias.ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        alias.Message!.ShouldStartWith($"Alias 'champion' of model '{name}' is protected: open a promotion request");
        (await StageOfAsync(trainer, name, "1")).ShouldBe("None");
        (await trainer.GetAsync($"{Mlflow}/registered-models/alias?name={name}&alias=champion")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        // An unprotected stage is the contributor's to change, as before.
        (await trainer.PostAsync($"{Mlflow}/model-versions/transition-stage",
            $$"""{"name": {{J(name)}}, "version": "2", "stage": "Staging"}""")).ShouldBeOk();

        (await approver.PostAsync($"{Mlflow}/model-versions/transition-stage",
            $$"""{"name": {{J(name)}}, "version": "1", "stage": "production"}""")).ShouldBeOk();
        (await approver.PostAsync($"{Mlflow}/registered-models/alias", $$"""{"name": {{J(name)}}, "alias": "champion", "version": "1"}""")).ShouldBeOk();
        (await StageOfAsync(trainer, name, "1")).ShouldBe("Production");
        // Moving out of Production and deleting the alias are protected too.
        (await trainer.PostAsync($"{Mlflow}/model-versions/transition-stage",
            $$"""{"name": {{J(name)}}, "version": "1", "stage": "Archived"}""")).ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED")
            .Message!.ShouldContain("is in protected stage 'Production'");
        var owner = await PersonAsync("alice", DashboardRole.Contributor, "ml-team");
        (await trainer.SendAsync("DELETE", $"{Mlflow}/registered-models/alias", $$"""{"name": {{J(name)}}, "alias": "champion"}"""))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await StageOfAsync(owner, name, "1")).ShouldBe("Production");
        (await trainer.GetAsync($"{Mlflow}/registered-models/alias?name={name}&alias=champion")).ShouldBeOk();

        await using var db = await Server.Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync(Ct);
        (await db.AuditEvents.CountAsync(e => e.ModelName == name && e.Action == AuditActions.DirectChangeRefused && e.Actor == "trainer", Ct)).ShouldBe(4);
    }

    [Fact]
    public async Task Deleting_a_version_or_model_that_holds_a_protected_target_is_refused_to_a_contributor_and_allowed_to_an_approver()
    {
        var trainer = await ServiceAsync("trainer");
        var approver = await ServiceAsync("stranger-bot");
        var name = await ModelAsync(trainer, 0.9, 0.95, 0.97);
        var admin = await PersonAsync("ada", DashboardRole.Admin, "dashboard-admins");
        (await admin.PutAsync($"{V1}/registered-models/{name}/promotion-policy", Policy())).ShouldBeOk();
        (await approver.PostAsync($"{Mlflow}/model-versions/transition-stage",
            $$"""{"name": {{J(name)}}, "version": "1", "stage": "Production"}""")).ShouldBeOk();
        (await approver.PostAsync($"{Mlflow}/registered-models/alias", $$"""{"name": {{J(name)}}, "alias": "champion", "version": "2"}""")).ShouldBeOk();

        // The trainer created the model, so it holds MANAGE: only the policy stands between it and the deletions.
        var version = await trainer.SendAsync("DELETE", $"{Mlflow}/model-versions/delete", $$"""{"name": {{J(name)}}, "version": "1"}""");
        version.ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        version.Message!.ShouldStartWith($"Version 1 of model '{name}' is in protected stage 'Production': it cannot be deleted");
        var aliased = await trainer.SendAsync("DELETE", $"{Mlflow}/model-versions/delete", $$"""{"name": {{J(name)}}, "version": "2"}""");
        aliased.ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        aliased.Message!.ShouldStartWith($"Version 2 of model '{name}' holds protected alias 'champion'");
        (await trainer.SendAsync("DELETE", $"{Mlflow}/registered-models/delete", $$"""{"name": {{J(name)}}}"""))
            .ShouldFail(HttpStatusCode.Forbidden, "PERMISSION_DENIED").Message!.ShouldContain("protected stage 'Production'");
        (await StageOfAsync(trainer, name, "1")).ShouldBe("Production");
        (await StageOfAsync(trainer, name, "2")).ShouldBe("None");
        // A version that holds no protected target is the owner's to delete, as before.
        (await trainer.SendAsync("DELETE", $"{Mlflow}/model-versions/delete", $$"""{"name": {{J(name)}}, "version": "3"}""")).ShouldBeOk();

        // An Admin (who may approve, and manages) may.
        (await admin.SendAsync("DELETE", $"{Mlflow}/model-versions/delete", $$"""{"name": {{J(name)}}, "version": "1"}""")).ShouldBeOk();
        await using var db = await Server.Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync(Ct);
        (await db.AuditEvents.CountAsync(e => e.ModelName == name && e.Action == AuditActions.DirectChangeRefused && e.Actor == "trainer", Ct)).ShouldBe(3);
        (await db.AuditEvents.CountAsync(e => e.ModelName == name && e.Action == AuditActions.VersionDeleted && e.Actor == "ada", Ct)).ShouldBe(1);
    }

    [Fact]
    public async Task A_request_is_made_seen_with_its_gates_approved_by_another_person_and_applied()
    {
        var alice = await PersonAsync("alice", DashboardRole.Contributor, "ml-team");
        var approver = await ServiceAsync("stranger-bot");
        var name = await ModelAsync(alice, 0.9, 0.962);
        (await alice.PostAsync($"{Mlflow}/model-versions/transition-stage",
            $$"""{"name": {{J(name)}}, "version": "1", "stage": "Production"}""")).ShouldBeOk();
        var admin = await PersonAsync("ada", DashboardRole.Admin, "dashboard-admins");
        (await admin.PutAsync($"{V1}/registered-models/{name}/promotion-policy", Policy(extra: """
            , "required_approvals": 1, "expiry_hours": 72,
            "gates": [{"kind": "metric", "name": "accuracy", "expression": "metrics.val_accuracy >= 0.95"},
                      {"kind": "compare", "metric": "val_accuracy", "margin": 0.01}]
            """))).ShouldBeOk();

        var gates = (await alice.GetAsync($"{V1}/registered-models/{name}/versions/2/gates?target_kind=stage&target=Production")).ShouldBeOk().Json!;
        gates["passed"]!.GetValue<bool>().ShouldBeTrue();
        gates["gates"]![0]!["detail"]!.GetValue<string>().ShouldBe("val_accuracy 0.962 ≥ 0.95");
        gates["gates"]![0]!["label"]!.GetValue<string>().ShouldBe("accuracy");
        gates["gates"]![1]!["detail"]!.GetValue<string>().ShouldBe("val_accuracy 0.962 vs 0.9 of version 1 (Production): not worse");

        var created = await alice.PostAsync($"{V1}/promotion-requests", $$"""
            {"name": {{J(name)}}, "version": "2", "target_kind": "stage", "target": "production", "archive_existing_versions": true,
             "comment": "<b>best</b> so far"}
            """);
        created.Status.ShouldBe(HttpStatusCode.Created, created.Text);
        var request = created.Json!;
        var id = request["id"]!.GetValue<long>();
        request["state"]!.GetValue<string>().ShouldBe("Pending");
        request["target"]!.GetValue<string>().ShouldBe("Production");
        request["comment"]!.GetValue<string>().ShouldBe("<b>best</b> so far");
        request["requested_by"]!.GetValue<string>().ShouldBe("alice");
        request["required_approvals"]!.GetValue<int>().ShouldBe(1);
        request["gates_passed"]!.GetValue<bool>().ShouldBeTrue();
        request["can_cancel"]!.GetValue<bool>().ShouldBeTrue();
        request["can_approve"]!.GetValue<bool>().ShouldBeFalse();
        request["expires_at"]!.GetValue<long>().ShouldBeGreaterThan(request["created_at"]!.GetValue<long>());

        Problem(await alice.PostAsync($"{V1}/promotion-requests/{id}/approve", "{}"), HttpStatusCode.Forbidden, "PERMISSION_DENIED")
            .Json!["detail"]!.GetValue<string>().ShouldBe("You cannot approve your own request.");
        var inbox = (await approver.GetAsync($"{V1}/promotion-requests?reviewable=true&name={name}")).ShouldBeOk().Json!["requests"]!.AsArray();
        inbox.ShouldHaveSingleItem()!["can_approve"]!.GetValue<bool>().ShouldBeTrue();
        var evidence = (await approver.GetAsync($"{V1}/promotion-requests/{id}/evidence")).ShouldBeOk().Json!;
        evidence["candidate"]!["metrics"]!["val_accuracy"]!.GetValue<double>().ShouldBe(0.962);
        evidence["holder"]!["version"]!.GetValue<int>().ShouldBe(1);
        evidence["holder"]!["metrics"]!["val_accuracy"]!.GetValue<double>().ShouldBe(0.9);
        evidence["gates"]!.AsArray().Count.ShouldBe(2);

        var approved = (await approver.PostAsync($"{V1}/promotion-requests/{id}/approve", """{"comment": "ship it"}""")).ShouldBeOk().Json!;
        approved["state"]!.GetValue<string>().ShouldBe("Approved");
        approved["previous_version"]!.GetValue<int>().ShouldBe(1);
        approved["reviews"]![0]!["reviewer"]!.GetValue<string>().ShouldBe("stranger-bot");
        approved["reviews"]![0]!["decision"]!.GetValue<string>().ShouldBe("approve");
        (await StageOfAsync(alice, name, "2")).ShouldBe("Production");
        (await StageOfAsync(alice, name, "1")).ShouldBe("Archived");
        Problem(await approver.PostAsync($"{V1}/promotion-requests/{id}/reject", "{}"), HttpStatusCode.Conflict, "INVALID_STATE");
        Problem(await alice.PostAsync($"{V1}/promotion-requests/{id}/cancel", ""), HttpStatusCode.Conflict, "INVALID_STATE");

        var mine = (await alice.GetAsync($"{V1}/promotion-requests?requested_by=alice&state=approved&name={name}")).ShouldBeOk().Json!;
        mine["requests"]!.AsArray().ShouldHaveSingleItem()!["id"]!.GetValue<long>().ShouldBe(id);
        var thread = await alice.PostAsync($"{V1}/promotion-requests/{id}/comments", """{"body": "thanks"}""");
        thread.Status.ShouldBe(HttpStatusCode.Created, thread.Text);
        thread.Json!["comments"]![0]!["author"]!.GetValue<string>().ShouldBe("alice");
    }

    [Fact]
    public async Task Members_of_a_policys_approver_groups_approve_from_their_inbox_and_others_may_not()
    {
        var alice = await PersonAsync("alice", DashboardRole.Contributor, "ml-team");
        var sam = await PersonAsync("sam", DashboardRole.Contributor, "ml-team");
        var nora = await PersonAsync("nora", DashboardRole.Approver, "outsiders");
        var name = await ModelAsync(alice, 0.9);
        var admin = await PersonAsync("ada", DashboardRole.Admin, "dashboard-admins");
        var policy = (await admin.PutAsync($"{V1}/registered-models/{name}/promotion-policy", Policy(extra: """
            , "approver_role": false, "approver_groups": ["ml-team"], "direct_change": "request"
            """))).ShouldBeOk().Json!;
        policy["direct_change"]!.GetValue<string>().ShouldBe("Request");
        policy["inherited"]!.GetValue<bool>().ShouldBeFalse();
        var id = (await alice.PostAsync($"{V1}/promotion-requests", $$"""
            {"name": {{J(name)}}, "version": "1", "target_kind": "alias", "target": "champion"}
            """)).Json!["id"]!.GetValue<long>();

        (await nora.GetAsync($"{V1}/promotion-requests?reviewable=true&name={name}")).ShouldBeOk().Json!["requests"]!.AsArray().ShouldBeEmpty();
        Problem(await nora.PostAsync($"{V1}/promotion-requests/{id}/approve", "{}"), HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        (await sam.GetAsync($"{V1}/promotion-requests?reviewable=true&name={name}")).ShouldBeOk().Json!["requests"]!.AsArray().Count.ShouldBe(1);

        (await sam.PostAsync($"{V1}/promotion-requests/{id}/approve", "")).ShouldBeOk().Json!["state"]!.GetValue<string>().ShouldBe("Approved");
        (await alice.GetAsync($"{Mlflow}/registered-models/alias?name={name}&alias=champion")).ShouldBeOk()
            .Json!["model_version"]!["version"]!.GetValue<string>().ShouldBe("1");
    }

    [Fact]
    public async Task Bad_input_is_a_problem_details_400_or_404_and_stores_nothing()
    {
        var alice = await PersonAsync("alice", DashboardRole.Contributor, "ml-team");
        var sam = await PersonAsync("sam", DashboardRole.Contributor, "ml-team");
        var name = await ModelAsync(alice, 0.9);
        var path = $"{V1}/registered-models/{name}/promotion-policy";

        Problem(await alice.PutAsync($"{V1}/promotion-policy", Policy()), HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        Problem(await sam.PutAsync(path, Policy()), HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        foreach (var body in new[]
                 {
                     "{", "[]", "null", """{"required_approvals": "2"}""", """{"protected_stages": "Production"}""", """{"approver_role": "yes"}""",
                     """{"required_approvals": 0}""", """{"protected_stages": ["None"]}""", """{"direct_change": "Maybe"}""",
                     """{"gates": [{"kind": "metric", "expression": "metrics.acc >>> 1"}]}""", """{"gates": [{"kind": "top_k", "metric": "acc", "k": 0}]}""",
                     """{"gates": [{"metric": "acc"}]}""", """{"gates": [{"kind": "compare", "metric": "acc", "margin": -1}]}""",
                 })
        {
            Problem(await alice.PutAsync(path, body), HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        }
        (await alice.GetAsync(path)).ShouldBeOk().Json!["inherited"]!.GetValue<bool>().ShouldBeTrue();
        Problem(await alice.GetAsync($"{V1}/registered-models/nope-{Guid.NewGuid():N}/promotion-policy"), HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");

        foreach (var body in new[]
                 {
                     "{", """{"name": 5}""", $$"""{"name": {{J(name)}}, "version": 1, "target_kind": "stage", "target": "Production"}""",
                     $$"""{"name": {{J(name)}}, "version": "1", "target_kind": "stage", "target": "Production", "archive_existing_versions": "yes"}""",
                     $$"""{"name": {{J(name)}}, "version": "1", "target_kind": "branch", "target": "Production"}""",
                     $$"""{"name": {{J(name)}}, "version": "1", "target_kind": "stage", "target": "None"}""",
                     $$"""{"name": {{J(name)}}, "version": "x", "target_kind": "stage", "target": "Production"}""",
                     $$"""{"name": {{J(name)}}, "version": "1", "target_kind": "stage", "target": "Production", "comment": {{J(new string('c', 5001))}}}""",
                 })
        {
            Problem(await alice.PostAsync($"{V1}/promotion-requests", body), HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        }
        Problem(await alice.PostAsync($"{V1}/promotion-requests", $$"""{"name": {{J(name)}}, "version": "9", "target_kind": "stage", "target": "Production"}"""),
            HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        await using (var db = await Server.Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync(Ct))
        {
            (await db.PromotionRequests.CountAsync(r => r.ModelName == name, Ct)).ShouldBe(0);
        }

        var ok = $$"""{"name": {{J(name)}}, "version": "1", "target_kind": "stage", "target": "Production"}""";
        var id = (await alice.PostAsync($"{V1}/promotion-requests", ok)).Json!["id"]!.GetValue<long>();
        Problem(await sam.PostAsync($"{V1}/promotion-requests", ok), HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS")
            .Json!["detail"]!.GetValue<string>().ShouldContain($"#{id}");
        Problem(await sam.PostAsync($"{V1}/promotion-requests/{id}/cancel", "{}"), HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        Problem(await sam.PostAsync($"{V1}/promotion-requests/{id}/comments", """{"body": ""}"""), HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        Problem(await sam.PostAsync($"{V1}/promotion-requests/{id}/comments", """{"body": 3}"""), HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        Problem(await sam.PostAsync($"{V1}/promotion-requests/{id}/approve", """{"comment": 3}"""), HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        Problem(await sam.GetAsync($"{V1}/promotion-requests/{id + 1000}"), HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        Problem(await sam.GetAsync($"{V1}/promotion-requests/abc"), HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        Problem(await sam.PostAsync($"{V1}/promotion-requests/abc/approve", "{}"), HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        foreach (var query in new[] { "max_results=0", "max_results=1001", "max_results=x", "page_token=abc", "page_token=-1", "state=Bogus", "reviewable=maybe" })
        {
            var reply = await sam.GetAsync($"{V1}/promotion-requests?{query}");
            reply.Status.ShouldBe(HttpStatusCode.BadRequest, query + " → " + reply.Text);
        }
        Problem(await sam.GetAsync($"{V1}/registered-models/{name}/versions/1/gates?target_kind=stage&target=None"),
            HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");

        var page = (await sam.GetAsync($"{V1}/promotion-requests?max_results=1&name={name}")).ShouldBeOk().Json!;
        page["requests"]!.AsArray().Count.ShouldBe(1);
        (await alice.PostAsync($"{V1}/promotion-requests/{id}/cancel", """{"comment": "later"}""")).ShouldBeOk()
            .Json!["state"]!.GetValue<string>().ShouldBe("Cancelled");
    }

    [Fact]
    public async Task The_default_policy_is_read_by_anyone_and_set_by_an_admin()
    {
        var admin = await PersonAsync("ada", DashboardRole.Admin, "dashboard-admins");
        var viewer = await PersonAsync("victor", DashboardRole.Viewer, "readers");
        try
        {
            var set = (await admin.PutAsync($"{V1}/promotion-policy", """
                {"protected_stages": ["Staging"], "required_approvals": 2,
                 "gates": [{"kind": "top_k", "metric": "val_accuracy", "k": 3, "targets": ["staging"]}]}
                """)).ShouldBeOk().Json!;
            set["gates"]![0]!["targets"]![0]!.GetValue<string>().ShouldBe("Staging");
            set["gates"]![0]!["higher_is_better"]!.GetValue<bool>().ShouldBeTrue();
            set["name"].ShouldBeNull();
            var read = (await viewer.GetAsync($"{V1}/promotion-policy")).ShouldBeOk().Json!;
            read["required_approvals"]!.GetValue<int>().ShouldBe(2);
            read["updated_by"]!.GetValue<string>().ShouldBe("ada");
            Problem(await viewer.PutAsync($"{V1}/promotion-policy", "{}"), HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        }
        finally
        {
            // The other tests set model policies; the default goes back to protecting nothing.
            (await admin.PutAsync($"{V1}/promotion-policy", "{}")).ShouldBeOk();
        }
    }
}
