using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Registry;
using Dashboard.Search;
using Dashboard.Security;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Governance;

/// <summary>The effective promotion policy of a model (its own, or the global default it inherits), as the API and UI show it.</summary>
public sealed record PolicyView(
    string? ModelName,
    bool Inherited,
    IReadOnlyList<string> ProtectedStages,
    IReadOnlyList<string> ProtectedAliases,
    int RequiredApprovals,
    bool ApproverRole,
    IReadOnlyList<string> ApproverGroups,
    int? ExpiryHours,
    string DirectChange,
    IReadOnlyList<GateSpec> Gates,
    long? UpdatedAt,
    string? UpdatedBy)
{
    /// <summary>
    /// The gates that apply to a target: those that name it, and those that name no target when the target is protected
    /// (a gate written for Production does not hold back a request for an unprotected Staging).
    /// </summary>
    public IReadOnlyList<GateSpec> GatesFor(string targetKind, string target) =>
        [.. Gates.Where(g => g.Targets.Count > 0 ? g.Targets.Contains(target, StringComparer.Ordinal) : Protects(targetKind, target))];

    /// <summary>Whether a stage (canonical case) or an alias is protected by this policy.</summary>
    public bool Protects(string targetKind, string target) => targetKind == PromotionTargetKind.Stage
        ? ProtectedStages.Contains(target, StringComparer.Ordinal)
        : ProtectedAliases.Contains(target, StringComparer.Ordinal);
}

/// <summary>What a policy is set to (PUT semantics: the whole policy).</summary>
public sealed record PolicyInput(
    IReadOnlyList<string>? ProtectedStages,
    IReadOnlyList<string>? ProtectedAliases,
    int? RequiredApprovals,
    bool? ApproverRole,
    IReadOnlyList<string>? ApproverGroups,
    int? ExpiryHours,
    string? DirectChange,
    IReadOnlyList<GateSpec>? Gates);

/// <summary>A request to open: the version (as the wire sends it), the target, and why.</summary>
public sealed record PromotionRequestInput(
    string? ModelName,
    string? Version,
    string? TargetKind,
    string? Target,
    bool ArchiveExisting,
    string? Comment);

/// <summary>
/// A request as a caller sees it: the row (with its reviews and comments), its gate results, how many approvals it has
/// and needs, and what this caller may do with it now.
/// </summary>
public sealed record PromotionRequestView(
    PromotionRequest Request,
    IReadOnlyList<GateResult> Gates,
    int Approvals,
    int RequiredApprovals,
    bool CanApprove,
    bool CanReject,
    bool CanCancel,
    bool CanOverride)
{
    public bool GatesPassed => Gates.All(g => g.Passed);
}

/// <summary>Which requests to list. <see cref="ReviewableBy"/>: only those the caller may review now (the inbox).</summary>
public sealed record PromotionRequestQuery(
    string? State = null,
    string? ModelName = null,
    string? RequestedBy = null,
    bool ReviewableBy = false,
    int? MaxResults = null,
    string? PageToken = null);

/// <summary>One version's side of the evidence: the version, its run's latest metrics and params (empty without a run).</summary>
public sealed record VersionEvidence(
    ModelVersionDetails Version,
    string? RunName,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Params);

/// <summary>What an approver weighs: the candidate beside the current holder of the target (null when none), and the gates.</summary>
public sealed record PromotionEvidence(
    VersionEvidence Candidate,
    VersionEvidence? Holder,
    IReadOnlyList<GateResult> Gates);

