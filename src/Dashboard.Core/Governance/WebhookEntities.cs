using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Data;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Governance;

/// <summary>
/// A webhook subscription (issue 7, item 6): where to POST which events, signed with its secret. The secret is kept
/// as given (it must be read to sign), shown in full only when created; see docs/adr/0013.
/// </summary>
public sealed class Webhook
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public required string Url { get; set; }

    /// <summary>The event types it receives, one per line (<see cref="WebhookEvents"/>); <c>*</c> for all.</summary>
    public string Events { get; set; } = "*";

    /// <summary>Only events of this registered model; null for every model.</summary>
    public string? ModelName { get; set; }

    public required string Secret { get; set; }
    public bool Enabled { get; set; } = true;
    public long CreatedAt { get; set; }
    public required string CreatedBy { get; set; }
    public long UpdatedAt { get; set; }

    public bool Receives(string eventType, string? modelName) =>
        Enabled
        && (ModelName is null || modelName is null || string.Equals(ModelName, modelName, StringComparison.Ordinal))
        && PromotionPolicy.Lines(Events) is var events
        && (events.Contains("*") || events.Contains(eventType));
}

/// <summary>The event types webhooks announce (the <c>type</c> of a payload).</summary>
public static class WebhookEvents
{
    public const string VersionCreated = "model_version.created";
    public const string StageChanged = "model_version.stage_changed";
    public const string AliasChanged = "model_version.alias_changed";
    public const string RequestCreated = "promotion_request.created";
    public const string RequestApproved = "promotion_request.approved";
    public const string RequestRejected = "promotion_request.rejected";
    /// <summary>Sent to one webhook by "send test"; never fanned out.</summary>
    public const string Test = "webhook.test";

    public static readonly IReadOnlyList<string> All = [VersionCreated, StageChanged, AliasChanged, RequestCreated, RequestApproved, RequestRejected];
}

/// <summary>The states of a <see cref="WebhookDelivery"/>.</summary>
public static class DeliveryState
{
    public const string Pending = "Pending";
    public const string Delivered = "Delivered";
    /// <summary>Gave up after the last retry; "Redeliver" makes it Pending again. (Deleting a webhook deletes its deliveries.)</summary>
    public const string Failed = "Failed";
}

/// <summary>
/// One event for one webhook: the outbox row. Written in the transaction of the change it announces
/// (<see cref="WebhookOutbox"/>), so an event exists if and only if its change was committed; the dispatcher claims due
/// rows (<see cref="LockedUntil"/>, any replica), POSTs them, and records each attempt.
/// </summary>
public sealed class WebhookDelivery
{
    public long Id { get; set; }
    public long WebhookId { get; set; }

    /// <summary>The event's id (a GUID without dashes): the same in every webhook's delivery of one event, and in retries.</summary>
    public required string EventId { get; set; }
    public required string EventType { get; set; }

    /// <summary>The JSON body, exactly as sent and signed.</summary>
    public required string Payload { get; set; }

    public long CreatedAt { get; set; }
    public string State { get; set; } = DeliveryState.Pending;
    public int Attempts { get; set; }
    public long NextAttemptAt { get; set; }
    public long? DeliveredAt { get; set; }
    public int? LastStatus { get; set; }
    public string? LastError { get; set; }

    /// <summary>A dispatcher's claim: until then no other one takes the row.</summary>
    public long? LockedUntil { get; set; }
    public string? LockedBy { get; set; }
}

/// <summary>One HTTP attempt of a delivery: the delivery log.</summary>
public sealed class WebhookAttempt
{
    public long Id { get; set; }
    public long DeliveryId { get; set; }
    public int Number { get; set; }
    public long Time { get; set; }
    public int? Status { get; set; }
    public string? Error { get; set; }
    public int DurationMs { get; set; }
}

/// <summary>
/// Writes events into the outbox inside the caller's transaction: one <see cref="WebhookDelivery"/> per enabled webhook
/// that receives the event. The body is built here, once, so every receiver gets the same bytes.
/// </summary>
public static class WebhookOutbox
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The body of an event: <c>{"id", "type", "time", "data"}</c> with <paramref name="data"/> in snake_case.</summary>
    public static string Payload(string eventId, string type, long time, object data) =>
        JsonSerializer.Serialize(new EventEnvelope(eventId, type, time, data), Json);

    public static string NewEventId() => Guid.NewGuid().ToString("N");

    /// <summary>Adds the event's deliveries to <paramref name="db"/> (saved by the caller's SaveChanges). Answers how many.</summary>
    public static async Task<int> EnqueueAsync(DashboardDbContext db, string type, string? modelName, object data, long now,
        CancellationToken ct)
    {
        // Webhooks are few; reading them in the transaction keeps a subscription made a moment ago in the fan-out.
        var hooks = await db.Webhooks.AsNoTracking().Where(w => w.Enabled).ToListAsync(ct);
        var receivers = hooks.Where(w => w.Receives(type, modelName)).ToList();
        if (receivers.Count == 0)
        {
            return 0;
        }
        var id = NewEventId();
        var payload = Payload(id, type, now, data);
        foreach (var hook in receivers)
        {
            db.WebhookDeliveries.Add(new WebhookDelivery
            {
                WebhookId = hook.Id,
                EventId = id,
                EventType = type,
                Payload = payload,
                CreatedAt = now,
                NextAttemptAt = now,
            });
        }
        return receivers.Count;
    }

    private sealed record EventEnvelope(string Id, string Type, long Time, object Data);
}
