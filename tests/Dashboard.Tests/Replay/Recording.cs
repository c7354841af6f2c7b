using System.Text.Json.Nodes;

namespace Dashboard.Tests.Replay;

/// <summary>One HTTP exchange of a recorded session (see /work/shared/mlflow-recordings/README.md for the format).</summary>
public sealed record Exchange(
    int Seq,
    string Method,
    string Path,
    IReadOnlyList<KeyValuePair<string, string>> Query,
    JsonNode? RequestJson,
    int Status,
    JsonNode? ResponseJson)
{
    public string Describe => $"#{Seq} {Method} {Path}";

    public string? RequestContentType { get; init; }

    /// <summary>The request body as recorded (text, JSON, or a binary one by length and SHA-256); null when empty.</summary>
    public RecordedBody? RequestBody { get; init; }

    public string? ResponseContentType { get; init; }

    /// <summary>The response body as recorded; null when empty.</summary>
    public RecordedBody? ResponseBody { get; init; }
}

/// <summary>A recorded body: its text, its JSON (when it parsed as JSON), or the length and SHA-256 of a binary one.</summary>
public sealed record RecordedBody(string? Text, JsonNode? Json, long? Length, string? Sha256);

public static class Recording
{
    public static string PathOf(string file) => System.IO.Path.Combine(AppContext.BaseDirectory, "Replay", "recordings", file);

    /// <summary>The exchanges of a recording in the order they were recorded (the order of the file's lines).</summary>
    public static IEnumerable<Exchange> Read(string file)
    {
        foreach (var line in File.ReadLines(PathOf(file)))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var e = JsonNode.Parse(line)!;
            var query = new List<KeyValuePair<string, string>>();
            if (e["query"] is JsonObject q)
            {
                foreach (var (key, values) in q)
                {
                    foreach (var value in values!.AsArray())
                    {
                        query.Add(new(key, value!.GetValue<string>()));
                    }
                }
            }
            yield return new Exchange(
                e["seq"]!.GetValue<int>(),
                e["method"]!.GetValue<string>(),
                e["path"]!.GetValue<string>(),
                query,
                e["request"]?["json"]?.DeepClone(),
                e["status"]!.GetValue<int>(),
                e["response"]?["json"]?.DeepClone())
            {
                RequestContentType = e["request"]?["content_type"]?.GetValue<string>(),
                RequestBody = BodyOf(e["request"]),
                ResponseContentType = e["response"]?["content_type"]?.GetValue<string>(),
                ResponseBody = BodyOf(e["response"]),
            };
        }
    }

    /// <summary>
    /// The size of every file that the recording's artifact listings show, by its path in the artifact store.
    /// (A JSON body is recorded parsed; its size tells which spacing the client wrote it with.)
    /// </summary>
    public static Dictionary<string, long> ListedFileSizes(string file)
    {
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var exchange in Read(file))
        {
            if (exchange.Method == "GET" && exchange.Path.EndsWith("/mlflow-artifacts/artifacts", StringComparison.Ordinal)
                && exchange.ResponseJson?["files"] is JsonArray files)
            {
                var folder = exchange.Query.FirstOrDefault(p => p.Key == "path").Value ?? "";
                foreach (var f in files.Where(f => !f!["is_dir"]!.GetValue<bool>()))
                {
                    sizes[$"{folder}/{f!["path"]!.GetValue<string>()}"] = f["file_size"]?.GetValue<long>() ?? 0;
                }
            }
        }
        return sizes;
    }

    private static RecordedBody? BodyOf(JsonNode? part) => part switch
    {
        null => null,
        _ when part["binary"] is { } b => new RecordedBody(null, null, b["length"]!.GetValue<long>(), b["sha256"]!.GetValue<string>()),
        _ when part["text"] is { } t => new RecordedBody(t.GetValue<string>(), null, null, null),
        _ when part["json"] is { } j => new RecordedBody(null, j.DeepClone(), null, null),
        _ => null,
    };
}
