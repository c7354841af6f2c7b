using System.Text;
using Dashboard.Tests.Api;
using static Dashboard.Core.Tests.ModelCards.ModelFixtures;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Support;

/// <summary>Artifacts of a run, uploaded through the mlflow-artifacts proxy as an MLflow client does.</summary>
public static class MakeRunArtifacts
{
    /// <summary>A tiny valid PNG (1×1, red).</summary>
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==");

    public static string Folder(string experimentId, string runId) => $"{experimentId}/{runId}/artifacts";

    public static async Task PutAsync(DashboardServer server, string experimentId, string runId, string path, byte[] body,
        string contentType = "text/plain") =>
        (await ArtifactContractTests.PutAsync(server, $"{Folder(experimentId, runId)}/{path}", body, contentType)).ShouldBeOk();

    public static Task PutAsync(DashboardServer server, string experimentId, string runId, string path, string text) =>
        PutAsync(server, experimentId, runId, path, Encoding.UTF8.GetBytes(text));

    /// <summary>The recorded MLflow 2.17 PaddlePaddle model under <c>model/</c>, logged with runs/log-model.</summary>
    public static async Task LogPaddleModelAsync(DashboardServer server, string experimentId, string runId)
    {
        const string recordedRun = "cb2792467a294b26bd8c61868cf5d191";
        foreach (var (name, content) in Files(Paddle217))
        {
            var body = name == "MLmodel" ? Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(content).Replace(recordedRun, runId, StringComparison.Ordinal)) : content;
            await PutAsync(server, experimentId, runId, $"model/{name}", body);
        }
        var modelJson = Text(Paddle217, "model_json.json").Trim().Replace(recordedRun, runId, StringComparison.Ordinal);
        (await server.PostAsync($"{Mlflow}/runs/log-model", $$"""{"run_id": {{J(runId)}}, "model_json": {{J(modelJson)}}}""")).ShouldBeOk();
    }
}
