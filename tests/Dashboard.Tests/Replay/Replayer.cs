using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dashboard.Tests.Support;

namespace Dashboard.Tests.Replay;

/// <summary>
/// Sends recorded requests to a Dashboard server, with the ids the reference server generated (experiment ids, run
/// ids, logged model ids, page tokens) replaced by the ones this server answered, and compares each answer with the recorded one:
/// status, error code and message, field names, JSON kinds and every value that does not depend on time or chance.
/// </summary>
public sealed class Replayer(DashboardServer server)
{
    /// <summary>Values that the server makes up (clock times, opaque tokens): compared by JSON kind only.</summary>
    private static readonly HashSet<string> KindOnly =
        ["creation_time", "last_update_time", "next_page_token", "creation_timestamp_ms", "last_updated_timestamp_ms"];

    /// <summary>
    /// Messages that MLflow 3 writes and MLflow 2.17 leaves out when empty. Clients ignore unknown fields, so this
    /// server may send them (empty) where the 2.17 recording has nothing.
    /// </summary>
    private static readonly HashSet<string> NewerEmptyMessages = ["inputs", "outputs"];

    private readonly Dictionary<string, string> _runs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _models = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _experiments = new(StringComparer.Ordinal) { ["0"] = "0" };
    private readonly Dictionary<string, string> _pageTokens = new(StringComparer.Ordinal);

    /// <summary>Replays one exchange; answers the differences found (none when the answer matches).</summary>
    /// <param name="ignoredTags">Tags left out of the comparison on both sides: written by an RPC this replay skips.</param>
    public async Task<List<string>> StepAsync(Exchange exchange, bool compareMessage = true, IReadOnlySet<string>? ignoredTags = null)
    {
        _ignoredTags = ignoredTags ?? new HashSet<string>();
        var reply = await SendAsync(exchange);
        var diffs = new List<string>();
        if ((int)reply.Status != exchange.Status)
        {
            diffs.Add($"status {(int)reply.Status}, recorded {exchange.Status}: {Shorten(reply.Text)}");
            return diffs;
        }
        Learn(exchange, reply);
        if (exchange.ResponseJson is null)
        {
            return diffs;
        }
        if (reply.Json is null)
        {
            diffs.Add($"answered no JSON: {Shorten(reply.Text)}");
            return diffs;
        }
        var expected = Normalize(exchange.ResponseJson, field: null);
        if (exchange.Status >= 400)
        {
            CompareError(expected!, reply.Json, compareMessage, diffs);
        }
        else
        {
            Compare(expected, WithoutIgnoredTags(reply.Json), "$", field: null, diffs);
        }
        return diffs;
    }

