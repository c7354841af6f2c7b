using System.Net;
using System.Text.RegularExpressions;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Api;

/// <summary>The rules of the wire that hold for every RPC: prefixes, JSON typing, the error shape and its status table.</summary>
public partial class WireContractTests(SharedServers servers)
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    [Fact]
    public async Task Answers_health_with_OK_and_the_version_as_text()
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);

        using var health = await server.Client.GetAsync("/health", TestContext.Current.CancellationToken);
        using var version = await server.Client.GetAsync("/version", TestContext.Current.CancellationToken);

        health.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await health.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).ShouldBe("OK");
        health.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        version.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await version.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).ShouldMatch(@"^\d+\.\d+\.\d+");
    }

    [Fact]
    public async Task Answers_server_info_for_mlflow_3_clients()
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);

        foreach (var prefix in new[] { "/api/3.0/mlflow", "/ajax-api/3.0/mlflow" })
        {
            var reply = (await server.GetAsync($"{prefix}/server-info")).ShouldBeOk();
            reply.Json.ShouldHaveShape("""{"store_type": "string", "workspaces_enabled": "bool", "trace_archival_enabled": "bool"}""");
            reply.Json!["workspaces_enabled"]!.GetValue<bool>().ShouldBeFalse();
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Serves_every_tracking_rpc_under_the_ajax_api_prefix_too(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        const string ajax = "/ajax-api/2.0/mlflow";
        var name = Name();

        var experimentId = (await server.PostAsync($"{ajax}/experiments/create", $$"""{"name": {{J(name)}}}""")).ShouldBeOk().Json!["experiment_id"]!.GetValue<string>();
        (await server.GetAsync($"{ajax}/experiments/get?experiment_id={experimentId}")).ShouldBeOk().Json.ShouldHaveShape($$"""{"experiment": {{Shapes.Experiment}}}""");
        (await server.GetAsync($"{ajax}/experiments/get-by-name?experiment_name={name}")).ShouldBeOk();
        (await server.GetAsync($"{ajax}/experiments/search?max_results=5")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/experiments/search", """{"max_results": 5}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/experiments/set-experiment-tag", $$"""{"experiment_id": {{J(experimentId)}}, "key": "k", "value": "v"}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/experiments/delete-experiment-tag", $$"""{"experiment_id": {{J(experimentId)}}, "key": "k"}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/experiments/update", $$"""{"experiment_id": {{J(experimentId)}}, "new_name": {{J(name + "-2")}}}""")).ShouldBeOk();

        var run = (await server.PostAsync($"{ajax}/runs/create", $$"""{"experiment_id": {{J(experimentId)}}}""")).ShouldBeOk();
        run.Json.ShouldHaveShape($$"""{"run": {{Shapes.Run}}}""");
        var runId = run.Json!["run"]!["info"]!["run_id"]!.GetValue<string>();
        (await server.PostAsync($"{ajax}/runs/log-metric", $$"""{"run_id": {{J(runId)}}, "key": "m", "value": 1, "timestamp": 1, "step": 0}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/runs/log-parameter", $$"""{"run_id": {{J(runId)}}, "key": "p", "value": "v"}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/runs/set-tag", $$"""{"run_id": {{J(runId)}}, "key": "t", "value": "v"}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/runs/delete-tag", $$"""{"run_id": {{J(runId)}}, "key": "t"}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/runs/log-batch", $$"""{"run_id": {{J(runId)}}, "metrics": [{{Metric("m", 2, 2, 1)}}]}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/runs/log-inputs", $$"""{"run_id": {{J(runId)}}, "datasets": []}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/runs/update", $$"""{"run_id": {{J(runId)}}, "status": "FINISHED"}""")).ShouldBeOk();
        (await server.GetAsync($"{ajax}/runs/get?run_id={runId}")).ShouldBeOk().Json.ShouldHaveShape($$"""{"run": {{Shapes.Run}}}""");
        (await server.PostAsync($"{ajax}/runs/search", $$"""{"experiment_ids": [{{J(experimentId)}}]}""")).ShouldBeOk();
        (await server.GetAsync($"{ajax}/metrics/get-history?run_id={runId}&metric_key=m")).ShouldBeOk().Json!["metrics"]!.AsArray().Count.ShouldBe(2);
        (await server.GetAsync($"{ajax}/metrics/get-history-bulk-interval?run_ids={runId}&metric_key=m")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/runs/delete", $$"""{"run_id": {{J(runId)}}}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/runs/restore", $$"""{"run_id": {{J(runId)}}}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/experiments/delete", $$"""{"experiment_id": {{J(experimentId)}}}""")).ShouldBeOk();
        (await server.PostAsync($"{ajax}/experiments/restore", $$"""{"experiment_id": {{J(experimentId)}}}""")).ShouldBeOk();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_errors_in_mlflows_shape_with_mlflows_status_table(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var name = Name();
        await ExperimentAsync(server, name);

        var cases = new (Reply Reply, HttpStatusCode Status, string Code)[]
        {
            (await server.PostAsync($"{Mlflow}/experiments/create", """{"name": ""}"""), HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE"),
            (await server.PostAsync($"{Mlflow}/experiments/create", """{"name": "x",,}"""), HttpStatusCode.BadRequest, "BAD_REQUEST"),
            (await server.PostAsync($"{Mlflow}/experiments/create", $$"""{"name": {{J(name)}}}"""), HttpStatusCode.BadRequest, "RESOURCE_ALREADY_EXISTS"),
            (await server.GetAsync($"{Mlflow}/experiments/get?experiment_id=424242424"), HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST"),
            (await server.GetAsync($"{Mlflow}/no/such/rpc"), HttpStatusCode.NotFound, "ENDPOINT_NOT_FOUND"),
        };

        foreach (var (reply, status, code) in cases)
        {
            reply.ShouldFail(status, code);
            reply.Json.ShouldHaveShape(Shapes.Error);
            reply.Message.ShouldNotBeNullOrWhiteSpace();
        }
    }

    [Theory]
    [InlineData("GET", "/api/2.0/mlflow/nothing-here")]
    [InlineData("POST", "/api/2.0/mlflow/runs/nothing-here")]
    [InlineData("GET", "/ajax-api/2.0/mlflow/nothing-here")]
    [InlineData("GET", "/api/2.0/preview/mlflow/runs/get")]
    [InlineData("DELETE", "/api/2.0/mlflow/experiments/create")]
    public async Task Answers_an_unknown_path_with_endpoint_not_found_as_json(string method, string path)
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);

        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        var reply = await server.SendAsync(request);

        reply.ShouldFail(HttpStatusCode.NotFound, "ENDPOINT_NOT_FOUND");
        reply.Json.ShouldHaveShape(Shapes.Error);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_malformed_json_with_bad_request(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);

        foreach (var body in new[] { "{", "{\"name\": }", "not json", "{\"name\": \"a\"} trailing", "[1, 2]" })
        {
            var reply = await server.PostAsync($"{Mlflow}/experiments/create", body);
            reply.Status.ShouldBe(HttpStatusCode.BadRequest, body);
            reply.Json.ShouldHaveShape(Shapes.Error);
        }
        var malformed = await server.PostAsync($"{Mlflow}/experiments/create", "{\"name\": ");
        malformed.ShouldFail(HttpStatusCode.BadRequest, "BAD_REQUEST");
        malformed.Message!.ShouldStartWith("Malformed JSON in the request body");
    }

    public static TheoryData<DatabaseProvider, string, string, string> WrongTypes
    {
        get
        {
            var data = new TheoryData<DatabaseProvider, string, string, string>();
            foreach (var provider in TestDatabase.Providers)
            {
                data.Add(provider, "log-metric", """{"run_id": "RUN", "key": "m", "value": 1, "timestamp": 1, "step": "abc"}""", "step");
                data.Add(provider, "log-metric", """{"run_id": "RUN", "key": "m", "value": true, "timestamp": 1, "step": 0}""", "value");
                data.Add(provider, "log-metric", """{"run_id": "RUN", "key": "m", "value": "1.5x", "timestamp": 1}""", "value");
                data.Add(provider, "log-metric", """{"run_id": "RUN", "key": "m", "value": 1, "timestamp": 1.5}""", "timestamp");
                data.Add(provider, "log-metric", """{"run_id": "RUN", "key": 7, "value": 1, "timestamp": 1}""", "key");
                data.Add(provider, "log-metric", """{"run_id": "RUN", "key": "m", "value": 1, "timestamp": 99999999999999999999}""", "timestamp");
                data.Add(provider, "log-parameter", """{"run_id": "RUN", "key": "p", "value": false}""", "value");
                data.Add(provider, "set-tag", """{"run_id": "RUN", "key": "t", "value": {"nested": 1}}""", "value");
                data.Add(provider, "log-batch", """{"run_id": "RUN", "metrics": {"key": "m"}}""", "metrics");
                data.Add(provider, "log-batch", """{"run_id": "RUN", "params": "a=1"}""", "params");
                data.Add(provider, "log-batch", """{"run_id": "RUN", "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": "abc"}]}""", "metrics[0].step");
                data.Add(provider, "log-batch", """{"run_id": "RUN", "tags": [{"key": "t", "value": 5}]}""", "tags[0].value");
                data.Add(provider, "log-batch", """{"run_id": ["RUN"]}""", "run_id");
                data.Add(provider, "update", """{"run_id": "RUN", "end_time": "soon"}""", "end_time");
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(WrongTypes))]
    public async Task Refuses_a_value_of_the_wrong_json_type_naming_its_field(DatabaseProvider provider, string rpc, string body, string field)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        var reply = await server.PostAsync($"{Mlflow}/runs/{rpc}", body.Replace("RUN", runId, StringComparison.Ordinal));

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Message!.ShouldStartWith($"Invalid value for parameter '{field}' supplied:");
        var run = await GetRunAsync(server, runId);
        run["data"]!["metrics"].ShouldBeNull();
        run["data"]!["params"].ShouldBeNull();
    }

    public static TheoryData<DatabaseProvider, string, string, string> MissingFields
    {
        get
        {
            var data = new TheoryData<DatabaseProvider, string, string, string>();
            foreach (var provider in TestDatabase.Providers)
            {
                data.Add(provider, "POST runs/log-metric", """{"run_id": "RUN", "value": 1, "timestamp": 1}""", "key");
                data.Add(provider, "POST runs/log-metric", """{"run_id": "RUN", "key": "m", "timestamp": 1}""", "value");
                data.Add(provider, "POST runs/log-metric", """{"run_id": "RUN", "key": "m", "value": 1}""", "timestamp");
                data.Add(provider, "POST runs/log-metric", """{"key": "m", "value": 1, "timestamp": 1}""", "run_id");
                data.Add(provider, "POST runs/log-parameter", """{"run_id": "RUN", "value": "v"}""", "key");
                data.Add(provider, "POST runs/set-tag", """{"run_id": "RUN", "key": "t"}""", "value");
                data.Add(provider, "POST runs/log-batch", """{"run_id": "RUN", "metrics": [{"key": "m", "value": 1}]}""", "metrics[0].timestamp");
                data.Add(provider, "POST runs/log-batch", """{"run_id": "RUN", "metrics": [{"value": 1, "timestamp": 1}]}""", "metrics[0].name");
                data.Add(provider, "POST runs/log-batch", """{"run_id": "RUN", "params": [{"value": "v"}]}""", "params[0].key");
                data.Add(provider, "POST runs/log-batch", """{"run_id": "RUN", "tags": [{"key": "t"}]}""", "tags[0].value");
                data.Add(provider, "POST runs/delete-tag", """{"run_id": "RUN"}""", "key");
                data.Add(provider, "GET runs/get", "", "run_id");
                data.Add(provider, "GET experiments/get", "", "experiment_id");
                data.Add(provider, "GET experiments/get-by-name", "", "experiment_name");
                data.Add(provider, "POST experiments/update", """{"experiment_id": "0"}""", "new_name");
                data.Add(provider, "GET metrics/get-history?run_id=RUN", "", "metric_key");
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(MissingFields))]
    public async Task Names_a_missing_required_field_as_mlflow_does(DatabaseProvider provider, string rpc, string body, string field)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        var (method, path) = (rpc.Split(' ')[0], rpc.Split(' ')[1].Replace("RUN", runId, StringComparison.Ordinal));

        var reply = method == "GET"
            ? await server.GetAsync($"{Mlflow}/{path}")
            : await server.PostAsync($"{Mlflow}/{path}", body.Replace("RUN", runId, StringComparison.Ordinal));

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Message.ShouldBe($"Missing value for required parameter '{field}'.");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Accepts_int64_fields_written_as_decimal_strings(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        (await server.PostAsync($"{Mlflow}/runs/log-metric",
            $$"""{"run_id": {{J(runId)}}, "key": "m", "value": 1.5, "timestamp": "1700000000005", "step": "5"}""")).ShouldBeOk();
        (await server.PostAsync($"{Mlflow}/runs/log-batch",
            $$"""{"run_id": {{J(runId)}}, "metrics": [{"key": "m", "value": 2.5, "timestamp": "7", "step": "-6"}]}""")).ShouldBeOk();

        var history = await HistoryAsync(server, runId, "m");
        history.Select(m => (m!["step"]!.GetValue<long>(), m["timestamp"]!.GetValue<long>())).ShouldBe([(-6L, 7L), (5L, 1700000000005L)]);
    }

    public static TheoryData<DatabaseProvider, string, string, string> ErrorProvokingRequests
    {
        get
        {
            var data = new TheoryData<DatabaseProvider, string, string, string>();
            foreach (var provider in TestDatabase.Providers)
            {
                data.Add(provider, "POST", "experiments/create", """{"name": "DUPLICATE"}""");
                data.Add(provider, "POST", "experiments/create", """{"name": "\ud800"}""");
                data.Add(provider, "POST", "experiments/create", """{"name": "x", "artifact_location": "file:///etc/../../passwd"}""");
                data.Add(provider, "POST", "experiments/create", new string('[', 200));
                data.Add(provider, "POST", "runs/log-parameter", """{"run_id": "RUN", "key": "fixed", "value": "other"}""");
                data.Add(provider, "POST", "runs/log-metric", """{"run_id": "RUN", "key": "m", "value": 1, "timestamp": -1}""");
                data.Add(provider, "POST", "runs/log-metric", """{"run_id": "../../etc/passwd", "key": "m", "value": 1, "timestamp": 1}""");
                data.Add(provider, "POST", "runs/set-tag", """{"run_id": "RUN", "key": "t", "value": "a\u0000b"}""");
                data.Add(provider, "POST", "runs/create", """{"experiment_id": "99999999999999999999999"}""");
                data.Add(provider, "POST", "runs/create", """{"experiment_id": "1 OR 1=1"}""");
                data.Add(provider, "GET", "runs/get?run_id='%3B DROP TABLE runs;--", "");
                data.Add(provider, "GET", "metrics/get-history?run_id=RUN&metric_key=m&page_token=%00%01", "");
                data.Add(provider, "GET", "experiments/get?experiment_id=-5", "");
                data.Add(provider, "GET", "metrics/get-history-bulk-interval?run_ids=RUN&metric_key=m&start_step=9223372036854775807&end_step=-9223372036854775808", "");
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(ErrorProvokingRequests))]
    public async Task Never_shows_a_server_path_or_sql_in_an_error_message(DatabaseProvider provider, string method, string rpc, string body)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        (await LogParamAsync(server, runId, "fixed", "one")).ShouldBeOk();
        var duplicate = Name("dup");
        await ExperimentAsync(server, duplicate);
        rpc = rpc.Replace("RUN", runId, StringComparison.Ordinal);
        body = body.Replace("RUN", runId, StringComparison.Ordinal).Replace("DUPLICATE", duplicate, StringComparison.Ordinal);

        var reply = method == "GET" ? await server.GetAsync($"{Mlflow}/{rpc}") : await server.PostAsync($"{Mlflow}/{rpc}", body);

        ((int)reply.Status).ShouldBeInRange(400, 499, reply.Text);
        reply.Json.ShouldHaveShape(Shapes.Error);
        Leak().IsMatch(reply.Message!).ShouldBeFalse(reply.Message);
    }

    [GeneratedRegex(@"(/tmp/|/work/|/home/|/usr/|[A-Za-z]:\\|\.cs:line|\bat Dashboard\.|\bSELECT\b|\bINSERT\b|\bUPDATE\b.*\bSET\b|\bWHERE\b|sqlite|npgsql|postgres|Exception|System\.|Microsoft\.)",
        RegexOptions.IgnoreCase)]
    private static partial Regex Leak();

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_json_with_nosniff_for_every_mlflow_response(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);

        foreach (var path in new[] { $"{Mlflow}/experiments/get?experiment_id=0", $"{Mlflow}/experiments/get?experiment_id=77777777", $"{Mlflow}/unknown" })
        {
            using var response = await server.Client.GetAsync(path, TestContext.Current.CancellationToken);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
            response.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Reads_a_get_request_from_the_query_string_with_repeated_keys_for_lists(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var a = await RunAsync(server, experimentId);
        var b = await RunAsync(server, experimentId);
        (await LogMetricAsync(server, a, "m", "1")).ShouldBeOk();
        (await LogMetricAsync(server, b, "m", "2")).ShouldBeOk();

        var reply = (await server.GetAsync($"{Mlflow}/metrics/get-history-bulk-interval?run_ids={a}&run_ids={b}&metric_key=m")).ShouldBeOk();

        reply.Json!["metrics"]!.AsArray().Select(m => m!["run_id"]!.GetValue<string>()).Order().ShouldBe(new[] { a, b }.Order());
    }

    public static TheoryData<DatabaseProvider, string> NulCharacters
    {
        get
        {
            var data = new TheoryData<DatabaseProvider, string>();
            foreach (var provider in TestDatabase.Providers)
            {
                data.Add(provider, "set-tag");
                data.Add(provider, "log-parameter");
                data.Add(provider, "experiment-name");
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(NulCharacters))]
    public async Task Refuses_a_nul_character_in_a_string_with_a_400(DatabaseProvider provider, string where)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        var reply = where switch
        {
            "set-tag" => await server.PostAsync($"{Mlflow}/runs/set-tag", $$"""{"run_id": {{J(runId)}}, "key": "t", "value": "a\u0000b"}"""),
            "log-parameter" => await server.PostAsync($"{Mlflow}/runs/log-parameter", $$"""{"run_id": {{J(runId)}}, "key": "p", "value": "a\u0000b"}"""),
            _ => await server.PostAsync($"{Mlflow}/experiments/create", """{"name": "nul\u0000name"}"""),
        };

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Message!.ShouldContain("NUL");
    }
}
