using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dashboard.Core.Tests.ModelCards;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;
using static Dashboard.Core.Tests.ModelCards.ModelFixtures;
using static Dashboard.Tests.Support.Make;
using static Dashboard.Tests.Support.MakeModel;

namespace Dashboard.Tests.Api;

/// <summary>
/// /api/v1 model cards over a real server: the recorded PaddlePaddle models uploaded through the mlflow-artifacts
/// proxy and logged as MLflow 2 (runs/log-model) and MLflow 3 (logged-models) clients do, then read back as cards.
/// </summary>
public class ModelCardTests(SharedServers servers)
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    /// <summary>Every provider on the local folder, and SQLite on S3 (the emulator ./test.sh starts).</summary>
    public static TheoryData<DatabaseProvider, ArtifactBackend> Servers => ArtifactContractTests.Servers;

    private const string V1 = "/api/v1";

    // The ids the recorded sessions' files name, replaced by the ones this server hands out.
    private const string RecordedRun217 = "cb2792467a294b26bd8c61868cf5d191";
    private const string RecordedRun39 = "85da055535464083ae3a3c0fe3810007";
    private const string RecordedModel39 = "m-2c0d51e31fcc4e35869cfe99019cd3c4";

    /// <summary>Uploads a fixture's files through the proxy into a folder; answers the bytes uploaded.</summary>
    private static async Task<long> UploadAsync(DashboardServer server, string folder, Dictionary<string, byte[]> files)
    {
        long total = 0;
        foreach (var (name, content) in files)
        {
            (await ArtifactContractTests.PutAsync(server, $"{folder}/{name}", content,
                name.StartsWith("model.pd", StringComparison.Ordinal) ? "application/octet-stream" : "text/plain")).ShouldBeOk();
            total += content.Length;
        }
        return total;
    }

    private static Dictionary<string, byte[]> Replaced(string fixture, params (string From, string To)[] replacements)
    {
        var files = Files(fixture);
        foreach (var name in files.Keys.Where(n => n is "MLmodel").ToList())
        {
            var text = Encoding.UTF8.GetString(files[name]);
            foreach (var (from, to) in replacements)
            {
                text = text.Replace(from, to, StringComparison.Ordinal);
            }
            files[name] = Encoding.UTF8.GetBytes(text);
        }
        return files;
    }

    /// <summary>An MLflow 2.17 client's mlflow.paddle.log_model: the files through the proxy, then runs/log-model.</summary>
    private static async Task<(string ExperimentId, string RunId, long Bytes)> LogMlflow2ModelAsync(DashboardServer server, string artifactPath = "model")
    {
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);
        var bytes = await UploadAsync(server, $"{experimentId}/{runId}/artifacts/{artifactPath}",
            Replaced(Paddle217, (RecordedRun217, runId), ("artifact_path: model", $"artifact_path: {artifactPath}")));
        var modelJson = Text(Paddle217, "model_json.json").Trim().Replace(RecordedRun217, runId, StringComparison.Ordinal)
            .Replace("\"artifact_path\": \"model\"", $"\"artifact_path\": \"{artifactPath}\"", StringComparison.Ordinal);
        (await server.PostAsync($"{Mlflow}/runs/log-model", $$"""{"run_id": {{J(runId)}}, "model_json": {{J(modelJson)}}}""")).ShouldBeOk();
        return (experimentId, runId, bytes);
    }

    /// <summary>An MLflow 3.9 client's log_model: create the logged model, link it to the run, upload, finalize.</summary>
    private static async Task<(string ExperimentId, string RunId, string ModelId, long Bytes)> LogMlflow3ModelAsync(DashboardServer server)
    {
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);
        var model = await CreateAsync(server, experimentId, $$""", "name": "model", "source_run_id": {{J(runId)}}""");
        var modelId = model["info"]!["model_id"]!.GetValue<string>();
        (await server.PostAsync($"{Mlflow}/runs/outputs", $$"""{"run_id": {{J(runId)}}, "models": [{"model_id": {{J(modelId)}}, "step": 0}]}"""))
            .ShouldBeOk();
        var bytes = await UploadAsync(server, $"{experimentId}/models/{modelId}/artifacts",
            Replaced(Paddle39, (RecordedModel39, modelId), (RecordedRun39, runId), ("mlflow-artifacts:/1/", $"mlflow-artifacts:/{experimentId}/")));
        (await server.PostAsync($"{Models}/{modelId}", """{"status": "LOGGED_MODEL_READY"}""", "PATCH")).ShouldBeOk();
        return (experimentId, runId, modelId, bytes);
    }

    private static void ShouldBeTheRecordedPaddleCard(JsonNode card, long bytes)
    {
        // The issue's "done when": the card of a PaddlePaddle model shows its Paddle and Python versions.
        card["versions"]!["paddle"]!["value"]!.GetValue<string>().ShouldBe("2.6.1");
        card["versions"]!["paddle"]!["source"]!.GetValue<string>().ShouldBe("MLmodel flavors.paddle.paddle_version");
        card["versions"]!["python"]!["value"]!.GetValue<string>().ShouldBe("3.11.2");
        card["paddle"]!["paddle_version"]!.GetValue<string>().ShouldBe("2.6.1");
        card["python_function"]!["python_version"]!.GetValue<string>().ShouldBe("3.11.2");
        card["python_function"]!["loader_module"]!.GetValue<string>().ShouldBe("mlflow.paddle");
        card["flavors"]!["paddle"]!["pickled_model"]!.GetValue<string>().ShouldBe("model");
        card["flavors"]!["python_function"]!["env"]!["virtualenv"]!.GetValue<string>().ShouldBe("python_env.yaml");
        var input = card["signature"]!["inputs"]!.AsArray().ShouldHaveSingleItem()!;
        input.ToJsonString().ShouldBe("""{"kind":"tensor","type":"float32","shape":[-1,4],"optional":false}""");
        card["conda"]!["dependencies"]![0]!["version"]!.GetValue<string>().ShouldBe("3.11.2");
        card["conda"]!["pip_dependencies"]![1]!["package"]!.GetValue<string>().ShouldBe("paddlepaddle");
        card["python_env"]!["python"]!.GetValue<string>().ShouldBe("3.11.2");
        card["python_env"]!["build_dependencies"]!.AsArray().Count.ShouldBe(3);
        card["requirements"]!["packages"]![1]!["specifier"]!.GetValue<string>().ShouldBe("==2.6.1");
        card["size"]!.ToJsonString().ShouldBe($$"""{"bytes":{{bytes}},"files":7,"complete":true}""");
        card["problems"]!.AsArray().ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Servers))]
    public async Task The_card_of_an_mlflow_2_paddle_model_shows_its_paddle_and_python_versions(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var (experimentId, runId, bytes) = await LogMlflow2ModelAsync(server);

        var list = (await server.GetAsync($"{V1}/runs/{runId}/model-cards")).ShouldBeOk().Json!;

        list["truncated"]!.GetValue<bool>().ShouldBeFalse();
        var card = list["model_cards"]!.AsArray().ShouldHaveSingleItem()!;
        ShouldBeTheRecordedPaddleCard(card, bytes);
        card["artifact_uri"]!.GetValue<string>().ShouldBe($"mlflow-artifacts:/{experimentId}/{runId}/artifacts/model");
        card["artifact_path"]!.GetValue<string>().ShouldBe("model");
        card["run_id"]!.GetValue<string>().ShouldBe(runId);
        card["model_uuid"]!.GetValue<string>().ShouldBe("512900d078be463583017cced21441a0");
        card["mlflow_version"]!.GetValue<string>().ShouldBe("2.17.0");
        card["utc_time_created"]!.GetValue<string>().ShouldBe("2026-11-27 20:24:57.606235");
        card.AsObject().ContainsKey("model_id").ShouldBeFalse();

        var one = (await server.GetAsync($"{V1}/runs/{runId}/model-card?path=model")).ShouldBeOk().Json!;
        one.ToJsonString().ShouldBe(card.ToJsonString());
        // "model/" is the folder "model", as MLflow clients write folders.
        (await server.GetAsync($"{V1}/runs/{runId}/model-card?path=model%2F")).ShouldBeOk().Json!.ToJsonString().ShouldBe(card.ToJsonString());
    }

    [Theory, MemberData(nameof(Servers))]
    public async Task The_card_of_an_mlflow_3_logged_paddle_model_shows_its_paddle_and_python_versions(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var (experimentId, runId, modelId, bytes) = await LogMlflow3ModelAsync(server);

        var card = (await server.GetAsync($"{V1}/logged-models/{modelId}/model-card")).ShouldBeOk().Json!;

        ShouldBeTheRecordedPaddleCard(card, bytes);
        card["model_id"]!.GetValue<string>().ShouldBe(modelId);
        card["run_id"]!.GetValue<string>().ShouldBe(runId);
        card["mlflow_version"]!.GetValue<string>().ShouldBe("3.9.0rc0");
        card["artifact_uri"]!.GetValue<string>().ShouldBe($"mlflow-artifacts:/{experimentId}/models/{modelId}/artifacts");
        card["artifact_path"]!.GetValue<string>().ShouldBe($"mlflow-artifacts:/{experimentId}/models/{modelId}/artifacts");

        // The run lists the model it produced (its source run, and runs/outputs: listed once).
        var list = (await server.GetAsync($"{V1}/runs/{runId}/model-cards")).ShouldBeOk().Json!;
        list["model_cards"]!.AsArray().ShouldHaveSingleItem()!.ToJsonString().ShouldBe(card.ToJsonString());
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_run_lists_its_mlflow_2_and_mlflow_3_models_and_one_whose_files_are_missing(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var (experimentId, runId, _) = await LogMlflow2ModelAsync(server);
        await UploadAsync(server, $"{experimentId}/{runId}/artifacts/second", Replaced(Paddle217, (RecordedRun217, runId)));
        (await server.PostAsync($"{Mlflow}/runs/log-model", $$"""{"run_id": {{J(runId)}}, "model_json": {{J(ModelJson(runId, "second"))}}}""")).ShouldBeOk();
        // Logged, but its upload never happened.
        (await server.PostAsync($"{Mlflow}/runs/log-model", $$"""{"run_id": {{J(runId)}}, "model_json": {{J(ModelJson(runId, "lost"))}}}""")).ShouldBeOk();
        var modelId = await IdAsync(server, experimentId, $$""", "source_run_id": {{J(runId)}}""");

        var cards = (await server.GetAsync($"{V1}/runs/{runId}/model-cards")).ShouldBeOk().Json!["model_cards"]!.AsArray();

        cards.Select(c => c!["artifact_path"]?.GetValue<string>() ?? c["model_id"]!.GetValue<string>()).ShouldBe(["model", "second", "lost", modelId]);
        cards[1]!["versions"]!["paddle"]!["value"]!.GetValue<string>().ShouldBe("2.6.1");
        foreach (var missing in new[] { cards[2]!, cards[3]! })
        {
            var problem = missing["problems"]!.AsArray().ShouldHaveSingleItem()!;
            problem["file"]!.GetValue<string>().ShouldBe("MLmodel");
            problem["message"]!.GetValue<string>().ShouldStartWith("no MLmodel file");
            missing.AsObject().ContainsKey("flavors").ShouldBeFalse();
        }
        (await server.GetAsync($"{V1}/runs/{runId}/model-card?path=lost")).ShouldFailAsProblem(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST")
            .Json!["detail"]!.GetValue<string>().ShouldBe($"No MLmodel file at 'lost' in the artifacts of run '{runId}'.");
        (await server.GetAsync($"{V1}/logged-models/{modelId}/model-card")).ShouldFailAsProblem(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST")
            .Json!["detail"]!.GetValue<string>().ShouldBe($"Logged model '{modelId}' has no MLmodel file among its artifacts.");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_run_without_models_has_an_empty_list(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        (await server.GetAsync($"{V1}/runs/{runId}/model-cards")).ShouldBeOk().Json!.ToJsonString()
            .ShouldBe("""{"model_cards":[],"truncated":false}""");
    }

    [Theory, MemberData(nameof(Servers))]
    public async Task A_malformed_MLmodel_is_a_card_with_a_problem_never_a_500(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);
        var files = Files(Paddle217);
        files["MLmodel"] = "flavors:\n  paddle: {paddle_version: [\n"u8.ToArray();
        files["conda.yaml"] = Encoding.UTF8.GetBytes("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + string.Concat(Enumerable.Range(1, 11)
            .Select(i => $"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n")));
        await UploadAsync(server, $"{experimentId}/{runId}/artifacts/model", files);

        var card = (await server.GetAsync($"{V1}/runs/{runId}/model-card?path=model")).ShouldBeOk().Json!;

        card["problems"]!.AsArray().Select(p => p!["file"]!.GetValue<string>()).ShouldBe(["MLmodel", "conda.yaml"]);
        card["problems"]![0]!["message"]!.GetValue<string>().ShouldStartWith("not valid YAML");
        card["problems"]![1]!["message"]!.GetValue<string>().ShouldContain("aliases are expanded");
        // What could be read is there: the version pins of requirements.txt and python_env.yaml.
        card["versions"]!["paddle"]!.ToJsonString().ShouldBe("""{"value":"2.6.1","source":"requirements.txt"}""");
        card["versions"]!["python"]!["source"]!.GetValue<string>().ShouldBe("python_env.yaml");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Unknown_runs_models_and_paths_are_problem_details(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var (experimentId, runId, _) = await LogMlflow2ModelAsync(server);
        const string unknownRun = "0123456789abcdef0123456789abcdef";

        var reply = (await server.GetAsync($"{V1}/runs/{unknownRun}/model-cards")).ShouldFailAsProblem(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        reply.Json!["title"]!.GetValue<string>().ShouldBe("Not Found");
        reply.Json["detail"]!.GetValue<string>().ShouldBe($"Run with id={unknownRun} not found");
        (await server.GetAsync($"{V1}/runs/{unknownRun}/model-card?path=model")).ShouldFailAsProblem(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.GetAsync($"{V1}/logged-models/m-0123456789abcdef0123456789abcdef/model-card"))
            .ShouldFailAsProblem(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST")
            .Json!["detail"]!.GetValue<string>().ShouldBe("Logged model with ID 'm-0123456789abcdef0123456789abcdef' not found.");
        (await server.GetAsync($"{V1}/runs/{runId}/model-card")).ShouldFailAsProblem(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Json!["detail"]!.GetValue<string>().ShouldBe("Missing value for required parameter 'path'.");
        (await server.GetAsync($"{V1}/runs/{runId}/model-card?path=")).ShouldFailAsProblem(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.GetAsync($"{V1}/runs/{runId}/model-card?path=nothing-here")).ShouldFailAsProblem(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.GetAsync($"{V1}/nothing/here")).ShouldFailAsProblem(HttpStatusCode.NotFound, "ENDPOINT_NOT_FOUND");

        // A deleted logged model does not exist (ADR 0007).
        var (_, _, modelId, _) = await LogMlflow3ModelAsync(server);
        (await server.PostAsync($"{Models}/{modelId}", "{}", "DELETE")).ShouldBeOk();
        (await server.GetAsync($"{V1}/logged-models/{modelId}/model-card")).ShouldFailAsProblem(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        _ = experimentId;
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_paths_that_leave_the_runs_artifacts_and_says_nothing_of_the_server(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var (experimentId, runId, _) = await LogMlflow2ModelAsync(server);
        // A model of another run that a traversal would reach.
        var other = await RunAsync(server, experimentId);
        await UploadAsync(server, $"{experimentId}/{other}/artifacts/model", Files(Paddle217));

        foreach (var path in new[] { $"..%2F..%2F{other}%2Fartifacts%2Fmodel", "%252e%252e%252f..%252fx", "%2Fetc", "file:%2Fetc", "model%23x", "a%5C..%5Cb", "..%5Cmodel" })
        {
            var reply = (await server.GetAsync($"{V1}/runs/{runId}/model-card?path={path}"))
                .ShouldFailAsProblem(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
            reply.Text.ShouldNotContain(server.ArtifactSandbox);
            reply.Json!["detail"]!.GetValue<string>().ShouldStartWith("Invalid path in parameter 'path'");
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Model_cards_are_read_only(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var (_, runId, _) = await LogMlflow2ModelAsync(server);
        var before = (await server.GetAsync($"{V1}/runs/{runId}/model-cards")).ShouldBeOk().Text;

        foreach (var method in new[] { "POST", "PUT", "PATCH", "DELETE" })
        {
            foreach (var path in new[] { $"{V1}/runs/{runId}/model-cards", $"{V1}/runs/{runId}/model-card?path=model" })
            {
                var reply = await server.PostAsync(path, "{}", method);
                ((int)reply.Status).ShouldBeOneOf(404, 405);
            }
        }
        (await server.GetAsync($"{V1}/runs/{runId}/model-cards")).ShouldBeOk().Text.ShouldBe(before);
    }

    /// <summary>The promotion endpoints (issue 7) and their methods.</summary>
    private static readonly Dictionary<string, string[]> PromotionPaths = new()
    {
        ["/api/v1/promotion-policy"] = ["get", "put"],
        ["/api/v1/registered-models/{name}/promotion-policy"] = ["get", "put", "delete"],
        ["/api/v1/registered-models/{name}/versions/{version}/gates"] = ["get"],
        ["/api/v1/promotion-requests"] = ["get", "post"],
        ["/api/v1/promotion-requests/{id}"] = ["get"],
        ["/api/v1/promotion-requests/{id}/evidence"] = ["get"],
        ["/api/v1/promotion-requests/{id}/approve"] = ["post"],
        ["/api/v1/promotion-requests/{id}/reject"] = ["post"],
        ["/api/v1/promotion-requests/{id}/cancel"] = ["post"],
        ["/api/v1/promotion-requests/{id}/comments"] = ["post"],
    };

    [Fact]
    public async Task The_openapi_document_describes_the_v1_endpoints_only()
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);

        var document = (await server.GetAsync("/api/v1/openapi.json")).ShouldBeOk().Json!;

        document["openapi"]!.GetValue<string>().ShouldStartWith("3.");
        document["info"]!["title"]!.GetValue<string>().ShouldBe("Dashboard API");
        // Nothing of the request's Host header is echoed.
        (document["servers"]?.AsArray() ?? []).ShouldBeEmpty();
        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();
        paths.ShouldBe(["/api/v1/runs/{run_id}/model-cards", "/api/v1/runs/{run_id}/model-card", "/api/v1/logged-models/{model_id}/model-card",
            "/api/v1/registered-models/{name}/history", "/api/v1/registered-models/{name}/versions/{version}/history", "/api/v1/model-uri",
            "/api/v1/secret-blocks", "/api/v1/secret-policy",
            "/api/v1/tokens", "/api/v1/tokens/{id}", "/api/v1/service-accounts", "/api/v1/service-accounts/{name}/tokens",
            "/api/v1/audit-events", "/api/v1/audit-events/export", "/api/v1/registered-models/{name}/timeline",
            "/api/v1/webhooks", "/api/v1/webhooks/{id}", "/api/v1/webhooks/{id}/rotate-secret", "/api/v1/webhooks/{id}/test",
            "/api/v1/webhooks/{id}/deliveries", "/api/v1/webhooks/deliveries/{id}/redeliver",
            .. PromotionPaths.Keys],
            ignoreOrder: true);
        // Model cards and the registry's history are read-only; tokens (issue 6) are made and revoked.
        var methods = new Dictionary<string, string[]>
        {
            ["/api/v1/tokens"] = ["get", "post"],
            ["/api/v1/tokens/{id}"] = ["delete"],
            ["/api/v1/service-accounts"] = ["get", "post"],
            ["/api/v1/service-accounts/{name}/tokens"] = ["post"],
            ["/api/v1/webhooks"] = ["get", "post"],
            ["/api/v1/webhooks/{id}"] = ["get", "patch", "delete"],
            ["/api/v1/webhooks/{id}/rotate-secret"] = ["post"],
            ["/api/v1/webhooks/{id}/test"] = ["post"],
            ["/api/v1/webhooks/deliveries/{id}/redeliver"] = ["post"],
        };
        foreach (var (path, verbs) in PromotionPaths)
        {
            methods[path] = verbs;
        }
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            item!.AsObject().Select(o => o.Key).ShouldBe(methods.GetValueOrDefault(path, ["get"]), ignoreOrder: true);
        }
        var card = document["components"]!["schemas"]!["ModelCard"]!["properties"]!.AsObject().Select(p => p.Key).ToList();
        card.ShouldContain("python_function");
        card.ShouldContain("versions");
        card.ShouldContain("artifact_uri");
        document["paths"]!["/api/v1/runs/{run_id}/model-card"]!["get"]!["responses"]!.AsObject().Select(r => r.Key)
            .ShouldBe(["200", "400", "404"], ignoreOrder: true);
    }
}

internal static class ProblemReplies
{
    /// <summary>An /api/v1 error: ProblemDetails with the status, its title and the MLflow error code as <c>error_code</c>.</summary>
    public static Reply ShouldFailAsProblem(this Reply reply, HttpStatusCode status, string errorCode)
    {
        reply.Status.ShouldBe(status, reply.Text);
        reply.Json.ShouldNotBeNull(reply.Text);
        reply.Json!["status"]!.GetValue<int>().ShouldBe((int)status);
        reply.Json["error_code"]!.GetValue<string>().ShouldBe(errorCode, reply.Text);
        reply.Json["title"]!.GetValue<string>().ShouldNotBeNullOrEmpty();
        return reply;
    }
}
