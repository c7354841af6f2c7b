using System.Text.Json.Nodes;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Support;

/// <summary>Small factories for the logged-model contract tests (MLflow 3's logged models, runs/outputs, log-model).</summary>
public static class MakeModel
{
    public const string Models = $"{Mlflow}/logged-models";

    /// <summary>Creates a logged model; <paramref name="extra"/> adds raw JSON fields (", \"name\": \"m\"").</summary>
    public static async Task<JsonNode> CreateAsync(DashboardServer server, string experimentId, string extra = "")
    {
        var reply = (await server.PostAsync(Models, $$"""{"experiment_id": {{J(experimentId)}}{{extra}}}""")).ShouldBeOk();
        return reply.Json!["model"]!;
    }

    public static async Task<string> IdAsync(DashboardServer server, string experimentId, string extra = "") =>
        (await CreateAsync(server, experimentId, extra))["info"]!["model_id"]!.GetValue<string>();

    public static async Task<JsonNode> GetAsync(DashboardServer server, string modelId) =>
        (await server.GetAsync($"{Models}/{modelId}")).ShouldBeOk().Json!["model"]!;

    public static Task<Reply> SearchAsync(DashboardServer server, string body) => server.PostAsync($"{Models}/search", body);

    /// <summary>The model ids of a search's page, in its order.</summary>
    public static List<string> Ids(Reply reply) =>
        reply.ShouldBeOk().Json!["models"]?.AsArray().Select(m => m!["info"]!["model_id"]!.GetValue<string>()).ToList() ?? [];

    public static string ModelMetric(string key, double value, long timestamp, long step, string modelId, string datasetFields = "") =>
        $$"""{"key": {{J(key)}}, "value": {{value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}}, "timestamp": {{timestamp}}, "step": {{step}}, "model_id": {{J(modelId)}}{{datasetFields}}}""";

    /// <summary>The model JSON an MLflow 2.17 client sends to runs/log-model (Model.get_tags_dict()).</summary>
    public static string ModelJson(string runId, string artifactPath = "model", string modelUuid = "512900d078be463583017cced21441a0") =>
        $$$$"""{"run_id": "{{{{runId}}}}", "artifact_path": "{{{{artifactPath}}}}", "utc_time_created": "2026-11-27 20:24:57.606235", "model_uuid": "{{{{modelUuid}}}}", "flavors": {"python_function": {"model_path": "model", "loader_module": "mlflow.paddle", "python_version": "3.11.2", "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}}, "paddle": {"pickled_model": "model", "paddle_version": "2.6.1", "code": null}}}""";
}
