using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Dashboard.Api.Mlflow;
using Dashboard.Api.V1;
using Dashboard.Errors;

namespace Dashboard.Auth;

/// <summary>
/// The defences around authentication (docs/adr/0012-authentication-and-permissions.md, "Hardening"): security headers
/// on every answer, the Host header checked against the names the server may be reached by (DNS rebinding), the Origin
/// of state-changing requests checked against the server's own (CSRF), and a limit on failed authentications per
/// client address.
/// </summary>
public static class Hardening
{
    /// <summary>
    /// The policy of every answer. Blazor Server needs no inline or evaluated script of its own, but Plotly's bundle
    /// builds functions with <c>new Function</c> in its WebGL code (parallel coordinates, through regl), hence
    /// 'unsafe-eval' (without it the parallel-coordinates journeys fail, see ADR 0012); MudBlazor and Plotly set inline styles, hence
    /// style-src 'unsafe-inline'. Scripts still load only
    /// from this origin, and no page may be framed (frame-ancestors 'none' with X-Frame-Options DENY for old browsers).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        + "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
        + "form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// <see cref="ContentSecurityPolicy"/> for a mode. In Oidc mode the sign-out form's POST is redirected to the
    /// provider's end-session endpoint, and browsers apply form-action to the redirects of a form submission too: the
    /// provider's origin is added there, nothing else.
    /// </summary>
    public static string ContentSecurityPolicyFor(AuthOptions auth) =>
        auth.Mode == AuthMode.Oidc && Uri.TryCreate(auth.Oidc.Authority, UriKind.Absolute, out var authority)
            ? ContentSecurityPolicy.Replace("form-action 'self'", $"form-action 'self' {authority.GetLeftPart(UriPartial.Authority)}",
                StringComparison.Ordinal)
            : ContentSecurityPolicy;

    public static HardeningOptions AddDashboardHardening(this IServiceCollection services, IConfiguration configuration)
    {
        var options = HardeningOptions.Read(configuration);
        services.AddSingleton(options);
        services.AddSingleton<FailedAuthenticationLimiter>();
        return options;
    }

    /// <summary>Headers, Host and Origin checks: before authentication, so that a refused request costs no lookup.</summary>
    public static void UseDashboardHardening(this WebApplication app)
    {
        var auth = app.Services.GetRequiredService<AuthOptions>();
        var options = app.Services.GetRequiredService<HardeningOptions>();
        var ownOriginsOnly = options.AllowedOrigins;
        var policy = ContentSecurityPolicyFor(auth);
        app.Use(async (http, next) =>
        {
            AddSecurityHeaders(http, policy);
            if (auth.Mode == AuthMode.Local && !LocalModeGuard.IsLoopbackConnection(http.Connection))
            {
                // The start-up checks make this unreachable; it holds if a listener was added behind their back.
                await RefuseAsync(http, StatusCodes.Status403Forbidden, ErrorCode.PERMISSION_DENIED,
                    "Local mode serves loopback connections only. " + LocalModeGuard.HowToSignIn);
                return;
            }
            if (!IsAllowedHost(http.Request.Host, auth, options))
            {
                await RefuseAsync(http, StatusCodes.Status400BadRequest, ErrorCode.BAD_REQUEST,
                    "The Host header names a host this server does not answer to.");
                return;
            }
            if (IsStateChanging(http.Request.Method) && !IsAllowedOrigin(http.Request, ownOriginsOnly))
            {
                await RefuseAsync(http, StatusCodes.Status403Forbidden, ErrorCode.PERMISSION_DENIED,
                    "Cross-origin request refused: a state-changing request must come from this server's own pages "
                    + "(or an origin in Dashboard:Security:AllowedOrigins).");
                return;
            }
            await next(http);
        });
    }

    /// <summary>After authentication, before authorization: counts and limits failed authentications per client address.</summary>
    public static void UseFailedAuthenticationLimit(this IApplicationBuilder app)
    {
        var limiter = app.ApplicationServices.GetRequiredService<FailedAuthenticationLimiter>();
        app.Use(async (http, next) =>
        {
            if (http.Request.Headers.Authorization.Count > 0 && http.User.Identity?.IsAuthenticated != true
                && limiter.RecordFailure(http.Connection.RemoteIpAddress) is { } retryAfter)
            {
                http.Response.Headers.RetryAfter =
                    Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await RefuseAsync(http, StatusCodes.Status429TooManyRequests, ErrorCode.REQUEST_LIMIT_EXCEEDED,
                    "Too many failed authentications from this address; try again later.");
                return;
            }
            await next(http);
        });
    }

