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
public sealed class PromotionService(
    IDbContextFactory<DashboardDbContext> dbs,
    TimeProvider time,
    RegistryService registry,
    PermissionService permissions)
{
    // Fields kept for the implementation; the contract above is what the API and the pages build on.
    private readonly IDbContextFactory<DashboardDbContext> _dbs = dbs;
    private readonly TimeProvider _time = time;
    private readonly RegistryService _registry = registry;
    private readonly PermissionService _permissions = permissions;

    /// <summary>The effective policy of a model (null: the global default). A model without its own shows the default as inherited.</summary>
    public Task<PolicyView> GetPolicyAsync(string? modelName, Caller caller, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>Sets a model's policy (MANAGE on the model) or the global default (Admin). Audited with before and after.</summary>
    public Task<PolicyView> SetPolicyAsync(string? modelName, PolicyInput input, Caller caller, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>Removes a model's own policy, so it follows the default again.</summary>
    public Task DeletePolicyAsync(string modelName, Caller caller, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>The gates of the target's policy evaluated now for the version (the live results a requester sees).</summary>
    public Task<IReadOnlyList<GateResult>> EvaluateGatesAsync(string? modelName, string? version, string? targetKind, string? target,
        Caller caller, CancellationToken ct = default) =>
        throw new NotImplementedException();

    public Task<PromotionRequestView> CreateRequestAsync(PromotionRequestInput input, Caller caller, CancellationToken ct = default) =>
        throw new NotImplementedException();

    public Task<PromotionRequestView> GetRequestAsync(long id, Caller caller, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>Requests newest first, keyset-paged, only of models the caller may read.</summary>
    public Task<SearchPage<PromotionRequestView>> SearchRequestsAsync(PromotionRequestQuery query, Caller caller,
        CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>
    /// Approves or rejects (<see cref="ReviewDecision"/>) with a comment. The approval that reaches the count applies the
    /// change. <paramref name="overrideReason"/>: an Admin approving despite failing gates.
    /// </summary>
    public Task<PromotionRequestView> ReviewAsync(long id, string? decision, string? comment, string? overrideReason, Caller caller,
        CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>The requester (or an Admin) withdraws a Pending request.</summary>
    public Task<PromotionRequestView> CancelAsync(long id, string? comment, Caller caller, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>Adds a message to the request's thread (anyone who may read the model).</summary>
    public Task<PromotionRequestView> CommentAsync(long id, string? body, Caller caller, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>The candidate's metrics and params beside the current holder's, with the gates.</summary>
    public Task<PromotionEvidence> GetEvidenceAsync(long id, Caller caller, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>Marks Pending requests past their expiry as Expired (the expiry worker). Answers how many.</summary>
    public Task<int> ExpireDueAsync(CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>Whether the caller may approve requests of this model under its policy.</summary>
    public Task<bool> MayApproveAsync(string modelName, Caller caller, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>
    /// The guard of direct changes (MLflow transition-stage, set/delete alias, the model page): when the change moves a
    /// version into or out of a protected stage, or sets/moves/deletes a protected alias, and the caller may not approve,
    /// it throws PERMISSION_DENIED with a message pointing to the request flow (or, under
    /// <see cref="DirectChangeMode.Request"/>, opens a request and names it). <paramref name="version"/> as the wire sends it.
    /// </summary>
    public Task GuardDirectChangeAsync(string? modelName, string? version, string targetKind, string target, Caller caller,
        CancellationToken ct = default) =>
        throw new NotImplementedException();
}
