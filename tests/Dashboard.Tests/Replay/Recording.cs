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
}

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
                e["response"]?["json"]?.DeepClone());
        }
    }
}
