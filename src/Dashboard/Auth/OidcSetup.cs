using System.Net;
using System.Security.Claims;
using System.Text.Json;
using Dashboard.Security;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;

namespace Dashboard.Auth;

/// <summary>
/// Oidc mode (docs/operations.md, "Sign-in (OpenID Connect)"): people sign in with the authorization code flow and PKCE
/// and keep a cookie session; programs may send the same provider's access tokens (client credentials) as Bearer JWTs.
/// Either way the provider's claims become a <see cref="DashboardPrincipal"/>: a name (<see cref="OidcOptions.NameClaim"/>),
/// a role mapped from <see cref="OidcOptions.RoleClaim"/>, and groups from <see cref="OidcOptions.GroupsClaim"/>.
/// </summary>
public static class OidcSetup
{
    public const string OidcScheme = OpenIdConnectDefaults.AuthenticationScheme;
    public const string JwtScheme = "Jwt";
    public const string CallbackPath = "/signin-oidc";
    public const string SignedOutCallbackPath = "/signout-callback-oidc";
    public const string SignInPath = "/account/signin";
    public const string SignOutPath = "/account/signout";
    public const string SignedOutPath = "/account/signed-out";
    public const string DeniedPath = "/account/denied";

    /// <summary>Registers the provider's sign-in (challenge of the cookie) and its access tokens (scheme <see cref="JwtScheme"/>).</summary>
    public static void AddOidc(this AuthenticationBuilder auth, OidcOptions oidc)
    {
        auth.AddOpenIdConnect(OidcScheme, "OpenID Connect", o =>
        {
            o.SignInScheme = CookieAuthenticationDefaults.AuthenticationScheme;
            o.SignOutScheme = CookieAuthenticationDefaults.AuthenticationScheme;
            o.Authority = oidc.Authority;
            o.ClientId = oidc.ClientId;
            o.ClientSecret = oidc.ClientSecret;
            o.RequireHttpsMetadata = oidc.RequireHttpsMetadata;
            o.ResponseType = "code";
            o.UsePkce = true;
            // The code comes back in the query of a top-level redirect, so that the correlation and nonce cookies can be
            // SameSite=Lax: a form post from the provider's site would need SameSite=None, which browsers drop without https.
            o.ResponseMode = "query";
            o.CorrelationCookie.SameSite = SameSiteMode.Lax;
            o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.NonceCookie.SameSite = SameSiteMode.Lax;
            o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.MapInboundClaims = false;
            o.Scope.Clear();
            foreach (var scope in new[] { "openid", "profile" }.Concat(oidc.Scopes).Distinct(StringComparer.Ordinal))
            {
                o.Scope.Add(scope);
            }
            o.CallbackPath = CallbackPath;
            o.SignedOutCallbackPath = SignedOutCallbackPath;
            o.SignedOutRedirectUri = SignedOutPath;
            // The id token is kept in the session for the provider's end-session call (id_token_hint).
            o.SaveTokens = true;
            o.GetClaimsFromUserInfoEndpoint = false;
            o.TokenValidationParameters.NameClaimType = oidc.NameClaim;
            o.Events.OnTicketReceived = context => SignInAsync(context, oidc);
            o.Events.OnRemoteFailure = context =>
            {
                // A refused or broken sign-in at the provider (access_denied, an expired state): the denied page, not a 500.
                context.Response.Redirect(DeniedPath + "?reason=" + Uri.EscapeDataString(context.Failure?.Message ?? "The sign-in failed."));
                context.HandleResponse();
                return Task.CompletedTask;
            };
        });

        auth.AddJwtBearer(JwtScheme, o =>
        {
            o.Authority = oidc.Authority;
            o.Audience = oidc.Audience ?? oidc.ClientId;
            o.RequireHttpsMetadata = oidc.RequireHttpsMetadata;
            o.MapInboundClaims = false;
            o.Events = new JwtBearerEvents
            {
                OnTokenValidated = context =>
                {
                    var claims = context.Principal!;
                    var name = First(claims, oidc.NameClaim, "client_id", "azp", "sub");
                    // Programs rarely have groups: a service principal's app roles come in `roles` (Entra, Keycloak's client
                    // roles mapped so, Okta's custom claims), which is read when the configured claim has no values.
                    var values = ValuesOf(claims, oidc.RoleClaim);
                    var role = oidc.RoleOf(values.Count > 0 ? values : ValuesOf(claims, "roles"));
                    if (name is null || role is not { } r)
                    {
                        context.Fail(name is null ? "The access token names nobody." : "The access token's claims map to no role.");
                        return Task.CompletedTask;
                    }
                    context.Principal = DashboardPrincipal.Create(JwtScheme, "jwt", name, r, ValuesOf(claims, oidc.GroupsClaim));
                    return Task.CompletedTask;
                },
                // The API's 401 (MLflow's shape, WWW-Authenticate), whatever was wrong with the token.
                OnChallenge = async context =>
                {
                    context.HandleResponse();
                    await AuthResponses.UnauthenticatedAsync(context.HttpContext);
                },
                OnForbidden = context => AuthResponses.ForbiddenAsync(context.HttpContext),
            };
        });
    }

