using System.Net;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;
using static Dashboard.Tests.Support.Make;
using static Dashboard.Tests.Support.MakeModel;

namespace Dashboard.Tests.Api;

/// <summary>MLflow 3's logged models: create, get, finalize, delete, tags, params, the metrics runs log for them, search.</summary>
public class LoggedModelContractTests(SharedServers servers)
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    /// <summary>Orders model ids as a search without order_by does: newest first, then by id (models created in the
    /// same millisecond tie).</summary>
    private static async Task<Func<string[], List<string>>> NewestFirstAsync(DashboardServer server, params string[] ids)
    {
        var times = new Dictionary<string, long>();
        foreach (var id in ids)
        {
            times[id] = (await GetAsync(server, id))["info"]!["creation_timestamp_ms"]!.GetValue<long>();
        }
        return list => [.. list.OrderByDescending(i => times[i]).ThenBy(i => i, StringComparer.Ordinal)];
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Creates_a_logged_model_with_mlflows_fields(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);

        var reply = (await server.PostAsync(Models, $$"""
            {"experiment_id": {{J(experimentId)}}, "name": "model", "source_run_id": {{J(runId)}},
             "params": [{"key": "network", "value": "SimpleCNN"}, {"key": "batch_size", "value": "64"}],
             "tags": [{"key": "mlflow.user", "value": "root"}, {"key": "mlflow.source.type", "value": "LOCAL"}]}
            """)).ShouldBeOk();

        reply.Json.ShouldHaveShape($$"""{"model": {{Shapes.LoggedModel}}}""");
        var info = reply.Json!["model"]!["info"]!;
        var id = info["model_id"]!.GetValue<string>();
        id.ShouldMatch("^m-[0-9a-f]{32}$");
        info["experiment_id"]!.GetValue<string>().ShouldBe(experimentId);
        info["name"]!.GetValue<string>().ShouldBe("model");
        info["artifact_uri"]!.GetValue<string>().ShouldBe($"mlflow-artifacts:/{experimentId}/models/{id}/artifacts");
        info["status"]!.GetValue<string>().ShouldBe("LOGGED_MODEL_PENDING");
        info["model_type"]!.GetValue<string>().ShouldBe("");
        info["source_run_id"]!.GetValue<string>().ShouldBe(runId);
        info["last_updated_timestamp_ms"]!.GetValue<long>().ShouldBe(info["creation_timestamp_ms"]!.GetValue<long>());
        // MLflow's server lists tags and params by key.
        info["tags"]!.AsArray().Select(t => t!["key"]!.GetValue<string>()).ShouldBe(["mlflow.source.type", "mlflow.user"]);
        reply.Json!["model"]!["data"]!["params"]!.AsArray().Select(p => p!["key"]!.GetValue<string>()).ShouldBe(["batch_size", "network"]);

        var got = await GetAsync(server, id);
        got.ToJsonString().ShouldBe(reply.Json!["model"]!.ToJsonString());
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Generates_a_name_for_a_model_created_without_one(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);

        foreach (var extra in new[] { "", """, "name": "" """ })
        {
            var info = (await CreateAsync(server, experimentId, extra))["info"]!;
            info["name"]!.GetValue<string>().ShouldMatch("^[a-z]+-[a-z]+-[0-9]+$");
            info["source_run_id"]!.GetValue<string>().ShouldBe("");
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_model_names_with_characters_that_break_model_uris(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);

        foreach (var name in new[] { "a/b", "a:b", "v1.0", "50%", "it's" })
        {
            var reply = (await server.PostAsync(Models, $$"""{"experiment_id": {{J(experimentId)}}, "name": {{J(name)}}}"""))
                .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
            reply.Message.ShouldStartWith("Invalid model name (");
            reply.Message.ShouldEndWith("Model name must be a non-empty string and cannot contain the following characters: ('/', ':', '.', '%', '\"', \"'\")");
        }
        (await server.PostAsync(Models, $$"""{"experiment_id": {{J(experimentId)}}, "name": {{J(new string('n', 501))}}}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe("'name' exceeds the maximum length of 500 characters");
        (await server.PostAsync(Models, $$"""{"experiment_id": {{J(experimentId)}}, "name": {{J(new string('n', 500))}}}""")).ShouldBeOk();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Creates_models_only_in_an_existing_active_experiment(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        (await server.PostAsync($"{Mlflow}/experiments/delete", $$"""{"experiment_id": {{J(experimentId)}}}""")).ShouldBeOk();

        (await server.PostAsync(Models, "{}")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe("Missing value for required parameter 'experiment_id'.");
        (await server.PostAsync(Models, """{"experiment_id": "424242424"}""")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST")
            .Message.ShouldBe("No Experiment with id=424242424 exists");
        (await server.PostAsync(Models, $$"""{"experiment_id": {{J(experimentId)}}}""")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe($"The experiment {experimentId} must be in the 'active' state. Current state is deleted.");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_invalid_params_and_tags_at_creation(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);

        (await server.PostAsync(Models, $$"""{"experiment_id": {{J(experimentId)}}, "params": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldStartWith("Duplicate parameter keys have been submitted: ['a'].");
        (await server.PostAsync(Models, $$"""{"experiment_id": {{J(experimentId)}}, "params": [{"key": "a"}]}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe("Missing value for required parameter 'params[0].value'.");
        (await server.PostAsync(Models, $$"""{"experiment_id": {{J(experimentId)}}, "tags": [{"key": "../x", "value": "v"}]}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldStartWith("Invalid value \"../x\" for parameter 'tags[0].key' supplied");
        (await server.PostAsync(Models, $$"""{"experiment_id": {{J(experimentId)}}, "params": [{"key": "p", "value": {{J(new string('v', 6001))}}}]}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.PostAsync(Models, $$"""{"experiment_id": {{J(experimentId)}}, "tags": [{"key": "t", "value": {{J(new string('v', 8001))}}}]}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.PostAsync(Models, $$"""{"experiment_id": {{J(experimentId)}}, "source_run_id": {{J(new string('r', 33))}}}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Lists_a_models_artifacts_uploaded_through_the_proxy_folder_by_folder(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var id = await IdAsync(server, experimentId);
        var location = (await GetAsync(server, id))["info"]!["artifact_uri"]!.GetValue<string>();
        location.ShouldBe($"mlflow-artifacts:/{experimentId}/models/{id}/artifacts");
        var upload = $"/api/2.0/mlflow-artifacts/artifacts/{experimentId}/models/{id}/artifacts";
        foreach (var (file, body) in new[] { ("MLmodel", "flavors: {}\n"), ("data/model.pdiparams", "0123456789") })
        {
            using var put = new HttpRequestMessage(HttpMethod.Put, $"{upload}/{file}") { Content = new StringContent(body) };
            (await server.SendAsync(put)).ShouldBeOk();
        }

        var root = (await server.GetAsync($"{Models}/{id}/artifacts/directories")).ShouldBeOk();
        root.Json!["files"]!.ToJsonString().ShouldBe("""[{"path":"MLmodel","is_dir":false,"file_size":12},{"path":"data","is_dir":true}]""");
        var data = (await server.GetAsync($"{Models}/{id}/artifacts/directories?artifact_directory_path=data")).ShouldBeOk();
        data.Json!["files"]!.ToJsonString().ShouldBe("""[{"path":"data/model.pdiparams","is_dir":false,"file_size":10}]""");
        (await server.GetAsync($"{Models}/{id}/artifacts/directories?artifact_directory_path=..%2F..%2Fx"))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_404_for_an_unknown_model_on_every_rpc(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        const string id = "m-00000000000000000000000000000000";
        const string message = $"Logged model with ID '{id}' not found.";

        var replies = new[]
        {
            await server.GetAsync($"{Models}/{id}"),
            await server.PostAsync($"{Models}/{id}", """{"status": "LOGGED_MODEL_READY"}""", "PATCH"),
            await server.PostAsync($"{Models}/{id}", "{}", "DELETE"),
            await server.PostAsync($"{Models}/{id}/tags", """{"tags": [{"key": "k", "value": "v"}]}""", "PATCH"),
            await server.PostAsync($"{Models}/{id}/tags/k", "{}", "DELETE"),
            await server.PostAsync($"{Models}/{id}/params", """{"params": [{"key": "k", "value": "v"}]}"""),
            await server.GetAsync($"{Models}/{id}/artifacts/directories"),
        };
        foreach (var reply in replies)
        {
            reply.ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST").Message.ShouldBe(message);
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Finalizes_a_model_as_ready_by_name_or_by_number(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var first = await IdAsync(server, experimentId);
        var second = await IdAsync(server, experimentId);

        var reply = (await server.PostAsync($"{Models}/{first}", $$"""{"model_id": {{J(first)}}, "status": "LOGGED_MODEL_READY"}""", "PATCH")).ShouldBeOk();
        reply.Json.ShouldHaveShape($$"""{"model": {{Shapes.LoggedModel}}}""");
        var info = reply.Json!["model"]!["info"]!;
        info["status"]!.GetValue<string>().ShouldBe("LOGGED_MODEL_READY");
        info["last_updated_timestamp_ms"]!.GetValue<long>().ShouldBeGreaterThanOrEqualTo(info["creation_timestamp_ms"]!.GetValue<long>());
        (await GetAsync(server, first))["info"]!["status"]!.GetValue<string>().ShouldBe("LOGGED_MODEL_READY");
        // Saying it again is harmless: clients retry.
        (await server.PostAsync($"{Models}/{first}", """{"status": 2}""", "PATCH")).ShouldBeOk();

        (await server.PostAsync($"{Models}/{second}", """{"status": 3}""", "PATCH")).ShouldBeOk()
            .Json!["model"]!["info"]!["status"]!.GetValue<string>().ShouldBe("LOGGED_MODEL_UPLOAD_FAILED");
        // A retried upload may still succeed.
        (await server.PostAsync($"{Models}/{second}", """{"status": "LOGGED_MODEL_READY"}""", "PATCH")).ShouldBeOk();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_to_finalize_a_model_as_pending_or_a_ready_one_as_failed(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var id = await IdAsync(server, experimentId);

        (await server.PostAsync($"{Models}/{id}", "{}", "PATCH")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe("Missing value for required parameter 'status'.");
        (await server.PostAsync($"{Models}/{id}", """{"status": "LOGGED_MODEL_PENDING"}""", "PATCH"))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe(
                "Invalid value \"LOGGED_MODEL_PENDING\" for parameter 'status' supplied: a logged model is finalized as LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.");
        (await server.PostAsync($"{Models}/{id}", """{"status": "DONE"}""", "PATCH"))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe(
                "Invalid value \"DONE\" for parameter 'status' supplied: expected LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.");
        (await server.PostAsync($"{Models}/{id}", """{"status": "LOGGED_MODEL_READY"}""", "PATCH")).ShouldBeOk();
        (await server.PostAsync($"{Models}/{id}", """{"status": "LOGGED_MODEL_UPLOAD_FAILED"}""", "PATCH"))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe($"Logged model '{id}' is already LOGGED_MODEL_READY: it cannot become LOGGED_MODEL_UPLOAD_FAILED.");
        (await GetAsync(server, id))["info"]!["status"]!.GetValue<string>().ShouldBe("LOGGED_MODEL_READY");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_a_body_that_names_another_model_than_the_path(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var id = await IdAsync(server, experimentId);
        var other = await IdAsync(server, experimentId);

        (await server.PostAsync($"{Models}/{id}", $$"""{"model_id": {{J(other)}}, "status": "LOGGED_MODEL_READY"}""", "PATCH"))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe($"The request body names model_id '{other}', but its path names '{id}'.");
        (await GetAsync(server, other))["info"]!["status"]!.GetValue<string>().ShouldBe("LOGGED_MODEL_PENDING");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Sets_replaces_and_deletes_model_tags(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var id = await IdAsync(server, experimentId, """, "tags": [{"key": "a", "value": "1"}]""");
        var before = (await GetAsync(server, id))["info"]!["last_updated_timestamp_ms"]!.GetValue<long>();

        (await server.PostAsync($"{Models}/{id}/tags", """{"tags": [{"key": "a", "value": "2"}, {"key": "dir/b", "value": "x"}, {"key": "c", "value": "3"}, {"key": "c", "value": "4"}]}""", "PATCH"))
            .ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        var info = (await GetAsync(server, id))["info"]!;
        ValueOf(info["tags"], "a").ShouldBe("2");
        ValueOf(info["tags"], "dir/b").ShouldBe("x");
        ValueOf(info["tags"], "c").ShouldBe("4");
        // Tags do not count as an update of the model, as in MLflow.
        info["last_updated_timestamp_ms"]!.GetValue<long>().ShouldBe(before);

        (await server.PostAsync($"{Models}/{id}/tags/dir/b", "", "DELETE")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await server.PostAsync($"{Models}/{id}/tags/a", "", "DELETE")).ShouldBeOk();
        (await GetAsync(server, id))["info"]!["tags"]!.AsArray().Select(t => t!["key"]!.GetValue<string>()).ShouldBe(["c"]);
        (await server.PostAsync($"{Models}/{id}/tags/a", "", "DELETE")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST")
            .Message.ShouldBe($"No tag with key 'a' found for model with ID '{id}'.");
        (await server.PostAsync($"{Models}/{id}/tags", """{"tags": [{"key": "k"}]}""", "PATCH"))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe("Missing value for required parameter 'tags[0].value'.");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Logs_model_params_once_and_refuses_a_changed_value(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var id = await IdAsync(server, experimentId, """, "params": [{"key": "lr", "value": "0.1"}]""");

        (await server.PostAsync($"{Models}/{id}/params", $$"""{"model_id": {{J(id)}}, "params": [{"key": "lr", "value": "0.1"}, {"key": "bs", "value": "64"}]}"""))
            .ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        var data = (await GetAsync(server, id))["data"]!;
        ValueOf(data["params"], "lr").ShouldBe("0.1");
        ValueOf(data["params"], "bs").ShouldBe("64");

        (await server.PostAsync($"{Models}/{id}/params", """{"params": [{"key": "lr", "value": "0.2"}]}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe(
                $"Changing param values is not allowed. Param with key='lr' was already logged with value='0.1' for logged model ID='{id}'. Attempted logging new value '0.2'.");
        (await server.PostAsync($"{Models}/{id}/params", """{"params": [{"key": "x", "value": "1"}, {"key": "x", "value": "1"}]}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        ValueOf((await GetAsync(server, id))["data"]!["params"], "lr").ShouldBe("0.1");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_deleted_model_is_neither_found_nor_searched_nor_changed(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var id = await IdAsync(server, experimentId, """, "name": "gone" """);

        (await server.PostAsync($"{Models}/{id}", "", "DELETE")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);

        (await server.GetAsync($"{Models}/{id}")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.PostAsync($"{Models}/{id}", "", "DELETE")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.PostAsync($"{Models}/{id}", """{"status": 2}""", "PATCH")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.PostAsync($"{Models}/{id}/tags", """{"tags": [{"key": "k", "value": "v"}]}""", "PATCH"))
            .ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        Ids(await SearchAsync(server, $$"""{"experiment_ids": [{{J(experimentId)}}]}""")).ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Records_log_batch_metrics_for_their_model_with_the_run_and_the_dataset(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);
        var id = await IdAsync(server, experimentId);
        const string dataset = """, "dataset_name": "mnist-test", "dataset_digest": "7369be0d" """;

        (await LogBatchAsync(server, runId, $"[{ModelMetric("acc", 0.5, 100, 0, id, dataset)},{ModelMetric("loss", 1.5, 100, 0, id)},{Metric("plain", 1, 100, 0)}]"))
            .ShouldBeOk();
        (await server.PostAsync($"{Mlflow}/runs/log-metric",
            $$"""{"run_id": {{J(runId)}}, "key": "acc", "value": 0.75, "timestamp": 200, "step": 1, "model_id": {{J(id)}}}""")).ShouldBeOk();

        var model = await GetAsync(server, id);
        model.ShouldHaveShape(Shapes.LoggedModel);
        var metrics = model["data"]!["metrics"]!.AsArray();
        metrics.Select(m => (m!["key"]!.GetValue<string>(), m["value"]!.GetValue<double>(), m["step"]!.GetValue<long>()))
            .ShouldBe([("acc", 0.5, 0L), ("loss", 1.5, 0L), ("acc", 0.75, 1L)]);
        metrics.ShouldAllBe(m => m!["model_id"]!.GetValue<string>() == id && m["run_id"]!.GetValue<string>() == runId);
        metrics[0]!["dataset_name"]!.GetValue<string>().ShouldBe("mnist-test");
        metrics[0]!["dataset_digest"]!.GetValue<string>().ShouldBe("7369be0d");
        metrics[1]!["dataset_name"].ShouldBeNull();
        // The points are the run's metrics too.
        Find((await GetRunAsync(server, runId))["data"]!["metrics"], "acc")!["value"]!.GetValue<double>().ShouldBe(0.75);
        (await HistoryAsync(server, runId, "acc")).Count.ShouldBe(2);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Re_logging_a_NaN_point_for_a_model_is_ignored_as_a_duplicate_not_refused(DatabaseProvider provider)
    {
        // MLflow 3.9's log_model re-logs the run's step-0 metrics with the new model id; its server then fails the
        // batch when one of them is NaN (the recorded real-mlflow-3.9.0rc0.jsonl session). This server does not.
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);
        (await LogMetricAsync(server, runId, "nan_metric", "\"NaN\"", 100, 0)).ShouldBeOk();
        var id = await IdAsync(server, experimentId);

        var batch = $$"""[{"key": "nan_metric", "value": "NaN", "timestamp": 100, "step": 0, "model_id": {{J(id)}}}]""";
        (await LogBatchAsync(server, runId, batch)).ShouldBeOk();
        (await LogBatchAsync(server, runId, batch)).ShouldBeOk();

        (await HistoryAsync(server, runId, "nan_metric")).Count.ShouldBe(1);
        var metric = (await GetAsync(server, id))["data"]!["metrics"]!.AsArray().ShouldHaveSingleItem()!;
        metric["value"]!.GetValue<string>().ShouldBe("NaN");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_a_batch_with_a_metric_for_an_unknown_model_and_stores_nothing_of_it(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        const string unknown = "m-ffffffffffffffffffffffffffffffff";

        (await LogBatchAsync(server, runId, $"[{Metric("plain", 1, 1, 0)},{ModelMetric("acc", 1, 1, 0, unknown)}]", $"[{KeyValue("p", "v")}]"))
            .ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST").Message.ShouldBe($"Logged model with ID '{unknown}' not found.");

        var data = await GetRunAsync(server, runId);
        data["data"]!["metrics"].ShouldBeNull();
        data["data"]!["params"].ShouldBeNull();
        (await LogBatchAsync(server, runId, $"[{ModelMetric("acc", 1, 1, 0, "m-1", $", \"dataset_name\": {J(new string('d', 501))}")}]"))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe("'metrics[0].dataset_name' exceeds the maximum length of 500 characters");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_an_empty_message_when_no_model_matches(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);

        var reply = (await SearchAsync(server, $$"""{"experiment_ids": [{{J(experimentId)}}], "filter": "name = 'tables'"}""")).ShouldBeOk();

        reply.Text.ShouldBe("{}");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Searches_models_by_name_attributes_params_tags_and_metrics(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);
        var a = await IdAsync(server, experimentId, """, "name": "alpha", "model_type": "Classifier", "params": [{"key": "lr", "value": "0.1"}], "tags": [{"key": "team", "value": "vision"}]""");
        var b = await IdAsync(server, experimentId, """, "name": "beta", "params": [{"key": "lr", "value": "0.01"}], "tags": [{"key": "team", "value": "nlp"}]""");
        var c = await IdAsync(server, experimentId, """, "name": "Alphabet" """);
        (await server.PostAsync($"{Models}/{b}", """{"status": "LOGGED_MODEL_READY"}""", "PATCH")).ShouldBeOk();
        (await LogBatchAsync(server, runId, $"[{ModelMetric("acc", 0.9, 1, 0, a)},{ModelMetric("acc", 0.2, 2, 1, a)},{ModelMetric("acc", 0.5, 1, 0, b)}]")).ShouldBeOk();
        var newest = await NewestFirstAsync(server, a, b, c);

        async Task<List<string>> Find(string filter) =>
            Ids(await SearchAsync(server, $$"""{"experiment_ids": [{{J(experimentId)}}], "filter": {{J(filter)}}}"""));

        (await Find("name = 'alpha'")).ShouldBe([a]);
        (await Find("name LIKE 'Alpha%'")).ShouldBe([c]);
        (await Find("name ILIKE 'alpha%'")).ShouldBe(newest([c, a]));
        (await Find("attributes.name IN ('alpha', 'beta')")).ShouldBe(newest([b, a]));
        (await Find("model_type = 'Classifier'")).ShouldBe([a]);
        (await Find("params.lr = '0.01'")).ShouldBe([b]);
        (await Find("tags.team != 'nlp'")).ShouldBe([a]);
        (await Find("tags.`team` NOT IN ('vision')")).ShouldBe([b]);
        (await Find("status = 'READY'")).ShouldBe([b]);
        (await Find("status IN ('PENDING', 'LOGGED_MODEL_UPLOAD_FAILED')")).ShouldBe(newest([c, a]));
        // A metric term matches when any point of the model does, as in MLflow.
        (await Find("metrics.acc > 0.8")).ShouldBe([a]);
        (await Find("metrics.acc < 0.3")).ShouldBe([a]);
        (await Find("metrics.acc >= 0.5 AND params.lr = '0.01'")).ShouldBe([b]);
        (await Find("creation_time > 0 AND last_updated_timestamp_ms > 0")).ShouldBe(newest([c, b, a]));
        (await Find($"model_id = '{c}'")).ShouldBe([c]);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Restricts_metric_terms_and_models_to_the_datasets_given(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);
        var a = await IdAsync(server, experimentId);
        var b = await IdAsync(server, experimentId);
        await IdAsync(server, experimentId);
        (await LogBatchAsync(server, runId,
            $"[{ModelMetric("acc", 0.9, 1, 0, a, ", \"dataset_name\": \"test\", \"dataset_digest\": \"d1\"")}," +
            $"{ModelMetric("acc", 0.9, 1, 0, b, ", \"dataset_name\": \"train\"")}]")).ShouldBeOk();
        var newest = await NewestFirstAsync(server, a, b);

        async Task<List<string>> Find(string filter, string datasets) => Ids(await SearchAsync(server,
            $$"""{"experiment_ids": [{{J(experimentId)}}], "filter": {{J(filter)}}, "datasets": {{datasets}}}"""));

        (await Find("metrics.acc > 0.5", """[{"dataset_name": "test"}]""")).ShouldBe([a]);
        (await Find("metrics.acc > 0.5", """[{"dataset_name": "test", "dataset_digest": "other"}]""")).ShouldBeEmpty();
        (await Find("metrics.acc > 0.5", """[{"dataset_name": "test"}, {"dataset_name": "train"}]""")).ShouldBe(newest([b, a]));
        // Datasets without a metric term: the models with a point measured on them.
        (await Find("", """[{"dataset_name": "train"}]""")).ShouldBe([b]);
        (await SearchAsync(server, $$"""{"experiment_ids": [{{J(experimentId)}}], "datasets": [{"dataset_digest": "d1"}]}"""))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe("`dataset_name` in the `datasets` clause must be specified.");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Orders_models_by_attributes_and_by_their_latest_metric_with_missing_values_last(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);
        var a = await IdAsync(server, experimentId, """, "name": "b-model" """);
        var b = await IdAsync(server, experimentId, """, "name": "a-model" """);
        var c = await IdAsync(server, experimentId, """, "name": "c-model" """);
        var d = await IdAsync(server, experimentId, """, "name": "d-model" """);
        // a's latest point (by timestamp) is 0.1 although 0.9 is larger; d's is NaN; c has none.
        (await LogBatchAsync(server, runId,
            $"[{ModelMetric("acc", 0.9, 1, 0, a)},{ModelMetric("acc", 0.1, 2, 0, a)},{ModelMetric("acc", 0.5, 1, 0, b)}]")).ShouldBeOk();
        (await LogBatchAsync(server, runId, $$"""[{"key": "acc", "value": "NaN", "timestamp": 1, "step": 0, "model_id": {{J(d)}}}]""")).ShouldBeOk();

        async Task<List<string>> Order(string orderBy) =>
            Ids(await SearchAsync(server, $$"""{"experiment_ids": [{{J(experimentId)}}], "order_by": {{orderBy}}}"""));

        (await Order("""[{"field_name": "metrics.acc", "ascending": false}]""")).ShouldBe([b, a, d, c]);
        (await Order("""[{"field_name": "metrics.acc"}]""")).ShouldBe([a, b, d, c]);
        (await Order("""[{"field_name": "name"}]""")).ShouldBe([b, a, c, d]);
        (await Order("""[{"field_name": "name", "ascending": false}]""")).ShouldBe([d, c, a, b]);
        var created = new List<(string Id, long Time)>();
        foreach (var id in new[] { a, b, c, d })
        {
            created.Add((id, (await GetAsync(server, id))["info"]!["creation_timestamp_ms"]!.GetValue<long>()));
        }
        (await Order("""[{"field_name": "creation_timestamp", "ascending": true}]"""))
            .ShouldBe(created.OrderBy(m => m.Time).ThenBy(m => m.Id, StringComparer.Ordinal).Select(m => m.Id).ToList());
        // Without an order: newest first, then by id (MLflow's tie-breakers).
        (await Order("[]")).ShouldBe(created.OrderByDescending(m => m.Time).ThenBy(m => m.Id, StringComparer.Ordinal).Select(m => m.Id).ToList());
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Pages_a_search_with_max_results_and_page_tokens(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await IdAsync(server, experimentId, $", \"name\": \"m{i}\""));
        }
        const string order = """[{"field_name": "name"}]""";

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = (await SearchAsync(server, $$"""{"experiment_ids": [{{J(experimentId)}}], "order_by": {{order}}, "max_results": 2{{(token is null ? "" : $", \"page_token\": {J(token)}")}}}"""))
                .ShouldBeOk();
            seen.AddRange(Ids(page));
            token = page.Json!["next_page_token"]?.GetValue<string>();
            pages++;
        }
        while (token is not null);

        seen.ShouldBe(ids);
        pages.ShouldBe(3);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_invalid_searches_with_mlflows_messages(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var ids = $"\"experiment_ids\": [{J(experimentId)}]";

        var cases = new (string Body, string Message)[]
        {
            ("{}", "Missing value for required parameter 'experiment_ids'."),
            ($$"""{{{ids}}, "filter": "metric.acc > 1"}""", "Invalid entity type: 'metric'. Expected one of ['attributes', 'metrics', 'params', 'tags']."),
            ($$"""{{{ids}}, "filter": "metrics.acc LIKE '1'"}""", "Invalid comparison operator for metrics.acc: 'LIKE'. Expected one of ('<', '<=', '>', '>=', '=', '!=')."),
            ($$"""{{{ids}}, "filter": "status LIKE 'R%'"}""", "Invalid comparison operator for attributes.status: 'LIKE'. Expected one of ('=', '!=', 'IN', 'NOT IN')."),
            ($$"""{{{ids}}, "filter": "status = 'DONE'"}""", "Unknown model status in filter: 'DONE'"),
            ($$"""{{{ids}}, "filter": "color = 'red'"}""", "Invalid attribute key 'color' specified. Valid keys are '{'artifact_location', 'creation_time', 'creation_timestamp', 'creation_timestamp_ms', 'last_updated_timestamp', 'last_updated_timestamp_ms', 'model_id', 'model_type', 'name', 'source_run_id', 'status', 'status_message'}'"),
            ($$"""{{{ids}}, "order_by": [{"field_name": "color"}]}""", "Invalid order by field name: color"),
            ($$"""{{{ids}}, "order_by": [{"field_name": "params.lr"}]}""", "Invalid order by field name: params.lr. Only metrics are supported."),
            ($$"""{{{ids}}, "max_results": 0}""", "Invalid value 0 for parameter 'max_results' supplied: it must be between 1 and 1000."),
            ($$"""{{{ids}}, "page_token": "not-a-token"}""", "Invalid page token: it is not a token this server issued for a search."),
        };
        foreach (var (body, message) in cases)
        {
            (await SearchAsync(server, body)).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldBe(message, body);
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Serves_the_logged_model_rpcs_under_the_ajax_api_prefix_too(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        const string ajax = "/ajax-api/2.0/mlflow";
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);

        var id = (await server.PostAsync($"{ajax}/logged-models", $$"""{"experiment_id": {{J(experimentId)}}}""")).ShouldBeOk()
            .Json!["model"]!["info"]!["model_id"]!.GetValue<string>();
        (await server.GetAsync($"{ajax}/logged-models/{id}")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/logged-models/{id}/params", """{"params": [{"key": "p", "value": "v"}]}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/logged-models/{id}/tags", """{"tags": [{"key": "t", "value": "v"}]}""", "PATCH")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/logged-models/{id}/tags/t", "", "DELETE")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/logged-models/{id}", """{"status": "LOGGED_MODEL_READY"}""", "PATCH")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/logged-models/search", $$"""{"experiment_ids": [{{J(experimentId)}}]}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/runs/outputs", $$"""{"run_id": {{J(runId)}}, "models": [{"model_id": {{J(id)}}, "step": 1}]}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/runs/log-model", $$"""{"run_id": {{J(runId)}}, "model_json": {{J(ModelJson(runId))}}}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/logged-models/{id}", "", "DELETE")).ShouldBeOk();
    }
}
