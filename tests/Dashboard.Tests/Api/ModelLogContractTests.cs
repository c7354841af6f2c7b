using System.Net;
using System.Text.Json.Nodes;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;
using static Dashboard.Tests.Support.Make;
using static Dashboard.Tests.Support.MakeModel;

namespace Dashboard.Tests.Api;

/// <summary>How clients record models on runs: MLflow 2's runs/log-model history tag, MLflow 3's runs/outputs and model inputs.</summary>
public class ModelLogContractTests(SharedServers servers)
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    private const string HistoryTag = "mlflow.log-model.history";

    private static Task<Reply> LogModelAsync(DashboardServer server, string runId, string modelJson) =>
        server.PostAsync($"{Mlflow}/runs/log-model", $$"""{"run_id": {{J(runId)}}, "model_json": {{J(modelJson)}}}""");

    private static async Task<string?> HistoryTagAsync(DashboardServer server, string runId) =>
        ValueOf((await GetRunAsync(server, runId))["data"]!["tags"], HistoryTag);

    [Theory, MemberData(nameof(Providers))]
    public async Task Appends_each_logged_model_to_the_runs_history_tag_as_mlflow_writes_it(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        (await LogModelAsync(server, runId, ModelJson(runId))).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);

        // The recorded MLflow 2.17 server stored exactly this text (real-mlflow-2.17.0.jsonl, #102).
        (await HistoryTagAsync(server, runId)).ShouldBe($"[{ModelJson(runId)}]");

        (await LogModelAsync(server, runId, ModelJson(runId, "second", "0123"))).ShouldBeOk();
        var history = JsonNode.Parse((await HistoryTagAsync(server, runId))!)!.AsArray();
        history.Select(e => e!["artifact_path"]!.GetValue<string>()).ShouldBe(["model", "second"]);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Keeps_what_get_tags_dict_keeps_of_a_model_in_its_order(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        var model = $$$"""
            {"flavors": {"python_function": {"loader_module": "m", "config": {"k": 1}}, "custom": "text"},
             "signature": {"inputs": "[]"}, "mlflow_version": "2.17.0", "utc_time_created": "2026-11-27 20:24:57.606235",
             "artifact_path": "model", "run_id": {{{J(runId)}}}, "extra": [1.50, 1e3, -0.0, 12345678901234567890], "model_size_bytes": 10}
            """;

        (await LogModelAsync(server, runId, model)).ShouldBeOk();

        // run_id, artifact_path, utc_time_created, model_uuid (None when absent), then the flavors without their config.
        (await HistoryTagAsync(server, runId)).ShouldBe(
            $$$"""[{"run_id": "{{{runId}}}", "artifact_path": "model", "utc_time_created": "2026-11-27 20:24:57.606235", "model_uuid": null, "flavors": {"python_function": {"loader_module": "m"}, "custom": "text"}}]""");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Writes_the_history_with_pythons_escapes(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        // Numbers as a Python client writes them: json.loads then json.dumps keeps ints and re-prints floats.
        var model = $$$$"""
            {"run_id": {{{{J(runId)}}}}, "artifact_path": {{{{J("modèle \"q\"\\ 中")}}}}, "utc_time_created": "t",
             "flavors": {"f": {"v": 1.0, "big": 1E20, "small": 0.00001, "n": 12345678901234567890, "line": "a\nb\u0001"}}}
            """;

        (await LogModelAsync(server, runId, model)).ShouldBeOk();

        (await HistoryTagAsync(server, runId)).ShouldBe(
            $$$$"""[{"run_id": "{{{{runId}}}}", "artifact_path": "mod\u00e8le \"q\"\\ \u4e2d", "utc_time_created": "t", "model_uuid": null, "flavors": {"f": {"v": 1.0, "big": 1e+20, "small": 1e-05, "n": 12345678901234567890, "line": "a\nb\u0001"}}}]""");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_model_json_that_is_malformed_or_lacks_mandatory_fields(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        (await LogModelAsync(server, runId, "{not json")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe("Malformed model info. \n {not json \n is not a valid JSON.");
        (await LogModelAsync(server, runId, "[1]")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe("Malformed model info. \n [1] \n is not a JSON object.");
        (await LogModelAsync(server, runId, """{"run_id": "r", "flavors": {}}""")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe("Model json is missing mandatory fields: {'artifact_path', 'utc_time_created'}");
        (await server.PostAsync($"{Mlflow}/runs/log-model", $$"""{"run_id": {{J(runId)}}}""")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe("Missing value for required parameter 'model_json'.");
        (await server.PostAsync($"{Mlflow}/runs/log-model", $$"""{"model_json": {{J(ModelJson(runId))}}}""")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe("Missing value for required parameter 'run_id'.");
        (await server.PostAsync($"{Mlflow}/runs/log-model", $$$"""{"run_id": {{{J(runId)}}}, "model_json": {"run_id": "r"}}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await HistoryTagAsync(server, runId)).ShouldBeNull();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_deleted_or_unknown_run_refuses_log_model(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        (await server.PostAsync($"{Mlflow}/runs/delete", $$"""{"run_id": {{J(runId)}}}""")).ShouldBeOk();

        (await LogModelAsync(server, runId, ModelJson(runId))).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe($"The run {runId} must be in the 'active' state. Current state is deleted.");
        const string unknown = "0123456789abcdef0123456789abcdef";
        (await LogModelAsync(server, unknown, ModelJson(unknown))).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST")
            .Message.ShouldBe($"Run with id={unknown} not found");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Keeps_the_newest_models_when_the_history_outgrows_a_run_tag(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        // Each entry is 1150 characters: six fit in 8000 (6912), seven do not (8064).
        for (var i = 0; i < 10; i++)
        {
            var model = new JsonObject
            {
                ["run_id"] = runId,
                ["artifact_path"] = $"model-{i}",
                ["utc_time_created"] = "t",
                ["flavors"] = new JsonObject { ["f"] = new JsonObject { ["pad"] = new string('x', 1000) } },
            };
            (await LogModelAsync(server, runId, model.ToJsonString())).ShouldBeOk();
        }

        var value = (await HistoryTagAsync(server, runId))!;
        value.Length.ShouldBeLessThanOrEqualTo(8000);
        var paths = JsonNode.Parse(value)!.AsArray().Select(e => e!["artifact_path"]!.GetValue<string>()).ToList();
        paths.Last().ShouldBe("model-9");
        paths.ShouldBe(Enumerable.Range(10 - paths.Count, paths.Count).Select(i => $"model-{i}").ToList());
        paths.Count.ShouldBe(6);

        var huge = $$$$"""{"run_id": "r", "artifact_path": "a", "utc_time_created": "t", "flavors": {"f": {"pad": "{{{{new string('x', 8000)}}}}"}}}""";
        (await LogModelAsync(server, runId, huge)).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe("The model's entry in the tag 'mlflow.log-model.history' exceeds the maximum length of 8000 characters");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_to_extend_a_history_tag_that_is_not_a_json_list(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        (await SetTagAsync(server, runId, HistoryTag, "not a list")).ShouldBeOk();

        (await LogModelAsync(server, runId, ModelJson(runId))).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe($"The tag 'mlflow.log-model.history' of run {runId} does not hold a JSON list, so the model cannot be added to it. Delete the tag to start a new history.");
        (await HistoryTagAsync(server, runId)).ShouldBe("not a list");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Loses_no_model_when_clients_log_models_to_one_run_at_once(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        var replies = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => LogModelAsync(server, runId, ModelJson(runId, $"model-{i}", $"{i}"))));

        replies.ShouldAllBe(r => r.Status == HttpStatusCode.OK);
        JsonNode.Parse((await HistoryTagAsync(server, runId))!)!.AsArray().Select(e => e!["artifact_path"]!.GetValue<string>())
            .Order(StringComparer.Ordinal).ShouldBe(Enumerable.Range(0, 6).Select(i => $"model-{i}"));
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Logs_model_outputs_and_answers_them_on_the_run(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);
        var first = await IdAsync(server, experimentId);
        var second = await IdAsync(server, experimentId);

        (await server.PostAsync($"{Mlflow}/runs/outputs", $$"""{"run_id": {{J(runId)}}, "models": [{"model_id": {{J(first)}}, "step": 0}]}"""))
            .ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await server.PostAsync($"{Mlflow}/runs/outputs", $$"""
            {"run_id": {{J(runId)}}, "models": [{"model_id": {{J(second)}}, "step": 5}, {"model_id": {{J(first)}}, "step": 0}]}
            """)).ShouldBeOk();

        var run = await GetRunAsync(server, runId);
        run.ShouldHaveShape(Shapes.Run);
        var outputs = run["outputs"]!["model_outputs"]!.AsArray();
        outputs.Select(o => (o!["model_id"]!.GetValue<string>(), o["step"]!.GetValue<long>())).ShouldBe([(first, 0L), (second, 5L)]);

        var searched = (await server.PostAsync($"{Mlflow}/runs/search", $$"""{"experiment_ids": [{{J(experimentId)}}]}""")).ShouldBeOk();
        searched.Json!["runs"]![0]!["outputs"]!["model_outputs"]!.AsArray().Count.ShouldBe(2);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_outputs_of_unknown_models_or_deleted_runs(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);
        var modelId = await IdAsync(server, experimentId);
        const string unknown = "m-ffffffffffffffffffffffffffffffff";

        (await server.PostAsync($"{Mlflow}/runs/outputs", $$"""{"run_id": {{J(runId)}}, "models": [{"model_id": {{J(unknown)}}, "step": 0}]}"""))
            .ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST").Message.ShouldBe($"Logged model with ID '{unknown}' not found.");
        (await server.PostAsync($"{Mlflow}/runs/outputs", $$"""{"run_id": {{J(runId)}}, "models": [{"step": 0}]}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe("Missing value for required parameter 'models[0].model_id'.");
        (await server.PostAsync($"{Mlflow}/runs/outputs", """{"models": []}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe("Missing value for required parameter 'run_id'.");
        (await server.PostAsync($"{Mlflow}/runs/delete", $$"""{"run_id": {{J(runId)}}}""")).ShouldBeOk();
        (await server.PostAsync($"{Mlflow}/runs/outputs", $$"""{"run_id": {{J(runId)}}, "models": [{"model_id": {{J(modelId)}}, "step": 0}]}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe($"The run {runId} must be in the 'active' state. Current state is deleted.");
        (await GetRunAsync(server, runId))["outputs"]!["model_outputs"].ShouldBeNull();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Logs_model_inputs_once_and_answers_them_on_the_run(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);
        var modelId = await IdAsync(server, experimentId);
        var body = $$"""{"run_id": {{J(runId)}}, "models": [{"model_id": {{J(modelId)}}}]}""";

        (await server.PostAsync($"{Mlflow}/runs/log-inputs", body)).ShouldBeOk();
        (await server.PostAsync($"{Mlflow}/runs/log-inputs", body)).ShouldBeOk();

        var run = await GetRunAsync(server, runId);
        run.ShouldHaveShape(Shapes.Run);
        run["inputs"]!["model_inputs"]!.AsArray().ShouldHaveSingleItem()!["model_id"]!.GetValue<string>().ShouldBe(modelId);
        (await server.PostAsync($"{Mlflow}/runs/log-inputs", $$"""{"run_id": {{J(runId)}}, "models": [{"model_id": "m-0"}]}"""))
            .ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
    }
}
