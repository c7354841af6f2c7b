using System.Security.Claims;
using Dashboard.Errors;
using Dashboard.Registry;
using Dashboard.Security;
using Microsoft.AspNetCore.Components.Authorization;

namespace Dashboard.Auth;

/// <summary>
/// Who a request acts for, in one place: the signed-in user's name, or <see cref="Actor.Local"/> for a request
/// nobody signed (only in tests of components that run without authentication).
/// </summary>
public static class CurrentActor
{
    public static Actor Of(HttpContext http) => Of(http.User);

    public static Actor Of(ClaimsPrincipal user) =>
        user.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? new Actor(name) : Actor.Local;
}

/// <summary>The <see cref="Caller"/> of a request, read from the principal its authentication made (<see cref="DashboardPrincipal"/>).</summary>
public static class CurrentCaller
{
    /// <summary>The caller, or null when the request is not authenticated.</summary>
    public static Caller? Find(ClaimsPrincipal user)
    {
        if (user.Identity is not { IsAuthenticated: true, Name: { Length: > 0 } name })
        {
            return null;
        }
        var role = Enum.TryParse<DashboardRole>(user.FindFirst(DashboardClaims.Role)?.Value, out var r) ? r : DashboardRole.Viewer;
        var groups = user.FindAll(DashboardClaims.Group).Select(c => c.Value).ToList();
        TokenScope? scope = Enum.TryParse<TokenScope>(user.FindFirst(DashboardClaims.Scope)?.Value, out var s) ? s : null;
        return new Caller(name, role, groups, scope);
    }

    /// <summary>The caller; an unauthenticated request (which the fallback policy lets through nowhere but /health) is MLflow's 401.</summary>
    public static Caller Of(HttpContext http) =>
        Find(http.User) ?? throw new MlflowException(ErrorCode.UNAUTHENTICATED, "Authentication required.");
}

/// <summary>Makes the principal every scheme answers with: the same claim types whichever way the caller came.</summary>
public static class DashboardPrincipal
{
    public static ClaimsPrincipal Create(string scheme, string method, string name, DashboardRole role, IEnumerable<string> groups,
        TokenScope? scope = null, long? tokenId = null)
    {
        var claims = new List<Claim>
        {
            new(DashboardClaims.Name, name),
            new(DashboardClaims.Role, role.ToString()),
            new(DashboardClaims.Method, method),
        };
        claims.AddRange(groups.Select(g => new Claim(DashboardClaims.Group, g)));
        if (scope is { } sc)
        {
            claims.Add(new Claim(DashboardClaims.Scope, sc.ToString()));
        }
        if (tokenId is { } id)
        {
            claims.Add(new Claim(DashboardClaims.TokenId, id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, DashboardClaims.Name, DashboardClaims.Role));
    }
}

/// <summary>
/// The actor and caller of a dashboard circuit, for the components: a circuit has no HttpContext, but the user it was
/// opened by (the authentication state Blazor keeps for it). The same rule as <see cref="CurrentActor"/>.
/// </summary>
public sealed class CircuitActor(IServiceProvider services)
{
    public async Task<Actor> GetAsync() => CurrentActor.Of(await UserAsync());

    /// <summary>
    /// The circuit's caller. In Local mode, and where no authentication state exists (component tests), that is
    /// <see cref="Caller.Local"/>; in Oidc mode a circuit nobody signed in to acts for nobody and fails.
    /// </summary>
    public async Task<Caller> CallerAsync()
    {
        if (CurrentCaller.Find(await UserAsync()) is { } caller)
        {
            return caller;
        }
        return services.GetService<AuthOptions>() is { Mode: AuthMode.Oidc }
            ? throw new MlflowException(ErrorCode.UNAUTHENTICATED, "Sign in first.")
            : Caller.Local;
    }

    private async Task<ClaimsPrincipal> UserAsync()
    {
        if (services.GetService<AuthenticationStateProvider>() is not { } provider)
        {
            return new ClaimsPrincipal();
        }
        try
        {
            return (await provider.GetAuthenticationStateAsync()).User;
        }
        catch (InvalidOperationException)
        {
            // No state was set for this scope (a test renderer): nobody signed in.
            return new ClaimsPrincipal();
        }
    }
}