    private async Task<Reply> SendAsync(Exchange exchange)
    {
        var query = string.Join("&", exchange.Query.Select(p =>
            $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(MapRequestValue(p.Key, p.Value))}"));
        // Logged model ids travel in paths (logged-models/{model_id}).
        using var request = new HttpRequestMessage(new HttpMethod(exchange.Method), MapIds(exchange.Path) + (query.Length > 0 ? "?" + query : ""));
        if (exchange.RequestJson is not null)
        {
            var body = MapRequest(exchange.RequestJson, field: null);
            request.Content = new StringContent(body!.ToJsonString(), Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        return await server.SendAsync(request);
    }

    private JsonNode? MapRequest(JsonNode? node, string? field) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, MapRequest(p.Value, p.Key)))),
        JsonArray array => new JsonArray([.. array.Select(item => MapRequest(item, field))]),
        JsonValue value when value.GetValueKind() == JsonValueKind.String => JsonValue.Create(MapRequestValue(field ?? "", value.GetValue<string>())),
        // A client re-logs values it read back (MLflow 3's log_model re-logs the run's metrics); from this server
        // it reads the infinities it logged, not the reference server's clamped ±1.7976931348623157e308.
        JsonValue value when IsClampedInfinity(value) => JsonValue.Create(value.GetValue<double>() > 0 ? "Infinity" : "-Infinity"),
        _ => node?.DeepClone(),
    };

    private static bool IsClampedInfinity(JsonValue value) =>
        value.GetValueKind() == JsonValueKind.Number && Math.Abs(value.GetValue<double>()) == double.MaxValue;

    private string MapRequestValue(string field, string value) => field switch
    {
        "experiment_id" or "experiment_ids" => _experiments.GetValueOrDefault(value, value),
        "page_token" => _pageTokens.GetValueOrDefault(value, value),
        // Run and model ids also travel inside strings: filters ("attributes.run_id IN ('...')"), model JSON.
        _ => MapIds(value),
    };

    private string MapIds(string value)
    {
        foreach (var ids in new[] { _runs, _models })
        {
            foreach (var (recorded, ours) in ids)
            {
                value = value.Replace(recorded, ours, StringComparison.Ordinal);
            }
        }
        return value;
    }

    /// <summary>Learns the ids this server made up for the ones the reference server made up.</summary>
    private void Learn(Exchange exchange, Reply reply)
    {
        if (exchange.Status != 200 || exchange.ResponseJson is null || reply.Json is null)
        {
            return;
        }
        if (exchange.Path.EndsWith("/experiments/create", StringComparison.Ordinal))
        {
            _experiments[exchange.ResponseJson["experiment_id"]!.GetValue<string>()] = reply.Json["experiment_id"]!.GetValue<string>();
        }
        if (exchange.Path.EndsWith("/runs/create", StringComparison.Ordinal))
        {
            _runs[exchange.ResponseJson["run"]!["info"]!["run_id"]!.GetValue<string>()] = reply.Json["run"]!["info"]!["run_id"]!.GetValue<string>();
        }
        if (exchange.Method == "POST" && exchange.Path.EndsWith("/logged-models", StringComparison.Ordinal))
        {
            _models[exchange.ResponseJson["model"]!["info"]!["model_id"]!.GetValue<string>()] = reply.Json["model"]!["info"]!["model_id"]!.GetValue<string>();
        }
        if (exchange.ResponseJson["next_page_token"] is JsonValue recorded && reply.Json["next_page_token"] is JsonValue ours)
        {
            _pageTokens[recorded.GetValue<string>()] = ours.GetValue<string>();
        }
    }

    private IReadOnlySet<string> _ignoredTags = new HashSet<string>();

    /// <summary>This server's answer without the tags left out of this exchange's comparison.</summary>
    private JsonNode? WithoutIgnoredTags(JsonNode? node)
    {
        if (_ignoredTags.Count == 0)
        {
            return node;
        }
        var copy = node?.DeepClone();
        Strip(copy, field: null);
        return copy;

        void Strip(JsonNode? n, string? field)
        {
            switch (n)
            {
                case JsonObject obj:
                    foreach (var (name, value) in obj.ToList())
                    {
                        Strip(value, name);
                    }
                    break;
                case JsonArray array:
                    foreach (var item in array.ToList())
                    {
                        if (field == "tags" && item?["key"]?.GetValue<string>() is { } key && _ignoredTags.Contains(key))
                        {
                            array.Remove(item);
                        }
                        else
                        {
                            Strip(item, field);
                        }
                    }
                    break;
            }
        }
    }

    /// <summary>
    /// The recorded answer as this server should write it: ids mapped, tags left out of the comparison dropped, and the
    /// infinities that MLflow's SQL store clamps to ±1.7976931348623157e308 written as "Infinity"/"-Infinity"
    /// (DESIGN: NaN and infinities travel as strings; this server keeps them).
    /// </summary>
    private JsonNode? Normalize(JsonNode? node, string? field)
    {
        switch (node)
        {
            case JsonObject obj:
                var copy = new JsonObject();
                foreach (var (name, value) in obj)
                {
                    copy[name] = Normalize(value, name);
                }
                return copy;
            case JsonArray array:
                var items = new JsonArray();
                foreach (var item in array)
                {
                    if (field == "tags" && item?["key"]?.GetValue<string>() is { } key && _ignoredTags.Contains(key))
                    {
                        continue;
                    }
                    items.Add(Normalize(item, field));
                }
                return items;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                return JsonValue.Create(MapResponseValue(field, value.GetValue<string>()));
            case JsonValue value when IsClampedInfinity(value):
                return JsonValue.Create(value.GetValue<double>() > 0 ? "Infinity" : "-Infinity");
            default:
                return node?.DeepClone();
        }
    }

    private string MapResponseValue(string? field, string value)
    {
        if (field is "experiment_id")
        {
            return _experiments.GetValueOrDefault(value, value);
        }
        if (field is "artifact_location" or "artifact_uri")
        {
            foreach (var (recorded, ours) in _experiments)
            {
                var prefix = $"mlflow-artifacts:/{recorded}";
                if (value == prefix || value.StartsWith(prefix + "/", StringComparison.Ordinal))
                {
                    value = $"mlflow-artifacts:/{ours}{value[prefix.Length..]}";
                    break;
                }
            }
        }
        return MapIds(value);
    }

    private static void CompareError(JsonNode expected, JsonNode actual, bool compareMessage, List<string> diffs)
    {
        actual.ShouldHaveShape(Shapes.Error);
        var code = actual["error_code"]?.GetValue<string>();
        if (code != expected["error_code"]?.GetValue<string>())
        {
            diffs.Add($"error_code {code}, recorded {expected["error_code"]}");
        }
        if (compareMessage && actual["message"]?.GetValue<string>() is var message && message != RecordedMessage(expected))
        {
            diffs.Add($"message \"{message}\", recorded \"{RecordedMessage(expected)}\"");
        }
    }

    /// <summary>
    /// MLflow appends SQLAlchemy's error (with SQL) to some messages and a hint to request-schema errors; this
    /// server shows neither (DESIGN: no SQL in messages), so the comparison stops before them.
    /// </summary>
    private static string RecordedMessage(JsonNode expected)
    {
        var message = expected["message"]!.GetValue<string>();
        foreach (var tail in new[] { " Error: (", " See the API docs for more information about request parameters." })
        {
            var at = message.IndexOf(tail, StringComparison.Ordinal);
            if (at >= 0)
            {
                message = message[..at];
            }
        }
        return message;
    }

    private static void Compare(JsonNode? expected, JsonNode? actual, string path, string? field, List<string> diffs)
    {
        var expectedKind = WireShape.Kind(expected);
        var actualKind = WireShape.Kind(actual);
        if (expectedKind != actualKind)
        {
            diffs.Add($"{path}: {actualKind} {Shorten(actual?.ToJsonString())}, recorded {expectedKind} {Shorten(expected?.ToJsonString())}");
            return;
        }
        if (field is not null && KindOnly.Contains(field))
        {
            return;
        }
        switch (expected)
        {
            case JsonObject e:
                var a = (JsonObject)actual!;
                foreach (var (name, value) in e)
                {
                    if (!a.TryGetPropertyValue(name, out var actualValue))
                    {
                        diffs.Add($"{path}.{name}: missing");
                    }
                    else
                    {
                        Compare(value, actualValue, $"{path}.{name}", name, diffs);
                    }
                }
                foreach (var (name, value) in a)
                {
                    if (!e.ContainsKey(name) && !(NewerEmptyMessages.Contains(name) && value is JsonObject { Count: 0 }))
                    {
                        diffs.Add($"{path}.{name}: not in the recording ({Shorten(value?.ToJsonString())})");
                    }
                }
                break;
            case JsonArray e:
                var list = (JsonArray)actual!;
                if (e.Count != list.Count)
                {
                    diffs.Add($"{path}: {list.Count} items, recorded {e.Count}");
                    return;
                }
                // Lists of key/value entries (tags, params, metrics, histories) have no order on the wire.
                var unordered = e.All(i => i is JsonObject o && o.ContainsKey("key"));
                var expectedItems = unordered ? e.OrderBy(Canonical, StringComparer.Ordinal).ToList() : [.. e];
                var actualItems = unordered ? list.OrderBy(Canonical, StringComparer.Ordinal).ToList() : [.. list];
                for (var i = 0; i < expectedItems.Count; i++)
                {
                    Compare(expectedItems[i], actualItems[i], $"{path}[{i}]", field, diffs);
                }
                break;
            default:
                if (!SameValue(expected!, actual!))
                {
                    diffs.Add($"{path}: {Shorten(actual!.ToJsonString())}, recorded {Shorten(expected!.ToJsonString())}");
                }
                break;
        }
    }

    private static bool SameValue(JsonNode expected, JsonNode actual)
    {
        if (expected.GetValueKind() != JsonValueKind.Number)
        {
            return JsonNode.DeepEquals(expected, actual);
        }
        return expected.AsValue().TryGetValue<long>(out var el) && actual.AsValue().TryGetValue<long>(out var al)
            ? el == al
            : expected.GetValue<double>().Equals(actual.GetValue<double>());
    }

    /// <summary>A text of the node that is the same for equal values (sorted fields, numbers as doubles).</summary>
    private static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.Where(p => !KindOnly.Contains(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{p.Key}:{Canonical(p.Value)}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<double>().ToString("R", CultureInfo.InvariantCulture),
        _ => node?.ToJsonString() ?? "null",
    };

    private static string Shorten(string? text) => text is null ? "null" : text.Length > 300 ? text[..300] + "…" : text;
}