    /// <summary>The sign-in's principal: the person's name, mapped role and groups; the person is recorded in the users table.</summary>
    private static async Task SignInAsync(TicketReceivedContext context, OidcOptions oidc)
    {
        var claims = context.Principal!;
        var subject = First(claims, "sub");
        var name = First(claims, oidc.NameClaim, "preferred_username", "email", "sub");
        var role = oidc.RoleOf(ValuesOf(claims, oidc.RoleClaim));
        if (subject is null || name is null || role is not { } r)
        {
            Refuse(context, subject is null || name is null
                ? "The provider did not say who you are (no sub or name claim)."
                : $"Your account has no Dashboard role: none of its '{oidc.RoleClaim}' values is mapped to a role. Ask an administrator.");
            return;
        }
        var groups = ValuesOf(claims, oidc.GroupsClaim);
        var directory = context.HttpContext.RequestServices.GetRequiredService<UserDirectory>();
        try
        {
            await directory.RecordSignInAsync(subject, name, First(claims, "email"), r, groups, context.HttpContext.RequestAborted);
        }
        catch (InvalidOperationException e)
        {
            // Another account (a service account, or a person with another subject) already has this name.
            Refuse(context, e.Message);
            return;
        }
        context.Principal = DashboardPrincipal.Create(CookieAuthenticationDefaults.AuthenticationScheme, "oidc", name, r, groups);
    }

    private static void Refuse(TicketReceivedContext context, string reason)
    {
        context.Response.Redirect(DeniedPath + "?reason=" + Uri.EscapeDataString(reason));
        context.HandleResponse();
    }

