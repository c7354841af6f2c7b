using Dashboard.Security;

namespace Dashboard.Auth;

public enum AuthMode
{
    /// <summary>Loopback only; every request acts as one local Admin.</summary>
    Local,

    /// <summary>People sign in through OpenID Connect; programs use tokens.</summary>
    Oidc,
}

/// <summary><c>Dashboard:Auth:*</c> (docs/operations.md, appsettings.example.json).</summary>
public sealed class AuthOptions
{
    public AuthMode Mode { get; init; } = AuthMode.Local;

    /// <summary>
    /// What a user has on an experiment or registered model nobody granted them anything on (MLflow's
    /// <c>default_permission</c>, READ by default). The role still caps it: a Viewer never writes.
    /// </summary>
    public AccessLevel DefaultPermission { get; init; } = AccessLevel.Read;

    public OidcOptions Oidc { get; init; } = new();

    public static AuthOptions Read(IConfiguration configuration)
    {
        var section = configuration.GetSection("Dashboard:Auth");
        var modeText = section["Mode"];
        var mode = AuthMode.Local;
        if (!string.IsNullOrEmpty(modeText) && !Enum.TryParse(modeText, ignoreCase: true, out mode))
        {
            throw new InvalidOperationException($"Dashboard:Auth:Mode is '{modeText}'; expected Local or Oidc.");
        }
        var defaultText = section["DefaultPermission"];
        var defaultPermission = string.IsNullOrEmpty(defaultText)
            ? AccessLevel.Read
            : PermissionNames.Parse(defaultText) ?? throw new InvalidOperationException(
                $"Dashboard:Auth:DefaultPermission is '{defaultText}'; expected READ, EDIT, MANAGE or NO_PERMISSIONS.");
        var options = new AuthOptions
        {
            Mode = mode,
            DefaultPermission = defaultPermission,
            Oidc = OidcOptions.Read(section.GetSection("Oidc")),
        };
        if (mode == AuthMode.Oidc)
        {
            options.Oidc.Validate();
        }
        return options;
    }
}

/// <summary><c>Dashboard:Auth:Oidc:*</c>: the provider, the client, and how its claims become names, groups and roles.</summary>
public sealed class OidcOptions
{
    /// <summary>The issuer, e.g. https://keycloak.example/realms/acme (its /.well-known/openid-configuration is read).</summary>
    public string? Authority { get; init; }

    public string? ClientId { get; init; }
    public string? ClientSecret { get; init; }

    /// <summary>Scopes asked for besides openid and profile (e.g. email, groups).</summary>
    public IReadOnlyList<string> Scopes { get; init; } = ["email"];

    /// <summary>The claim that names a person (what permissions are granted to).</summary>
    public string NameClaim { get; init; } = "preferred_username";

    /// <summary>The claim whose values are mapped to roles (<see cref="Roles"/>): often <c>groups</c> or <c>roles</c>.</summary>
    public string RoleClaim { get; init; } = "groups";

    /// <summary>The claim whose values are the person's groups, for group permissions.</summary>
    public string GroupsClaim { get; init; } = "groups";

    /// <summary>Per role, the values of <see cref="RoleClaim"/> that give it; the highest matching role wins.</summary>
    public IReadOnlyDictionary<DashboardRole, IReadOnlyList<string>> Roles { get; init; } =
        new Dictionary<DashboardRole, IReadOnlyList<string>>();

    /// <summary>The role of a person none of whose claim values is mapped; null refuses them.</summary>
    public DashboardRole? DefaultRole { get; init; } = DashboardRole.Viewer;

    /// <summary>The audience a provider's access token (client credentials) must carry; the client id when empty.</summary>
    public string? Audience { get; init; }

    /// <summary>Off only for a provider on loopback in tests: metadata over plain HTTP.</summary>
    public bool RequireHttpsMetadata { get; init; } = true;

    /// <summary>The role a set of claim values gives: the highest one mapped, else <see cref="DefaultRole"/>.</summary>
    public DashboardRole? RoleOf(IEnumerable<string> claimValues)
    {
        var values = claimValues.ToHashSet(StringComparer.Ordinal);
        foreach (var role in Enum.GetValues<DashboardRole>().OrderDescending())
        {
            if (Roles.TryGetValue(role, out var mapped) && mapped.Any(values.Contains))
            {
                return role;
            }
        }
        return DefaultRole;
    }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Authority) || string.IsNullOrWhiteSpace(ClientId))
        {
            throw new InvalidOperationException(
                "Dashboard:Auth:Mode is Oidc: set Dashboard:Auth:Oidc:Authority and Dashboard:Auth:Oidc:ClientId (docs/operations.md).");
        }
    }

    internal static OidcOptions Read(IConfigurationSection section)
    {
        var roles = new Dictionary<DashboardRole, IReadOnlyList<string>>();
        foreach (var role in Enum.GetValues<DashboardRole>())
        {
            var values = ListOf(section.GetSection($"Roles:{role}"));
            if (values.Count > 0)
            {
                roles[role] = values;
            }
        }
        DashboardRole? defaultRole = DashboardRole.Viewer;
        var defaultText = section["DefaultRole"];
        if (!string.IsNullOrEmpty(defaultText))
        {
            defaultRole = string.Equals(defaultText, "None", StringComparison.OrdinalIgnoreCase)
                ? null
                : Enum.TryParse<DashboardRole>(defaultText, ignoreCase: true, out var parsed)
                    ? parsed
                    : throw new InvalidOperationException(
                        $"Dashboard:Auth:Oidc:DefaultRole is '{defaultText}'; expected Viewer, Contributor, Approver, Admin or None.");
        }
        var scopes = ListOf(section.GetSection("Scopes"));
        return new OidcOptions
        {
            Authority = Empty(section["Authority"]),
            ClientId = Empty(section["ClientId"]),
            ClientSecret = Empty(section["ClientSecret"]),
            Scopes = scopes.Count > 0 ? scopes : ["email"],
            NameClaim = Empty(section["NameClaim"]) ?? "preferred_username",
            RoleClaim = Empty(section["RoleClaim"]) ?? "groups",
            GroupsClaim = Empty(section["GroupsClaim"]) ?? Empty(section["RoleClaim"]) ?? "groups",
            Roles = roles,
            DefaultRole = defaultRole,
            Audience = Empty(section["Audience"]),
            RequireHttpsMetadata = section.GetValue("RequireHttpsMetadata", true),
        };
    }

    /// <summary>A list given as an array (Key:0, Key:1) or as one comma- or space-separated value.</summary>
    private static List<string> ListOf(IConfigurationSection section)
    {
        var children = section.GetChildren().Select(c => c.Value).Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!.Trim()).ToList();
        if (children.Count > 0)
        {
            return children;
        }
        return (section.Value ?? "").Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    private static string? Empty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
