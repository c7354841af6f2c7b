using System.Net.Http.Headers;
using System.Text;
using Dashboard.Data;
using Dashboard.Security;
using Dashboard.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Tests.Security;

/// <summary>
/// A real server in Oidc mode for tests of tokens and hardening: the provider is a dummy loopback authority that nothing
/// contacts (token-authenticated API calls never reach it), and users and tokens are made through the server's own
/// UserDirectory and TokenService, so that requests carry real tokens over real HTTP.
/// </summary>
public static class SecuredServer
{
    public static Dictionary<string, string> OidcSettings(IReadOnlyDictionary<string, string>? more = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Dashboard:Auth:Mode"] = "Oidc",
            ["Dashboard:Auth:Oidc:Authority"] = "http://127.0.0.1:9",
            ["Dashboard:Auth:Oidc:ClientId"] = "dashboard",
            ["Dashboard:Auth:Oidc:RequireHttpsMetadata"] = "false",
        };
        foreach (var (key, value) in more ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }
        return settings;
    }

    public static Task<DashboardServer> StartOidcAsync(DatabaseProvider provider = DatabaseProvider.Sqlite,
        IReadOnlyDictionary<string, string>? more = null) =>
        DashboardServer.StartAsync(provider, settings: OidcSettings(more));

    /// <summary>A person as if they had signed in once (a users row), with a unique name.</summary>
    public static Task<DashboardUser> UserAsync(this DashboardServer server, DashboardRole role, string? name = null)
    {
        name ??= $"{role.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}"[..20];
        return server.Services.GetRequiredService<UserDirectory>()
            .RecordSignInAsync($"sub-{name}", name, $"{name}@example.com", role, [], CancellationToken.None);
    }

    public static Task<IssuedToken> TokenAsync(this DashboardServer server, DashboardUser user, TokenScope scope,
        DateTimeOffset? expiry = null) =>
        server.Services.GetRequiredService<TokenService>().CreateAsync(user.Id, "test", scope, expiry ?? DateTimeOffset.UtcNow.AddDays(1),
            user.Name, CancellationToken.None);

    public static AuthenticationHeaderValue Bearer(string secret) => new("Bearer", secret);

    public static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    /// <summary>Sends a request with the given credentials (none when null) and a JSON body (none when null).</summary>
    public static Task<Reply> SendAsync(this DashboardServer server, HttpMethod method, string path, AuthenticationHeaderValue? auth,
        string? json = null, IReadOnlyDictionary<string, string>? headers = null) =>
        server.SendAsync(Request(method, path, auth, json, headers));

    public static HttpRequestMessage Request(HttpMethod method, string path, AuthenticationHeaderValue? auth, string? json = null,
        IReadOnlyDictionary<string, string>? headers = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = auth;
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        foreach (var (key, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(key, value);
        }
        return request;
    }
}
