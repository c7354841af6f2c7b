using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Data;
using Dashboard.Registry;
using Dashboard.Secrets;

namespace Dashboard.Governance;

/// <summary>
/// One entry of the audit trail (issue 7, docs/adr/0013): who did what to which target, when, with the state before
/// and after as JSON. Append-only: no code path updates or deletes a row. It keeps names and ids without foreign keys,
/// so it outlives what it describes (a deleted model, a revoked token, a removed grant).
/// </summary>
public sealed class AuditEvent
{
    public long Id { get; set; }

    /// <summary>Epoch milliseconds.</summary>
    public long Time { get; set; }

    public required string Actor { get; set; }

    /// <summary>What happened, as <c>target_type.verb</c> (<see cref="AuditActions"/>).</summary>
    public required string Action { get; set; }

    /// <summary>The kind of thing changed (<see cref="AuditTargets"/>).</summary>
    public required string TargetType { get; set; }

    /// <summary>Which one, readable: a model's name, <c>name/version</c>, an experiment id, a token's id, a request's id.</summary>
    public required string Target { get; set; }

    /// <summary>The registered model concerned, when there is one: the model timeline reads by it.</summary>
    public long? RegisteredModelId { get; set; }

    public string? ModelName { get; set; }

    public int? Version { get; set; }

    /// <summary>The promotion request this change belongs to (its creation, reviews, and the change it applied).</summary>
    public long? RequestId { get; set; }

    /// <summary>The state before, as JSON (null for a creation).</summary>
    public string? Before { get; set; }

    /// <summary>The state after, as JSON (null for a deletion).</summary>
    public string? After { get; set; }

    /// <summary>Why, when someone said: a request's or review's comment, an override's reason.</summary>
    public string? Reason { get; set; }
}

/// <summary>The kinds of target an <see cref="AuditEvent"/> names.</summary>
public static class AuditTargets
{
    public const string RegisteredModel = "registered_model";
    public const string ModelVersion = "model_version";
    public const string Alias = "alias";
    public const string PromotionRequest = "promotion_request";
    public const string PromotionPolicy = "promotion_policy";
    public const string ExperimentPermission = "experiment_permission";
    public const string RegisteredModelPermission = "registered_model_permission";
    public const string AccessToken = "access_token";
    public const string ServiceAccount = "service_account";
    public const string Webhook = "webhook";
}

/// <summary>The actions the audit trail records. New ones follow the <c>target.verb</c> pattern.</summary>
public static class AuditActions
{
    public const string ModelCreated = "registered_model.created";
    public const string ModelRenamed = "registered_model.renamed";
    public const string ModelUpdated = "registered_model.updated";
    public const string ModelDeleted = "registered_model.deleted";
    public const string ModelTagSet = "registered_model.tag_set";
    public const string ModelTagDeleted = "registered_model.tag_deleted";
    public const string VersionCreated = "model_version.created";
    public const string VersionUpdated = "model_version.updated";
    public const string VersionDeleted = "model_version.deleted";
    public const string VersionTagSet = "model_version.tag_set";
    public const string VersionTagDeleted = "model_version.tag_deleted";
    public const string StageChanged = "model_version.stage_changed";
    public const string AliasSet = "alias.set";
    public const string AliasDeleted = "alias.deleted";

    public const string RequestCreated = "promotion_request.created";
    public const string RequestApproved = "promotion_request.approved";
    public const string RequestRejected = "promotion_request.rejected";
    public const string RequestCancelled = "promotion_request.cancelled";
    public const string RequestExpired = "promotion_request.expired";
    /// <summary>One approval recorded (the request may need more before it is approved).</summary>
    public const string RequestReviewed = "promotion_request.reviewed";
    public const string RequestApplied = "promotion_request.applied";
    public const string RequestCommented = "promotion_request.commented";
    public const string GateOverridden = "promotion_request.gate_overridden";
    public const string PolicySet = "promotion_policy.set";
    public const string PolicyDeleted = "promotion_policy.deleted";
    /// <summary>A direct stage or alias change to a protected target was refused (or turned into a request).</summary>
    public const string DirectChangeRefused = "promotion_policy.direct_change_refused";

    public const string PermissionCreated = "permission.created";
    public const string PermissionUpdated = "permission.updated";
    public const string PermissionDeleted = "permission.deleted";
    public const string TokenCreated = "access_token.created";
    public const string TokenRevoked = "access_token.revoked";
    public const string ServiceAccountCreated = "service_account.created";

    public const string WebhookCreated = "webhook.created";
    public const string WebhookUpdated = "webhook.updated";
    public const string WebhookDeleted = "webhook.deleted";
}

/// <summary>
/// Writes audit events into the caller's unit of work, so an event is stored if and only if the change it describes
/// is (same transaction). The actor defaults to the ambient one of the request (<see cref="AmbientActor"/>).
/// </summary>
public static class AuditLog
{
    /// <summary>Who an event names when no request or circuit set an actor (workers, the demo seeder).</summary>
    public const string SystemActor = "system";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The longest before/after JSON kept; longer states are cut (the change itself is valid).</summary>
    public const int MaxStateLength = 16000;

    /// <summary>Serializes a state for <see cref="AuditEvent.Before"/> / <see cref="AuditEvent.After"/> (snake_case JSON).</summary>
    public static string? State(object? state)
    {
        if (state is null)
        {
            return null;
        }
        var json = state as string ?? JsonSerializer.Serialize(state, state.GetType(), Json);
        return json.Length <= MaxStateLength ? json : json[..MaxStateLength];
    }

    /// <summary>Adds an event to <paramref name="db"/>; the caller's SaveChanges stores it with the change.</summary>
    public static AuditEvent Add(DashboardDbContext db, long time, string? actor, string action, string targetType, string target,
        object? before = null, object? after = null, long? modelId = null, string? modelName = null, int? version = null,
        long? requestId = null, string? reason = null)
    {
        var who = actor ?? AmbientActor.Current ?? SystemActor;
        var e = new AuditEvent
        {
            Time = time,
            Actor = who.Length <= Registry.Actor.MaxLength ? who : who[..Registry.Actor.MaxLength],
            Action = action,
            TargetType = targetType,
            Target = target.Length <= 500 ? target : target[..500],
            RegisteredModelId = modelId,
            ModelName = modelName,
            Version = version,
            RequestId = requestId,
            Before = State(before),
            After = State(after),
            Reason = reason is { Length: > 5000 } ? reason[..5000] : reason,
        };
        db.AuditEvents.Add(e);
        return e;
    }
}
