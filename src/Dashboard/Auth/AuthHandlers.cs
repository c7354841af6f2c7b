using System.Text;
using System.Text.Encodings.Web;
using Dashboard.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Dashboard.Auth;

/// <summary>Local mode: every request is the one local Admin (the server listens on loopback only).</summary>
public sealed class LocalAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Local";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
        Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(
            DashboardPrincipal.Create(SchemeName, "local", Caller.Local.Name, DashboardRole.Admin, []), SchemeName)));

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => AuthResponses.ForbiddenAsync(Context);
}

/// <summary>
/// Personal and service tokens: <c>Authorization: Bearer dsh_…</c> (MLFLOW_TRACKING_TOKEN) or Basic with any user name
/// and the token as password (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD). The token acts as its owner with
/// the owner's current role and groups, cut down to the token's scope. Its challenge is the API's 401.
/// </summary>
public sealed class TokenAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger,
    UrlEncoder encoder, TokenService tokens) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Token";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ReadToken(Request.Headers.Authorization.ToString()) is not { } secret)
        {
            return AuthenticateResult.NoResult();
        }
        var identity = await tokens.ValidateAsync(secret, Context.RequestAborted);
        if (identity is null)
        {
            return AuthenticateResult.Fail("The token is unknown, expired or revoked.");
        }
        var user = identity.User;
        var principal = DashboardPrincipal.Create(SchemeName, "token", user.Name, user.Role, user.GroupList, identity.Token.Scope,
            identity.Token.Id);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => AuthResponses.UnauthenticatedAsync(Context);

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => AuthResponses.ForbiddenAsync(Context);

    /// <summary>The token text of a Bearer header, or the password of a Basic one; null for anything else.</summary>
    public static string? ReadToken(string header)
    {
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = header["Bearer ".Length..].Trim();
            return token.Length > 0 ? token : null;
        }
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var text = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
                var colon = text.IndexOf(':', StringComparison.Ordinal);
                return colon >= 0 && colon < text.Length - 1 ? text[(colon + 1)..] : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }
        return null;
    }

    /// <summary>Whether a request carries credentials this handler reads (Basic, or a Bearer with our token's shape).</summary>
    public static bool Handles(string header) =>
        header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)
        || header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && TokenService.LooksLikeToken(header["Bearer ".Length..].Trim());
}

/// <summary>The answers of a request that is not authenticated or not allowed: MLflow's error shape on its API, ProblemDetails on /api/v1.</summary>
public static class AuthResponses
{
    public const string Challenge = "Basic realm=\"Dashboard\", Bearer realm=\"Dashboard\"";

    /// <summary>Paths answered as an API (401 and 403 with a body), not redirected to the sign-in.</summary>
    public static bool IsApiPath(PathString path) =>
        path.StartsWithSegments("/api") || path.StartsWithSegments("/ajax-api") || path.StartsWithSegments("/get-artifact")
        || path.StartsWithSegments("/model-versions/get-artifact") || path.StartsWithSegments("/version");

    public static Task UnauthenticatedAsync(HttpContext http)
    {
        http.Response.Headers.WWWAuthenticate = Challenge;
        return WriteAsync(http, StatusCodes.Status401Unauthorized, "UNAUTHENTICATED",
            "Authentication required: send a Dashboard token as 'Authorization: Bearer <token>' (MLFLOW_TRACKING_TOKEN) "
            + "or as the password of Basic authentication (MLFLOW_TRACKING_PASSWORD).");
    }

    public static Task ForbiddenAsync(HttpContext http) =>
        WriteAsync(http, StatusCodes.Status403Forbidden, "PERMISSION_DENIED", "Permission denied.");

    private static Task WriteAsync(HttpContext http, int status, string code, string message)
    {
        http.Response.StatusCode = status;
        if (http.Request.Path.StartsWithSegments("/api/v1"))
        {
            return Results.Problem(statusCode: status, title: message, type: code).ExecuteAsync(http);
        }
        return http.Response.WriteAsJsonAsync(new { error_code = code, message });
    }
}
