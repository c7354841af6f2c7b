using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Governance;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Security;

/// <summary>A grant as the permission endpoints and the Admin page show it.</summary>
/// <param name="PrincipalKind"><see cref="Security.PrincipalKind.User"/> or <see cref="Security.PrincipalKind.Group"/>.</param>
public sealed record Grant(string PrincipalKind, string PrincipalName, AccessLevel Permission);

/// <summary>One grant of a user or group, with what it is on (the Admin page's per-principal view).</summary>
/// <param name="Kind"><c>experiment</c> or <c>registered_model</c>.</param>
/// <param name="Resource">The experiment's id or the registered model's name.</param>
public sealed record PrincipalGrant(string Kind, string Resource, string ResourceName, AccessLevel Permission);

/// <summary>
/// Who may do what on an experiment or a registered model (docs/adr/0012-authentication-and-permissions.md,
/// "Permissions"): the effective permission of a <see cref="Caller"/>, the checks the endpoints and pages make, the
/// read filters of the searches (<see cref="ScopeOf"/>), and the grants themselves.
/// </summary>
/// <remarks>
/// Effective permission: a caller of role Admin has MANAGE; anyone else has their own grant if there is one, else the
/// highest of their groups' grants if there are any, else <see cref="PermissionDefaults.Default"/>. Either way the
/// result is capped by <see cref="Caller.Ceiling"/> (a Viewer or a read token reads at most; only a session or an
/// admin-scoped token manages). Runs, their artifacts, metrics, datasets and logged models have their experiment's
/// permission; versions, aliases and tags their registered model's.
/// Every change of a grant (create, update, delete, the creator's grant) is written with its audit event in one
/// transaction (<see cref="AuditLog"/>, issue 7): the actor is the ambient one of the request or circuit.
/// </remarks>
public sealed class PermissionService(IDbContextFactory<DashboardDbContext> dbs, PermissionDefaults defaults, TimeProvider? time = null)
{
    private long Now => (time ?? TimeProvider.System).GetUtcNow().ToUnixTimeMilliseconds();

    public AccessLevel Default => defaults.Default;

    /// <summary>The read filters of one caller, for the searches.</summary>
    public PermissionScope ScopeOf(Caller caller) => new(caller, defaults.Default);

    /// <summary>The effective permission given the caller's own grant and their groups' grants on one resource.</summary>
    public static AccessLevel Resolve(Caller caller, AccessLevel defaultPermission, IEnumerable<Grant> grants)
    {
        if (caller.Role == DashboardRole.Admin)
        {
            return caller.Ceiling;
        }
        var list = grants.ToList();
        var own = list.FirstOrDefault(g => g.PrincipalKind == PrincipalKind.User && g.PrincipalName == caller.Name);
        AccessLevel level;
        if (own is not null)
        {
            level = own.Permission;
        }
        else
        {
            var groupGrants = list.Where(g => g.PrincipalKind == PrincipalKind.Group && caller.Groups.Contains(g.PrincipalName)).ToList();
            level = groupGrants.Count > 0 ? groupGrants.Max(g => g.Permission) : defaultPermission;
        }
        return level < caller.Ceiling ? level : caller.Ceiling;
    }

    // ---- Effective permissions -----------------------------------------------------------------------------------