    private static string? First(ClaimsPrincipal principal, params string[] types) =>
        types.Select(t => principal.FindFirst(t)?.Value).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));

    /// <summary>A claim's values: several claims of the type, or one whose value is a JSON array (or a plain string).</summary>
    public static IReadOnlyList<string> ValuesOf(ClaimsPrincipal principal, string type)
    {
        var values = new List<string>();
        foreach (var claim in principal.FindAll(type))
        {
            var text = claim.Value.Trim();
            if (text.StartsWith('['))
            {
                try
                {
                    using var json = JsonDocument.Parse(text);
                    values.AddRange(json.RootElement.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!));
                    continue;
                }
                catch (JsonException)
                {
                    // Not an array after all: the text itself.
                }
            }
            if (text.Length > 0)
            {
                values.Add(text);
            }
        }
        return values.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The sign-in, sign-out and access-denied endpoints of Oidc mode.</summary>
    public static void MapAccountEndpoints(this WebApplication app)
    {
        var account = app.MapGroup("/account").AllowAnonymous().ExcludeFromDescription();
        account.MapGet("/signin", SignIn);
        account.MapGet("/signout", SignOutForm);
        account.MapPost("/signout", SignOutAsync).DisableAntiforgery();
        account.MapGet("/signed-out", () => Page("Signed out", "You are signed out of Dashboard.",
            $"<a href=\"{SignInPath}\" data-testid=\"sign-in-again\">Sign in again</a>"));
        account.MapGet("/denied", (string? reason) => Page("Access denied",
            reason is { Length: > 0 and <= 300 } ? reason : "You may not use Dashboard.",
            $"<a href=\"{SignInPath}\">Sign in with another account</a>", StatusCodes.Status403Forbidden));
    }

    /// <summary>Starts a sign-in at the provider; afterwards the person comes back to <paramref name="returnUrl"/> if it is a local path.</summary>
    private static IResult SignIn(HttpContext http, string? returnUrl) =>
        Results.Challenge(new AuthenticationProperties { RedirectUri = LocalOrRoot(returnUrl) }, [OidcScheme]);

    /// <summary>A path on this server, or "/": never another site (an open redirect).</summary>
    public static string LocalOrRoot(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] == '/' && (url.Length == 1 || url[1] != '/' && url[1] != '\\') && !url.Contains('\r')
            && !url.Contains('\n')
            ? url
            : "/";

    private static IResult SignOutForm(HttpContext http, IAntiforgery antiforgery)
    {
        var tokens = antiforgery.GetAndStoreTokens(http);
        var who = CurrentCaller.Find(http.User) is { } caller ? $"Signed in as {caller}." : "";
        return Page("Sign out", who,
            $"""
            <form method="post" action="{SignOutPath}">
              <input type="hidden" name="{WebUtility.HtmlEncode(tokens.FormFieldName)}" value="{WebUtility.HtmlEncode(tokens.RequestToken)}" />
              <button type="submit" data-testid="sign-out-confirm">Sign out</button>
              <a href="/">Stay signed in</a>
            </form>
            """);
    }

    /// <summary>Ends the cookie session and, when the provider offers end-session, the provider's session too.</summary>
    private static async Task<IResult> SignOutAsync(HttpContext http, IAntiforgery antiforgery, IOptionsMonitor<OpenIdConnectOptions> oidc)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Page("Sign out", "The sign-out form expired. Open it again.", $"<a href=\"{SignOutPath}\">Sign out</a>",
                StatusCodes.Status400BadRequest);
        }
        var options = oidc.Get(OidcScheme);
        var endSession = false;
        if (options.ConfigurationManager is { } manager)
        {
            try
            {
                endSession = !string.IsNullOrEmpty((await manager.GetConfigurationAsync(http.RequestAborted)).EndSessionEndpoint);
            }
            catch (InvalidOperationException)
            {
                // The provider cannot be reached: the local session ends anyway.
            }
        }
        var properties = new AuthenticationProperties { RedirectUri = SignedOutPath };
        return endSession
            ? Results.SignOut(properties, [CookieAuthenticationDefaults.AuthenticationScheme, OidcScheme])
            : Results.SignOut(properties, [CookieAuthenticationDefaults.AuthenticationScheme]);
    }

    private const string Style = "body{font-family:Roboto,Helvetica,Arial,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}"
        + "a,button{font-size:1rem;margin-right:1rem}";

    /// <summary>A small page of its own (no scripts, no stylesheets to load): these answer people who are not signed in.</summary>
    private static IResult Page(string title, string message, string actions, int status = StatusCodes.Status200OK) =>
        Results.Content(
            $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8" /><title>{WebUtility.HtmlEncode(title)} - Dashboard</title>
            <style>{Style}</style></head>
            <body><h1 data-testid="account-title">{WebUtility.HtmlEncode(title)}</h1>
            <p data-testid="account-message">{WebUtility.HtmlEncode(message)}</p>
            {actions}
            </body></html>
            """, "text/html; charset=utf-8", statusCode: status);
}
