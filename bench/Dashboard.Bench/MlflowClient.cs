using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dashboard.Bench;

/// <summary>The few MLflow REST calls the bench makes, over plain HTTP/1.1 as MLflow's clients do.</summary>
public sealed class MlflowClient : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly HttpClient _http;

    public MlflowClient(Uri baseUri)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            MaxConnectionsPerServer = 64,
            UseProxy = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri(baseUri, "api/2.0/mlflow/"), Timeout = TimeSpan.FromMinutes(5) };
    }

    public async Task<string> CreateExperimentAsync(string name)
    {
        var body = await PostAsync("experiments/create", new JsonObject { ["name"] = name });
        return body["experiment_id"]!.GetValue<string>();
    }

    public async Task<string> CreateRunAsync(string experimentId, string name)
    {
        var body = await PostAsync("runs/create", new JsonObject
        {
            ["experiment_id"] = experimentId,
            ["run_name"] = name,
            ["start_time"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["tags"] = new JsonArray(new JsonObject { ["key"] = "mlflow.user", ["value"] = "bench" }),
        });
        return body["run"]!["info"]!["run_id"]!.GetValue<string>();
    }

    /// <summary>Posts a prepared log-batch body; the bytes are built before the clock starts.</summary>
    public async Task LogBatchAsync(byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = Json;
        using var response = await _http.PostAsync("runs/log-batch", content);
        await EnsureOkAsync(response, "runs/log-batch");
    }

    /// <summary>Posts a body and reads the whole answer, whatever its status; returns the status.</summary>
    public async Task<int> PostRawAsync(string path, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = Json;
        using var response = await _http.PostAsync(new Uri(path, UriKind.Relative), content);
        await response.Content.ReadAsByteArrayAsync();
        return (int)response.StatusCode;
    }

    public Task<JsonNode> SearchRunsAsync(JsonObject request) => PostAsync("runs/search", request);

    public async Task<JsonNode> GetAsync(string pathAndQuery)
    {
        using var response = await _http.GetAsync(new Uri(pathAndQuery, UriKind.Relative));
        await EnsureOkAsync(response, pathAndQuery);
        return JsonNode.Parse(await response.Content.ReadAsStreamAsync())!;
    }

    private async Task<JsonNode> PostAsync(string path, JsonObject request)
    {
        using var content = new StringContent(request.ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = Json;
        using var response = await _http.PostAsync(new Uri(path, UriKind.Relative), content);
        await EnsureOkAsync(response, path);
        // Read and parse the whole answer, as a client does: the time of a search includes its bytes.
        return JsonNode.Parse(await response.Content.ReadAsStreamAsync())!;
    }

    private static async Task EnsureOkAsync(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync();
            throw new HttpRequestException($"{what} answered {(int)response.StatusCode}: {Truncate(text, 500)}");
        }
    }

    private static string Truncate(string s, int n) => s.Length <= n ? s : s[..n] + "…";

    public void Dispose() => _http.Dispose();

    private static readonly JsonSerializerOptions Readable = new()
    {
        WriteIndented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>A request as a person reads it in the report (quotes and comparison signs unescaped).</summary>
    public static string Serialize(JsonNode node) => node.ToJsonString(Readable);
}
