using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using Dashboard.Core.Tests.Secrets;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Api;

/// <summary>
/// Secret blocking over real HTTP (docs/adr/0012, "Secret blocking"): every write path refuses a credential-looking
/// key (db_password) and value (an AWS access key id) with 400, names the key and rule, never shows the value (in the
/// answer or the server's log), stores nothing of the request, and records the block.
/// </summary>
public class SecretBlockingTests(SharedServers servers)
{
    private const string V1 = "/api/v1";

    /// <summary>What a write path works on: made before the request, read before and after it.</summary>
    private sealed record Target(string? ExperimentId = null, string? RunId = null, string? ModelName = null, string? Version = null,
        string? LoggedModelId = null, string? NewName = null);

    /// <summary>
    /// A write path: what it needs, the request (with the key and value to try), and the stored state it must leave
    /// unchanged. <paramref name="Field"/> names the field of a path whose value has no key of its own (run_name,
    /// description): only a credential value is tried there.
    /// </summary>
    private sealed record WritePath(string Target, Func<DashboardServer, Task<Target>> Arrange,
        Func<DashboardServer, Target, string, string, Task<Reply>> Act, Func<DashboardServer, Target, Task<string>> State,
        string? Field = null);

    private static string Tags(string key, string value) => $"[{KeyValue("team", "a")}, {KeyValue(key, value)}]";

    private static string Dataset(string source) =>
        $$"""{"name": "train", "digest": {{J(Guid.NewGuid().ToString("N")[..8])}}, "source_type": "s3", "source": {{J(source)}}}""";

    private static async Task<Target> RunTarget(DashboardServer s)
    {
        var experimentId = await ExperimentAsync(s);
        return new Target(ExperimentId: experimentId, RunId: await RunAsync(s, experimentId));
    }

    private static async Task<Target> ExperimentTarget(DashboardServer s) => new(ExperimentId: await ExperimentAsync(s), NewName: Name());

    private static async Task<Target> ModelTarget(DashboardServer s) => new(ModelName: await MakeRegistry.ModelAsync(s), NewName: Name("model"));

    private static async Task<Target> VersionTarget(DashboardServer s)
    {
        var name = await MakeRegistry.ModelAsync(s);
        var (runId, source) = await MakeRegistry.RunSourceAsync(s);
        (await MakeRegistry.CreateVersionAsync(s, name, source, runId)).ShouldBeOk();
        return new Target(ModelName: name, Version: "1", RunId: runId);
    }

    private static async Task<Target> VersionSourceTarget(DashboardServer s)
    {
        var (runId, _) = await MakeRegistry.RunSourceAsync(s);
        return new Target(ModelName: await MakeRegistry.ModelAsync(s), RunId: runId);
    }

    private static async Task<Target> LoggedModelTarget(DashboardServer s)
    {
        var experimentId = await ExperimentAsync(s);
        return new Target(ExperimentId: experimentId, LoggedModelId: await MakeModel.IdAsync(s, experimentId));
    }

    private static async Task<string> Text(Task<Reply> reply) => $"{(int)(await reply).Status} {(await reply).Text}";

    private static Task<string> RunState(DashboardServer s, Target t) => Text(s.GetAsync($"{Mlflow}/runs/get?run_id={t.RunId}"));

    private static Task<string> RunsOfExperiment(DashboardServer s, Target t) =>
        Text(s.PostAsync($"{Mlflow}/runs/search", $$"""{"experiment_ids": [{{J(t.ExperimentId!)}}]}"""));

    private static Task<string> ExperimentState(DashboardServer s, Target t) =>
        Text(s.GetAsync($"{Mlflow}/experiments/get?experiment_id={t.ExperimentId}"));

    private static Task<string> ModelState(DashboardServer s, Target t) =>
        Text(s.GetAsync($"{MakeRegistry.Models}/get?name={Uri.EscapeDataString(t.ModelName!)}"));

