using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dashboard.Governance;

/// <summary>The states of a <see cref="PromotionRequest"/>. Pending is the only open one; the others are final.</summary>
public static class PromotionState
{
    public const string Pending = "Pending";
    /// <summary>Approved by enough people and applied to the registry in the same transaction.</summary>
    public const string Approved = "Approved";
    public const string Rejected = "Rejected";
    public const string Cancelled = "Cancelled";
    public const string Expired = "Expired";

    public static readonly IReadOnlyList<string> All = [Pending, Approved, Rejected, Cancelled, Expired];
}

/// <summary>What a request promotes to: a stage (Staging, Production, Archived) or an alias (e.g. champion).</summary>
public static class PromotionTargetKind
{
    public const string Stage = "stage";
    public const string Alias = "alias";
}

/// <summary>
/// A request to move a model version to a stage or to point an alias at it (issue 7, docs/adr/0013). Created Pending
/// with a comment; reviewed by approvers; Approved when the policy's count of distinct approvals is reached, which
/// applies the change in the same transaction; or Rejected, Cancelled (by its requester) or Expired. Every other
/// transition is refused. The model is kept by id and name, so the request outlives a rename.
/// </summary>
public sealed class PromotionRequest
{
    public long Id { get; set; }
    public long RegisteredModelId { get; set; }
    public required string ModelName { get; set; }
    public int Version { get; set; }

    /// <summary><see cref="PromotionTargetKind"/>.</summary>
    public required string TargetKind { get; set; }

    /// <summary>The stage (canonical case) or the alias.</summary>
    public required string Target { get; set; }

    /// <summary>For a stage: archive the versions that hold it when the request is applied.</summary>
    public bool ArchiveExisting { get; set; }

    public string State { get; set; } = PromotionState.Pending;

    public required string RequestedBy { get; set; }
    public string? Comment { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }

    /// <summary>When a Pending request becomes Expired (the policy's expiry), or null for never.</summary>
    public long? ExpiresAt { get; set; }

    /// <summary>When it left Pending, and who made it leave (the last approver, the rejecter, the requester; "system" on expiry).</summary>
    public long? ClosedAt { get; set; }
    public string? ClosedBy { get; set; }

    /// <summary>The version that held the target when the request was applied (an alias's previous version, or the archived holder).</summary>
    public int? PreviousVersion { get; set; }

    /// <summary>The gate results as JSON (a list of <see cref="GateResult"/>): at creation, then as evaluated at each review.</summary>
    public string? GateResults { get; set; }

    /// <summary>Set when an Admin approved despite failing gates: the reason they gave, and who they are.</summary>
    public string? OverrideReason { get; set; }
    public string? OverriddenBy { get; set; }

    public List<PromotionReview> Reviews { get; set; } = [];
    public List<PromotionComment> Comments { get; set; } = [];
}

/// <summary>The decisions of a review.</summary>
public static class ReviewDecision
{
    public const string Approve = "approve";
    public const string Reject = "reject";
}

/// <summary>One person's approval or rejection of a request, with their comment. At most one per person and request.</summary>
public sealed class PromotionReview
{
    public long Id { get; set; }
    public long RequestId { get; set; }
    public required string Reviewer { get; set; }
    public required string Decision { get; set; }
    public string? Comment { get; set; }
    public long Time { get; set; }
}

/// <summary>A message of a request's thread.</summary>
public sealed class PromotionComment
{
    public long Id { get; set; }
    public long RequestId { get; set; }
    public required string Author { get; set; }
    public required string Body { get; set; }
    public long Time { get; set; }
}

/// <summary>What a direct (MLflow or UI) change to a protected target does for someone who may not approve.</summary>
public static class DirectChangeMode
{
    /// <summary>403 PERMISSION_DENIED with a message pointing to the request flow.</summary>
    public const string Refuse = "Refuse";
    /// <summary>Opens a promotion request for the change, then answers 403 naming it.</summary>
    public const string Request = "Request";
}