/// <summary>
/// Promotion requests, approvals, policies and gates (issue 7, docs/adr/0013). A request moves Pending → Approved
/// (applied to the registry in the same transaction as its last approval) / Rejected / Cancelled / Expired; every other
/// transition answers INVALID_STATE (409 on /api/v1). Nobody reviews their own request; approvals come from distinct
/// people who may approve under the model's policy; a failing gate blocks approval unless an Admin overrides it with a
/// reason. Every change is audited (<see cref="AuditLog"/>) and announced (<see cref="WebhookOutbox"/>) in its transaction.
/// </summary>
/// <remarks>
/// Every change to a request first writes the request's row (an UPDATE that changes nothing), so changes of one request
/// queue behind each other on every provider (the row lock of PostgreSQL and SQL Server, SQLite's one writer): two
/// approvers who approve at once are counted one after the other, and the one who reaches the count applies the change.
/// </remarks>
public sealed class PromotionService(
    IDbContextFactory<DashboardDbContext> dbs,
    TimeProvider time,
    RegistryService registry,
    PermissionService permissions)
{
    /// <summary>The longest comment, review comment, override reason or thread message.</summary>
    public const int MaxCommentLength = 5000;

    public const int MaxRequiredApprovals = 10;
    public const int MaxExpiryHours = 8760;
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    /// <summary>The comment of a request opened for a refused direct change (<see cref="DirectChangeMode.Request"/>).</summary>
    public const string DirectChangeComment = "Opened by a direct MLflow call";

    private const string RequestFlow = "open a promotion request (POST /api/v1/promotion-requests or the version's page in Dashboard)";

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    // ---- Policies ----------------------------------------------------------------------------------------------

    /// <summary>The effective policy of a model (null: the global default). A model without its own shows the default as inherited.</summary>
    public async Task<PolicyView> GetPolicyAsync(string? modelName, Caller caller, CancellationToken ct = default)
    {
        if (modelName is null)
        {
            await using var db0 = await dbs.CreateDbContextAsync(ct);
            return await EffectivePolicyAsync(db0, null, null, ct);
        }
        var n = RegistryValidation.Name(modelName);
        await permissions.RequireRegisteredModelAsync(caller, n, AccessLevel.Read, ct);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var id = await RegistryService.ModelIdAsync(db, n, ct) ?? throw RegistryService.ModelNotFound(n);
        return await EffectivePolicyAsync(db, id, n, ct);
    }

    /// <summary>Sets a model's policy (MANAGE on the model) or the global default (Admin). Audited with before and after.</summary>
    public async Task<PolicyView> SetPolicyAsync(string? modelName, PolicyInput input, Caller caller, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var n = modelName is null ? null : RegistryValidation.Name(modelName);
        await RequirePolicyManagerAsync(n, caller, ct);
        var row = ValidatePolicy(input);
        return await dbs.WriteAsync(async db =>
        {
            long? modelId = null;
            if (n is not null)
            {
                modelId = await RegistryService.LockModelAsync(db, n, ct) ?? throw RegistryService.ModelNotFound(n);
            }
            var now = Now;
            var before = await EffectivePolicyAsync(db, modelId, n, ct);
            var existing = modelId is { } mid
                ? await db.PromotionPolicies.FirstOrDefaultAsync(p => p.RegisteredModelId == mid, ct)
                // The global default is kept to one row: the oldest is the one read and written.
                : await db.PromotionPolicies.Where(p => p.RegisteredModelId == null).OrderBy(p => p.Id).FirstOrDefaultAsync(ct);
            if (existing is null)
            {
                existing = new PromotionPolicy { RegisteredModelId = modelId, UpdatedBy = caller.Name };
                db.PromotionPolicies.Add(existing);
            }
            existing.ProtectedStages = row.ProtectedStages;
            existing.ProtectedAliases = row.ProtectedAliases;
            existing.RequiredApprovals = row.RequiredApprovals;
            existing.ApproverRole = row.ApproverRole;
            existing.ApproverGroups = row.ApproverGroups;
            existing.ExpiryHours = row.ExpiryHours;
            existing.DirectChange = row.DirectChange;
            existing.Gates = row.Gates;
            existing.UpdatedAt = now;
            existing.UpdatedBy = caller.Name;
            var after = ViewOf(existing, n, inherited: false);
            AuditLog.Add(db, now, caller.Name, AuditActions.PolicySet, AuditTargets.PromotionPolicy, n ?? "(default)",
                before.UpdatedAt is null || before.Inherited ? null : PolicyState(before), PolicyState(after), modelId, n);
            await db.SaveChangesAsync(ct);
            return after;
        }, ct);
    }

    /// <summary>Removes a model's own policy, so it follows the default again.</summary>
    public async Task DeletePolicyAsync(string modelName, Caller caller, CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(modelName);
        await RequirePolicyManagerAsync(n, caller, ct);
        await dbs.WriteAsync(async db =>
        {
            var modelId = await RegistryService.LockModelAsync(db, n, ct) ?? throw RegistryService.ModelNotFound(n);
            var existing = await db.PromotionPolicies.FirstOrDefaultAsync(p => p.RegisteredModelId == modelId, ct);
            if (existing is not null)
            {
                AuditLog.Add(db, Now, caller.Name, AuditActions.PolicyDeleted, AuditTargets.PromotionPolicy, n,
                    before: PolicyState(ViewOf(existing, n, false)), modelId: modelId, modelName: n);
                db.PromotionPolicies.Remove(existing);
                await db.SaveChangesAsync(ct);
            }
            return true;
        }, ct);
    }

    private async Task RequirePolicyManagerAsync(string? modelName, Caller caller, CancellationToken ct)
    {
        if (modelName is null)
        {
            if (!caller.IsAdmin)
            {
                throw new MlflowException(ErrorCode.PERMISSION_DENIED, "Only an Admin may set the default promotion policy.");
            }
            return;
        }
        if (!caller.CanManage)
        {
            throw PermissionService.Denied(caller, $"manage the promotion policy of registered model '{modelName}'");
        }
        await permissions.RequireRegisteredModelAsync(caller, modelName, AccessLevel.Manage, ct);
    }

    /// <summary>Checks a policy's input and answers the row to store (without its model and times).</summary>
    public static PromotionPolicy ValidatePolicy(PolicyInput input)
    {
        var stages = new List<string>();
        foreach (var s in input.ProtectedStages ?? [])
        {
            var stage = ModelStage.Parse(s?.Trim());
            if (stage is null || stage == ModelStage.None)
            {
                throw MlflowException.InvalidParameter(
                    $"protected_stages: '{s}' is not a stage a version is promoted to; use Staging, Production or Archived.");
            }
            stages.Add(stage);
        }
        var aliases = new List<string>();
        foreach (var a in input.ProtectedAliases ?? [])
        {
            try
            {
                aliases.Add(RegistryValidation.Alias(a?.Trim()));
            }
            catch (MlflowException e)
            {
                throw MlflowException.InvalidParameter($"protected_aliases: {e.Message}");
            }
        }
        var required = input.RequiredApprovals ?? 1;
        if (required is < 1 or > MaxRequiredApprovals)
        {
            throw MlflowException.InvalidParameter($"required_approvals must be 1 to {MaxRequiredApprovals}, got {required}.");
        }
        var groups = new List<string>();
        foreach (var g in input.ApproverGroups ?? [])
        {
            var group = g?.Trim();
            if (string.IsNullOrEmpty(group) || group.Length > Registry.Actor.MaxLength || group.Contains('\n', StringComparison.Ordinal))
            {
                throw MlflowException.InvalidParameter(
                    $"approver_groups: a group name is 1 to {Registry.Actor.MaxLength} characters on one line, got '{g}'.");
            }
            groups.Add(group);
        }
        var approverRole = input.ApproverRole ?? true;
        if (!approverRole && groups.Count == 0)
        {
            throw MlflowException.InvalidParameter(
                "Nobody could approve: with approver_role false, name at least one group in approver_groups.");
        }
        if (input.ExpiryHours is { } hours && hours is < 1 or > MaxExpiryHours)
        {
            throw MlflowException.InvalidParameter($"expiry_hours must be 1 to {MaxExpiryHours}, or absent for never; got {hours}.");
        }
        var mode = input.DirectChange?.Trim() ?? DirectChangeMode.Refuse;
        mode = string.Equals(mode, DirectChangeMode.Refuse, StringComparison.OrdinalIgnoreCase) ? DirectChangeMode.Refuse
            : string.Equals(mode, DirectChangeMode.Request, StringComparison.OrdinalIgnoreCase) ? DirectChangeMode.Request
            : throw MlflowException.InvalidParameter($"direct_change must be Refuse or Request, got '{input.DirectChange}'.");
        var gates = GateEvaluator.Validate(input.Gates);
        var row = new PromotionPolicy
        {
            ProtectedStages = PromotionPolicy.JoinLines(stages),
            ProtectedAliases = PromotionPolicy.JoinLines(aliases),
            RequiredApprovals = required,
            ApproverRole = approverRole,
            ApproverGroups = PromotionPolicy.JoinLines(groups),
            ExpiryHours = input.ExpiryHours,
            DirectChange = mode,
            Gates = GateSpec.Serialize(gates),
            UpdatedBy = "",
        };
        if (row.ProtectedAliases.Length > 4000 || row.ApproverGroups.Length > 4000)
        {
            throw MlflowException.InvalidParameter("protected_aliases and approver_groups hold at most 4000 characters each.");
        }
        if (row.Gates.Length > 16000)
        {
            throw MlflowException.InvalidParameter("The gates take more than 16000 characters as JSON: write shorter expressions.");
        }
        return row;
    }

    /// <summary>The model's own policy, else the global default, else the policy that protects nothing.</summary>
    private static async Task<PolicyView> EffectivePolicyAsync(DashboardDbContext db, long? modelId, string? modelName, CancellationToken ct)
    {
        if (modelId is { } id && await db.PromotionPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.RegisteredModelId == id, ct) is { } own)
        {
            return ViewOf(own, modelName, inherited: false);
        }
        var global = await db.PromotionPolicies.AsNoTracking().Where(p => p.RegisteredModelId == null).OrderBy(p => p.Id).FirstOrDefaultAsync(ct);
        return global is not null
            ? ViewOf(global, modelName, inherited: modelId is not null)
            : new PolicyView(modelName, modelId is not null, [], [], 1, true, [], null, DirectChangeMode.Refuse, [], null, null);
    }

    private static PolicyView ViewOf(PromotionPolicy p, string? modelName, bool inherited) => new(
        modelName, inherited, PromotionPolicy.Lines(p.ProtectedStages), PromotionPolicy.Lines(p.ProtectedAliases), p.RequiredApprovals,
        p.ApproverRole, PromotionPolicy.Lines(p.ApproverGroups), p.ExpiryHours, p.DirectChange, GateSpec.Parse(p.Gates), p.UpdatedAt, p.UpdatedBy);

    private static object PolicyState(PolicyView p) => new
    {
        protected_stages = p.ProtectedStages,
        protected_aliases = p.ProtectedAliases,
        required_approvals = p.RequiredApprovals,
        approver_role = p.ApproverRole,
        approver_groups = p.ApproverGroups,
        expiry_hours = p.ExpiryHours,
        direct_change = p.DirectChange,
        gates = p.Gates,
    };

    // ---- Who may approve ---------------------------------------------------------------------------------------

    /// <summary>Whether the caller may approve requests of this model under its policy.</summary>
    public async Task<bool> MayApproveAsync(string modelName, Caller caller, CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(modelName);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var id = await RegistryService.ModelIdAsync(db, n, ct);
        if (id is null)
        {
            return false;
        }
        var policy = await EffectivePolicyAsync(db, id, n, ct);
        return await MayApproveAsync(policy, id.Value, caller, ct);
    }

    private async Task<bool> MayApproveAsync(PolicyView policy, long modelId, Caller caller, CancellationToken ct) =>
        MayApprove(policy, caller) && await permissions.RegisteredModelLevelAsync(caller, modelId, ct) >= AccessLevel.Read;

    /// <summary>The policy's rule alone: the Approver role (Admin included) when it counts, or one of its groups; never with a read token.</summary>
    public static bool MayApprove(PolicyView policy, Caller caller) =>
        caller.Scope is not TokenScope.Read
        && ((policy.ApproverRole && caller.Role >= DashboardRole.Approver)
            || caller.Groups.Any(g => policy.ApproverGroups.Contains(g, StringComparer.Ordinal)));

    private static string Approvers(PolicyView policy)
    {
        var who = new List<string>();
        if (policy.ApproverRole)
        {
            who.Add("people with the Approver or Admin role");
        }
        if (policy.ApproverGroups.Count > 0)
        {
            who.Add("members of " + string.Join(", ", policy.ApproverGroups.Select(g => $"'{g}'")));
        }
        return string.Join(" and ", who);
    }

    // ---- Gates -------------------------------------------------------------------------------------------------

    /// <summary>The gates of the target's policy evaluated now for the version (the live results a requester sees).</summary>
    public async Task<IReadOnlyList<GateResult>> EvaluateGatesAsync(string? modelName, string? version, string? targetKind, string? target,
        Caller caller, CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(modelName);
        var number = RegistryValidation.Version(version);
        var (kind, t, _) = ParseTarget(targetKind, target, false);
        await permissions.RequireRegisteredModelAsync(caller, n, AccessLevel.Read, ct);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var id = await RegistryService.ModelIdAsync(db, n, ct) ?? throw RegistryService.ModelNotFound(n);
        if (number is not { } v || !await db.ModelVersions.AnyAsync(x => x.RegisteredModelId == id && x.Version == v && !x.Deleted, ct))
        {
            throw RegistryService.VersionNotFound(n, version);
        }
        var policy = await EffectivePolicyAsync(db, id, n, ct);
        return await GateEvaluator.EvaluateAsync(db, policy.GatesFor(kind, t), id, v, kind, t, ct);
    }

    /// <summary>A request's target: the kind (stage or alias), the target in canonical form, and whether to archive the holders.</summary>
    private static (string Kind, string Target, bool Archive) ParseTarget(string? targetKind, string? target, bool archive)
    {
        var kind = targetKind?.Trim().ToLowerInvariant();
        if (kind == PromotionTargetKind.Stage)
        {
            if (string.IsNullOrEmpty(target))
            {
                throw MlflowException.Missing("target");
            }
            var stage = ModelStage.Parse(target.Trim());
            if (stage is null || stage == ModelStage.None)
            {
                throw MlflowException.InvalidParameter(
                    $"Invalid target stage '{target}': a version is promoted to Staging, Production or Archived.");
            }
            if (archive && !RegistryValidation.ActiveStages.Contains(stage))
            {
                throw MlflowException.InvalidParameter(
                    $"archive_existing_versions applies to Staging and Production only, not to '{stage}'.");
            }
            return (PromotionTargetKind.Stage, stage, archive);
        }
        if (kind == PromotionTargetKind.Alias)
        {
            return (PromotionTargetKind.Alias, RegistryValidation.Alias(target), false);
        }
        throw string.IsNullOrEmpty(targetKind)
            ? MlflowException.Missing("target_kind")
            : MlflowException.InvalidParameter($"target_kind must be 'stage' or 'alias', got '{targetKind}'.");
    }

    // ---- Requests ----------------------------------------------------------------------------------------------

    /// <summary>
    /// Opens a Pending request for an existing version, by a caller with EDIT on the model, with the gates evaluated now.
    /// One Pending request per version and target: a second is RESOURCE_ALREADY_EXISTS naming the first.
    /// </summary>
    public async Task<PromotionRequestView> CreateRequestAsync(PromotionRequestInput input, Caller caller, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var n = RegistryValidation.Name(input.ModelName);
        var number = RegistryValidation.Version(input.Version);
        var (kind, target, archive) = ParseTarget(input.TargetKind, input.Target, input.ArchiveExisting);
        var comment = Text(input.Comment, "comment");
        if (!caller.CanWrite)
        {
            throw PermissionService.Denied(caller, "request promotions");
        }
        await permissions.RequireRegisteredModelAsync(caller, n, AccessLevel.Edit, ct);
        var id = await dbs.WriteAsync(async db =>
        {
            var modelId = await RegistryService.LockModelAsync(db, n, ct) ?? throw RegistryService.ModelNotFound(n);
            var row = number is { } v
                ? await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(x => x.RegisteredModelId == modelId && x.Version == v && !x.Deleted, ct)
                : null;
            if (row is null)
            {
                throw RegistryService.VersionNotFound(n, input.Version);
            }
            var now = Now;
            // A duplicate whose time ran out no longer blocks: it expires here.
            var open = await db.PromotionRequests.Where(r => r.RegisteredModelId == modelId && r.Version == row.Version
                && r.TargetKind == kind && r.Target == target && r.State == PromotionState.Pending).ToListAsync(ct);
            foreach (var stale in open.Where(r => r.ExpiresAt is { } e && e <= now))
            {
                Expire(db, stale, now);
            }
            if (open.FirstOrDefault(r => r.State == PromotionState.Pending) is { } duplicate)
            {
                throw MlflowException.AlreadyExists(
                    $"Promotion request #{duplicate.Id} already asks for version {row.Version} of '{n}' to become {Describe(kind, target)}: " +
                    "comment on it, or cancel it first.");
            }
            if (kind == PromotionTargetKind.Stage ? row.CurrentStage == target
                : await db.RegisteredModelAliases.AnyAsync(a => a.RegisteredModelId == modelId && a.Alias == target && a.Version == row.Version, ct))
            {
                throw MlflowException.InvalidParameter($"Version {row.Version} of '{n}' is {Describe(kind, target)} already.");
            }
            var policy = await EffectivePolicyAsync(db, modelId, n, ct);
            var gates = await GateEvaluator.EvaluateAsync(db, policy.GatesFor(kind, target), modelId, row.Version, kind, target, ct);
            var request = new PromotionRequest
            {
                RegisteredModelId = modelId,
                ModelName = n,
                Version = row.Version,
                TargetKind = kind,
                Target = target,
                ArchiveExisting = archive,
                RequestedBy = caller.Name,
                Comment = comment,
                CreatedAt = now,
                UpdatedAt = now,
                ExpiresAt = policy.ExpiryHours is { } h ? now + (h * 3_600_000L) : null,
                GateResults = GateResult.Serialize(gates),
            };
            db.PromotionRequests.Add(request);
            await db.SaveChangesAsync(ct);
            AuditLog.Add(db, now, caller.Name, AuditActions.RequestCreated, AuditTargets.PromotionRequest, RequestTarget(request),
                after: RequestState(request, gates), modelId: modelId, modelName: n, version: request.Version, requestId: request.Id, reason: comment);
            await WebhookOutbox.EnqueueAsync(db, WebhookEvents.RequestCreated, n, EventData(request, gates), now, ct);
            await db.SaveChangesAsync(ct);
            return request.Id;
        }, ct);
        return await GetRequestAsync(id, caller, ct);
    }

    public async Task<PromotionRequestView> GetRequestAsync(long id, Caller caller, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var request = await db.PromotionRequests.AsNoTracking().Include(r => r.Reviews).Include(r => r.Comments)
            .FirstOrDefaultAsync(r => r.Id == id, ct) ?? throw RequestNotFound(id);
        if (await permissions.RegisteredModelLevelAsync(caller, request.RegisteredModelId, ct) < AccessLevel.Read)
        {
            throw PermissionService.Denied(caller, $"read promotion request #{id}");
        }
        var policy = await EffectivePolicyAsync(db, request.RegisteredModelId, request.ModelName, ct);
        var mayApprove = await MayApproveAsync(policy, request.RegisteredModelId, caller, ct);
        return ViewOf(request, policy, mayApprove, caller);
    }

    /// <summary>Requests newest first, keyset-paged, only of models the caller may read.</summary>
    public async Task<SearchPage<PromotionRequestView>> SearchRequestsAsync(PromotionRequestQuery query, Caller caller,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var size = query.MaxResults ?? DefaultPageSize;
        if (size is < 1 or > MaxPageSize)
        {
            throw MlflowException.InvalidParameter($"Invalid value {size} for parameter 'max_results' supplied: it must be between 1 and {MaxPageSize}.");
        }
        string? state = null;
        if (!string.IsNullOrEmpty(query.State))
        {
            state = PromotionState.All.FirstOrDefault(s => string.Equals(s, query.State, StringComparison.OrdinalIgnoreCase))
                ?? throw MlflowException.InvalidParameter($"state must be one of {string.Join(", ", PromotionState.All)}, got '{query.State}'.");
        }
        var hash = PageToken.Hash("promotion-requests", state, query.ModelName, query.RequestedBy, query.ReviewableBy ? "1" : "0");
        var before = PageToken.ReadKeyset(query.PageToken, hash);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var requests = db.PromotionRequests.AsNoTracking();
        var scope = permissions.ScopeOf(caller);
        if (!scope.Unrestricted)
        {
            var readable = scope.RegisteredModelIds(db);
            requests = requests.Where(r => readable.Contains(r.RegisteredModelId));
        }
        if (state is not null)
        {
            requests = requests.Where(r => r.State == state);
        }
        if (!string.IsNullOrEmpty(query.ModelName))
        {
            requests = requests.Where(r => r.ModelName == query.ModelName);
        }
        if (!string.IsNullOrEmpty(query.RequestedBy))
        {
            requests = requests.Where(r => r.RequestedBy == query.RequestedBy);
        }
        var now = Now;
        var policies = new Dictionary<long, (PolicyView Policy, bool MayApprove)>();
        async Task<(PolicyView Policy, bool MayApprove)> PolicyOf(long modelId, string name)
        {
            if (!policies.TryGetValue(modelId, out var entry))
            {
                var policy = await EffectivePolicyAsync(db, modelId, name, ct);
                policies[modelId] = entry = (policy, await MayApproveAsync(policy, modelId, caller, ct));
            }
            return entry;
        }
        if (query.ReviewableBy)
        {
            // The inbox: open requests of others that the caller has not reviewed, of the models whose policy lets them
            // approve (decided per model: open requests concern few models), so the page is still cut by the database.
            var me = caller.Name;
            requests = requests.Where(r => r.State == PromotionState.Pending && (r.ExpiresAt == null || r.ExpiresAt > now)
                && r.RequestedBy != me && !r.Reviews.Any(x => x.Reviewer == me));
            var models = await requests.Select(r => new { r.RegisteredModelId, r.ModelName }).Distinct().ToListAsync(ct);
            var allowed = new List<long>();
            foreach (var m in models.DistinctBy(m => m.RegisteredModelId))
            {
                if ((await PolicyOf(m.RegisteredModelId, m.ModelName)).MayApprove)
                {
                    allowed.Add(m.RegisteredModelId);
                }
            }
            requests = requests.Where(r => allowed.Contains(r.RegisteredModelId));
        }
        if (before is { } last)
        {
            requests = requests.Where(r => r.Id < last);
        }
        var rows = await requests.OrderByDescending(r => r.Id).Take(size + 1).ToListAsync(ct);
        var next = rows.Count > size ? PageToken.Keyset(rows[size - 1].Id, hash) : null;
        rows = [.. rows.Take(size)];
        var ids = rows.Select(r => r.Id).ToList();
        var reviews = (await db.PromotionReviews.AsNoTracking().Where(x => ids.Contains(x.RequestId)).OrderBy(x => x.Id).ToListAsync(ct))
            .ToLookup(x => x.RequestId);
        var comments = (await db.PromotionComments.AsNoTracking().Where(x => ids.Contains(x.RequestId)).OrderBy(x => x.Id).ToListAsync(ct))
            .ToLookup(x => x.RequestId);
        var views = new List<PromotionRequestView>(rows.Count);
        foreach (var r in rows)
        {
            r.Reviews = [.. reviews[r.Id]];
            r.Comments = [.. comments[r.Id]];
            var (policy, mayApprove) = await PolicyOf(r.RegisteredModelId, r.ModelName);
            views.Add(ViewOf(r, policy, mayApprove, caller));
        }
        return new SearchPage<PromotionRequestView>(views, next);
    }

    private PromotionRequestView ViewOf(PromotionRequest request, PolicyView policy, bool mayApprove, Caller caller)
    {
        request.Reviews.Sort((a, b) => a.Id.CompareTo(b.Id));
        request.Comments.Sort((a, b) => a.Id.CompareTo(b.Id));
        // A Pending request past its expiry is Expired whether or not the worker has marked it yet.
        if (request.State == PromotionState.Pending && request.ExpiresAt is { } e && e <= Now)
        {
            request.State = PromotionState.Expired;
        }
        var open = request.State == PromotionState.Pending;
        var reviewable = open && mayApprove && request.RequestedBy != caller.Name && request.Reviews.All(r => r.Reviewer != caller.Name);
        return new PromotionRequestView(request, GateResult.Parse(request.GateResults), Approvals(request.Reviews), policy.RequiredApprovals,
            CanApprove: reviewable, CanReject: reviewable, CanCancel: open && (request.RequestedBy == caller.Name || caller.IsAdmin),
            CanOverride: reviewable && caller.IsAdmin);
    }

    private static int Approvals(IEnumerable<PromotionReview> reviews) =>
        reviews.Where(r => r.Decision == ReviewDecision.Approve).Select(r => r.Reviewer).Distinct(StringComparer.Ordinal).Count();

    // ---- Reviews -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Approves or rejects (<see cref="ReviewDecision"/>) with a comment. The approval that reaches the count applies the
    /// change. <paramref name="overrideReason"/>: an Admin approving despite failing gates.
    /// </summary>
    public async Task<PromotionRequestView> ReviewAsync(long id, string? decision, string? comment, string? overrideReason, Caller caller,
        CancellationToken ct = default)
    {
        var verdict = decision?.Trim().ToLowerInvariant() switch
        {
            ReviewDecision.Approve => ReviewDecision.Approve,
            ReviewDecision.Reject => ReviewDecision.Reject,
            _ => throw MlflowException.InvalidParameter($"decision must be 'approve' or 'reject', got '{decision}'."),
        };
        var note = Text(comment, "comment");
        var reason = Text(overrideReason, "override_reason");
        if (reason is not null && verdict == ReviewDecision.Reject)
        {
            throw MlflowException.InvalidParameter("override_reason goes with an approval, not a rejection.");
        }
        var expired = await ChangeAsync(id, caller, async (db, request, now) =>
        {
            if (request.RequestedBy == caller.Name)
            {
                throw new MlflowException(ErrorCode.PERMISSION_DENIED, verdict == ReviewDecision.Approve
                    ? "You cannot approve your own request."
                    : "You cannot reject your own request; cancel it instead.");
            }
            var policy = await EffectivePolicyAsync(db, request.RegisteredModelId, request.ModelName, ct);
            if (!await MayApproveAsync(policy, request.RegisteredModelId, caller, ct))
            {
                throw new MlflowException(ErrorCode.PERMISSION_DENIED,
                    $"Permission denied: {caller.Name} may not review promotions of '{request.ModelName}'; its policy lets {Approvers(policy)} review them.");
            }
            if (request.Reviews.Any(r => r.Reviewer == caller.Name))
            {
                throw new MlflowException(ErrorCode.INVALID_STATE, $"You have reviewed promotion request #{id} already: one review per person.");
            }
            var gates = await GateEvaluator.EvaluateAsync(db, policy.GatesFor(request.TargetKind, request.Target), request.RegisteredModelId, request.Version, request.TargetKind,
                request.Target, ct);
            request.GateResults = GateResult.Serialize(gates);
            request.UpdatedAt = now;
            request.Reviews.Add(new PromotionReview { Reviewer = caller.Name, Decision = verdict, Comment = note, Time = now });
            var target = RequestTarget(request);
            if (verdict == ReviewDecision.Reject)
            {
                request.State = PromotionState.Rejected;
                request.ClosedAt = now;
                request.ClosedBy = caller.Name;
                AuditLog.Add(db, now, caller.Name, AuditActions.RequestRejected, AuditTargets.PromotionRequest, target,
                    new { state = PromotionState.Pending }, RequestState(request, gates), request.RegisteredModelId, request.ModelName,
                    request.Version, request.Id, note);
                await WebhookOutbox.EnqueueAsync(db, WebhookEvents.RequestRejected, request.ModelName, EventData(request, gates), now, ct);
                await db.SaveChangesAsync(ct);
                return;
            }
            var failing = gates.Where(g => !g.Passed).ToList();
            if (failing.Count > 0)
            {
                if (reason is null)
                {
                    throw new MlflowException(ErrorCode.BAD_REQUEST,
                        $"Gates fail for version {request.Version} of '{request.ModelName}' → {Describe(request.TargetKind, request.Target)}: " +
                        string.Join("; ", failing.Select(g => $"{GateEvaluator.Label(g.Gate)} ({g.Detail})")) +
                        ". An Admin may approve anyway with an override_reason.");
                }
                if (!caller.IsAdmin)
                {
                    throw new MlflowException(ErrorCode.PERMISSION_DENIED, "Only an Admin may override failing gates.");
                }
                request.OverrideReason = reason;
                request.OverriddenBy = caller.Name;
                AuditLog.Add(db, now, caller.Name, AuditActions.GateOverridden, AuditTargets.PromotionRequest, target,
                    after: new { failing = failing.Select(g => new { gate = GateEvaluator.Label(g.Gate), detail = g.Detail }).ToList() },
                    modelId: request.RegisteredModelId, modelName: request.ModelName, version: request.Version, requestId: request.Id, reason: reason);
            }
            else if (reason is not null && !caller.IsAdmin)
            {
                throw new MlflowException(ErrorCode.PERMISSION_DENIED, "Only an Admin may override failing gates.");
            }
            var approvals = Approvals(request.Reviews);
            if (approvals < policy.RequiredApprovals)
            {
                AuditLog.Add(db, now, caller.Name, AuditActions.RequestReviewed, AuditTargets.PromotionRequest, target,
                    after: new { decision = verdict, approvals, required_approvals = policy.RequiredApprovals },
                    modelId: request.RegisteredModelId, modelName: request.ModelName, version: request.Version, requestId: request.Id, reason: note);
                await db.SaveChangesAsync(ct);
                return;
            }
            await ApplyAsync(db, request, caller, now, ct);
            AuditLog.Add(db, now, caller.Name, AuditActions.RequestApproved, AuditTargets.PromotionRequest, target,
                new { state = PromotionState.Pending }, RequestState(request, gates), request.RegisteredModelId, request.ModelName,
                request.Version, request.Id, note);
            await WebhookOutbox.EnqueueAsync(db, WebhookEvents.RequestApproved, request.ModelName, EventData(request, gates), now, ct);
            await db.SaveChangesAsync(ct);
        }, ct);
        if (expired)
        {
            throw Expired(id);
        }
        return await GetRequestAsync(id, caller, ct);
    }

    /// <summary>
    /// Applies an approved request in the review's transaction: locks the model and the version (it may have been deleted
    /// since), records the holder it replaces, moves the stage (archiving the holders when asked) or the alias.
    /// </summary>
    private async Task ApplyAsync(DashboardDbContext db, PromotionRequest request, Caller caller, long now, CancellationToken ct)
    {
        // By id: the model may have been renamed since the request was made.
        var name = await db.RegisteredModels.Where(m => m.Id == request.RegisteredModelId).Select(m => m.Name).FirstOrDefaultAsync(ct)
            ?? throw new MlflowException(ErrorCode.INVALID_STATE,
                $"Registered model '{request.ModelName}' was deleted: promotion request #{request.Id} cannot be applied; reject or cancel it.");
        ModelVersionKey key;
        try
        {
            key = await RegistryService.LockVersionInAsync(db, name, request.Version, ct);
        }
        catch (MlflowException e) when (e.ErrorCode == ErrorCode.RESOURCE_DOES_NOT_EXIST)
        {
            throw new MlflowException(ErrorCode.INVALID_STATE,
                $"Version {request.Version} of '{name}' was deleted: promotion request #{request.Id} cannot be applied; reject or cancel it.");
        }
        int? previous;
        if (request.TargetKind == PromotionTargetKind.Stage)
        {
            previous = await GateEvaluator.HolderAsync(db, key.RegisteredModelId, key.Version, PromotionTargetKind.Stage, request.Target, ct);
            await registry.ApplyStageAsync(db, name, key, request.Target, request.ArchiveExisting, caller.Actor, request.Id, ct);
        }
        else
        {
            previous = await registry.ApplyAliasAsync(db, name, key, request.Target, caller.Actor, request.Id, ct);
        }
        request.ModelName = name;
        request.PreviousVersion = previous;
        request.State = PromotionState.Approved;
        request.ClosedAt = now;
        request.ClosedBy = caller.Name;
        AuditLog.Add(db, now, caller.Name, AuditActions.RequestApplied, AuditTargets.PromotionRequest, RequestTarget(request),
            previous is null ? null : new { version = previous }, new { version = request.Version, request.TargetKind, request.Target,
                archive_existing = request.ArchiveExisting },
            request.RegisteredModelId, name, request.Version, request.Id);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The requester (or an Admin) withdraws a Pending request.</summary>
    public async Task<PromotionRequestView> CancelAsync(long id, string? comment, Caller caller, CancellationToken ct = default)
    {
        var note = Text(comment, "comment");
        var expired = await ChangeAsync(id, caller, async (db, request, now) =>
        {
            if (request.RequestedBy != caller.Name && !caller.IsAdmin)
            {
                throw new MlflowException(ErrorCode.PERMISSION_DENIED, $"Only the requester ({request.RequestedBy}) or an Admin may cancel promotion request #{id}.");
            }
            request.State = PromotionState.Cancelled;
            request.ClosedAt = now;
            request.ClosedBy = caller.Name;
            request.UpdatedAt = now;
            if (note is not null)
            {
                request.Comments.Add(new PromotionComment { Author = caller.Name, Body = note, Time = now });
            }
            AuditLog.Add(db, now, caller.Name, AuditActions.RequestCancelled, AuditTargets.PromotionRequest, RequestTarget(request),
                new { state = PromotionState.Pending }, new { state = PromotionState.Cancelled }, request.RegisteredModelId, request.ModelName,
                request.Version, request.Id, note);
            await db.SaveChangesAsync(ct);
        }, ct);
        if (expired)
        {
            throw Expired(id);
        }
        return await GetRequestAsync(id, caller, ct);
    }

    /// <summary>Adds a message to the request's thread (anyone who may read the model).</summary>
    public async Task<PromotionRequestView> CommentAsync(long id, string? body, Caller caller, CancellationToken ct = default)
    {
        var text = Text(body, "body") ?? throw MlflowException.Missing("body");
        await dbs.WriteAsync(async db =>
        {
            var request = await LockRequestAsync(db, id, caller, ct);
            var now = Now;
            db.PromotionComments.Add(new PromotionComment { RequestId = id, Author = caller.Name, Body = text, Time = now });
            AuditLog.Add(db, now, caller.Name, AuditActions.RequestCommented, AuditTargets.PromotionRequest, RequestTarget(request),
                modelId: request.RegisteredModelId, modelName: request.ModelName, version: request.Version, requestId: id, reason: text);
            await db.SaveChangesAsync(ct);
            return true;
        }, ct);
        return await GetRequestAsync(id, caller, ct);
    }

    /// <summary>
    /// One state change of a Pending request in a transaction, the request's row locked first. A request that is not
    /// Pending answers INVALID_STATE; one past its expiry is marked Expired (committed) and the method answers true, so
    /// the caller reports it after the commit.
    /// </summary>
    private Task<bool> ChangeAsync(long id, Caller caller, Func<DashboardDbContext, PromotionRequest, long, Task> change, CancellationToken ct) =>
        dbs.WriteAsync(async db =>
        {
            var request = await LockRequestAsync(db, id, caller, ct);
            var now = Now;
            if (request.State != PromotionState.Pending)
            {
                throw new MlflowException(ErrorCode.INVALID_STATE,
                    $"Promotion request #{id} is {request.State}: only a Pending request can be approved, rejected or cancelled.");
            }
            if (request.ExpiresAt is { } e && e <= now)
            {
                Expire(db, request, now);
                await db.SaveChangesAsync(ct);
                return true;
            }
            await change(db, request, now);
            return false;
        }, ct);

    /// <summary>Writes the request's row (the lock), then loads it with its reviews and comments; 404 or 403 when it may not be read.</summary>
    private async Task<PromotionRequest> LockRequestAsync(DashboardDbContext db, long id, Caller caller, CancellationToken ct)
    {
        var locked = await db.PromotionRequests.Where(r => r.Id == id).ExecuteUpdateAsync(s => s.SetProperty(r => r.UpdatedAt, r => r.UpdatedAt), ct);
        if (locked == 0)
        {
            throw RequestNotFound(id);
        }
        var request = await db.PromotionRequests.Include(r => r.Reviews).Include(r => r.Comments).FirstAsync(r => r.Id == id, ct);
        if (await permissions.RegisteredModelLevelAsync(caller, request.RegisteredModelId, ct) < AccessLevel.Read)
        {
            throw PermissionService.Denied(caller, $"read promotion request #{id}");
        }
        return request;
    }

    private static void Expire(DashboardDbContext db, PromotionRequest request, long now)
    {
        request.State = PromotionState.Expired;
        request.ClosedAt = now;
        request.ClosedBy = AuditLog.SystemActor;
        request.UpdatedAt = now;
        AuditLog.Add(db, now, AuditLog.SystemActor, AuditActions.RequestExpired, AuditTargets.PromotionRequest, RequestTarget(request),
            new { state = PromotionState.Pending }, new { state = PromotionState.Expired, expires_at = request.ExpiresAt },
            request.RegisteredModelId, request.ModelName, request.Version, request.Id);
    }

    /// <summary>Marks Pending requests past their expiry as Expired (the expiry worker). Answers how many.</summary>
    public async Task<int> ExpireDueAsync(CancellationToken ct = default)
    {
        var now = Now;
        List<long> due;
        await using (var read = await dbs.CreateDbContextAsync(ct))
        {
            due = await read.PromotionRequests.AsNoTracking()
                .Where(r => r.State == PromotionState.Pending && r.ExpiresAt != null && r.ExpiresAt <= now)
                .OrderBy(r => r.Id).Select(r => r.Id).Take(500).ToListAsync(ct);
        }
        var count = 0;
        foreach (var id in due)
        {
            count += await dbs.WriteAsync(async db =>
            {
                // Only if still Pending once the row is ours: a review that got there first wins.
                var changed = await db.PromotionRequests.Where(r => r.Id == id && r.State == PromotionState.Pending)
                    .ExecuteUpdateAsync(s => s.SetProperty(r => r.UpdatedAt, r => r.UpdatedAt), ct);
                if (changed == 0)
                {
                    return 0;
                }
                var request = await db.PromotionRequests.FirstAsync(r => r.Id == id, ct);
                Expire(db, request, Now);
                await db.SaveChangesAsync(ct);
                return 1;
            }, ct);
        }
        return count;
    }

    // ---- Evidence ----------------------------------------------------------------------------------------------

    /// <summary>The candidate's metrics and params beside the current holder's, with the gates.</summary>
    public async Task<PromotionEvidence> GetEvidenceAsync(long id, Caller caller, CancellationToken ct = default)
    {
        var view = await GetRequestAsync(id, caller, ct);
        var request = view.Request;
        await using var db = await dbs.CreateDbContextAsync(ct);
        var name = await db.RegisteredModels.Where(m => m.Id == request.RegisteredModelId).Select(m => m.Name).FirstOrDefaultAsync(ct)
            ?? throw RegistryService.ModelNotFound(request.ModelName);
        var version = request.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var candidate = await registry.GetModelVersionAsync(name, version, ct);
        // While open, the holder and the gates as they are now; once closed, the holder it replaced and the gates it was decided on.
        int? holder;
        IReadOnlyList<GateResult> gates;
        if (request.State == PromotionState.Pending)
        {
            holder = await GateEvaluator.HolderAsync(db, request.RegisteredModelId, request.Version, request.TargetKind, request.Target, ct);
            var policy = await EffectivePolicyAsync(db, request.RegisteredModelId, name, ct);
            gates = await GateEvaluator.EvaluateAsync(db, policy.GatesFor(request.TargetKind, request.Target), request.RegisteredModelId, request.Version, request.TargetKind,
                request.Target, ct);
        }
        else
        {
            holder = request.State == PromotionState.Approved
                ? request.PreviousVersion
                : await GateEvaluator.HolderAsync(db, request.RegisteredModelId, request.Version, request.TargetKind, request.Target, ct);
            gates = view.Gates;
        }
        VersionEvidence? holderEvidence = null;
        if (holder is { } h && await db.ModelVersions.AnyAsync(v => v.RegisteredModelId == request.RegisteredModelId && v.Version == h && !v.Deleted, ct))
        {
            holderEvidence = await EvidenceOfAsync(db, await registry.GetModelVersionAsync(name,
                h.ToString(System.Globalization.CultureInfo.InvariantCulture), ct), ct);
        }
        return new PromotionEvidence(await EvidenceOfAsync(db, candidate, ct), holderEvidence, gates);
    }

    private static async Task<VersionEvidence> EvidenceOfAsync(DashboardDbContext db, ModelVersionDetails version, CancellationToken ct)
    {
        var runId = version.Version.RunId;
        if (runId is null)
        {
            return new VersionEvidence(version, null, new Dictionary<string, double>(), new Dictionary<string, string>());
        }
        var runName = await db.Runs.AsNoTracking().Where(r => r.Id == runId).Select(r => r.Name).FirstOrDefaultAsync(ct);
        var metrics = await db.LatestMetrics.AsNoTracking().Where(m => m.RunId == runId).OrderBy(m => m.Key)
            .Select(m => new { m.Key, m.Value, m.IsNaN }).ToListAsync(ct);
        var parameters = await db.Params.AsNoTracking().Where(p => p.RunId == runId).OrderBy(p => p.Key)
            .Select(p => new { p.Key, p.Value }).ToListAsync(ct);
        return new VersionEvidence(version, runName,
            metrics.ToDictionary(m => m.Key, m => m.IsNaN ? double.NaN : m.Value, StringComparer.Ordinal),
            parameters.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal));
    }

    // ---- The guard of direct changes ---------------------------------------------------------------------------

    /// <summary>
    /// The guard of direct changes (MLflow transition-stage, set/delete alias, the model page): when the change moves a
    /// version into or out of a protected stage, or sets/moves/deletes a protected alias, and the caller may not approve,
    /// it throws PERMISSION_DENIED with a message pointing to the request flow (or, under
    /// <see cref="DirectChangeMode.Request"/>, opens a request and names it). <paramref name="version"/> as the wire sends it.
    /// Input the registry would refuse passes through, so the registry answers it with MLflow's own error.
    /// </summary>
    public async Task GuardDirectChangeAsync(string? modelName, string? version, string targetKind, string target, Caller caller,
        CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(modelName))
        {
            return;
        }
        long modelId;
        PolicyView policy;
        string? currentStage = null;
        int? number = null;
        await using (var db = await dbs.CreateDbContextAsync(ct))
        {
            if (await RegistryService.ModelIdAsync(db, modelName, ct) is not { } id)
            {
                return;
            }
            modelId = id;
            policy = await EffectivePolicyAsync(db, modelId, modelName, ct);
            if (policy.ProtectedStages.Count == 0 && policy.ProtectedAliases.Count == 0)
            {
                return;
            }
            if (version is not null && IsInteger(version))
            {
                number = RegistryValidation.Version(version);
                if (number is { } v)
                {
                    currentStage = await db.ModelVersions.AsNoTracking().Where(x => x.RegisteredModelId == modelId && x.Version == v && !x.Deleted)
                        .Select(x => x.CurrentStage).FirstOrDefaultAsync(ct);
                }
            }
        }
        string message;
        string? requestTarget = null;
        if (targetKind == PromotionTargetKind.Stage)
        {
            if (ModelStage.Parse(target) is not { } stage)
            {
                return;
            }
            if (policy.Protects(PromotionTargetKind.Stage, stage))
            {
                message = $"Stage '{stage}' of model '{modelName}' is protected";
                requestTarget = stage == ModelStage.None || currentStage is null ? null : stage;
            }
            else if (currentStage is not null && currentStage != stage && policy.Protects(PromotionTargetKind.Stage, currentStage))
            {
                message = $"Version {number} of model '{modelName}' is in protected stage '{currentStage}'";
                requestTarget = stage == ModelStage.None ? null : stage;
            }
            else
            {
                return;
            }
        }
        else
        {
            if (!IsAlias(target) || !policy.Protects(PromotionTargetKind.Alias, target))
            {
                return;
            }
            message = $"Alias '{target}' of model '{modelName}' is protected";
            requestTarget = currentStage is null ? null : target;
        }
        if (await MayApproveAsync(policy, modelId, caller, ct))
        {
            return;
        }
        long? opened = null;
        if (policy.DirectChange == DirectChangeMode.Request && requestTarget is not null)
        {
            try
            {
                opened = (await CreateRequestAsync(new PromotionRequestInput(modelName, version, targetKind, requestTarget, false,
                    DirectChangeComment), caller, ct)).Request.Id;
            }
            catch (MlflowException e) when (e.ErrorCode == ErrorCode.RESOURCE_ALREADY_EXISTS)
            {
                // The same change is requested already: point to that request.
                await using var db = await dbs.CreateDbContextAsync(ct);
                opened = await db.PromotionRequests.Where(r => r.RegisteredModelId == modelId && r.Version == number && r.TargetKind == targetKind
                    && r.Target == requestTarget && r.State == PromotionState.Pending).Select(r => (long?)r.Id).FirstOrDefaultAsync(ct);
            }
            catch (MlflowException)
            {
                // The caller may not request it (a Viewer, a read token), or it cannot be requested: the plain refusal.
            }
        }
        await RecordRefusalAsync(modelId, modelName, number, new { target_kind = targetKind, target, version, opened_request = opened },
            opened, caller, ct);
        throw new MlflowException(ErrorCode.PERMISSION_DENIED, opened is { } rid
            ? $"{message}: promotion request #{rid} was opened for this change and waits for approval (GET /api/v1/promotion-requests/{rid})."
            : $"{message}: {RequestFlow}.");
    }

    /// <summary>
    /// The guard of deletions: deleting a version that sits in a protected stage or holds a protected alias (or a whole
    /// model with such a version) would take it out of its protected target without a request. A caller who may not
    /// approve gets PERMISSION_DENIED naming the version and the way out (a request to Archived, or an approver); the
    /// refusal is audited. <paramref name="version"/> null: the whole model.
    /// </summary>
    public async Task GuardDeletionAsync(string? modelName, string? version, Caller caller, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(modelName))
        {
            return;
        }
        long modelId;
        PolicyView policy;
        string? blocking = null;
        int? number = null;
        await using (var db = await dbs.CreateDbContextAsync(ct))
        {
            if (await RegistryService.ModelIdAsync(db, modelName, ct) is not { } id)
            {
                return;
            }
            modelId = id;
            policy = await EffectivePolicyAsync(db, modelId, modelName, ct);
            if (policy.ProtectedStages.Count == 0 && policy.ProtectedAliases.Count == 0)
            {
                return;
            }
            if (version is not null)
            {
                if (!IsInteger(version))
                {
                    return;
                }
                number = RegistryValidation.Version(version);
            }
            var stages = policy.ProtectedStages.ToList();
            var inStage = await db.ModelVersions.AsNoTracking()
                .Where(x => x.RegisteredModelId == modelId && !x.Deleted && (number == null || x.Version == number) && stages.Contains(x.CurrentStage))
                .OrderBy(x => x.Version).Select(x => new { x.Version, x.CurrentStage }).FirstOrDefaultAsync(ct);
            if (inStage is not null)
            {
                number ??= inStage.Version;
                blocking = $"Version {inStage.Version} of model '{modelName}' is in protected stage '{inStage.CurrentStage}'";
            }
            else
            {
                var aliases = policy.ProtectedAliases.ToList();
                var holder = await db.RegisteredModelAliases.AsNoTracking()
                    .Where(a => a.RegisteredModelId == modelId && (number == null || a.Version == number) && aliases.Contains(a.Alias))
                    .OrderBy(a => a.Version).ThenBy(a => a.Alias).Select(a => new { a.Version, a.Alias }).FirstOrDefaultAsync(ct);
                if (holder is not null)
                {
                    number ??= holder.Version;
                    blocking = $"Version {holder.Version} of model '{modelName}' holds protected alias '{holder.Alias}'";
                }
            }
        }
        if (blocking is null || await MayApproveAsync(policy, modelId, caller, ct))
        {
            return;
        }
        await RecordRefusalAsync(modelId, modelName, number,
            new { action = version is null ? "delete_registered_model" : "delete_model_version", version = number }, null, caller, ct);
        throw new MlflowException(ErrorCode.PERMISSION_DENIED,
            $"{blocking}: it cannot be deleted by someone who may not approve its promotions; request it to leave that target first " +
            "(POST /api/v1/promotion-requests) or ask an approver.");
    }

    /// <summary>Records a refused direct change (or deletion) of a protected target in the audit trail, in its own transaction.</summary>
    private Task<bool> RecordRefusalAsync(long modelId, string modelName, int? version, object what, long? requestId, Caller caller,
        CancellationToken ct) =>
        dbs.WriteAsync(async db =>
        {
            AuditLog.Add(db, Now, caller.Name, AuditActions.DirectChangeRefused, AuditTargets.PromotionPolicy, modelName,
                after: what, modelId: modelId, modelName: modelName, version: version, requestId: requestId);
            await db.SaveChangesAsync(ct);
            return true;
        }, ct);

    private static bool IsInteger(string text) =>
        long.TryParse(text.Trim(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _);

    private static bool IsAlias(string alias)
    {
        try
        {
            RegistryValidation.Alias(alias);
            return true;
        }
        catch (MlflowException)
        {
            return false;
        }
    }

    // ---- Helpers -----------------------------------------------------------------------------------------------

    private static string? Text(string? text, string name)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        if (text.Length > MaxCommentLength)
        {
            throw MlflowException.InvalidParameter($"{name} has {text.Length} characters, more than the {MaxCommentLength} allowed.");
        }
        return text;
    }


    private static string Describe(string kind, string target) => kind == PromotionTargetKind.Stage ? target : $"@{target}";

    private static string RequestTarget(PromotionRequest r) => $"#{r.Id} {r.ModelName}/{r.Version} → {Describe(r.TargetKind, r.Target)}";

    private static object RequestState(PromotionRequest r, IReadOnlyList<GateResult> gates) => new
    {
        state = r.State,
        name = r.ModelName,
        version = r.Version,
        target_kind = r.TargetKind,
        target = r.Target,
        archive_existing_versions = r.ArchiveExisting,
        requested_by = r.RequestedBy,
        approvals = Approvals(r.Reviews),
        previous_version = r.PreviousVersion,
        override_reason = r.OverrideReason,
        gates = GatesSummary(gates),
    };

    private static object GatesSummary(IReadOnlyList<GateResult> gates) => new
    {
        passed = gates.All(g => g.Passed),
        results = gates.Select(g => new { gate = GateEvaluator.Label(g.Gate), kind = g.Gate.Kind, passed = g.Passed, detail = g.Detail }).ToList(),
    };

    /// <summary>The <c>data</c> of a request's webhook events.</summary>
    private static object EventData(PromotionRequest r, IReadOnlyList<GateResult> gates) => new
    {
        request_id = r.Id,
        name = r.ModelName,
        version = r.Version,
        target_kind = r.TargetKind,
        target = r.Target,
        archive_existing_versions = r.ArchiveExisting,
        state = r.State,
        requested_by = r.RequestedBy,
        comment = r.Comment,
        reviewers = r.Reviews.OrderBy(x => x.Time).Select(x => new { reviewer = x.Reviewer, decision = x.Decision, comment = x.Comment, time = x.Time }).ToList(),
        previous_version = r.PreviousVersion,
        override_reason = r.OverrideReason,
        gates = GatesSummary(gates),
    };

    private static MlflowException RequestNotFound(long id) => MlflowException.NotFound($"No promotion request with id {id}.");

    private static MlflowException Expired(long id) =>
        new(ErrorCode.INVALID_STATE, $"Promotion request #{id} has expired: open a new request.");
}
