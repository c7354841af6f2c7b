using System.Text.Json.Nodes;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Support;

/// <summary>Small factories for the registry contract tests: each call makes its own uniquely named entity over the wire.</summary>
public static class MakeRegistry
{
    public const string Models = $"{Mlflow}/registered-models";
    public const string Versions = $"{Mlflow}/model-versions";
    public const string V1 = "/api/v1";

    /// <summary>Creates a registered model (a unique name unless given); <paramref name="extra"/> adds raw JSON fields.</summary>
    public static async Task<string> ModelAsync(DashboardServer server, string? name = null, string extra = "")
    {
        name ??= Name("model");
        (await server.PostAsync($"{Models}/create", $$"""{"name": {{J(name)}}{{extra}}}""")).ShouldBeOk();
        return name;
    }

    /// <summary>A run of a new experiment and the source MLflow 2 clients register from it (the run's <c>model</c> folder).</summary>
    public static async Task<(string RunId, string Source)> RunSourceAsync(DashboardServer server)
    {
        var runId = await RunAsync(server);
        var artifactUri = (await GetRunAsync(server, runId))["info"]!["artifact_uri"]!.GetValue<string>();
        return (runId, $"{artifactUri}/model");
    }

    /// <summary>Registers a version from a new run's model folder; answers the version's message.</summary>
    public static async Task<JsonNode> VersionAsync(DashboardServer server, string name, string extra = "")
    {
        var (runId, source) = await RunSourceAsync(server);
        return (await CreateVersionAsync(server, name, source, runId, extra)).ShouldBeOk().Json!["model_version"]!;
    }

    public static Task<Reply> CreateVersionAsync(DashboardServer server, string name, string source, string? runId = null, string extra = "") =>
        server.PostAsync($"{Versions}/create",
            $$"""{"name": {{J(name)}}, "source": {{J(source)}}{{(runId is null ? "" : $", \"run_id\": {J(runId)}")}}{{extra}}}""");

    public static async Task<JsonNode> GetModelAsync(DashboardServer server, string name) =>
        (await server.GetAsync($"{Models}/get?name={Uri.EscapeDataString(name)}")).ShouldBeOk().Json!["registered_model"]!;

    public static Task<Reply> GetVersionAsync(DashboardServer server, string name, string version) =>
        server.GetAsync($"{Versions}/get?name={Uri.EscapeDataString(name)}&version={Uri.EscapeDataString(version)}");

    public static Task<Reply> TransitionAsync(DashboardServer server, string name, string version, string stage, bool archive = false) =>
        server.PostAsync($"{Versions}/transition-stage",
            $$"""{"name": {{J(name)}}, "version": {{J(version)}}, "stage": {{J(stage)}}, "archive_existing_versions": {{(archive ? "true" : "false")}}}""");

    public static Task<Reply> SetAliasAsync(DashboardServer server, string name, string alias, string version) =>
        server.PostAsync($"{Models}/alias", $$"""{"name": {{J(name)}}, "alias": {{J(alias)}}, "version": {{J(version)}}}""");

    public static Task<Reply> GetByAliasAsync(DashboardServer server, string name, string alias) =>
        server.GetAsync($"{Models}/alias?name={Uri.EscapeDataString(name)}&alias={Uri.EscapeDataString(alias)}");

    /// <summary>A model's or a version's history under /api/v1, newest first.</summary>
    public static async Task<JsonArray> RegistryHistoryAsync(DashboardServer server, string name, string? version = null)
    {
        var path = version is null
            ? $"{V1}/registered-models/{Uri.EscapeDataString(name)}/history"
            : $"{V1}/registered-models/{Uri.EscapeDataString(name)}/versions/{version}/history";
        return (await server.GetAsync(path)).ShouldBeOk().Json!["events"]?.AsArray() ?? [];
    }

    /// <summary>The versions of a list of model versions, as strings, in order.</summary>
    public static List<string> Numbers(JsonNode? versions) =>
        versions?.AsArray().Select(v => v!["version"]!.GetValue<string>()).ToList() ?? [];

    public static string Str(JsonNode? node) => node!.GetValue<string>();
}
