using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dashboard.Tests.Support;

/// <summary>
/// The real server (Kestrel on 127.0.0.1, a random port) over a fresh database of the given provider and a fresh
/// artifact root in a temporary folder of its own, and an HttpClient that talks to it over real HTTP.
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    private readonly Factory _factory;
    private readonly Func<Task> _cleanup;

    private DashboardServer(Factory factory, Func<Task> cleanup, Uri address, string artifactSandbox)
    {
        _factory = factory;
        _cleanup = cleanup;
        Address = address;
        ArtifactSandbox = artifactSandbox;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri Address { get; }

    /// <summary>The temporary folder that holds <see cref="ArtifactRoot"/> and nothing else: "outside the root".</summary>
    public string ArtifactSandbox { get; }

    /// <summary>The artifact store's root folder (created by the store on first use).</summary>
    public string ArtifactRoot => Path.Join(ArtifactSandbox, "artifacts");

    public HttpClient Client { get; }

    public IServiceProvider Services => _factory.Services;

    public static async Task<DashboardServer> StartAsync(DatabaseProvider provider = DatabaseProvider.Sqlite)
    {
        var (options, cleanup) = await TestDatabase.CreateEmptyAsync(provider);
        var sandbox = Directory.CreateDirectory(Path.Join(Path.GetTempPath(), $"dashboard-artifacts-{Guid.NewGuid():N}")).FullName;
        var factory = new Factory(options, Path.Join(sandbox, "artifacts"));
        factory.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        return new DashboardServer(factory, cleanup, new Uri(address), sandbox);
    }

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
        try
        {
            Directory.Delete(ArtifactSandbox, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on a slow shutdown; it is in the temporary folder.
        }
    }

    private sealed class Factory(DatabaseOptions database, string artifactRoot) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting("urls", "http://127.0.0.1:0");
            builder.UseSetting("Dashboard:Database:Provider", database.Provider.ToString());
            builder.UseSetting("ConnectionStrings:Dashboard", database.ConnectionString);
            builder.UseSetting("Dashboard:Artifacts:Root", artifactRoot);
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
