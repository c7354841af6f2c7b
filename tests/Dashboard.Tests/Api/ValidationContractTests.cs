using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Api;

/// <summary>MLflow's input limits (mlflow/utils/validation.py): each exact limit is accepted and one more is refused.</summary>
public class ValidationContractTests(SharedServers servers)
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    private const string BadCharacters =
        "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).";

    /// <summary>Where a key is validated: each kind of entity that has one.</summary>
    public enum KeyKind
    {
        Param,
        Metric,
        RunTag,
        ExperimentTag,
        BatchParam,
        BatchMetric,
        BatchTag,
    }

    public static TheoryData<DatabaseProvider, KeyKind, string> AcceptedKeys => Cross(
        ["loss", "val/acc", "train loss.mean-1", "epoch:3", "Genauigkeit_ä", "a/b/c", new string('k', 250)]);

    public static TheoryData<DatabaseProvider, KeyKind, string> KeysOutsideTheCharset => Cross(
        ["bad key!*", "a\\b", "a;b", "a#b", "a?b", "<b>", "a%2Fb", "tab\tkey"]);

    public static TheoryData<DatabaseProvider, KeyKind, string> TraversalKeys => Cross(
        ["../x", "a/../b", "/abs", "a/", "./a", "a//b", "..", ".", "a/..", ""]);

    [Theory, MemberData(nameof(AcceptedKeys))]
    public async Task Accepts_keys_of_mlflows_charset_up_to_250_characters(DatabaseProvider provider, KeyKind kind, string key)
    {
        var server = await servers.GetAsync(provider);

        (await LogKeyAsync(server, kind, key)).ShouldBeOk();
    }

    [Theory, MemberData(nameof(KeysOutsideTheCharset))]
    public async Task Refuses_keys_outside_the_charset(DatabaseProvider provider, KeyKind kind, string key)
    {
        var server = await servers.GetAsync(provider);

        var reply = await LogKeyAsync(server, kind, key);

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Message.ShouldBe($"Invalid value {J(key)} for parameter '{KeyPath(kind)}' supplied: {BadCharacters}");
    }

    [Theory, MemberData(nameof(TraversalKeys))]
    public async Task Refuses_keys_that_are_not_their_own_normalized_path(DatabaseProvider provider, KeyKind kind, string key)
    {
        var server = await servers.GetAsync(provider);

        var reply = await LogKeyAsync(server, kind, key);

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Message!.ShouldStartWith($"Invalid value {J(key)} for parameter '{KeyPath(kind)}' supplied: " +
            "Names may be treated as files in certain cases, and must not resolve to other names when treated as such.");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_a_key_of_251_characters(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var key = new string('k', 251);

        var expected = new Dictionary<KeyKind, string>
        {
            [KeyKind.Param] = "'Param key' exceeds the maximum length of 250 characters",
            [KeyKind.Metric] = "'Metric name' exceeds the maximum length of 250 characters",
            [KeyKind.RunTag] = "'key' exceeds the maximum length of 250 characters",
            [KeyKind.ExperimentTag] = "'key' exceeds the maximum length of 250 characters",
            [KeyKind.BatchParam] = "'Param key' exceeds the maximum length of 250 characters",
            [KeyKind.BatchMetric] = "'Metric name' exceeds the maximum length of 250 characters",
            [KeyKind.BatchTag] = "'tags[0].key' exceeds the maximum length of 250 characters",
        };
        foreach (var (kind, message) in expected)
        {
            var reply = await LogKeyAsync(server, kind, key);
            reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
            reply.Message.ShouldBe(message, $"{kind}");
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Accepts_a_param_value_of_6000_characters_and_refuses_6001(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        (await LogParamAsync(server, runId, "p", new string('v', 6000))).ShouldBeOk();
        (await LogBatchAsync(server, runId, @params: $"[{KeyValue("q", new string('v', 6000))}]")).ShouldBeOk();
        var single = await LogParamAsync(server, runId, "p2", new string('v', 6001));
        var batch = await LogBatchAsync(server, runId, @params: $"[{KeyValue("q2", new string('v', 6001))}]");

        foreach (var reply in new[] { single, batch })
        {
            reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
            reply.Message.ShouldBe("'Param value' exceeds the maximum length of 6000 characters");
        }
        ValueOf((await GetRunAsync(server, runId))["data"]!["params"], "p")!.Length.ShouldBe(6000);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Accepts_a_run_tag_value_of_8000_characters_and_refuses_8001(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        (await SetTagAsync(server, runId, "t", new string('v', 8000))).ShouldBeOk();
        (await LogBatchAsync(server, runId, tags: $"[{KeyValue("u", new string('v', 8000))}]")).ShouldBeOk();
        var single = await SetTagAsync(server, runId, "t2", new string('v', 8001));
        var batch = await LogBatchAsync(server, runId, tags: $"[{KeyValue("u2", new string('v', 8001))}]");

        single.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        single.Message.ShouldBe("'value' exceeds the maximum length of 8000 characters");
        batch.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        batch.Message.ShouldBe("'tags[0].value' exceeds the maximum length of 8000 characters");
        ValueOf((await GetRunAsync(server, runId))["data"]!["tags"], "t")!.Length.ShouldBe(8000);
    }

    public static TheoryData<DatabaseProvider, int, int, int, string?> BatchSizes
    {
        get
        {
            var data = new TheoryData<DatabaseProvider, int, int, int, string?>();
            foreach (var provider in TestDatabase.Providers)
            {
                data.Add(provider, 1000, 0, 0, null);
                data.Add(provider, 1001, 0, 0, "at most 1000 metrics. Got 1001 metrics. Please split up metrics across multiple requests and try again.");
                data.Add(provider, 0, 100, 0, null);
                data.Add(provider, 0, 101, 0, "at most 100 params. Got 101 params. Please split up params across multiple requests and try again.");
                data.Add(provider, 0, 0, 100, null);
                data.Add(provider, 0, 0, 101, "at most 100 tags. Got 101 tags. Please split up tags across multiple requests and try again.");
                data.Add(provider, 800, 100, 100, null);
                data.Add(provider, 801, 100, 100,
                    "at most 1000 metrics, params, and tags. Got 1001 metrics, params, and tags. Please split up metrics, params, and tags across multiple requests and try again.");
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(BatchSizes))]
    public async Task Limits_a_batch_to_1000_metrics_100_params_100_tags_and_1000_items(
        DatabaseProvider provider, int metrics, int @params, int tags, string? refusal)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        var reply = await LogBatchAsync(server, runId,
            Array(metrics, i => Metric("m", i, 1, i)), Array(@params, i => KeyValue($"p{i}", "v")), Array(tags, i => KeyValue($"t{i}", "v")));

        if (refusal is null)
        {
            reply.ShouldBeOk();
            (await HistoryAsync(server, runId, "m")).Count.ShouldBe(metrics);
        }
        else
        {
            reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
            reply.Message.ShouldBe("A batch logging request can contain " + refusal);
            (await GetRunAsync(server, runId))["data"]!["metrics"].ShouldBeNull();
        }
    }

    public static TheoryData<DatabaseProvider, int, bool> BodySizes
    {
        get
        {
            var data = new TheoryData<DatabaseProvider, int, bool>();
            foreach (var provider in TestDatabase.Providers)
            {
                foreach (var chunked in new[] { false, true })
                {
                    data.Add(provider, 1_000_000, chunked);
                    data.Add(provider, 1_000_001, chunked);
                    data.Add(provider, 3_000_000, chunked);
                }
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(BodySizes))]
    public async Task Limits_the_body_of_a_batch_to_one_megabyte(DatabaseProvider provider, int size, bool chunked)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        var json = $$"""{"run_id": {{J(runId)}}, "tags": [{"key": "pad", "value": "x"}]}""";
        var body = Encoding.UTF8.GetBytes(json.PadRight(size));
        body.Length.ShouldBe(size);

        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Mlflow}/runs/log-batch") { Content = new RawContent(body, chunked) };
        var reply = await server.SendAsync(request);

        if (size <= 1_000_000)
        {
            reply.ShouldBeOk();
            ValueOf((await GetRunAsync(server, runId))["data"]!["tags"], "pad").ShouldBe("x");
        }
        else
        {
            reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
            reply.Message!.ShouldStartWith("Batched logging API requests must be at most 1000000 bytes, got a request of size ");
            Find((await GetRunAsync(server, runId))["data"]!["tags"], "pad").ShouldBeNull();
        }
    }

    /// <summary>A JSON body sent with a Content-Length, or chunked (no length known up front).</summary>
    private sealed class RawContent : HttpContent
    {
        private readonly byte[] _body;
        private readonly bool _chunked;

        public RawContent(byte[] body, bool chunked)
        {
            _body = body;
            _chunked = chunked;
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            // Several writes, as a streaming client would do them.
            for (var offset = 0; offset < _body.Length; offset += 64 * 1024)
            {
                await stream.WriteAsync(_body.AsMemory(offset, Math.Min(64 * 1024, _body.Length - offset)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _body.Length;
            return !_chunked;
        }
    }

    private static TheoryData<DatabaseProvider, KeyKind, string> Cross(string[] keys)
    {
        var data = new TheoryData<DatabaseProvider, KeyKind, string>();
        foreach (var provider in TestDatabase.Providers)
        {
            foreach (var kind in Enum.GetValues<KeyKind>())
            {
                foreach (var key in keys)
                {
                    data.Add(provider, kind, key);
                }
            }
        }
        return data;
    }

    private static string KeyPath(KeyKind kind) => kind switch
    {
        KeyKind.Param or KeyKind.RunTag or KeyKind.ExperimentTag => "key",
        KeyKind.Metric => "name",
        KeyKind.BatchParam => "params[0].key",
        KeyKind.BatchMetric => "metrics[0].name",
        _ => "tags[0].key",
    };

    private static async Task<Reply> LogKeyAsync(DashboardServer server, KeyKind kind, string key)
    {
        if (kind == KeyKind.ExperimentTag)
        {
            var experimentId = await ExperimentAsync(server);
            return await server.PostAsync($"{Mlflow}/experiments/set-experiment-tag",
                $$"""{"experiment_id": {{J(experimentId)}}, "key": {{J(key)}}, "value": "v"}""");
        }
        var runId = await RunAsync(server);
        return kind switch
        {
            KeyKind.Param => await LogParamAsync(server, runId, key, "v"),
            KeyKind.Metric => await LogMetricAsync(server, runId, key),
            KeyKind.RunTag => await SetTagAsync(server, runId, key, "v"),
            KeyKind.BatchParam => await LogBatchAsync(server, runId, @params: $"[{KeyValue(key, "v")}]"),
            KeyKind.BatchMetric => await LogBatchAsync(server, runId, metrics: $"[{Metric(key, 1, 1, 0)}]"),
            _ => await LogBatchAsync(server, runId, tags: $"[{KeyValue(key, "v")}]"),
        };
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_a_run_name_over_250_characters_however_it_is_set(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);

        foreach (var (name, ok) in new[] { (new string('n', 250), true), (new string('n', 251), false) })
        {
            var replies = new[]
            {
                await server.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": {{J(experimentId)}}, "run_name": {{J(name)}}}"""),
                await server.PostAsync($"{Mlflow}/runs/create",
                    $$"""{"experiment_id": {{J(experimentId)}}, "tags": [{"key": "mlflow.runName", "value": {{J(name)}}}]}"""),
                await server.PostAsync($"{Mlflow}/runs/update", $$"""{"run_id": {{J(runId)}}, "run_name": {{J(name)}}}"""),
                await SetTagAsync(server, runId, "mlflow.runName", name),
                await LogBatchAsync(server, runId, tags: $"[{KeyValue("mlflow.runName", name)}]"),
            };
            foreach (var reply in replies)
            {
                if (ok)
                {
                    reply.ShouldBeOk();
                }
                else
                {
                    reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
                    reply.Message!.ShouldEndWith("exceeds the maximum length of 250 characters");
                }
            }
        }
        (await GetRunAsync(server, runId))["info"]!["run_name"]!.GetValue<string>().Length.ShouldBe(250);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Accepts_a_user_id_of_256_characters_and_refuses_257(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);

        (await server.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": {{J(experimentId)}}, "user_id": {{J(new string('u', 256))}}}""")).ShouldBeOk();
        var reply = await server.PostAsync($"{Mlflow}/runs/create", $$"""{"experiment_id": {{J(experimentId)}}, "user_id": {{J(new string('u', 257))}}}""");
        // Without user_id the user comes from the mlflow.user tag, whose value may be longer.
        var fromTag = await server.PostAsync($"{Mlflow}/runs/create",
            $$"""{"experiment_id": {{J(experimentId)}}, "tags": [{"key": "mlflow.user", "value": {{J(new string('u', 257))}}}]}""");

        foreach (var refused in new[] { reply, fromTag })
        {
            refused.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
            refused.Message.ShouldBe("'user_id' exceeds the maximum length of 256 characters");
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_dataset_fields_longer_than_the_store_holds(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        string Body(string name, string digest, string sourceType) => $$$"""
            {"run_id": {{{J(runId)}}}, "datasets": [{"dataset": {"name": {{{J(name)}}}, "digest": {{{J(digest)}}}, "source_type": {{{J(sourceType)}}}, "source": "{}"}}]}
            """;

        (await server.PostAsync($"{Mlflow}/runs/log-inputs", Body(new string('n', 500), new string('d', 36), new string('s', 36)))).ShouldBeOk();
        var replies = new[]
        {
            await server.PostAsync($"{Mlflow}/runs/log-inputs", Body(new string('n', 501), "d", "s")),
            await server.PostAsync($"{Mlflow}/runs/log-inputs", Body("n", new string('d', 37), "s")),
            await server.PostAsync($"{Mlflow}/runs/log-inputs", Body("n", "d", new string('s', 37))),
        };

        foreach (var reply in replies)
        {
            reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        }
        replies[2].Message.ShouldBe("'Dataset source type' exceeds the maximum length of 36 characters");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Accepts_an_artifact_location_of_the_longest_artifact_path_and_refuses_longer(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        // The path after "mlflow-artifacts:/" is an artifact path: at most 1024 characters, segments of at most 255 bytes.
        string Location(int pathLength) => "mlflow-artifacts:/" +
            string.Concat(Enumerable.Range(0, pathLength).Select(i => i % 200 == 199 ? '/' : 'p'));

        var experimentId = (await server.PostAsync($"{Mlflow}/experiments/create",
            $$"""{"name": {{J(Name())}}, "artifact_location": {{J(Location(1024))}}}""")).ShouldBeOk().Json!["experiment_id"]!.GetValue<string>();
        var runId = await RunAsync(server, experimentId);
        var longer = await server.PostAsync($"{Mlflow}/experiments/create", $$"""{"name": {{J(Name())}}, "artifact_location": {{J(Location(1025))}}}""");
        var overColumn = await server.PostAsync($"{Mlflow}/experiments/create",
            $$"""{"name": {{J(Name())}}, "artifact_location": {{J("mlflow-artifacts:/" + new string('p', 1958 - 18))}}}""");

        Location(1024).Length.ShouldBe(18 + 1024);
        (await GetRunAsync(server, runId))["info"]!["artifact_uri"]!.GetValue<string>().ShouldBe($"{Location(1024)}/{runId}/artifacts");
        longer.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        longer.Message.ShouldBe("Invalid path in parameter 'artifact_location': an artifact path is at most 1024 characters.");
        overColumn.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        overColumn.Message.ShouldBe("'artifact_location' exceeds the maximum length of 1957 characters");
    }
}