    public static void AddSecurityHeaders(HttpContext http, string contentSecurityPolicy)
    {
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "same-origin";
        headers.ContentSecurityPolicy = contentSecurityPolicy;
        if (http.Request.IsHttps)
        {
            headers.StrictTransportSecurity = "max-age=31536000";
        }
    }

    public static bool IsStateChanging(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    /// <summary>
    /// Local mode: loopback names only (a rebound DNS name pointing at 127.0.0.1 must not reach the local Admin).
    /// Oidc mode: Dashboard:Security:AllowedHosts when set (AllowedHosts, ASP.NET Core's own filter, applies as well).
    /// </summary>
    public static bool IsAllowedHost(HostString host, AuthOptions auth, HardeningOptions options)
    {
        if (!host.HasValue)
        {
            // HTTP/1.0 without Host: nothing to rebind.
            return true;
        }
        if (auth.Mode == AuthMode.Local)
        {
            return LocalModeGuard.IsLoopbackHost(host.Host);
        }
        if (options.AllowedHosts.Count == 0)
        {
            return true;
        }
        return options.AllowedHosts.Any(allowed => Matches(allowed, host));
    }

    private static bool Matches(string allowed, HostString host)
    {
        if (allowed == "*")
        {
            return true;
        }
        var pattern = HostString.FromUriComponent(allowed);
        if (pattern.Port is { } port && port != host.Port)
        {
            return false;
        }
        var name = pattern.Host;
        return name.StartsWith("*.", StringComparison.Ordinal)
            ? host.Host.EndsWith(name[1..], StringComparison.OrdinalIgnoreCase)
            : string.Equals(name, host.Host, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// A request without Origin (MLflow clients, curl) passes unless the browser says it is cross-site; one with an
    /// Origin passes when that is the server's own authority (the scheme is ignored: a proxy that ends TLS makes the
    /// request http while the page was https) or listed in Dashboard:Security:AllowedOrigins.
    /// </summary>
    public static bool IsAllowedOrigin(HttpRequest request, IReadOnlyList<string> allowedOrigins)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return !string.Equals(request.Headers["Sec-Fetch-Site"].ToString(), "cross-site", StringComparison.OrdinalIgnoreCase);
        }
        if (allowedOrigins.Any(a => string.Equals(a, origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }
        return Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && uri.Scheme is "http" or "https"
            && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    private static Task RefuseAsync(HttpContext http, int status, ErrorCode code, string message) =>
        (V1Api.IsV1Path(http.Request.Path) ? V1Api.Problem(code, message, status) : MlflowApi.Error(http, code, message, status))
            .ExecuteAsync(http);
}

/// <summary>
/// Counts failed authentications (a request that came with an Authorization header and is not authenticated) per client
/// address in fixed windows; past the limit a failure is answered 429 until the window ends. Successful requests are
/// never counted nor refused, so a working program behind the same address keeps working.
/// </summary>
public sealed class FailedAuthenticationLimiter(HardeningOptions options, TimeProvider time)
{
    private const int SweepAbove = 10_000;
    private readonly ConcurrentDictionary<IPAddress, Window> _windows = new();

    /// <summary>Records a failure; answers how long until the client may try again when it is over the limit, else null.</summary>
    public TimeSpan? RecordFailure(IPAddress? client)
    {
        if (options.FailedAuthLimit == 0)
        {
            return null;
        }
        var key = client ?? IPAddress.None;
        var now = time.GetUtcNow();
        if (_windows.Count > SweepAbove)
        {
            foreach (var (address, old) in _windows)
            {
                if (old.End <= now)
                {
                    _windows.TryRemove(address, out _);
                }
            }
        }
        var window = _windows.AddOrUpdate(key,
            _ => new Window(now + options.FailedAuthWindow, 1),
            (_, w) => w.End <= now ? new Window(now + options.FailedAuthWindow, 1) : w with { Failures = w.Failures + 1 });
        return window.Failures > options.FailedAuthLimit ? window.End - now : null;
    }

    private sealed record Window(DateTimeOffset End, int Failures);
}
