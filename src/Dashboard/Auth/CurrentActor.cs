using Dashboard.Registry;

namespace Dashboard.Auth;

/// <summary>
/// Who a request acts for, in one place: the signed-in user's name, or <see cref="Actor.Local"/> while there is no
/// sign-in (issue 6 brings it; then this is where the name comes from).
/// </summary>
public static class CurrentActor
{
    public static Actor Of(HttpContext http) =>
        http.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? new Actor(name) : Actor.Local;
}