/// <summary>
/// The promotion rules of one registered model, or the global default (<see cref="RegisteredModelId"/> null; at most
/// one). A model without its own policy follows the default; without a default nothing is protected.
/// Lists are stored one item per line.
/// </summary>
public sealed class PromotionPolicy
{
    public long Id { get; set; }
    public long? RegisteredModelId { get; set; }

    /// <summary>Stages that only a request (or an approver) may move a version into or out of.</summary>
    public string ProtectedStages { get; set; } = "";

    /// <summary>Aliases that only a request (or an approver) may set, move or delete.</summary>
    public string ProtectedAliases { get; set; } = "";

    /// <summary>Distinct approvals a request needs (1 or more).</summary>
    public int RequiredApprovals { get; set; } = 1;

    /// <summary>Whether people with the Approver role (or Admin) may approve.</summary>
    public bool ApproverRole { get; set; } = true;

    /// <summary>Groups whose members may approve, in addition to (or, without the role, instead of) Approvers.</summary>
    public string ApproverGroups { get; set; } = "";

    /// <summary>Hours after which a Pending request expires; null for never.</summary>
    public int? ExpiryHours { get; set; }

    /// <summary><see cref="DirectChangeMode"/>.</summary>
    public string DirectChange { get; set; } = DirectChangeMode.Refuse;

    /// <summary>The gates, as JSON (a list of <see cref="GateSpec"/>).</summary>
    public string Gates { get; set; } = "[]";

    public long UpdatedAt { get; set; }
    public required string UpdatedBy { get; set; }

    public static IReadOnlyList<string> Lines(string? text) =>
        string.IsNullOrEmpty(text) ? [] : text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static string JoinLines(IEnumerable<string>? items) =>
        items is null ? "" : string.Join('\n', items.Select(i => i.Trim()).Where(i => i.Length > 0).Distinct(StringComparer.Ordinal));
}

/// <summary>The kinds of gate (issue 7, item 3).</summary>
public static class GateKind
{
    /// <summary><see cref="GateSpec.Expression"/> in MLflow's filter syntax over the source run, e.g. <c>metrics.val_accuracy &gt;= 0.95</c>.</summary>
    public const string Metric = "metric";
    /// <summary>The version's run's <see cref="GateSpec.Metric"/> ranks within the best <see cref="GateSpec.K"/> versions of the model.</summary>
    public const string TopK = "top_k";
    /// <summary><see cref="GateSpec.Expression"/> over the version's tags, e.g. <c>tags.validation_status = 'passed'</c>.</summary>
    public const string Tag = "tag";
    /// <summary>The version's <see cref="GateSpec.Metric"/> is not worse than the target's current holder's by more than <see cref="GateSpec.Margin"/>.</summary>
    public const string Compare = "compare";

    public static readonly IReadOnlyList<string> All = [Metric, TopK, Tag, Compare];
}

/// <summary>
/// One gate of a policy. <see cref="Targets"/> limits it to some stages or aliases (empty: every protected target).
/// <see cref="HigherIsBetter"/> orders <see cref="Metric"/> for top-K and compare.
/// </summary>
public sealed record GateSpec
{
    public required string Kind { get; init; }
    public string? Name { get; init; }
    public string? Expression { get; init; }
    public string? Metric { get; init; }
    public int? K { get; init; }
    public bool HigherIsBetter { get; init; } = true;
    public double? Margin { get; init; }
    public IReadOnlyList<string> Targets { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static IReadOnlyList<GateSpec> Parse(string? json) =>
        string.IsNullOrWhiteSpace(json) ? [] : JsonSerializer.Deserialize<List<GateSpec>>(json, Json) ?? [];

    public static string Serialize(IReadOnlyList<GateSpec> gates) => JsonSerializer.Serialize(gates, Json);
}

/// <summary>The outcome of one gate for one version: passed or not, with the values it looked at, in words.</summary>
public sealed record GateResult(GateSpec Gate, bool Passed, string Detail)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static IReadOnlyList<GateResult> Parse(string? json) =>
        string.IsNullOrWhiteSpace(json) ? [] : JsonSerializer.Deserialize<List<GateResult>>(json, Json) ?? [];

    public static string Serialize(IReadOnlyList<GateResult> results) => JsonSerializer.Serialize(results, Json);
}
