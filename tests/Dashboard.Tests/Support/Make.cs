using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dashboard.Tests.Support;

/// <summary>Small factories for contract tests: each call makes its own uniquely named entity over the wire.</summary>
public static class Make
{
    public const string Mlflow = "/api/2.0/mlflow";

    /// <summary>A JSON string literal of <paramref name="value"/>, for raw request bodies.</summary>
    public static string J(string value) => JsonSerializer.Serialize(value);

    public static string Name(string prefix = "exp") => $"{prefix}-{Guid.NewGuid():N}";

    public static async Task<string> ExperimentAsync(DashboardServer server, string? name = null)
    {
        var reply = (await server.PostAsync($"{Mlflow}/experiments/create", $$"""{"name": {{J(name ?? Name())}}}""")).ShouldBeOk();
        return reply.Json!["experiment_id"]!.GetValue<string>();
    }

    public static async Task<string> RunAsync(DashboardServer server, string? experimentId = null, string? runName = null)
    {
        experimentId ??= await ExperimentAsync(server);
        var name = runName is null ? "" : $$""", "run_name": {{J(runName)}}""";
        var reply = (await server.PostAsync($"{Mlflow}/runs/create",
            $$"""{"experiment_id": {{J(experimentId)}}, "start_time": 1700000000000{{name}}}""")).ShouldBeOk();
        return reply.Json!["run"]!["info"]!["run_id"]!.GetValue<string>();
    }

    public static async Task<JsonNode> GetRunAsync(DashboardServer server, string runId) =>
        (await server.GetAsync($"{Mlflow}/runs/get?run_id={runId}")).ShouldBeOk().Json!["run"]!;

    public static async Task<JsonNode> GetExperimentAsync(DashboardServer server, string experimentId) =>
        (await server.GetAsync($"{Mlflow}/experiments/get?experiment_id={experimentId}")).ShouldBeOk().Json!["experiment"]!;

    /// <summary>The whole history of a metric (one page of at most 25000 points).</summary>
    public static async Task<JsonArray> HistoryAsync(DashboardServer server, string runId, string key) =>
        (await server.GetAsync($"{Mlflow}/metrics/get-history?run_id={runId}&metric_key={Uri.EscapeDataString(key)}"))
        .ShouldBeOk().Json!["metrics"]?.AsArray() ?? [];

    public static Task<Reply> LogMetricAsync(DashboardServer server, string runId, string key, string value = "1.5",
        long timestamp = 1700000000000, long step = 0) =>
        server.PostAsync($"{Mlflow}/runs/log-metric",
            $$"""{"run_id": {{J(runId)}}, "key": {{J(key)}}, "value": {{value}}, "timestamp": {{timestamp}}, "step": {{step}}}""");

    public static Task<Reply> LogParamAsync(DashboardServer server, string runId, string key, string value) =>
        server.PostAsync($"{Mlflow}/runs/log-parameter", $$"""{"run_id": {{J(runId)}}, "key": {{J(key)}}, "value": {{J(value)}}}""");

    public static Task<Reply> SetTagAsync(DashboardServer server, string runId, string key, string value) =>
        server.PostAsync($"{Mlflow}/runs/set-tag", $$"""{"run_id": {{J(runId)}}, "key": {{J(key)}}, "value": {{J(value)}}}""");

    public static Task<Reply> LogBatchAsync(DashboardServer server, string runId, string metrics = "[]", string @params = "[]",
        string tags = "[]") =>
        server.PostAsync($"{Mlflow}/runs/log-batch",
            $$"""{"run_id": {{J(runId)}}, "metrics": {{metrics}}, "params": {{@params}}, "tags": {{tags}}}""");

    /// <summary>A JSON array of <paramref name="count"/> items made by <paramref name="item"/>.</summary>
    public static string Array(int count, Func<int, string> item) => "[" + string.Join(",", Enumerable.Range(0, count).Select(item)) + "]";

    public static string KeyValue(string key, string value) => $$"""{"key": {{J(key)}}, "value": {{J(value)}}}""";

    public static string Metric(string key, double value, long timestamp, long step) =>
        $$"""{"key": {{J(key)}}, "value": {{value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}}, "timestamp": {{timestamp}}, "step": {{step}}}""";

    /// <summary>The value of a key in a list of {key, value} objects (tags, params), or null.</summary>
    public static JsonNode? Find(JsonNode? list, string key) =>
        list?.AsArray().FirstOrDefault(e => e!["key"]!.GetValue<string>() == key);

    public static string? ValueOf(JsonNode? list, string key) => Find(list, key)?["value"]?.ToString();
}
