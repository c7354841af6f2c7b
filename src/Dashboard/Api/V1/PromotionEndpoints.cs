using System.Globalization;
using System.Text.Json;
using Dashboard.Auth;
using Dashboard.Errors;
using Dashboard.Governance;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Dashboard.Api.V1;

/// <summary>
/// Promotion policies, gates and requests under /api/v1 (issue 7; docs/adr/0013). The rules live in
/// <see cref="PromotionService"/>: these handlers read the JSON, call it with the request's caller and map its answer.
/// An illegal transition (a request that is no longer Pending) is 409 INVALID_STATE; failing gates 400 BAD_REQUEST;
/// reviewing one's own request or without the right to approve 403.
/// </summary>
public static class PromotionEndpoints
{
    public static RouteGroupBuilder MapPromotionEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(V1Api.Prefix).WithTags("Promotions");
        api.MapGet("/promotion-policy", GetDefaultPromotionPolicy)
            .WithName(nameof(GetDefaultPromotionPolicy))
            .WithSummary("The global default promotion policy (what models without their own follow)");
        api.MapPut("/promotion-policy", SetDefaultPromotionPolicy)
            .WithName(nameof(SetDefaultPromotionPolicy))
            .WithSummary("Sets the global default promotion policy (Admins)")
            .Accepts<PolicyRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapGet("/registered-models/{name}/promotion-policy", GetModelPromotionPolicy)
            .WithName(nameof(GetModelPromotionPolicy))
            .WithSummary("A model's effective promotion policy: its own, or the default (inherited: true)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPut("/registered-models/{name}/promotion-policy", SetModelPromotionPolicy)
            .WithName(nameof(SetModelPromotionPolicy))
            .WithSummary("Sets a model's own promotion policy (MANAGE on the model)")
            .WithDescription("protected_stages: Staging, Production, Archived; protected_aliases; required_approvals 1 to 10; " +
                "approver_role (the Approver role and Admins may approve); approver_groups; expiry_hours 1 to 8760 or absent; " +
                "direct_change Refuse or Request; gates: {kind: metric|tag|top_k|compare, name, expression, metric, k, " +
                "higher_is_better, margin, targets}.")
            .Accepts<PolicyRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/registered-models/{name}/promotion-policy", DeleteModelPromotionPolicy)
            .WithName(nameof(DeleteModelPromotionPolicy))
            .WithSummary("Removes a model's own promotion policy: it follows the default again (MANAGE on the model)")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/registered-models/{name}/versions/{version}/gates", EvaluatePromotionGates)
            .WithName(nameof(EvaluatePromotionGates))
            .WithSummary("The gates of the model's policy evaluated now for a version and a target")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/promotion-requests", CreatePromotionRequest)
            .WithName(nameof(CreatePromotionRequest))
            .WithSummary("Requests a version's promotion to a stage or an alias (EDIT on the model)")
            .Accepts<CreatePromotionRequestBody>("application/json")
            .Produces<PromotionRequestMessage>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/promotion-requests", ListPromotionRequests)
            .WithName(nameof(ListPromotionRequests))
            .WithSummary("Promotion requests of the models the caller may read, newest first; reviewable=true: the caller's inbox")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/promotion-requests/{id}", GetPromotionRequest)
            .WithName(nameof(GetPromotionRequest))
            .WithSummary("A promotion request with its reviews, comments, gates and what the caller may do with it")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/promotion-requests/{id}/evidence", GetPromotionEvidence)
            .WithName(nameof(GetPromotionEvidence))
            .WithSummary("The candidate's run metrics and params beside the current holder's, and the gates")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/promotion-requests/{id}/approve", ApprovePromotionRequest)
            .WithName(nameof(ApprovePromotionRequest))
            .WithSummary("Approves; the approval that reaches the policy's count applies the change")
            .Accepts<ReviewBody>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/promotion-requests/{id}/reject", RejectPromotionRequest)
            .WithName(nameof(RejectPromotionRequest))
            .WithSummary("Rejects (one rejection closes the request)")
            .Accepts<ReviewBody>("application/json")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/promotion-requests/{id}/cancel", CancelPromotionRequest)
            .WithName(nameof(CancelPromotionRequest))
            .WithSummary("Withdraws a Pending request (its requester or an Admin)")
            .Accepts<CommentBody>("application/json")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/promotion-requests/{id}/comments", CommentOnPromotionRequest)
            .WithName(nameof(CommentOnPromotionRequest))
            .WithSummary("Adds a message to the request's thread")
            .Accepts<ThreadBody>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    // ---- Policies ----------------------------------------------------------------------------------------------

    public static async Task<Ok<PolicyMessage>> GetDefaultPromotionPolicy(HttpContext http, PromotionService promotions, CancellationToken ct) =>
        TypedResults.Ok(PolicyMessage.Of(await promotions.GetPolicyAsync(null, http.Caller(), ct)));

    public static async Task<Ok<PolicyMessage>> SetDefaultPromotionPolicy(HttpContext http, PromotionService promotions, CancellationToken ct)
    {
        var caller = http.Caller();
        var body = await V1Api.ReadJsonAsync<PolicyRequest>(http, ct);
        return TypedResults.Ok(PolicyMessage.Of(await promotions.SetPolicyAsync(null, body.ToInput(), caller, ct)));
    }

    public static async Task<Ok<PolicyMessage>> GetModelPromotionPolicy([FromRoute(Name = "name")] string name, HttpContext http,
        PromotionService promotions, CancellationToken ct) =>
        TypedResults.Ok(PolicyMessage.Of(await promotions.GetPolicyAsync(name, http.Caller(), ct)));

    public static async Task<Ok<PolicyMessage>> SetModelPromotionPolicy([FromRoute(Name = "name")] string name, HttpContext http,
        PromotionService promotions, CancellationToken ct)
    {
        var caller = http.Caller();
        var body = await V1Api.ReadJsonAsync<PolicyRequest>(http, ct);
        return TypedResults.Ok(PolicyMessage.Of(await promotions.SetPolicyAsync(name, body.ToInput(), caller, ct)));
    }

    public static async Task<NoContent> DeleteModelPromotionPolicy([FromRoute(Name = "name")] string name, HttpContext http,
        PromotionService promotions, CancellationToken ct)
    {
        await promotions.DeletePolicyAsync(name, http.Caller(), ct);
        return TypedResults.NoContent();
    }

    /// <param name="targetKind">stage or alias.</param>
    /// <param name="target">A stage (Staging, Production, Archived) or an alias.</param>
    public static async Task<Ok<GatesResponse>> EvaluatePromotionGates([FromRoute(Name = "name")] string name,
        [FromRoute(Name = "version")] string version, [FromQuery(Name = "target_kind")] string? targetKind,
        [FromQuery(Name = "target")] string? target, HttpContext http, PromotionService promotions, CancellationToken ct)
    {
        var gates = await promotions.EvaluateGatesAsync(name, version, targetKind, target, http.Caller(), ct);
        return TypedResults.Ok(new GatesResponse(gates.All(g => g.Passed), [.. gates.Select(GateResultMessage.Of)]));
    }

    // ---- Requests ----------------------------------------------------------------------------------------------

    public static async Task<Created<PromotionRequestMessage>> CreatePromotionRequest(HttpContext http, PromotionService promotions,
        CancellationToken ct)
    {
        var caller = http.Caller();
        var body = await V1Api.ReadJsonAsync<CreatePromotionRequestBody>(http, ct);
        var view = await promotions.CreateRequestAsync(new PromotionRequestInput(body.Name, body.Version, body.TargetKind, body.Target,
            body.ArchiveExistingVersions ?? false, body.Comment), caller, ct);
        return TypedResults.Created($"{V1Api.Prefix}/promotion-requests/{view.Request.Id}", PromotionRequestMessage.Of(view));
    }

    /// <param name="state">Pending, Approved, Rejected, Cancelled or Expired.</param>
    /// <param name="name">Only requests of this registered model.</param>
    /// <param name="requestedBy">Only requests of this person.</param>
    /// <param name="reviewable">true: only the Pending requests the caller may review now (their inbox).</param>
    /// <param name="maxResults">1 to 1000, default 100.</param>
    /// <param name="pageToken">The <c>next_page_token</c> of the previous answer.</param>
    public static async Task<Ok<PromotionRequestsResponse>> ListPromotionRequests([FromQuery(Name = "state")] string? state,
        [FromQuery(Name = "name")] string? name, [FromQuery(Name = "requested_by")] string? requestedBy,
        [FromQuery(Name = "reviewable")] bool? reviewable, [FromQuery(Name = "max_results")] int? maxResults,
        [FromQuery(Name = "page_token")] string? pageToken, HttpContext http, PromotionService promotions, CancellationToken ct)
    {
        var page = await promotions.SearchRequestsAsync(
            new PromotionRequestQuery(state, name, requestedBy, reviewable ?? false, maxResults, pageToken), http.Caller(), ct);
        return TypedResults.Ok(new PromotionRequestsResponse([.. page.Items.Select(PromotionRequestMessage.Of)], page.NextPageToken));
    }

    public static async Task<Ok<PromotionRequestMessage>> GetPromotionRequest([FromRoute(Name = "id")] string id, HttpContext http,
        PromotionService promotions, CancellationToken ct) =>
        TypedResults.Ok(PromotionRequestMessage.Of(await promotions.GetRequestAsync(IdOf(id), http.Caller(), ct)));

    public static async Task<Ok<EvidenceMessage>> GetPromotionEvidence([FromRoute(Name = "id")] string id, HttpContext http,
        PromotionService promotions, CancellationToken ct) =>
        TypedResults.Ok(EvidenceMessage.Of(await promotions.GetEvidenceAsync(IdOf(id), http.Caller(), ct)));

    public static async Task<Ok<PromotionRequestMessage>> ApprovePromotionRequest([FromRoute(Name = "id")] string id, HttpContext http,
        PromotionService promotions, CancellationToken ct)
    {
        var caller = http.Caller();
        var requestId = IdOf(id);
        var body = await V1Api.ReadJsonAsync<ReviewBody>(http, ct, emptyIs: new ReviewBody(null, null));
        return TypedResults.Ok(PromotionRequestMessage.Of(
            await promotions.ReviewAsync(requestId, ReviewDecision.Approve, body.Comment, body.OverrideReason, caller, ct)));
    }

    public static async Task<Ok<PromotionRequestMessage>> RejectPromotionRequest([FromRoute(Name = "id")] string id, HttpContext http,
        PromotionService promotions, CancellationToken ct)
    {
        var caller = http.Caller();
        var requestId = IdOf(id);
        var body = await V1Api.ReadJsonAsync<ReviewBody>(http, ct, emptyIs: new ReviewBody(null, null));
        return TypedResults.Ok(PromotionRequestMessage.Of(
            await promotions.ReviewAsync(requestId, ReviewDecision.Reject, body.Comment, body.OverrideReason, caller, ct)));
    }

    public static async Task<Ok<PromotionRequestMessage>> CancelPromotionRequest([FromRoute(Name = "id")] string id, HttpContext http,
        PromotionService promotions, CancellationToken ct)
    {
        var caller = http.Caller();
        var requestId = IdOf(id);
        var body = await V1Api.ReadJsonAsync<CommentBody>(http, ct, emptyIs: new CommentBody(null));
        return TypedResults.Ok(PromotionRequestMessage.Of(await promotions.CancelAsync(requestId, body.Comment, caller, ct)));
    }

    public static async Task<Created<PromotionRequestMessage>> CommentOnPromotionRequest([FromRoute(Name = "id")] string id, HttpContext http,
        PromotionService promotions, CancellationToken ct)
    {
        var caller = http.Caller();
        var requestId = IdOf(id);
        var body = await V1Api.ReadJsonAsync<ThreadBody>(http, ct);
        var view = await promotions.CommentAsync(requestId, body.Body, caller, ct);
        return TypedResults.Created($"{V1Api.Prefix}/promotion-requests/{requestId}", PromotionRequestMessage.Of(view));
    }

    /// <summary>A request's id from the path; anything but a positive integer names no request (404).</summary>
    private static long IdOf(string id) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw MlflowException.NotFound($"No promotion request with id {id}.");

}

// ---- Wire contracts ----------------------------------------------------------------------------------------------

/// <summary>A gate of a policy, as sent and answered.</summary>
/// <param name="Kind">metric (expression over the source run, e.g. <c>metrics.val_accuracy &gt;= 0.95</c>), tag (expression
/// over the version's tags, e.g. <c>tags.validation_status = 'passed'</c>), top_k (metric ranks within the best k versions)
/// or compare (metric not worse than the target's current holder's by more than margin).</param>
/// <param name="HigherIsBetter">For top_k and compare; default true.</param>
/// <param name="Targets">Stages or aliases the gate applies to; empty or absent: every protected target.</param>
public sealed record GateMessage(string? Kind, string? Name, string? Expression, string? Metric, int? K, bool? HigherIsBetter, double? Margin,
    IReadOnlyList<string>? Targets)
{
    public GateSpec ToSpec() => new()
    {
        Kind = Kind ?? "",
        Name = Name,
        Expression = Expression,
        Metric = Metric,
        K = K,
        HigherIsBetter = HigherIsBetter ?? true,
        Margin = Margin,
        Targets = Targets ?? [],
    };

    public static GateMessage Of(GateSpec g) => new(g.Kind, g.Name, g.Expression, g.Metric, g.K,
        g.Kind is GateKind.TopK or GateKind.Compare ? g.HigherIsBetter : null, g.Margin, g.Targets);
}

/// <summary>A policy to set: the whole policy (absent lists are empty; absent required_approvals is 1, approver_role true,
/// direct_change Refuse, expiry_hours never).</summary>
public sealed record PolicyRequest(IReadOnlyList<string>? ProtectedStages, IReadOnlyList<string>? ProtectedAliases, int? RequiredApprovals,
    bool? ApproverRole, IReadOnlyList<string>? ApproverGroups, int? ExpiryHours, string? DirectChange, IReadOnlyList<GateMessage>? Gates)
{
    public PolicyInput ToInput() => new(ProtectedStages, ProtectedAliases, RequiredApprovals, ApproverRole, ApproverGroups, ExpiryHours,
        DirectChange, Gates?.Select(g => g is null ? new GateSpec { Kind = "" } : g.ToSpec()).ToList());
}

/// <param name="Name">The model; absent for the global default.</param>
/// <param name="Inherited">The model has no policy of its own and follows the default (or, without one, nothing is protected).</param>
/// <param name="UpdatedAt">Epoch milliseconds; absent when no policy was ever set.</param>
public sealed record PolicyMessage(string? Name, bool Inherited, IReadOnlyList<string> ProtectedStages, IReadOnlyList<string> ProtectedAliases,
    int RequiredApprovals, bool ApproverRole, IReadOnlyList<string> ApproverGroups, int? ExpiryHours, string DirectChange,
    IReadOnlyList<GateMessage> Gates, long? UpdatedAt, string? UpdatedBy)
{
    public static PolicyMessage Of(PolicyView p) => new(p.ModelName, p.Inherited, p.ProtectedStages, p.ProtectedAliases, p.RequiredApprovals,
        p.ApproverRole, p.ApproverGroups, p.ExpiryHours, p.DirectChange, [.. p.Gates.Select(GateMessage.Of)], p.UpdatedAt, p.UpdatedBy);
}

/// <param name="Label">The gate's name, or what it checks.</param>
/// <param name="Detail">The values it looked at, in words (e.g. <c>val_accuracy 0.962 ≥ 0.95</c>, <c>rank 2 of 5 (top 3)</c>).</param>
public sealed record GateResultMessage(GateMessage Gate, string Label, bool Passed, string Detail)
{
    public static GateResultMessage Of(GateResult r) => new(GateMessage.Of(r.Gate), GateEvaluator.Label(r.Gate), r.Passed, r.Detail);
}

public sealed record GatesResponse(bool Passed, IReadOnlyList<GateResultMessage> Gates);

/// <param name="Version">The version number as a string (as MLflow's registry sends it).</param>
/// <param name="TargetKind">stage or alias.</param>
/// <param name="Target">Staging, Production or Archived (any case), or an alias.</param>
/// <param name="ArchiveExistingVersions">For Staging and Production: archive the versions in that stage when applied.</param>
public sealed record CreatePromotionRequestBody(string? Name, string? Version, string? TargetKind, string? Target, bool? ArchiveExistingVersions,
    string? Comment);

/// <param name="OverrideReason">An Admin approving despite failing gates says why (recorded and audited).</param>
public sealed record ReviewBody(string? Comment, string? OverrideReason);

public sealed record CommentBody(string? Comment);

public sealed record ThreadBody(string? Body);

public sealed record ReviewMessage(string Reviewer, string Decision, string? Comment, long Time);

public sealed record ThreadMessage(long Id, string Author, string Body, long Time);

/// <summary>A promotion request. Times are epoch milliseconds.</summary>
/// <param name="State">Pending, Approved (and applied), Rejected, Cancelled or Expired.</param>
/// <param name="PreviousVersion">Once applied: the version that held the target before.</param>
/// <param name="Gates">As evaluated when the request was made, then at each review.</param>
/// <param name="CanApprove">What the caller may do with it now.</param>
public sealed record PromotionRequestMessage(long Id, string Name, int Version, string TargetKind, string Target, bool ArchiveExistingVersions,
    string State, string RequestedBy, string? Comment, long CreatedAt, long UpdatedAt, long? ExpiresAt, long? ClosedAt, string? ClosedBy,
    int? PreviousVersion, string? OverrideReason, string? OverriddenBy, int Approvals, int RequiredApprovals, bool GatesPassed,
    IReadOnlyList<GateResultMessage> Gates, IReadOnlyList<ReviewMessage> Reviews, IReadOnlyList<ThreadMessage> Comments,
    bool CanApprove, bool CanReject, bool CanCancel, bool CanOverride)
{
    public static PromotionRequestMessage Of(PromotionRequestView v)
    {
        var r = v.Request;
        return new(r.Id, r.ModelName, r.Version, r.TargetKind, r.Target, r.ArchiveExisting, r.State, r.RequestedBy, r.Comment, r.CreatedAt,
            r.UpdatedAt, r.ExpiresAt, r.ClosedAt, r.ClosedBy, r.PreviousVersion, r.OverrideReason, r.OverriddenBy, v.Approvals, v.RequiredApprovals,
            v.GatesPassed, [.. v.Gates.Select(GateResultMessage.Of)],
            [.. r.Reviews.Select(x => new ReviewMessage(x.Reviewer, x.Decision, x.Comment, x.Time))],
            [.. r.Comments.Select(c => new ThreadMessage(c.Id, c.Author, c.Body, c.Time))],
            v.CanApprove, v.CanReject, v.CanCancel, v.CanOverride);
    }
}

/// <param name="NextPageToken">Absent on the last page.</param>
public sealed record PromotionRequestsResponse(IReadOnlyList<PromotionRequestMessage> Requests, string? NextPageToken);

/// <summary>One side of the evidence: a version and its source run's latest metrics and params (empty without a run).</summary>
public sealed record VersionEvidenceMessage(string Name, int Version, string CurrentStage, IReadOnlyList<string> Aliases, string? RunId,
    string? RunName, IReadOnlyDictionary<string, double> Metrics, IReadOnlyDictionary<string, string> Params)
{
    public static VersionEvidenceMessage Of(VersionEvidence e) => new(e.Version.ModelName, e.Version.Version.Version,
        e.Version.Version.CurrentStage, e.Version.Aliases, e.Version.Version.RunId, e.RunName, e.Metrics, e.Params);
}

/// <param name="Holder">The version that holds the target now (or, once applied, held it); absent when none.</param>
public sealed record EvidenceMessage(VersionEvidenceMessage Candidate, VersionEvidenceMessage? Holder, IReadOnlyList<GateResultMessage> Gates)
{
    public static EvidenceMessage Of(PromotionEvidence e) =>
        new(VersionEvidenceMessage.Of(e.Candidate), e.Holder is null ? null : VersionEvidenceMessage.Of(e.Holder), [.. e.Gates.Select(GateResultMessage.Of)]);
}
