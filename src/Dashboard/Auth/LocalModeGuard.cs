using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Dashboard.Auth;

/// <summary>
/// Local mode makes every request the local Admin, which is only safe when nobody but this machine can connect:
/// the server refuses to start in Local mode on an address that is not loopback (127.0.0.0/8, ::1, localhost).
/// Three checks: the configured addresses before anything listens (urls / ASPNETCORE_URLS / --urls and
/// Kestrel:Endpoints:*:Url), the addresses actually bound once the server started (listeners configured in code),
/// and, per request, the connection's local address (docs/adr/0012-authentication-and-permissions.md, "Hardening").
/// </summary>
public static class LocalModeGuard
{
    /// <summary>The process's exit code when it refuses to start.</summary>
    public const int ExitCode = 3;

    /// <summary>What an operator reads when the server refuses to start, after the address it refused.</summary>
    public const string HowToSignIn =
        "Local mode (no sign-in; every request is the local Admin) listens on loopback only (127.0.0.1, ::1, localhost). "
        + "To serve other machines, configure sign-in: Dashboard__Auth__Mode=Oidc with Dashboard__Auth__Oidc__Authority, "
        + "Dashboard__Auth__Oidc__ClientId and Dashboard__Auth__Oidc__ClientSecret (see docs/operations.md); "
        + "or listen on loopback, e.g. --urls http://127.0.0.1:5000.";

    /// <summary>Why the configured addresses may not be used in Local mode, or null when they all are loopback.</summary>
    public static string? Refusal(IConfiguration configuration, AuthOptions auth)
    {
        if (auth.Mode != AuthMode.Local)
        {
            return null;
        }
        var addresses = new List<string>();
        addresses.AddRange(Split(configuration["urls"]));
        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { Length: > 0 } url)
            {
                addresses.Add(url);
            }
        }
        // ASPNETCORE_HTTP_PORTS / HTTPS_PORTS bind every interface; they apply only when no urls are set, which
        // Program.cs never leaves so (it defaults to loopback), but a refusal is cheaper than a surprise.
        if (string.IsNullOrWhiteSpace(configuration["urls"]))
        {
            foreach (var key in new[] { "http_ports", "https_ports" })
            {
                addresses.AddRange(Split(configuration[key]).Select(port => $"http://*:{port}"));
            }
        }
        return addresses.FirstOrDefault(a => !IsLoopbackUrl(a)) is { } bad ? RefusalFor(bad) : null;
    }

    /// <summary>Why the server's bound addresses may not be used in Local mode, or null.</summary>
    public static string? Refusal(IServer server, AuthOptions auth) =>
        auth.Mode == AuthMode.Local
        && server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault(a => !IsLoopbackUrl(a)) is { } bad
            ? RefusalFor(bad)
            : null;

    public static string RefusalFor(string address) =>
        $"Dashboard refuses to start: Local mode on {address}, which is not a loopback address. {HowToSignIn}";

    /// <summary>
    /// Stops the started server when it listens beyond loopback in Local mode (listeners set up in code, which the
    /// configuration does not show); requests are refused meanwhile by <see cref="IsLoopbackConnection"/>.
    /// </summary>
    public static void StopIfExposed(WebApplication app, AuthOptions auth)
    {
        if (auth.Mode != AuthMode.Local)
        {
            return;
        }
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            if (Refusal(app.Services.GetRequiredService<IServer>(), auth) is { } refusal)
            {
                Console.Error.WriteLine(refusal);
                Environment.ExitCode = ExitCode;
                app.Lifetime.StopApplication();
            }
        });
    }

    /// <summary>Whether a connection arrived on a loopback address (no address: an in-memory test server or a Unix socket).</summary>
    public static bool IsLoopbackConnection(ConnectionInfo connection) =>
        connection.LocalIpAddress is not { } local || IPAddress.IsLoopback(local);

    /// <summary>Whether a listen URL names only loopback: localhost, 127.0.0.0/8 or [::1]; *, + and 0.0.0.0 are every interface.</summary>
    public static bool IsLoopbackUrl(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        var rest = schemeEnd >= 0 ? url[(schemeEnd + 3)..] : url;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash >= 0 ? rest[..slash] : rest;
        string host;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            host = close > 0 ? authority[1..close] : authority;
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon >= 0 ? authority[..colon] : authority;
        }
        return IsLoopbackHost(host);
    }

    /// <summary>localhost, a 127.0.0.0/8 address or ::1 (without brackets or port).</summary>
    public static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);

    private static string[] Split(string? list) =>
        (list ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
