using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.S3;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dashboard.Tests.Support;

/// <summary>Where a test server keeps its artifacts.</summary>
public enum ArtifactBackend
{
    /// <summary>A folder of its own in the temporary folder.</summary>
    Local,

    /// <summary>A bucket of its own on the S3 emulator that ./test.sh starts, below the prefix "artifacts".</summary>
    S3,
}

/// <summary>
/// The real server (Kestrel on 127.0.0.1, a random port) over a fresh database of the given provider and a fresh
/// artifact root (a temporary folder of its own, or a bucket of its own on the S3 emulator), and an HttpClient that
/// talks to it over real HTTP.
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    /// <summary>The key prefix of the store's root in <see cref="S3Bucket"/>.</summary>
    public const string S3Prefix = "artifacts";

    private readonly Factory _factory;
    private readonly Func<Task> _cleanup;
    private readonly AmazonS3Client? _s3;
    private readonly string? _bucket;

    private DashboardServer(Factory factory, Func<Task> cleanup, Uri address, string artifactSandbox, ArtifactBackend artifacts,
        AmazonS3Client? s3, string? bucket)
    {
        _factory = factory;
        _cleanup = cleanup;
        Address = address;
        ArtifactSandbox = artifactSandbox;
        Artifacts = artifacts;
        _s3 = s3;
        _bucket = bucket;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri Address { get; }

    public ArtifactBackend Artifacts { get; }

    /// <summary>A client of the emulator, for looking at the bucket behind the server's back (S3 servers only).</summary>
    public AmazonS3Client S3 => _s3 ?? throw new InvalidOperationException("This server keeps its artifacts in a folder.");

    /// <summary>The server's bucket (S3 servers only): the store is <c>s3://bucket/artifacts</c>.</summary>
    public string S3Bucket => _bucket ?? throw new InvalidOperationException("This server keeps its artifacts in a folder.");

    /// <summary>
    /// The temporary folder that holds <see cref="ArtifactRoot"/> and nothing else: "outside the root" (on an S3
    /// server it stays empty: the server must not write there either).
    /// </summary>
    public string ArtifactSandbox { get; }

    /// <summary>The artifact store's root folder (created by the store on first use).</summary>
    public string ArtifactRoot => Path.Join(ArtifactSandbox, "artifacts");

    public HttpClient Client { get; }

    public IServiceProvider Services => _factory.Services;

    /// <param name="settings">More configuration (e.g. Dashboard:Auth:*), applied after the database and artifact keys.</param>
    public static async Task<DashboardServer> StartAsync(DatabaseProvider provider = DatabaseProvider.Sqlite,
        ArtifactBackend artifacts = ArtifactBackend.Local, IReadOnlyDictionary<string, string>? settings = null)
    {
        // Asked first: without the emulator an S3 server is a skip (or, under ./test.sh, a failure), before anything is made.
        var endpoint = artifacts == ArtifactBackend.S3 ? TestS3.RequireEndpoint() : null;
        var (options, cleanup) = await TestDatabase.CreateEmptyAsync(provider);
        var sandbox = Directory.CreateDirectory(Path.Join(Path.GetTempPath(), $"dashboard-artifacts-{Guid.NewGuid():N}")).FullName;
        var all = new Dictionary<string, string>();
        AmazonS3Client? s3 = null;
        string? bucket = null;
        if (endpoint is null)
        {
            all["Dashboard:Artifacts:Root"] = Path.Join(sandbox, "artifacts");
        }
        else
        {
            s3 = TestS3.CreateClient(endpoint);
            bucket = await TestS3.CreateBucketAsync(s3);
            all["Dashboard:Artifacts:Root"] = $"s3://{bucket}/{S3Prefix}";
            all["Dashboard:Artifacts:S3:ServiceUrl"] = endpoint;
            all["Dashboard:Artifacts:S3:ForcePathStyle"] = "true";
            all["Dashboard:Artifacts:S3:AccessKeyId"] = TestS3.AccessKeyId;
            all["Dashboard:Artifacts:S3:SecretAccessKey"] = TestS3.SecretAccessKey;
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }
        var factory = new Factory(options, all);
        factory.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        return new DashboardServer(factory, cleanup, new Uri(address), sandbox, artifacts, s3, bucket);
    }

    /// <summary>Every key in the server's bucket (S3 servers only).</summary>
    public Task<List<string>> S3KeysAsync() => TestS3.KeysAsync(S3, S3Bucket);

    /// <summary>The keys of multipart uploads begun in the server's bucket and neither completed nor aborted.</summary>
    public Task<List<string>> PendingS3UploadsAsync() => TestS3.PendingUploadsAsync(S3, S3Bucket);

    /// <summary>POSTs raw JSON text and returns the status and the parsed body.</summary>
    public async Task<Reply> PostAsync(string path, string json, string method = "POST")
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        return await SendAsync(request);
    }

    public Task<Reply> PostAsync(string path, object body) => PostAsync(path, JsonSerializer.Serialize(body));

    public async Task<Reply> GetAsync(string pathAndQuery)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        return await SendAsync(request);
    }

    public async Task<Reply> SendAsync(HttpRequestMessage request)
    {
        using var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (response.Content.Headers.ContentType is MediaTypeHeaderValue { MediaType: "application/json" or "application/problem+json" }
            && text.Length > 0)
        {
            json = JsonNode.Parse(text);
        }
        return new Reply(response.StatusCode, text, json);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _factory.DisposeAsync();
        await _cleanup();
        if (_s3 is not null)
        {
            await TestS3.DeleteBucketAsync(_s3, _bucket!);
            _s3.Dispose();
        }
        try
        {
            Directory.Delete(ArtifactSandbox, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on a slow shutdown; it is in the temporary folder.
        }
    }

    private sealed class Factory(DatabaseOptions database, Dictionary<string, string> artifactSettings) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting("urls", "http://127.0.0.1:0");
            builder.UseSetting("Dashboard:Database:Provider", database.Provider.ToString());
            builder.UseSetting("ConnectionStrings:Dashboard", database.ConnectionString);
            foreach (var (key, value) in artifactSettings)
            {
                builder.UseSetting(key, value);
            }
            builder.ConfigureServices(s => s.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2)));
        }
    }
}

/// <summary>An HTTP answer: status, raw text and JSON (when the body is JSON).</summary>
public sealed record Reply(HttpStatusCode Status, string Text, JsonNode? Json)
{
    public string? ErrorCode => Json?["error_code"]?.GetValue<string>();

    public string? Message => Json?["message"]?.GetValue<string>();

    public Reply ShouldBeOk()
    {
        Status.ShouldBe(HttpStatusCode.OK, Text);
        return this;
    }

    public Reply ShouldFail(HttpStatusCode status, string errorCode)
    {
        Status.ShouldBe(status, Text);
        ErrorCode.ShouldBe(errorCode, Text);
        return this;
    }
}
