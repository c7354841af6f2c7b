using System.Net;
using System.Text.Json.Nodes;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Api;

/// <summary>log-metric, log-parameter, set-tag, log-batch and log-inputs: what is stored and what is refused.</summary>
public class LoggingContractTests(SharedServers servers)
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    [Theory, MemberData(nameof(Providers))]
    public async Task Logs_metrics_params_and_tags_and_answers_empty_messages(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        (await LogMetricAsync(server, runId, "loss", "0.25", 1700000000001, 3)).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await LogParamAsync(server, runId, "lr", "0.001")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await SetTagAsync(server, runId, "stage", "dev")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await LogBatchAsync(server, runId, $"[{Metric("acc", 0.5, 1700000000002, 1)}]", $"[{KeyValue("bs", "64")}]",
            $"[{KeyValue("team", "a")}]")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);

        var data = (await GetRunAsync(server, runId))["data"]!;
        var loss = Find(data["metrics"], "loss")!;
        loss["value"]!.GetValue<double>().ShouldBe(0.25);
        loss["timestamp"]!.GetValue<long>().ShouldBe(1700000000001);
        loss["step"]!.GetValue<long>().ShouldBe(3);
        Find(data["metrics"], "acc")!["value"]!.GetValue<double>().ShouldBe(0.5);
        ValueOf(data["params"], "lr").ShouldBe("0.001");
        ValueOf(data["params"], "bs").ShouldBe("64");
        ValueOf(data["tags"], "stage").ShouldBe("dev");
        ValueOf(data["tags"], "team").ShouldBe("a");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Logs_a_metric_without_a_step_at_step_zero(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        (await server.PostAsync($"{Mlflow}/runs/log-metric", $$"""{"run_id": {{J(runId)}}, "key": "m", "value": 2, "timestamp": 10}""")).ShouldBeOk();

        (await HistoryAsync(server, runId, "m")).Single()!["step"]!.GetValue<long>().ShouldBe(0);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Ignores_fields_it_does_not_know_as_newer_clients_send_them(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        (await server.PostAsync($"{Mlflow}/runs/log-metric", $$"""
            {"run_id": {{J(runId)}}, "key": "m", "value": 1, "timestamp": 1, "dataset_name": "d", "dataset_digest": "x", "future": true}
            """)).ShouldBeOk();
        (await LogBatchAsync(server, runId, $$$"""
            [{"key": "m", "value": 2, "timestamp": 2, "step": 1, "run_id": {{{J(runId)}}}, "future": {"nested": [1]}}]
            """)).ShouldBeOk();

        (await HistoryAsync(server, runId, "m")).Count.ShouldBe(2);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Keeps_as_latest_value_the_maximum_by_step_then_timestamp_then_value(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        (await LogMetricAsync(server, runId, "m", "5", timestamp: 1, step: 2)).ShouldBeOk();
        (await LogMetricAsync(server, runId, "m", "9", timestamp: 100, step: 1)).ShouldBeOk(); // earlier step, later time
        (await LogMetricAsync(server, runId, "m", "7", timestamp: 1, step: 2)).ShouldBeOk(); // same step and time, larger value
        (await LogMetricAsync(server, runId, "m", "6", timestamp: 1, step: 2)).ShouldBeOk(); // smaller value loses
        (await LogBatchAsync(server, runId, $"[{Metric("n", 1, 5, 0)},{Metric("n", 2, 4, 1)},{Metric("n", 3, 9, 0)}]")).ShouldBeOk();

        var metrics = (await GetRunAsync(server, runId))["data"]!["metrics"];
        var m = Find(metrics, "m")!;
        (m["value"]!.GetValue<double>(), m["timestamp"]!.GetValue<long>(), m["step"]!.GetValue<long>()).ShouldBe((7d, 1L, 2L));
        var n = Find(metrics, "n")!;
        (n["value"]!.GetValue<double>(), n["step"]!.GetValue<long>()).ShouldBe((2d, 1L));
        (await HistoryAsync(server, runId, "m")).Count.ShouldBe(4);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Ignores_an_exact_duplicate_metric_NaN_included(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        for (var i = 0; i < 2; i++)
        {
            (await LogMetricAsync(server, runId, "loss", "0.5", 10, 1)).ShouldBeOk();
            (await LogMetricAsync(server, runId, "nan", "\"NaN\"", 10, 1)).ShouldBeOk();
        }
        (await LogBatchAsync(server, runId,
            """[{"key": "nan", "value": "NaN", "timestamp": 10, "step": 1}, {"key": "nan", "value": "NaN", "timestamp": 10, "step": 1}]""")).ShouldBeOk();

        (await HistoryAsync(server, runId, "loss")).Count.ShouldBe(1);
        var nan = await HistoryAsync(server, runId, "nan");
        nan.Count.ShouldBe(1);
        nan[0]!["value"]!.GetValue<string>().ShouldBe("NaN");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Writes_NaN_and_infinities_as_strings(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        (await LogMetricAsync(server, runId, "nan", "\"NaN\"")).ShouldBeOk();
        (await LogMetricAsync(server, runId, "inf", "\"Infinity\"")).ShouldBeOk();
        (await LogBatchAsync(server, runId, """[{"key": "ninf", "value": "-Infinity", "timestamp": 1, "step": 0}]""")).ShouldBeOk();

        var metrics = (await GetRunAsync(server, runId))["data"]!["metrics"];
        Find(metrics, "nan")!["value"]!.GetValue<string>().ShouldBe("NaN");
        Find(metrics, "inf")!["value"]!.GetValue<string>().ShouldBe("Infinity");
        Find(metrics, "ninf")!["value"]!.GetValue<string>().ShouldBe("-Infinity");
        (await HistoryAsync(server, runId, "inf"))[0]!["value"]!.GetValue<string>().ShouldBe("Infinity");
        (await HistoryAsync(server, runId, "ninf"))[0]!["value"]!.GetValue<string>().ShouldBe("-Infinity");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Writes_int64_fields_as_exact_json_numbers(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        const long beyondDoublePrecision = 9007199254740993; // 2^53 + 1

        (await LogMetricAsync(server, runId, "m", "1", timestamp: 1795811094297, step: beyondDoublePrecision)).ShouldBeOk();

        var text = (await server.GetAsync($"{Mlflow}/metrics/get-history?run_id={runId}&metric_key=m")).ShouldBeOk().Text;
        text.ShouldContain("\"step\":9007199254740993");
        text.ShouldContain("\"timestamp\":1795811094297");
        var run = await server.GetAsync($"{Mlflow}/runs/get?run_id={runId}");
        run.Json!["run"]!["info"]!["start_time"]!.GetValueKind().ShouldBe(System.Text.Json.JsonValueKind.Number);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Treats_a_repeated_param_with_the_same_value_as_idempotent(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        (await LogParamAsync(server, runId, "lr", "0.001")).ShouldBeOk();
        (await LogParamAsync(server, runId, "lr", "0.001")).ShouldBeOk();
        (await LogBatchAsync(server, runId, @params: $"[{KeyValue("lr", "0.001")},{KeyValue("bs", "64")}]")).ShouldBeOk();

        var @params = (await GetRunAsync(server, runId))["data"]!["params"]!.AsArray();
        @params.Count.ShouldBe(2);
        ValueOf(@params, "lr").ShouldBe("0.001");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Rejects_a_changed_param_value_with_invalid_parameter_value(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        (await LogParamAsync(server, runId, "lr", "0.001")).ShouldBeOk();

        var single = await LogParamAsync(server, runId, "lr", "0.5");
        var batch = await LogBatchAsync(server, runId, @params: $"[{KeyValue("lr", "0.7")}]");

        single.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        single.Message.ShouldBe($"Changing param values is not allowed. Param with key='lr' was already logged with value='0.001' for run ID='{runId}'. Attempted logging new value '0.5'.");
        batch.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        batch.Message!.ShouldStartWith("Changing param values is not allowed");
        ValueOf((await GetRunAsync(server, runId))["data"]!["params"], "lr").ShouldBe("0.001");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Rejects_a_batch_with_the_same_param_key_twice(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        var reply = await LogBatchAsync(server, runId, @params: $"[{KeyValue("a", "1")},{KeyValue("a", "2")}]");

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Message!.ShouldStartWith("Duplicate parameter keys have been submitted: ['a'].");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_failed_log_batch_stores_nothing_of_itself(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        (await LogParamAsync(server, runId, "fixed", "1")).ShouldBeOk();

        var reply = await LogBatchAsync(server, runId,
            metrics: $"[{Metric("loss", 0.5, 10, 0)},{Metric("acc", 0.9, 10, 0)}]",
            @params: $"[{KeyValue("new1", "a")},{KeyValue("new2", "b")},{KeyValue("fixed", "2")}]",
            tags: $"[{KeyValue("batch_tag", "x")}]");

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        var data = (await GetRunAsync(server, runId))["data"]!;
        data["metrics"].ShouldBeNull();
        data["params"]!.AsArray().Select(p => p!["key"]!.GetValue<string>()).ShouldBe(["fixed"]);
        Find(data["tags"], "batch_tag").ShouldBeNull();
        (await HistoryAsync(server, runId, "loss")).ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_batch_refused_by_validation_stores_nothing_of_itself(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        var reply = await LogBatchAsync(server, runId,
            metrics: $"[{Metric("loss", 0.5, 10, 0)}]", @params: $"[{KeyValue("ok", "a")}]",
            tags: $"[{KeyValue("fine", "x")},{KeyValue("bad key!", "y")}]");

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        var data = (await GetRunAsync(server, runId))["data"]!;
        data["metrics"].ShouldBeNull();
        data["params"].ShouldBeNull();
        Find(data["tags"], "fine").ShouldBeNull();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Logs_dataset_inputs_once_per_run_and_answers_them_on_the_run(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        var body = $$$"""
            {"run_id": {{{J(runId)}}}, "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "training"}],
              "dataset": {"name": "mnist", "digest": "7369be0d", "source_type": "local", "source": "{\"uri\": \"/data/train.npz\"}",
                          "schema": "{\"mlflow_tensorspec\": {}}", "profile": "{\"num_rows\": 10}"}}]}
            """;

        (await server.PostAsync($"{Mlflow}/runs/log-inputs", body)).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await server.PostAsync($"{Mlflow}/runs/log-inputs", body)).ShouldBeOk();

        var run = await GetRunAsync(server, runId);
        run.ShouldHaveShape(Shapes.Run);
        var inputs = run["inputs"]!["dataset_inputs"]!.AsArray();
        inputs.Count.ShouldBe(1);
        inputs[0]!["dataset"]!["name"]!.GetValue<string>().ShouldBe("mnist");
        inputs[0]!["dataset"]!["source"]!.GetValue<string>().ShouldBe("{\"uri\": \"/data/train.npz\"}");
        ValueOf(inputs[0]!["tags"], "mlflow.data.context").ShouldBe("training");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Logs_one_dataset_from_parallel_runs_of_an_experiment(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var runs = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => RunAsync(server, experimentId)));
        string Body(string runId) => $$$"""
            {"run_id": {{{J(runId)}}}, "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "training"}],
              "dataset": {"name": "shared", "digest": "d1", "source_type": "local", "source": "{}"}}]}
            """;

        // Trials of a hyperparameter search log the same dataset at the same moment, twice each.
        var replies = await Task.WhenAll(runs.Concat(runs).Select(runId => server.PostAsync($"{Mlflow}/runs/log-inputs", Body(runId))));

        replies.ShouldAllBe(r => r.Status == HttpStatusCode.OK, string.Join("\n", replies.Select(r => r.Text)));
        foreach (var runId in runs)
        {
            var inputs = (await GetRunAsync(server, runId))["inputs"]!["dataset_inputs"]!.AsArray();
            inputs.Count.ShouldBe(1);
            inputs[0]!["dataset"]!["name"]!.GetValue<string>().ShouldBe("shared");
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_an_empty_run_data_for_a_run_with_nothing_logged(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        var run = await GetRunAsync(server, runId);

        run["data"]!["metrics"].ShouldBeNull();
        run["data"]!["params"].ShouldBeNull();
        run["inputs"]!.ShouldBeOfType<JsonObject>().Count.ShouldBe(0);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Loses_nothing_when_four_clients_log_batches_to_one_run_at_once(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        var keys = Enumerable.Range(0, 100).Select(i => $"k{i:D3}").ToArray();
        const int clients = 4, batches = 10, points = 2;

        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            for (var batch = 0; batch < batches; batch++)
            {
                // Each client walks the keys in its own order, so concurrent writers meet the same rows in different orders.
                var order = keys.Skip(client * 25).Concat(keys.Take(client * 25)).ToArray();
                if ((client + batch) % 2 == 1)
                {
                    System.Array.Reverse(order);
                }
                var metrics = order.SelectMany(key => Enumerable.Range(0, points)
                    .Select(i => Metric(key, i, 1700000000000 + i, ((client * batches) + batch) * points + i)));
                (await LogBatchAsync(server, runId, "[" + string.Join(",", metrics) + "]",
                    @params: $"[{KeyValue($"p{client}-{batch}", "v")}]",
                    tags: $"[{KeyValue($"t{client}", $"{batch}")}]")).ShouldBeOk();
            }
        })));

        var total = clients * batches * points;
        foreach (var key in new[] { keys[0], keys[42], keys[^1] })
        {
            var history = await HistoryAsync(server, runId, key);
            history.Count.ShouldBe(total);
            history.Select(m => m!["step"]!.GetValue<long>()).Distinct().Count().ShouldBe(total);
        }
        var data = (await GetRunAsync(server, runId))["data"]!;
        data["params"]!.AsArray().Count.ShouldBe(clients * batches);
        data["metrics"]!.AsArray().Count.ShouldBe(keys.Length);
        data["metrics"]!.AsArray().ShouldAllBe(m => m!["step"]!.GetValue<long>() == total - 1);
        for (var client = 0; client < clients; client++)
        {
            ValueOf(data["tags"], $"t{client}").ShouldBe($"{batches - 1}");
        }
    }
}
