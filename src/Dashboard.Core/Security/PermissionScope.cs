using Dashboard.Data;
using Dashboard.Registry;
using Dashboard.Tracking;

namespace Dashboard.Security;

/// <summary>
/// The server-wide permission settings the web layer reads from configuration (Dashboard:Auth): the permission of a
/// user nobody granted anything (MLflow's <c>default_permission</c>), and whether creators get MANAGE on what they
/// create (Oidc mode; in Local mode the one user is an Admin, so grants to it would say nothing).
/// </summary>
public sealed record PermissionDefaults(AccessLevel Default, bool GrantCreators)
{
    /// <summary>Local mode, and tests that run without authentication.</summary>
    public static readonly PermissionDefaults Local = new(AccessLevel.Read, GrantCreators: false);
}

/// <summary>
/// What one caller may read, as query filters that compose into the searches' SQL (so counts and pages are right and
/// nothing is filtered in memory after paging). An Admin (by role) reads everything: <see cref="Unrestricted"/> is true
/// and the searches add no filter at all.
/// </summary>
/// <remarks>
/// The effective permission is the caller's own grant if there is one, else the highest of their groups' grants if
/// there are any, else <see cref="Default"/>; a stored grant of NO_PERMISSIONS is the only one that does not read
/// (the role's ceiling never goes below READ). Permissions are stored as MLflow's words, so the filters compare with
/// equality, never with an ordering of the column.
/// </remarks>
public sealed record PermissionScope(Caller Caller, AccessLevel Default)
{
    /// <summary>Everything is readable: no filter is added.</summary>
    public bool Unrestricted => Caller.Role == DashboardRole.Admin;

    /// <summary>The experiments of <paramref name="experiments"/> this caller may read.</summary>
    public IQueryable<Experiment> Experiments(DashboardDbContext db, IQueryable<Experiment> experiments)
    {
        if (Unrestricted)
        {
            return experiments;
        }
        var name = Caller.Name;
        var groups = Caller.Groups.ToList();
        var grants = db.ExperimentGrants;
        const string user = PrincipalKind.User;
        const string group = PrincipalKind.Group;
        const AccessLevel none = AccessLevel.NoPermissions;
        if (groups.Count == 0)
        {
            return Default == none
                ? experiments.Where(e => grants.Any(g => g.ExperimentId == e.Id && g.PrincipalKind == user && g.PrincipalName == name && g.Permission != none))
                : experiments.Where(e => !grants.Any(g => g.ExperimentId == e.Id && g.PrincipalKind == user && g.PrincipalName == name && g.Permission == none));
        }
        return Default == none
            ? experiments.Where(e =>
                grants.Any(g => g.ExperimentId == e.Id && g.PrincipalKind == user && g.PrincipalName == name && g.Permission != none)
                || (!grants.Any(g => g.ExperimentId == e.Id && g.PrincipalKind == user && g.PrincipalName == name)
                    && grants.Any(g => g.ExperimentId == e.Id && g.PrincipalKind == group && groups.Contains(g.PrincipalName) && g.Permission != none)))
            : experiments.Where(e =>
                grants.Any(g => g.ExperimentId == e.Id && g.PrincipalKind == user && g.PrincipalName == name && g.Permission != none)
                || (!grants.Any(g => g.ExperimentId == e.Id && g.PrincipalKind == user && g.PrincipalName == name)
                    && (grants.Any(g => g.ExperimentId == e.Id && g.PrincipalKind == group && groups.Contains(g.PrincipalName) && g.Permission != none)
                        || !grants.Any(g => g.ExperimentId == e.Id && g.PrincipalKind == group && groups.Contains(g.PrincipalName)))));
    }

    /// <summary>The ids of the experiments this caller may read, as a query (for <c>ids.Contains(x.ExperimentId)</c>).</summary>
    public IQueryable<long> ExperimentIds(DashboardDbContext db) => Experiments(db, db.Experiments).Select(e => e.Id);

    /// <summary>The registered models of <paramref name="models"/> this caller may read.</summary>
    public IQueryable<RegisteredModel> RegisteredModels(DashboardDbContext db, IQueryable<RegisteredModel> models)
    {
        if (Unrestricted)
        {
            return models;
        }
        var name = Caller.Name;
        var groups = Caller.Groups.ToList();
        var grants = db.RegisteredModelGrants;
        const string user = PrincipalKind.User;
        const string group = PrincipalKind.Group;
        const AccessLevel none = AccessLevel.NoPermissions;
        if (groups.Count == 0)
        {
            return Default == none
                ? models.Where(m => grants.Any(g => g.RegisteredModelId == m.Id && g.PrincipalKind == user && g.PrincipalName == name && g.Permission != none))
                : models.Where(m => !grants.Any(g => g.RegisteredModelId == m.Id && g.PrincipalKind == user && g.PrincipalName == name && g.Permission == none));
        }
        return Default == none
            ? models.Where(m =>
                grants.Any(g => g.RegisteredModelId == m.Id && g.PrincipalKind == user && g.PrincipalName == name && g.Permission != none)
                || (!grants.Any(g => g.RegisteredModelId == m.Id && g.PrincipalKind == user && g.PrincipalName == name)
                    && grants.Any(g => g.RegisteredModelId == m.Id && g.PrincipalKind == group && groups.Contains(g.PrincipalName) && g.Permission != none)))
            : models.Where(m =>
                grants.Any(g => g.RegisteredModelId == m.Id && g.PrincipalKind == user && g.PrincipalName == name && g.Permission != none)
                || (!grants.Any(g => g.RegisteredModelId == m.Id && g.PrincipalKind == user && g.PrincipalName == name)
                    && (grants.Any(g => g.RegisteredModelId == m.Id && g.PrincipalKind == group && groups.Contains(g.PrincipalName) && g.Permission != none)
                        || !grants.Any(g => g.RegisteredModelId == m.Id && g.PrincipalKind == group && groups.Contains(g.PrincipalName)))));
    }

    /// <summary>The ids of the registered models this caller may read, as a query.</summary>
    public IQueryable<long> RegisteredModelIds(DashboardDbContext db) => RegisteredModels(db, db.RegisteredModels).Select(m => m.Id);
}
