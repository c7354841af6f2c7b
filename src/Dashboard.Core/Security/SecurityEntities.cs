namespace Dashboard.Security;

/// <summary>
/// The four roles of a person or program (docs/adr/0012-authentication-and-permissions.md). They rank: each role can
/// do what the ones before it can.
/// </summary>
public enum DashboardRole
{
    /// <summary>Reads what their permissions let them read; writes nothing.</summary>
    Viewer = 0,

    /// <summary>Creates experiments, runs and models and changes what their permissions let them edit.</summary>
    Contributor = 1,

    /// <summary>A contributor who may also approve promotions (issue 7).</summary>
    Approver = 2,

    /// <summary>Everything, everywhere: permissions, service tokens, every experiment and model.</summary>
    Admin = 3,
}

/// <summary>
/// MLflow's permissions on one experiment or registered model (mlflow/server/auth/permissions.py), in rank order.
/// Runs, their artifacts and logged models inherit their experiment's; model versions their registered model's.
/// </summary>
public enum AccessLevel
{
    NoPermissions = 0,
    Read = 1,
    Edit = 2,
    Manage = 3,
}

/// <summary>MLflow's names of <see cref="AccessLevel"/> on the wire and in the database.</summary>
public static class PermissionNames
{
    public const string NoPermissions = "NO_PERMISSIONS";
    public const string Read = "READ";
    public const string Edit = "EDIT";
    public const string Manage = "MANAGE";

    public static string Of(AccessLevel permission) => permission switch
    {
        AccessLevel.Read => Read,
        AccessLevel.Edit => Edit,
        AccessLevel.Manage => Manage,
        _ => NoPermissions,
    };

    /// <summary>The permission a name gives (case-insensitive); null when it names none.</summary>
    public static AccessLevel? Parse(string? name) => name?.ToUpperInvariant() switch
    {
        Read => AccessLevel.Read,
        Edit => AccessLevel.Edit,
        Manage => AccessLevel.Manage,
        NoPermissions => AccessLevel.NoPermissions,
        _ => null,
    };
}

/// <summary>What a token may do, at most: its owner's rights cut down to reading, or reading and writing.</summary>
public enum TokenScope
{
    Read = 0,
    Write = 1,
    /// <summary>Everything its owner may do, permission management included.</summary>
    Admin = 2,
}

/// <summary>Who a permission row is for.</summary>
public static class PrincipalKind
{
    public const string User = "user";
    public const string Group = "group";
}

/// <summary>
/// A person (signed in through OpenID Connect at least once) or a service account (made by an Admin for programs).
/// <see cref="Name"/> is the name permissions are granted to (MLflow's <c>username</c>); <see cref="Role"/> and
/// <see cref="Groups"/> are those of the last sign-in, so that a person's tokens act with their current rights.
/// </summary>
public sealed class DashboardUser
{
    public long Id { get; set; }

    /// <summary>The provider's <c>sub</c> for a person; <c>service:{name}</c> for a service account.</summary>
    public required string Subject { get; set; }

    public required string Name { get; set; }
    public string? Email { get; set; }
    public DashboardRole Role { get; set; }

    /// <summary>Group names, one per line.</summary>
    public string Groups { get; set; } = "";

    public bool IsService { get; set; }
    public long CreationTime { get; set; }
    public long LastSeenTime { get; set; }

    public IReadOnlyList<string> GroupList =>
        Groups.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// A personal or service token. Only the SHA-256 of the secret is kept (the secret is 32 random bytes: a fast hash
/// suffices, no salt or stretching is needed for a value nobody chose); <see cref="Prefix"/> is its first characters,
/// shown in lists so that people can tell their tokens apart.
/// </summary>
public sealed class AccessToken
{
    public long Id { get; set; }
    public long UserId { get; set; }
    public DashboardUser? User { get; set; }
    public required string Name { get; set; }
    public TokenScope Scope { get; set; }

    /// <summary>Lower-case hex SHA-256 of the whole token text.</summary>
    public required string Hash { get; set; }

    public required string Prefix { get; set; }
    public long CreationTime { get; set; }
    public long? ExpiryTime { get; set; }
    public long? RevokedTime { get; set; }
    public long? LastUsedTime { get; set; }

    /// <summary>The name of who made it (the owner, or the Admin who made a service token).</summary>
    public required string CreatedBy { get; set; }
}

/// <summary>A user's or group's permission (an <see cref="AccessLevel"/>) on one experiment.</summary>
public sealed class ExperimentGrant
{
    public long ExperimentId { get; set; }

    /// <summary><see cref="PrincipalKind.User"/> or <see cref="PrincipalKind.Group"/>.</summary>
    public required string PrincipalKind { get; set; }

    public required string PrincipalName { get; set; }
    public AccessLevel Permission { get; set; }
}

/// <summary>A user's or group's permission on one registered model (kept through renames: it holds the model's id).</summary>
public sealed class RegisteredModelGrant
{
    public long RegisteredModelId { get; set; }
    public required string PrincipalKind { get; set; }
    public required string PrincipalName { get; set; }
    public AccessLevel Permission { get; set; }
}

/// <summary>
/// A write that was refused (or redacted) because a key or value looked like a credential: what and where, never the
/// value itself.
/// </summary>
public sealed class SecretBlock
{
    public long Id { get; set; }
    public long Time { get; set; }
    public required string Actor { get; set; }

    /// <summary>Where the value was going: param, run_tag, experiment_tag, registered_model_tag, …</summary>
    public required string Target { get; set; }

    public required string Key { get; set; }

    /// <summary>Why: the rule that matched (e.g. <c>key:password</c>, <c>value:aws_access_key</c>).</summary>
    public required string Rule { get; set; }

    /// <summary><c>refused</c> or <c>redacted</c>.</summary>
    public required string Action { get; set; }

    public string? RunId { get; set; }
    public long? ExperimentId { get; set; }
    public string? ModelName { get; set; }
}
