namespace Dashboard.Security;

/// <summary>
/// Who makes a request, as the permission checks see them: a name (what permissions are granted to), a role, the
/// groups they belong to, and, when they came with a token, the token's scope. Built from the request's principal by
/// the web layer (Dashboard.Auth.CurrentCaller); the same for the MLflow API, /api/v1 and the pages.
/// </summary>
public sealed record Caller
{
    public Caller(string name, DashboardRole role, IReadOnlyList<string>? groups = null, TokenScope? scope = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Role = role;
        Groups = groups ?? [];
        Scope = scope;
    }

    /// <summary>Local mode's one user: an Admin on a loopback-only server.</summary>
    public static readonly Caller Local = new("local", DashboardRole.Admin);

    public string Name { get; }
    public DashboardRole Role { get; }
    public IReadOnlyList<string> Groups { get; }

    /// <summary>The token's scope, or null for a signed-in person (or a provider's access token).</summary>
    public TokenScope? Scope { get; }

    /// <summary>May manage everything: an Admin not held back by a read or write token.</summary>
    public bool IsAdmin => Role == DashboardRole.Admin && Scope is null or TokenScope.Admin;

    /// <summary>May write at all (Contributor or more, not with a read-only token).</summary>
    public bool CanWrite => Role >= DashboardRole.Contributor && Scope is not TokenScope.Read;

    /// <summary>May manage permissions of what they hold MANAGE on (not with a read or write token).</summary>
    public bool CanManage => Role >= DashboardRole.Contributor && Scope is null or TokenScope.Admin;

    /// <summary>The most this caller may do on anything, whatever a grant says: the role and scope cap it.</summary>
    public AccessLevel Ceiling => !CanWrite ? AccessLevel.Read : CanManage ? AccessLevel.Manage : AccessLevel.Edit;

    public Registry.Actor Actor => new(Name);

    public override string ToString() => $"{Name} ({Role})";
}

/// <summary>Claim types of a Dashboard principal, whichever way it signed in (cookie, token, provider JWT, Local).</summary>
public static class DashboardClaims
{
    public const string Name = "name";
    public const string Role = "dashboard_role";
    public const string Group = "dashboard_group";
    public const string Scope = "dashboard_scope";

    /// <summary>How the principal authenticated: local, oidc, token, jwt.</summary>
    public const string Method = "dashboard_auth";

    /// <summary>The id of the access token a request came with (for revocation checks and last-use records).</summary>
    public const string TokenId = "dashboard_token_id";
}