    public async Task<AccessLevel> ExperimentLevelAsync(Caller caller, long experimentId, CancellationToken ct = default)
    {
        if (caller.Role == DashboardRole.Admin)
        {
            return caller.Ceiling;
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await ExperimentLevelAsync(db, caller, experimentId, ct);
    }

    public async Task<AccessLevel> RegisteredModelLevelAsync(Caller caller, long registeredModelId, CancellationToken ct = default)
    {
        if (caller.Role == DashboardRole.Admin)
        {
            return caller.Ceiling;
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await RegisteredModelLevelAsync(db, caller, registeredModelId, ct);
    }

    /// <summary>The caller's permission on the registered model of that name; null when there is no such model.</summary>
    public async Task<AccessLevel?> RegisteredModelLevelAsync(Caller caller, string name, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var id = await db.RegisteredModels.Where(m => m.Name == name).Select(m => (long?)m.Id).FirstOrDefaultAsync(ct);
        if (id is null)
        {
            return null;
        }
        return caller.Role == DashboardRole.Admin ? caller.Ceiling : await RegisteredModelLevelAsync(db, caller, id.Value, ct);
    }

    /// <summary>
    /// The caller's permission on each of <paramref name="experimentIds"/> with one query over the grants (a list's
    /// rows): the same rule as <see cref="ExperimentLevelAsync(Caller, long, CancellationToken)"/>, no query for an Admin.
    /// </summary>
    public async Task<IReadOnlyDictionary<long, AccessLevel>> ExperimentLevelsAsync(Caller caller, IReadOnlyCollection<long> experimentIds, CancellationToken ct = default)
    {
        var ids = experimentIds.Distinct().ToList();
        if (caller.Role == DashboardRole.Admin || ids.Count == 0)
        {
            return ids.ToDictionary(id => id, _ => caller.Role == DashboardRole.Admin ? caller.Ceiling : AccessLevel.NoPermissions);
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        var groups = caller.Groups.ToList();
        var grants = await db.ExperimentGrants.AsNoTracking()
            .Where(g => ids.Contains(g.ExperimentId)
                && ((g.PrincipalKind == PrincipalKind.User && g.PrincipalName == caller.Name)
                    || (g.PrincipalKind == PrincipalKind.Group && groups.Contains(g.PrincipalName))))
            .Select(g => new { g.ExperimentId, Grant = new Grant(g.PrincipalKind, g.PrincipalName, g.Permission) })
            .ToListAsync(ct);
        var byExperiment = grants.ToLookup(g => g.ExperimentId, g => g.Grant);
        return ids.ToDictionary(id => id, id => Resolve(caller, defaults.Default, byExperiment[id]));
    }

    /// <summary>The caller's permission on each of <paramref name="registeredModelIds"/> (surrogate ids) with one query (the models list's rows).</summary>
    public async Task<IReadOnlyDictionary<long, AccessLevel>> RegisteredModelLevelsAsync(Caller caller, IReadOnlyCollection<long> registeredModelIds, CancellationToken ct = default)
    {
        var ids = registeredModelIds.Distinct().ToList();
        if (caller.Role == DashboardRole.Admin || ids.Count == 0)
        {
            return ids.ToDictionary(id => id, _ => caller.Role == DashboardRole.Admin ? caller.Ceiling : AccessLevel.NoPermissions);
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        var groups = caller.Groups.ToList();
        var grants = await db.RegisteredModelGrants.AsNoTracking()
            .Where(g => ids.Contains(g.RegisteredModelId)
                && ((g.PrincipalKind == PrincipalKind.User && g.PrincipalName == caller.Name)
                    || (g.PrincipalKind == PrincipalKind.Group && groups.Contains(g.PrincipalName))))
            .Select(g => new { g.RegisteredModelId, Grant = new Grant(g.PrincipalKind, g.PrincipalName, g.Permission) })
            .ToListAsync(ct);
        var byModel = grants.ToLookup(g => g.RegisteredModelId, g => g.Grant);
        return ids.ToDictionary(id => id, id => Resolve(caller, defaults.Default, byModel[id]));
    }

    private async Task<AccessLevel> ExperimentLevelAsync(DashboardDbContext db, Caller caller, long experimentId, CancellationToken ct)
    {
        var groups = caller.Groups.ToList();
        var grants = await db.ExperimentGrants.AsNoTracking()
            .Where(g => g.ExperimentId == experimentId
                && ((g.PrincipalKind == PrincipalKind.User && g.PrincipalName == caller.Name)
                    || (g.PrincipalKind == PrincipalKind.Group && groups.Contains(g.PrincipalName))))
            .Select(g => new Grant(g.PrincipalKind, g.PrincipalName, g.Permission))
            .ToListAsync(ct);
        return Resolve(caller, defaults.Default, grants);
    }

    private async Task<AccessLevel> RegisteredModelLevelAsync(DashboardDbContext db, Caller caller, long modelId, CancellationToken ct)
    {
        var groups = caller.Groups.ToList();
        var grants = await db.RegisteredModelGrants.AsNoTracking()
            .Where(g => g.RegisteredModelId == modelId
                && ((g.PrincipalKind == PrincipalKind.User && g.PrincipalName == caller.Name)
                    || (g.PrincipalKind == PrincipalKind.Group && groups.Contains(g.PrincipalName))))
            .Select(g => new Grant(g.PrincipalKind, g.PrincipalName, g.Permission))
            .ToListAsync(ct);
        return Resolve(caller, defaults.Default, grants);
    }

    // ---- Checks --------------------------------------------------------------------------------------------------
    // A resource that does not exist passes the check: the handler answers RESOURCE_DOES_NOT_EXIST as it would
    // without permissions (MLflow's auth looks the permission up the same way and lets the handler fail).

    /// <summary>Refuses a caller who may not create experiments, runs' experiments or registered models (a Viewer, a read token).</summary>
    public static void RequireCreate(Caller caller)
    {
        if (!caller.CanWrite)
        {
            throw Denied(caller, "create anything");
        }
    }

    public async Task RequireExperimentAsync(Caller caller, long experimentId, AccessLevel needed, CancellationToken ct = default)
    {
        if (caller.Role == DashboardRole.Admin && caller.Ceiling >= needed)
        {
            return;
        }
        if (await ExperimentLevelAsync(caller, experimentId, ct) < needed)
        {
            throw Denied(caller, $"{Verb(needed)} experiment '{experimentId}'");
        }
    }

    /// <summary>Checks the permission on a run's experiment.</summary>
    public async Task RequireRunAsync(Caller caller, string? runId, AccessLevel needed, CancellationToken ct = default)
    {
        if ((caller.Role == DashboardRole.Admin && caller.Ceiling >= needed) || string.IsNullOrEmpty(runId))
        {
            return;
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        var experimentId = await db.Runs.Where(r => r.Id == runId).Select(r => (long?)r.ExperimentId).FirstOrDefaultAsync(ct);
        if (experimentId is { } id && await LevelOrCeiling(db, caller, id, ct) < needed)
        {
            throw Denied(caller, $"{Verb(needed)} run '{runId}'");
        }
    }

    /// <summary>Checks the permission on every run's experiment (metric histories of several runs).</summary>
    public async Task RequireRunsAsync(Caller caller, IReadOnlyCollection<string> runIds, AccessLevel needed, CancellationToken ct = default)
    {
        if ((caller.Role == DashboardRole.Admin && caller.Ceiling >= needed) || runIds.Count == 0)
        {
            return;
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        var ids = runIds.Distinct().ToList();
        var experiments = await db.Runs.Where(r => ids.Contains(r.Id)).Select(r => r.ExperimentId).Distinct().ToListAsync(ct);
        foreach (var id in experiments)
        {
            if (await LevelOrCeiling(db, caller, id, ct) < needed)
            {
                throw Denied(caller, $"{Verb(needed)} the runs of experiment '{id}'");
            }
        }
    }

    /// <summary>Checks the permission on a logged model's experiment.</summary>
    public async Task RequireLoggedModelAsync(Caller caller, string? modelId, AccessLevel needed, CancellationToken ct = default)
    {
        if ((caller.Role == DashboardRole.Admin && caller.Ceiling >= needed) || string.IsNullOrEmpty(modelId))
        {
            return;
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        var experimentId = await db.LoggedModels.Where(m => m.Id == modelId).Select(m => (long?)m.ExperimentId).FirstOrDefaultAsync(ct);
        if (experimentId is { } id && await LevelOrCeiling(db, caller, id, ct) < needed)
        {
            throw Denied(caller, $"{Verb(needed)} logged model '{modelId}'");
        }
    }

    /// <summary>Checks the permission on the registered model of that name.</summary>
    public async Task RequireRegisteredModelAsync(Caller caller, string? name, AccessLevel needed, CancellationToken ct = default)
    {
        if ((caller.Role == DashboardRole.Admin && caller.Ceiling >= needed) || string.IsNullOrEmpty(name))
        {
            return;
        }
        if (await RegisteredModelLevelAsync(caller, name, ct) is { } level && level < needed)
        {
            throw Denied(caller, $"{Verb(needed)} registered model '{name}'");
        }
    }

    private async Task<AccessLevel> LevelOrCeiling(DashboardDbContext db, Caller caller, long experimentId, CancellationToken ct) =>
        caller.Role == DashboardRole.Admin ? caller.Ceiling : await ExperimentLevelAsync(db, caller, experimentId, ct);

    /// <summary>MLflow's 403 (its auth answers PERMISSION_DENIED whether or not the caller may read the resource).</summary>
    public static MlflowException Denied(Caller caller, string what) =>
        new(ErrorCode.PERMISSION_DENIED, $"Permission denied: {caller.Name} may not {what}.");

    private static string Verb(AccessLevel needed) => needed switch
    {
        AccessLevel.Read => "read",
        AccessLevel.Edit => "change",
        _ => "manage",
    };

    // ---- Readable subsets ----------------------------------------------------------------------------------------

    /// <summary>The experiments of <paramref name="experimentIds"/> the caller may read, in their order (runs/search, logged-models/search).</summary>
    public async Task<IReadOnlyList<long>> ReadableExperimentsAsync(Caller caller, IReadOnlyList<long> experimentIds, CancellationToken ct = default)
    {
        if (caller.Role == DashboardRole.Admin || experimentIds.Count == 0)
        {
            return experimentIds;
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        var ids = experimentIds.Distinct().ToList();
        var scope = ScopeOf(caller);
        var readable = (await scope.Experiments(db, db.Experiments.Where(e => ids.Contains(e.Id))).Select(e => e.Id).ToListAsync(ct)).ToHashSet();
        return experimentIds.Where(readable.Contains).ToList();
    }

    // ---- Grants --------------------------------------------------------------------------------------------------

    public async Task<IReadOnlyList<Grant>> ListExperimentGrantsAsync(long experimentId, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.ExperimentGrants.AsNoTracking().Where(g => g.ExperimentId == experimentId)
            .OrderBy(g => g.PrincipalKind).ThenBy(g => g.PrincipalName)
            .Select(g => new Grant(g.PrincipalKind, g.PrincipalName, g.Permission)).ToListAsync(ct);
    }

    public async Task<Grant?> GetExperimentGrantAsync(long experimentId, string kind, string name, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.ExperimentGrants.AsNoTracking()
            .Where(g => g.ExperimentId == experimentId && g.PrincipalKind == kind && g.PrincipalName == name)
            .Select(g => new Grant(g.PrincipalKind, g.PrincipalName, g.Permission)).FirstOrDefaultAsync(ct);
    }

    /// <summary>Creates or replaces a grant, audited in the same transaction. Answers whether one existed before.</summary>
    public Task<bool> SetExperimentGrantAsync(long experimentId, string kind, string name, AccessLevel permission, CancellationToken ct = default) =>
        SetExperimentGrantAsync(experimentId, kind, name, permission, null, ct);

    private async Task<bool> SetExperimentGrantAsync(long experimentId, string kind, string name, AccessLevel permission, string? reason,
        CancellationToken ct)
    {
        var principal = PrincipalName(kind, name);
        return await WriteGrantAsync(async db =>
        {
            var experimentName = await db.Experiments.Where(e => e.Id == experimentId).Select(e => e.Name).FirstOrDefaultAsync(ct)
                ?? throw MlflowException.NotFound($"No Experiment with id={experimentId} exists");
            var grant = await db.ExperimentGrants.FirstOrDefaultAsync(
                g => g.ExperimentId == experimentId && g.PrincipalKind == kind && g.PrincipalName == principal, ct);
            var existed = grant is not null;
            var before = grant?.Permission;
            if (grant is null)
            {
                var added = db.ExperimentGrants.Add(new ExperimentGrant
                {
                    ExperimentId = experimentId, PrincipalKind = kind, PrincipalName = principal, Permission = permission,
                });
                // Experiment 0 (Default): a key part equal to the CLR default reads as unset unless it is set through the entry.
                added.Property(g => g.ExperimentId).CurrentValue = experimentId;
            }
            else
            {
                grant.Permission = permission;
            }
            if (before != permission)
            {
                AuditLog.Add(db, Now, null, existed ? AuditActions.PermissionUpdated : AuditActions.PermissionCreated,
                    AuditTargets.ExperimentPermission, GrantTarget(Id(experimentId), kind, principal),
                    before is { } b ? ExperimentGrantState(experimentId, experimentName, kind, principal, b) : null,
                    ExperimentGrantState(experimentId, experimentName, kind, principal, permission), reason: reason);
            }
            await SaveAsync(db, ct);
            return existed;
        }, ct);
    }

    /// <summary>Removes a grant, audited in the same transaction. Answers whether there was one.</summary>
    public async Task<bool> DeleteExperimentGrantAsync(long experimentId, string kind, string name, CancellationToken ct = default) =>
        await WriteGrantAsync(async db =>
        {
            var grant = await db.ExperimentGrants.FirstOrDefaultAsync(
                g => g.ExperimentId == experimentId && g.PrincipalKind == kind && g.PrincipalName == name, ct);
            if (grant is null)
            {
                return false;
            }
            var experimentName = await db.Experiments.Where(e => e.Id == experimentId).Select(e => e.Name).FirstOrDefaultAsync(ct);
            db.ExperimentGrants.Remove(grant);
            AuditLog.Add(db, Now, null, AuditActions.PermissionDeleted, AuditTargets.ExperimentPermission, GrantTarget(Id(experimentId), kind, name),
                before: ExperimentGrantState(experimentId, experimentName, kind, name, grant.Permission));
            return await SaveDeletionAsync(db, ct);
        }, ct);

    public async Task<IReadOnlyList<Grant>> ListRegisteredModelGrantsAsync(long modelId, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.RegisteredModelGrants.AsNoTracking().Where(g => g.RegisteredModelId == modelId)
            .OrderBy(g => g.PrincipalKind).ThenBy(g => g.PrincipalName)
            .Select(g => new Grant(g.PrincipalKind, g.PrincipalName, g.Permission)).ToListAsync(ct);
    }

    public async Task<Grant?> GetRegisteredModelGrantAsync(long modelId, string kind, string name, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.RegisteredModelGrants.AsNoTracking()
            .Where(g => g.RegisteredModelId == modelId && g.PrincipalKind == kind && g.PrincipalName == name)
            .Select(g => new Grant(g.PrincipalKind, g.PrincipalName, g.Permission)).FirstOrDefaultAsync(ct);
    }

    /// <summary>Creates or replaces a grant, audited in the same transaction. Answers whether one existed before.</summary>
    public Task<bool> SetRegisteredModelGrantAsync(long modelId, string kind, string name, AccessLevel permission, CancellationToken ct = default) =>
        SetRegisteredModelGrantAsync(modelId, kind, name, permission, null, ct);

    private async Task<bool> SetRegisteredModelGrantAsync(long modelId, string kind, string name, AccessLevel permission, string? reason,
        CancellationToken ct)
    {
        var principal = PrincipalName(kind, name);
        return await WriteGrantAsync(async db =>
        {
            var modelName = await db.RegisteredModels.Where(m => m.Id == modelId).Select(m => m.Name).FirstOrDefaultAsync(ct)
                ?? throw MlflowException.NotFound($"No registered model with id={modelId} exists");
            var grant = await db.RegisteredModelGrants.FirstOrDefaultAsync(
                g => g.RegisteredModelId == modelId && g.PrincipalKind == kind && g.PrincipalName == principal, ct);
            var existed = grant is not null;
            var before = grant?.Permission;
            if (grant is null)
            {
                db.RegisteredModelGrants.Add(new RegisteredModelGrant
                {
                    RegisteredModelId = modelId, PrincipalKind = kind, PrincipalName = principal, Permission = permission,
                });
            }
            else
            {
                grant.Permission = permission;
            }
            if (before != permission)
            {
                AuditLog.Add(db, Now, null, existed ? AuditActions.PermissionUpdated : AuditActions.PermissionCreated,
                    AuditTargets.RegisteredModelPermission, GrantTarget(modelName, kind, principal),
                    before is { } b ? ModelGrantState(modelName, kind, principal, b) : null,
                    ModelGrantState(modelName, kind, principal, permission), modelId: modelId, modelName: modelName, reason: reason);
            }
            await SaveAsync(db, ct);
            return existed;
        }, ct);
    }

    /// <summary>Removes a grant, audited in the same transaction. Answers whether there was one.</summary>
    public async Task<bool> DeleteRegisteredModelGrantAsync(long modelId, string kind, string name, CancellationToken ct = default) =>
        await WriteGrantAsync(async db =>
        {
            var grant = await db.RegisteredModelGrants.FirstOrDefaultAsync(
                g => g.RegisteredModelId == modelId && g.PrincipalKind == kind && g.PrincipalName == name, ct);
            if (grant is null)
            {
                return false;
            }
            var modelName = await db.RegisteredModels.Where(m => m.Id == modelId).Select(m => m.Name).FirstAsync(ct);
            db.RegisteredModelGrants.Remove(grant);
            AuditLog.Add(db, Now, null, AuditActions.PermissionDeleted, AuditTargets.RegisteredModelPermission, GrantTarget(modelName, kind, name),
                before: ModelGrantState(modelName, kind, name, grant.Permission), modelId: modelId, modelName: modelName);
            return await SaveDeletionAsync(db, ct);
        }, ct);

    /// <summary>Every grant of one user or group: experiments (by name) then registered models (by name).</summary>
    public async Task<IReadOnlyList<PrincipalGrant>> ListGrantsOfAsync(string kind, string name, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var experiments = await (
            from g in db.ExperimentGrants.AsNoTracking()
            join e in db.Experiments on g.ExperimentId equals e.Id
            where g.PrincipalKind == kind && g.PrincipalName == name
            orderby e.Name
            select new { e.Id, e.Name, g.Permission }).ToListAsync(ct);
        var models = await (
            from g in db.RegisteredModelGrants.AsNoTracking()
            join m in db.RegisteredModels on g.RegisteredModelId equals m.Id
            where g.PrincipalKind == kind && g.PrincipalName == name
            orderby m.Name
            select new { m.Name, g.Permission }).ToListAsync(ct);
        return [
            .. experiments.Select(e => new PrincipalGrant("experiment", e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Name, e.Permission)),
            .. models.Select(m => new PrincipalGrant("registered_model", m.Name, m.Name, m.Permission)),
        ];
    }

    /// <summary>The id of the registered model of that name, or MLflow's RESOURCE_DOES_NOT_EXIST.</summary>
    public async Task<long> RegisteredModelIdAsync(string? name, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw MlflowException.InvalidParameter("Missing value for required parameter 'name'.");
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.RegisteredModels.Where(m => m.Name == name).Select(m => (long?)m.Id).FirstOrDefaultAsync(ct)
            ?? throw MlflowException.NotFound($"Registered Model with name={name} not found");
    }

    /// <summary>
    /// MLflow's rule: the creator of an experiment or registered model manages it. Made only when
    /// <see cref="PermissionDefaults.GrantCreators"/> (Oidc mode).
    /// </summary>
    public async Task GrantCreatorOfExperimentAsync(Caller caller, long experimentId, CancellationToken ct = default)
    {
        if (defaults.GrantCreators)
        {
            await SetExperimentGrantAsync(experimentId, PrincipalKind.User, caller.Name, AccessLevel.Manage, CreatorReason, ct);
        }
    }

    public async Task GrantCreatorOfRegisteredModelAsync(Caller caller, long modelId, CancellationToken ct = default)
    {
        if (defaults.GrantCreators)
        {
            await SetRegisteredModelGrantAsync(modelId, PrincipalKind.User, caller.Name, AccessLevel.Manage, CreatorReason, ct);
        }
    }

    private static string PrincipalName(string kind, string name)
    {
        if (kind is not (PrincipalKind.User or PrincipalKind.Group))
        {
            throw MlflowException.InvalidParameter($"A grant is for a '{PrincipalKind.User}' or a '{PrincipalKind.Group}', not '{kind}'.");
        }
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            throw MlflowException.InvalidParameter(kind == PrincipalKind.User
                ? "Missing value for required parameter 'username'." : "Missing value for required parameter 'group_name'.");
        }
        if (trimmed.Length > Registry.Actor.MaxLength)
        {
            throw MlflowException.InvalidParameter($"A {kind} name has at most {Registry.Actor.MaxLength} characters.");
        }
        return trimmed;
    }

    /// <summary>The reason an audit event of a creator's grant gives.</summary>
    public const string CreatorReason = "the creator manages what they create";

    private Task<T> WriteGrantAsync<T>(Func<DashboardDbContext, Task<T>> work, CancellationToken ct) => dbs.WriteAsync(work, ct);

    private static string Id(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An audit event's target for a grant: the resource (experiment id or model name), then <c>kind:principal</c>.</summary>
    public static string GrantTarget(string resource, string kind, string principal) => $"{resource} {kind}:{principal}";

    private static object ExperimentGrantState(long experimentId, string? experimentName, string kind, string principal, AccessLevel level) =>
        new
        {
            resource_type = "experiment", experiment_id = Id(experimentId), experiment_name = experimentName,
            principal_kind = kind, principal, permission = PermissionNames.Of(level),
        };

    private static object ModelGrantState(string modelName, string kind, string principal, AccessLevel level) =>
        new { resource_type = "registered_model", name = modelName, principal_kind = kind, principal, permission = PermissionNames.Of(level) };

    private static async Task<bool> SaveDeletionAsync(DashboardDbContext db, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateConcurrencyException)
        {
            // Another request removed the grant first; its removal is the one recorded.
            return false;
        }
    }

    private static async Task SaveAsync(DashboardDbContext db, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Two writers granted the same principal at once; the other one's grant stands.
            throw MlflowException.AlreadyExists("That grant was just made by another request; read it again.");
        }
    }
}
