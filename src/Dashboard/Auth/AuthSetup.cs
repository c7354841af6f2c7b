using Dashboard.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;

namespace Dashboard.Auth;

/// <summary>
/// Authentication and authorization of every endpoint and page (docs/adr/0012-authentication-and-permissions.md).
/// One policy scheme, <see cref="SchemeName"/>, picks per request how the caller is known: in Local mode always the
/// local Admin; in Oidc mode a token (Bearer dsh_… or Basic), else the sign-in cookie. A fallback policy requires an
/// authenticated caller everywhere but where an endpoint allows anonymous access (/health).
/// </summary>
public static class AuthSetup
{
    public const string SchemeName = "Dashboard";

    public static AuthOptions AddDashboardAuth(this IServiceCollection services, IConfiguration configuration)
    {
        var options = AuthOptions.Read(configuration);
        services.AddSingleton(options);
        services.AddSingleton<UserDirectory>();
        services.AddSingleton<TokenService>();

        var auth = services.AddAuthentication(o =>
        {
            o.DefaultScheme = SchemeName;
            o.DefaultChallengeScheme = SchemeName;
            o.DefaultForbidScheme = SchemeName;
        });
        auth.AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(TokenAuthenticationHandler.SchemeName, null);
        if (options.Mode == AuthMode.Local)
        {
            auth.AddScheme<AuthenticationSchemeOptions, LocalAuthenticationHandler>(LocalAuthenticationHandler.SchemeName, null);
            auth.AddPolicyScheme(SchemeName, "Dashboard", o => o.ForwardDefault = LocalAuthenticationHandler.SchemeName);
        }
        else
        {
            auth.AddCookie(CookieAuthenticationDefaults.AuthenticationScheme, o =>
            {
                o.Cookie.Name = "dashboard.session";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.SlidingExpiration = true;
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.LoginPath = OidcSetup.SignInPath;
                o.ReturnUrlParameter = "returnUrl";
                o.AccessDeniedPath = OidcSetup.DeniedPath;
                // An API call without credentials is a 401 (the MLflow clients read it), never a redirect to a page.
                o.Events.OnRedirectToLogin = context =>
                {
                    if (AuthResponses.IsApiPath(context.Request.Path))
                    {
                        return AuthResponses.UnauthenticatedAsync(context.HttpContext);
                    }
                    context.Response.Redirect(context.RedirectUri);
                    return Task.CompletedTask;
                };
                o.Events.OnRedirectToAccessDenied = context =>
                {
                    if (AuthResponses.IsApiPath(context.Request.Path))
                    {
                        return AuthResponses.ForbiddenAsync(context.HttpContext);
                    }
                    context.Response.Redirect(context.RedirectUri);
                    return Task.CompletedTask;
                };
            });
            auth.AddOidc(options.Oidc);
            auth.AddPolicyScheme(SchemeName, "Dashboard", o => o.ForwardDefaultSelector = SelectScheme);
        }

        services.AddAuthorization(o =>
        {
            o.FallbackPolicy = new AuthorizationPolicyBuilder(SchemeName).RequireAuthenticatedUser().Build();
        });
        services.AddCascadingAuthenticationState();
        return options;
    }

    /// <summary>
    /// Oidc mode: a token's header goes to the token handler, any other Bearer to the provider's JWT validation;
    /// anything else (a browser) to the cookie.
    /// </summary>
    private static string SelectScheme(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (TokenAuthenticationHandler.Handles(header))
        {
            return TokenAuthenticationHandler.SchemeName;
        }
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return OidcSetup.JwtScheme;
        }
        // An API call with no usable credentials: the token handler's challenge is the API's 401.
        return AuthResponses.IsApiPath(http.Request.Path) && !http.Request.Cookies.ContainsKey("dashboard.session")
            ? TokenAuthenticationHandler.SchemeName
            : CookieAuthenticationDefaults.AuthenticationScheme;
    }

    public static void UseDashboardAuth(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseFailedAuthenticationLimit();
        app.UseAuthorization();
        if (app.Services.GetRequiredService<AuthOptions>().Mode == AuthMode.Oidc)
        {
            app.MapAccountEndpoints();
        }
    }
}