    private static async Task<string> VersionState(DashboardServer s, Target t) =>
        await ModelState(s, t) + await Text(MakeRegistry.GetVersionAsync(s, t.ModelName!, "1"));

    private static Task<string> LoggedModelsOfExperiment(DashboardServer s, Target t) =>
        Text(MakeModel.SearchAsync(s, $$"""{"experiment_ids": [{{J(t.ExperimentId!)}}]}"""));

    private static Task<string> LoggedModelState(DashboardServer s, Target t) => Text(s.GetAsync($"{MakeModel.Models}/{t.LoggedModelId}"));

    private static readonly Dictionary<string, WritePath> Paths = new()
    {
        ["runs/log-parameter"] = new("param", RunTarget,
            (s, t, k, v) => LogParamAsync(s, t.RunId!, k, v), RunState),
        ["runs/set-tag"] = new("run_tag", RunTarget,
            (s, t, k, v) => SetTagAsync(s, t.RunId!, k, v), RunState),
        ["runs/log-batch params"] = new("param", RunTarget,
            (s, t, k, v) => LogBatchAsync(s, t.RunId!, $"[{Metric("loss", 0.5, 1, 0)}]", Tags(k, v), $"[{KeyValue("stage", "dev")}]"),
            RunState),
        ["runs/log-batch tags"] = new("run_tag", RunTarget,
            (s, t, k, v) => LogBatchAsync(s, t.RunId!, $"[{Metric("loss", 0.5, 1, 0)}]", $"[{KeyValue("lr", "0.1")}]", Tags(k, v)),
            RunState),
        ["runs/create tags"] = new("run_tag", ExperimentTarget,
            (s, t, k, v) => s.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": {{J(t.ExperimentId!)}}, "tags": {{Tags(k, v)}}}"""),
            RunsOfExperiment),
        ["runs/create run_name"] = new("run_name", ExperimentTarget,
            (s, t, _, v) => s.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": {{J(t.ExperimentId!)}}, "run_name": {{J(v)}}}"""),
            RunsOfExperiment, Field: "run_name"),
        ["runs/update run_name"] = new("run_name", RunTarget,
            (s, t, _, v) => s.PostAsync($"{Mlflow}/runs/update", $$"""{"run_id": {{J(t.RunId!)}}, "status": "FINISHED", "run_name": {{J(v)}}}"""),
            RunState, Field: "run_name"),
        ["runs/log-inputs input tags"] = new("input_tag", RunTarget,
            (s, t, k, v) => s.PostAsync($"{Mlflow}/runs/log-inputs", $$"""{"run_id": {{J(t.RunId!)}}, "datasets": [{"dataset": {{Dataset("s3://data/train.csv")}}, "tags": {{Tags(k, v)}}}]}"""),
            RunState),
        ["runs/log-inputs dataset source"] = new("dataset_source", RunTarget,
            (s, t, _, v) => s.PostAsync($"{Mlflow}/runs/log-inputs", $$"""{"run_id": {{J(t.RunId!)}}, "datasets": [{"dataset": {{Dataset("s3://data/train.csv")}}}, {"dataset": {{Dataset(v)}}}]}"""),
            RunState, Field: "datasets[1].dataset.source"),
        ["run description"] = new("run_tag", RunTarget,
            (s, t, _, v) => SetTagAsync(s, t.RunId!, "mlflow.note.content", v), RunState, Field: "mlflow.note.content"),
        ["experiments/create tags"] = new("experiment_tag", ExperimentTarget,
            (s, t, k, v) => s.PostAsync($"{Mlflow}/experiments/create", $$"""{"name": {{J(t.NewName!)}}, "tags": {{Tags(k, v)}}}"""),
            (s, t) => Text(s.GetAsync($"{Mlflow}/experiments/get-by-name?experiment_name={t.NewName}"))),
        ["experiments/set-experiment-tag"] = new("experiment_tag", ExperimentTarget,
            (s, t, k, v) => s.PostAsync($"{Mlflow}/experiments/set-experiment-tag",
                $$"""{"experiment_id": {{J(t.ExperimentId!)}}, "key": {{J(k)}}, "value": {{J(v)}}}"""),
            ExperimentState),
        ["registered-models/create tags"] = new("registered_model_tag", ModelTarget,
            (s, t, k, v) => s.PostAsync($"{MakeRegistry.Models}/create", $$"""{"name": {{J(t.NewName!)}}, "tags": {{Tags(k, v)}}}"""),
            (s, t) => ModelState(s, t with { ModelName = t.NewName })),
        ["registered-models/create description"] = new("registered_model_description", ModelTarget,
            (s, t, _, v) => s.PostAsync($"{MakeRegistry.Models}/create", $$"""{"name": {{J(t.NewName!)}}, "description": {{J(v)}}}"""),
            (s, t) => ModelState(s, t with { ModelName = t.NewName }), Field: "description"),
        ["registered-models/update"] = new("registered_model_description", ModelTarget,
            (s, t, _, v) => s.PostAsync($"{MakeRegistry.Models}/update", $$"""{"name": {{J(t.ModelName!)}}, "description": {{J(v)}}}""", "PATCH"),
            ModelState, Field: "description"),
        ["registered-models/set-tag"] = new("registered_model_tag", ModelTarget,
            (s, t, k, v) => s.PostAsync($"{MakeRegistry.Models}/set-tag", $$"""{"name": {{J(t.ModelName!)}}, "key": {{J(k)}}, "value": {{J(v)}}}"""),
            ModelState),
        ["model-versions/create tags"] = new("model_version_tag", VersionSourceTarget,
            (s, t, k, v) => s.PostAsync($"{MakeRegistry.Versions}/create",
                $$"""{"name": {{J(t.ModelName!)}}, "source": "runs:/{{t.RunId}}/model", "run_id": {{J(t.RunId!)}}, "tags": {{Tags(k, v)}}}"""),
            VersionState),
        ["model-versions/create description"] = new("model_version_description", VersionSourceTarget,
            (s, t, _, v) => s.PostAsync($"{MakeRegistry.Versions}/create",
                $$"""{"name": {{J(t.ModelName!)}}, "source": "runs:/{{t.RunId}}/model", "run_id": {{J(t.RunId!)}}, "description": {{J(v)}}}"""),
            VersionState, Field: "description"),
        ["model-versions/update"] = new("model_version_description", VersionTarget,
            (s, t, _, v) => s.PostAsync($"{MakeRegistry.Versions}/update",
                $$"""{"name": {{J(t.ModelName!)}}, "version": "1", "description": {{J(v)}}}""", "PATCH"),
            VersionState, Field: "description"),
        ["model-versions/set-tag"] = new("model_version_tag", VersionTarget,
            (s, t, k, v) => s.PostAsync($"{MakeRegistry.Versions}/set-tag",
                $$"""{"name": {{J(t.ModelName!)}}, "version": "1", "key": {{J(k)}}, "value": {{J(v)}}}"""),
            VersionState),
        ["logged-models/create params"] = new("logged_model_param", ExperimentTarget,
            (s, t, k, v) => s.PostAsync(MakeModel.Models, $$"""{"experiment_id": {{J(t.ExperimentId!)}}, "params": {{Tags(k, v)}}}"""),
            LoggedModelsOfExperiment),
        ["logged-models/create tags"] = new("logged_model_tag", ExperimentTarget,
            (s, t, k, v) => s.PostAsync(MakeModel.Models, $$"""{"experiment_id": {{J(t.ExperimentId!)}}, "tags": {{Tags(k, v)}}}"""),
            LoggedModelsOfExperiment),
        ["logged-models/set-tags"] = new("logged_model_tag", LoggedModelTarget,
            (s, t, k, v) => s.PostAsync($"{MakeModel.Models}/{t.LoggedModelId}/tags", $$"""{"tags": {{Tags(k, v)}}}""", "PATCH"),
            LoggedModelState),
        ["logged-models/log-params"] = new("logged_model_param", LoggedModelTarget,
            (s, t, k, v) => s.PostAsync($"{MakeModel.Models}/{t.LoggedModelId}/params", $$"""{"params": {{Tags(k, v)}}}"""),
            LoggedModelState),
    };

    public static TheoryData<DatabaseProvider, string, string> Cases()
    {
        var data = new TheoryData<DatabaseProvider, string, string>();
        foreach (var provider in TestDatabase.Providers)
        {
            foreach (var (name, path) in Paths)
            {
                if (path.Field is null)
                {
                    data.Add(provider, name, "key");
                }
                data.Add(provider, name, "value");
            }
        }
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public async Task Every_write_path_refuses_a_secret_stores_nothing_of_the_request_and_records_the_block(
        DatabaseProvider provider, string pathName, string variant)
    {
        var server = await servers.GetAsync(provider);
        var log = LogCapture.Of(server);
        var path = Paths[pathName];
        var target = await path.Arrange(server);
        var unique = Guid.NewGuid().ToString("N")[..12];
        // A key of its own per test, so that its record is told apart from those of tests running alongside.
        var (key, value, rule) = variant == "key"
            ? ($"t{unique}.db_password", $"plain-{unique}-value", "key:password")
            : ($"t{unique}.aws_id", FakeSecrets.AwsAccessKeyId, "value:aws_access_key_id");
        var named = path.Field ?? key;
        var before = await path.State(server, target);

        var reply = await path.Act(server, target, key, value);

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Message!.ShouldContain($"'{named}' ({rule})");
        reply.Message!.ShouldContain("Nothing of this request was stored.");
        reply.Text.ShouldNotContain(value);
        (await path.State(server, target)).ShouldBe(before);
        log.Text.ShouldNotContain(value);
        var blocks = (await server.GetAsync($"{V1}/secret-blocks")).ShouldBeOk();
        blocks.Text.ShouldNotContain(value);
        var record = blocks.Json!["blocks"]!.AsArray().Single(b =>
            b!["key"]!.GetValue<string>() == named && b["target"]!.GetValue<string>() == path.Target
            && (path.Field is null || Matches(b, target)));
        record!["rule"]!.GetValue<string>().ShouldBe(rule);
        record["action"]!.GetValue<string>().ShouldBe("refused");
        record["actor"]!.GetValue<string>().ShouldBe("local");
    }

    /// <summary>A field's record (key run_name or description) is this test's when it names this test's run, experiment or model.</summary>
    private static bool Matches(System.Text.Json.Nodes.JsonNode block, Target t) =>
        (t.RunId is not null && block["run_id"]?.GetValue<string>() == t.RunId && t.NewName is null)
        || (t.ModelName is not null && block["model_name"]?.GetValue<string>() == t.ModelName)
        || (t.NewName is not null && block["model_name"]?.GetValue<string>() == t.NewName)
        || (t.ExperimentId is not null && block["experiment_id"]?.GetValue<long>().ToString(System.Globalization.CultureInfo.InvariantCulture) == t.ExperimentId);

    [Theory, MemberData(nameof(Providers))]
    public async Task Done_when_a_param_db_password_or_an_aws_key_value_is_refused_and_nothing_of_the_request_is_stored(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        (await LogParamAsync(server, runId, "db_password", "hunter2")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe("Param 'db_password' (key:password) looks like a secret and was not stored. Nothing of this request was stored. " +
                "Keep credentials in a secret store or environment variables, not in params, tags or descriptions; an administrator can " +
                "allow a key with Dashboard:Secrets:Allow.");
        var batch = await LogBatchAsync(server, runId, $"[{Metric("loss", 0.5, 1, 0)}]",
            $"[{KeyValue("lr", "0.1")}, {KeyValue("aws_key_id", FakeSecrets.AwsAccessKeyId)}]", $"[{KeyValue("team", "a")}]");
        batch.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        batch.Text.ShouldNotContain(FakeSecrets.AwsAccessKeyId);

        var data = (await GetRunAsync(server, runId))["data"]!;
        data["params"].ShouldBeNull();
        data["metrics"].ShouldBeNull();
        Find(data["tags"], "team").ShouldBeNull();
        (await HistoryAsync(server, runId, "loss")).ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_dataset_read_from_a_database_url_with_a_password_is_refused_with_nothing_of_the_inputs_stored(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);

        var reply = await server.PostAsync($"{Mlflow}/runs/log-inputs",
            $$"""{"run_id": {{J(runId)}}, "datasets": [{"dataset": {{Dataset("s3://data/ok.csv")}}}, {"dataset": {{Dataset(FakeSecrets.UrlWithPassword)}}}]}""");

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Message!.ShouldContain("'datasets[1].dataset.source' (value:url_credentials)");
        reply.Text.ShouldNotContain("hunter");
        var run = (await server.GetAsync($"{Mlflow}/runs/get?run_id={runId}")).ShouldBeOk();
        (run.Json!["run"]!["inputs"]?["dataset_inputs"]?.AsArray() ?? []).ShouldBeEmpty();
    }

    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    [Theory]
    // The issue's ordinary ML names, and a tokenizer's special tokens.
    [InlineData("tokenizer", "bert-base-uncased")]
    [InlineData("max_tokens", "4096")]
    [InlineData("token_budget", "100000")]
    [InlineData("num_keys", "8")]
    [InlineData("key_dim", "64")]
    [InlineData("pad_token", "[PAD]")]
    [InlineData("secret_sauce", "dropout")]
    public async Task Ordinary_ml_names_are_stored(string key, string value)
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);
        var runId = await RunAsync(server);

        (await LogParamAsync(server, runId, key, value)).ShouldBeOk();
        (await SetTagAsync(server, runId, key, value)).ShouldBeOk();

        var data = (await GetRunAsync(server, runId))["data"]!;
        ValueOf(data["params"], key).ShouldBe(value);
        ValueOf(data["tags"], key).ShouldBe(value);
    }

    [Fact]
    public async Task Redacts_by_policy_stores_the_marker_and_lets_allowed_keys_pass()
    {
        await using var server = await DashboardServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Dashboard:Secrets:Policy"] = "Redact",
            ["Dashboard:Secrets:Allow:0"] = "vault_token",
        });
        var runId = await RunAsync(server);

        (await LogBatchAsync(server, runId, "[]",
            $"[{KeyValue("db_password", "hunter2")}, {KeyValue("lr", "0.1")}, {KeyValue("vault_token", "kept")}]",
            $"[{KeyValue("aws", FakeSecrets.AwsAccessKeyId)}]")).ShouldBeOk();

        var data = (await GetRunAsync(server, runId))["data"]!;
        ValueOf(data["params"], "db_password").ShouldBe("[REDACTED]");
        ValueOf(data["params"], "lr").ShouldBe("0.1");
        ValueOf(data["params"], "vault_token").ShouldBe("kept");
        ValueOf(data["tags"], "aws").ShouldBe("[REDACTED]");
        var blocks = (await server.GetAsync($"{V1}/secret-blocks")).ShouldBeOk();
        blocks.Json!["blocks"]!.AsArray().Select(b => (Str(b!["key"]), Str(b["rule"]), Str(b["action"]), Str(b["run_id"])))
            .OrderBy(b => b.Item1).ShouldBe([("aws", "value:aws_access_key_id", "redacted", runId), ("db_password", "key:password", "redacted", runId)]);
        var policy = (await server.GetAsync($"{V1}/secret-policy")).ShouldBeOk().Json!;
        Str(policy["policy"]).ShouldBe("redact");
        policy["allow"]!.AsArray().Select(Str).ShouldBe(["vault_token"]);
        Str(policy["redacted_value"]).ShouldBe("[REDACTED]");
        policy["key_rules"]!.AsArray().Select(Str).ShouldContain("key:password");
        policy["value_rules"]!.AsArray().Select(Str).ShouldContain("value:aws_access_key_id");
    }

    [Fact]
    public async Task The_record_is_for_administrators_and_names_the_token_owner_as_actor()
    {
        await using var server = await DashboardServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Dashboard:Auth:Mode"] = "Oidc",
            ["Dashboard:Auth:Oidc:Authority"] = "http://127.0.0.1:9",
            ["Dashboard:Auth:Oidc:ClientId"] = "dashboard",
            ["Dashboard:Auth:Oidc:RequireHttpsMetadata"] = "false",
        });
        var users = server.Services.GetRequiredService<Dashboard.Security.UserDirectory>();
        var tokens = server.Services.GetRequiredService<Dashboard.Security.TokenService>();
        var ct = TestContext.Current.CancellationToken;
        var trainer = await users.EnsureServiceAccountAsync("trainer", Dashboard.Security.DashboardRole.Contributor, ct);
        var admin = await users.EnsureServiceAccountAsync("ops", Dashboard.Security.DashboardRole.Admin, ct);
        var trainerToken = (await tokens.CreateAsync(trainer.Id, "t", Dashboard.Security.TokenScope.Write, null, "ops", ct)).Secret;
        var adminToken = (await tokens.CreateAsync(admin.Id, "a", Dashboard.Security.TokenScope.Admin, null, "ops", ct)).Secret;

        var experiment = await Send(server, trainerToken, HttpMethod.Post, $"{Mlflow}/experiments/create", $$"""{"name": {{J(Name())}}}""");
        experiment.ShouldBeOk();
        var refused = await Send(server, trainerToken, HttpMethod.Post, $"{Mlflow}/experiments/set-experiment-tag",
            $$"""{"experiment_id": {{J(Str(experiment.Json!["experiment_id"]))}}, "key": "api_key", "value": "x"}""");
        refused.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");

        (await Send(server, trainerToken, HttpMethod.Get, $"{V1}/secret-blocks")).Status.ShouldBe(HttpStatusCode.Forbidden);
        var forbidden = await Send(server, trainerToken, HttpMethod.Get, $"{V1}/secret-blocks");
        forbidden.Json!["error_code"]!.GetValue<string>().ShouldBe("PERMISSION_DENIED");
        var blocks = (await Send(server, adminToken, HttpMethod.Get, $"{V1}/secret-blocks")).ShouldBeOk();
        var record = blocks.Json!["blocks"]!.AsArray().Single()!;
        (Str(record["actor"]), Str(record["key"]), Str(record["target"]), Str(record["rule"]))
            .ShouldBe(("trainer", "api_key", "experiment_tag", "key:api_key"));
    }

    private static async Task<Reply> Send(DashboardServer server, string token, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }
        return await server.SendAsync(request);
    }

    private static string Str(System.Text.Json.Nodes.JsonNode? node) => node!.GetValue<string>();

    /// <summary>Everything a server logs, from the moment of the first call on (one capture per server).</summary>
    private sealed class LogCapture : ILoggerProvider
    {
        private static readonly ConditionalWeakTable<DashboardServer, LogCapture> Captures = new();
        private readonly ConcurrentQueue<string> _lines = new();

        public static LogCapture Of(DashboardServer server) => Captures.GetValue(server, s =>
        {
            var capture = new LogCapture();
            s.Services.GetRequiredService<ILoggerFactory>().AddProvider(capture);
            return capture;
        });

        public string Text => string.Join('\n', _lines);

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(LogCapture capture) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                capture._lines.Enqueue(formatter(state, exception) + (exception is null ? "" : "\n" + exception));
        }
    }
}
