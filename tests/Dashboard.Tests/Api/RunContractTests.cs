using System.Net;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Api;

/// <summary>The run RPCs of service.proto: shapes, identifiers, names and lifecycle.</summary>
public class RunContractTests(SharedServers servers)
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    [Theory, MemberData(nameof(Providers))]
    public async Task Creates_a_run_with_mlflows_fields(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);

        var reply = (await server.PostAsync($"{Mlflow}/runs/create", $$"""
            {"experiment_id": {{J(experimentId)}}, "user_id": "root", "run_name": "train", "start_time": 1795811093990,
             "tags": [{"key": "mlflow.user", "value": "root"}, {"key": "mlflow.source.type", "value": "LOCAL"}]}
            """)).ShouldBeOk();

        reply.Json.ShouldHaveShape($$"""{"run": {{Shapes.Run}}}""");
        var info = reply.Json!["run"]!["info"]!;
        var runId = info["run_id"]!.GetValue<string>();
        runId.ShouldMatch("^[0-9a-f]{32}$");
        info["run_uuid"]!.GetValue<string>().ShouldBe(runId);
        info["experiment_id"]!.GetValue<string>().ShouldBe(experimentId);
        info["run_name"]!.GetValue<string>().ShouldBe("train");
        info["user_id"]!.GetValue<string>().ShouldBe("root");
        info["status"]!.GetValue<string>().ShouldBe("RUNNING");
        info["start_time"]!.GetValue<long>().ShouldBe(1795811093990);
        info["artifact_uri"]!.GetValue<string>().ShouldBe($"mlflow-artifacts:/{experimentId}/{runId}/artifacts");
        info["lifecycle_stage"]!.GetValue<string>().ShouldBe("active");
        info["end_time"].ShouldBeNull();
        var tags = reply.Json!["run"]!["data"]!["tags"];
        ValueOf(tags, "mlflow.user").ShouldBe("root");
        ValueOf(tags, "mlflow.source.type").ShouldBe("LOCAL");
        ValueOf(tags, "mlflow.runName").ShouldBe("train");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Gets_a_run_by_run_id_or_by_run_uuid(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        var byId = (await server.GetAsync($"{Mlflow}/runs/get?run_id={runId}")).ShouldBeOk();
        var byUuid = (await server.GetAsync($"{Mlflow}/runs/get?run_uuid={runId}")).ShouldBeOk();

        foreach (var reply in new[] { byId, byUuid })
        {
            reply.Json.ShouldHaveShape($$"""{"run": {{Shapes.Run}}}""");
            reply.Json!["run"]!["info"]!["run_id"]!.GetValue<string>().ShouldBe(runId);
            reply.Json!["run"]!["info"]!["run_uuid"]!.GetValue<string>().ShouldBe(runId);
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Accepts_run_uuid_in_place_of_run_id(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        (await server.PostAsync($"{Mlflow}/runs/log-metric", $$"""{"run_uuid": {{J(runId)}}, "key": "m", "value": 1, "timestamp": 5}""")).ShouldBeOk();
        (await server.PostAsync($"{Mlflow}/runs/log-parameter", $$"""{"run_uuid": {{J(runId)}}, "key": "p", "value": "v"}""")).ShouldBeOk();
        (await server.PostAsync($"{Mlflow}/runs/set-tag", $$"""{"run_uuid": {{J(runId)}}, "key": "t", "value": "v"}""")).ShouldBeOk();
        (await server.PostAsync($"{Mlflow}/runs/update", $$"""{"run_uuid": {{J(runId)}}, "status": "FINISHED", "end_time": 6}""")).ShouldBeOk();
        (await server.GetAsync($"{Mlflow}/metrics/get-history?run_uuid={runId}&metric_key=m")).ShouldBeOk().Json!["metrics"]!.AsArray().Count.ShouldBe(1);

        var run = await GetRunAsync(server, runId);
        ValueOf(run["data"]!["params"], "p").ShouldBe("v");
        ValueOf(run["data"]!["tags"], "t").ShouldBe("v");
        run["info"]!["status"]!.GetValue<string>().ShouldBe("FINISHED");

        (await server.PostAsync($"{Mlflow}/runs/delete", $$"""{"run_uuid": {{J(runId)}}}""")).ShouldBeOk();
        (await GetRunAsync(server, runId))["info"]!["lifecycle_stage"]!.GetValue<string>().ShouldBe("deleted");
        (await server.PostAsync($"{Mlflow}/runs/restore", $$"""{"run_uuid": {{J(runId)}}}""")).ShouldBeOk();
        (await GetRunAsync(server, runId))["info"]!["lifecycle_stage"]!.GetValue<string>().ShouldBe("active");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Updates_status_and_end_time_and_answers_the_run_info(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        var reply = (await server.PostAsync($"{Mlflow}/runs/update",
            $$"""{"run_id": {{J(runId)}}, "status": "KILLED", "end_time": 1795811109091}""")).ShouldBeOk();

        reply.Json.ShouldHaveShape($$"""{"run_info": {{Shapes.RunInfo}}}""");
        var info = reply.Json!["run_info"]!;
        info["status"]!.GetValue<string>().ShouldBe("KILLED");
        info["end_time"]!.GetValue<long>().ShouldBe(1795811109091);
        info["run_id"]!.GetValue<string>().ShouldBe(runId);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Accepts_a_run_status_by_name_or_by_number(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        foreach (var (status, name) in new[] { ("\"FAILED\"", "FAILED"), ("5", "KILLED"), ("\"3\"", "FINISHED"), ("2", "SCHEDULED"), ("1", "RUNNING") })
        {
            var reply = (await server.PostAsync($"{Mlflow}/runs/update", $$"""{"run_id": {{J(runId)}}, "status": {{status}}}""")).ShouldBeOk();
            reply.Json!["run_info"]!["status"]!.GetValue<string>().ShouldBe(name);
        }
        var unknown = await server.PostAsync($"{Mlflow}/runs/update", $$"""{"run_id": {{J(runId)}}, "status": 6}""");
        unknown.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Rejects_an_unknown_run_status(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        var reply = await server.PostAsync($"{Mlflow}/runs/update", $$"""{"run_id": {{J(runId)}}, "status": "DONE"}""");

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Message.ShouldBe("Invalid value \"DONE\" for parameter 'status' supplied.");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Generates_a_readable_name_for_a_run_created_without_one_and_tags_it(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);

        var run = (await server.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": {{J(experimentId)}}}""")).ShouldBeOk().Json!["run"]!;

        var name = run["info"]!["run_name"]!.GetValue<string>();
        name.ShouldMatch("^[a-z]+-[a-z]+-[0-9]{1,3}$");
        ValueOf(run["data"]!["tags"], "mlflow.runName").ShouldBe(name);
        run["info"]!["start_time"]!.GetValue<long>().ShouldBePositive();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Takes_the_run_name_from_the_run_name_tag(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);

        var run = (await server.PostAsync($"{Mlflow}/runs/create",
            $$"""{"experiment_id": {{J(experimentId)}}, "tags": [{"key": "mlflow.runName", "value": "from-tag"}]}""")).ShouldBeOk().Json!["run"]!;
        var conflict = await server.PostAsync($"{Mlflow}/runs/create",
            $$"""{"experiment_id": {{J(experimentId)}}, "run_name": "a", "tags": [{"key": "mlflow.runName", "value": "b"}]}""");

        run["info"]!["run_name"]!.GetValue<string>().ShouldBe("from-tag");
        conflict.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        conflict.Message.ShouldBe("Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='a', mlflow.runName='b').");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Keeps_the_run_name_and_its_tag_in_sync(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server, runName: "first");

        var updated = (await server.PostAsync($"{Mlflow}/runs/update", $$"""{"run_id": {{J(runId)}}, "run_name": "second"}""")).ShouldBeOk();
        updated.Json!["run_info"]!["run_name"]!.GetValue<string>().ShouldBe("second");
        await ShouldBeNamed("second");

        (await SetTagAsync(server, runId, "mlflow.runName", "third")).ShouldBeOk();
        await ShouldBeNamed("third");

        (await LogBatchAsync(server, runId, tags: $"[{KeyValue("mlflow.runName", "fourth")}]")).ShouldBeOk();
        await ShouldBeNamed("fourth");

        async Task ShouldBeNamed(string name)
        {
            var run = await GetRunAsync(server, runId);
            run["info"]!["run_name"]!.GetValue<string>().ShouldBe(name);
            ValueOf(run["data"]!["tags"], "mlflow.runName").ShouldBe(name);
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_404_when_creating_a_run_in_an_unknown_experiment(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);

        var reply = await server.PostAsync($"{Mlflow}/runs/create", """{"experiment_id": "987654321"}""");

        reply.ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        reply.Message.ShouldBe("No Experiment with id=987654321 exists");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_400_when_creating_a_run_in_a_deleted_experiment(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        (await server.PostAsync($"{Mlflow}/experiments/delete", $$"""{"experiment_id": {{J(experimentId)}}}""")).ShouldBeOk();

        var reply = await server.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": {{J(experimentId)}}}""");

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Message.ShouldBe($"The experiment {experimentId} must be in the 'active' state. Current state is deleted.");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Deletes_and_restores_a_run(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        (await server.PostAsync($"{Mlflow}/runs/delete", $$"""{"run_id": {{J(runId)}}}""")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await GetRunAsync(server, runId))["info"]!["lifecycle_stage"]!.GetValue<string>().ShouldBe("deleted");
        (await server.PostAsync($"{Mlflow}/runs/restore", $$"""{"run_id": {{J(runId)}}}""")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        (await GetRunAsync(server, runId))["info"]!["lifecycle_stage"]!.GetValue<string>().ShouldBe("active");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_deleted_run_rejects_logging_and_accepts_it_again_after_restore(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        (await server.PostAsync($"{Mlflow}/runs/delete", $$"""{"run_id": {{J(runId)}}}""")).ShouldBeOk();

        var refused = new[]
        {
            await LogMetricAsync(server, runId, "m"),
            await LogParamAsync(server, runId, "p", "v"),
            await SetTagAsync(server, runId, "t", "v"),
            await LogBatchAsync(server, runId, metrics: $"[{Metric("b", 1, 1, 0)}]"),
            await server.PostAsync($"{Mlflow}/runs/update", $$"""{"run_id": {{J(runId)}}, "status": "FINISHED"}"""),
        };
        foreach (var reply in refused)
        {
            reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
            reply.Message.ShouldBe($"The run {runId} must be in the 'active' state. Current state is deleted.");
        }
        var deleted = await GetRunAsync(server, runId);
        deleted["data"]!["metrics"].ShouldBeNull();
        deleted["data"]!["params"].ShouldBeNull();

        (await server.PostAsync($"{Mlflow}/runs/restore", $$"""{"run_id": {{J(runId)}}}""")).ShouldBeOk();
        (await LogMetricAsync(server, runId, "m")).ShouldBeOk();
        (await LogParamAsync(server, runId, "p", "v")).ShouldBeOk();
        (await SetTagAsync(server, runId, "t", "v")).ShouldBeOk();
        (await LogBatchAsync(server, runId, metrics: $"[{Metric("b", 1, 1, 0)}]")).ShouldBeOk();
        var restored = await GetRunAsync(server, runId);
        restored["data"]!["metrics"]!.AsArray().Count.ShouldBe(2);
        ValueOf(restored["data"]!["params"], "p").ShouldBe("v");
        ValueOf(restored["data"]!["tags"], "t").ShouldBe("v");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_404_for_an_unknown_run(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        const string unknown = "00000000000000000000000000000000";

        var replies = new[]
        {
            await server.GetAsync($"{Mlflow}/runs/get?run_id={unknown}"),
            await LogMetricAsync(server, unknown, "m"),
            await LogBatchAsync(server, unknown, @params: $"[{KeyValue("p", "v")}]"),
            await server.PostAsync($"{Mlflow}/runs/delete", $$"""{"run_id": "{{unknown}}"}"""),
        };
        foreach (var reply in replies)
        {
            reply.ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
            reply.Message.ShouldBe($"Run with id={unknown} not found");
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Deletes_a_run_tag_and_answers_404_for_a_missing_one(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        (await SetTagAsync(server, runId, "to_delete", "1")).ShouldBeOk();

        (await server.PostAsync($"{Mlflow}/runs/delete-tag", $$"""{"run_id": {{J(runId)}}, "key": "to_delete"}""")).ShouldBeOk().Json.ShouldHaveShape(Shapes.Empty);
        var again = await server.PostAsync($"{Mlflow}/runs/delete-tag", $$"""{"run_id": {{J(runId)}}, "key": "to_delete"}""");

        Find((await GetRunAsync(server, runId))["data"]!["tags"], "to_delete").ShouldBeNull();
        again.ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        again.Message.ShouldBe($"No tag with name: to_delete in run with id {runId}");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Creates_a_run_in_the_default_experiment_when_no_experiment_is_given(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);

        var run = (await server.PostAsync($"{Mlflow}/runs/create", """{"run_name": "no-experiment"}""")).ShouldBeOk().Json!["run"]!;

        run["info"]!["experiment_id"]!.GetValue<string>().ShouldBe("0");
    }
}
