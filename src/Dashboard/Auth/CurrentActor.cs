using System.Security.Claims;
using Dashboard.Registry;
using Microsoft.AspNetCore.Components.Authorization;

namespace Dashboard.Auth;

/// <summary>
/// Who a request acts for, in one place: the signed-in user's name, or <see cref="Actor.Local"/> while there is no
/// sign-in (issue 6 brings it; then this is where the name comes from).
/// </summary>
public static class CurrentActor
{
    public static Actor Of(HttpContext http) => Of(http.User);

    public static Actor Of(ClaimsPrincipal user) =>
        user.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? new Actor(name) : Actor.Local;
}

/// <summary>
/// The actor of a dashboard circuit, for the components' registry changes: a circuit has no HttpContext, but the
/// user it was opened by (the authentication state Blazor keeps for it). The same rule as <see cref="CurrentActor"/>.
/// </summary>
public sealed class CircuitActor(IServiceProvider services)
{
    public async Task<Actor> GetAsync()
    {
        if (services.GetService<AuthenticationStateProvider>() is not { } provider)
        {
            return Actor.Local;
        }
        try
        {
            return CurrentActor.Of((await provider.GetAuthenticationStateAsync()).User);
        }
        catch (InvalidOperationException)
        {
            // No state was set for this scope (a test renderer, no sign-in configured): nobody signed in.
            return Actor.Local;
        }
    }
}
