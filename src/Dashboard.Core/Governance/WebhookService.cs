using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Search;
using Dashboard.Security;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Governance;

/// <summary>A webhook as lists show it: never its secret, only a hint of its first characters.</summary>
public sealed record WebhookView(
    long Id,
    string Name,
    string Url,
    IReadOnlyList<string> Events,
    string? ModelName,
    bool Enabled,
    string SecretHint,
    long CreatedAt,
    string CreatedBy,
    long UpdatedAt)
{
    public static WebhookView Of(Webhook w) => new(w.Id, w.Name, w.Url, PromotionPolicy.Lines(w.Events), w.ModelName, w.Enabled,
        WebhookService.Hint(w.Secret), w.CreatedAt, w.CreatedBy, w.UpdatedAt);
}

/// <summary>A webhook just made (or whose secret was just rotated), with its secret: the only answer that holds it.</summary>
public sealed record WebhookWithSecret(WebhookView Webhook, string Secret);

/// <summary>
/// What a webhook is created with, or (for an update) changed to: null leaves a field as it is. An empty
/// <see cref="ModelName"/> in an update means every model again. <see cref="Secret"/> on create only (null: generated).
/// </summary>
public sealed record WebhookInput(
    string? Name = null,
    string? Url = null,
    IReadOnlyList<string>? Events = null,
    string? ModelName = null,
    bool? Enabled = null,
    string? Secret = null);

/// <summary>One HTTP attempt of a delivery, as the delivery log shows it.</summary>
public sealed record WebhookAttemptView(int Number, long Time, int? Status, string? Error, int DurationMs);

/// <summary>One delivery of the log, with its attempts (oldest first) and the body it sends.</summary>
public sealed record WebhookDeliveryView(
    long Id,
    long WebhookId,
    string EventId,
    string EventType,
    string State,
    int Attempts,
    long CreatedAt,
    long NextAttemptAt,
    long? DeliveredAt,
    int? LastStatus,
    string? LastError,
    string Payload,
    IReadOnlyList<WebhookAttemptView> AttemptLog);

/// <summary>
/// Webhook subscriptions and their delivery log (issue 7, item 6; docs/adr/0013): Admins only. Every change is audited
/// in its transaction (never with the secret). The events themselves are written by the changes that cause them
/// (<see cref="WebhookOutbox"/>) and sent by <see cref="WebhookDispatch"/>.
/// </summary>
public sealed class WebhookService(IDbContextFactory<DashboardDbContext> dbs, TimeProvider time)
{
    public const int MaxNameLength = 100;
    public const int MaxUrlLength = DashboardDbContext.Lengths.Uri;
    public const int MinSecretLength = 16;
    public const int MaxSecretLength = 256;
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 200;
    public const string SecretPrefix = "whsec_";

    /// <summary>A new secret: <c>whsec_</c> and 32 random bytes in base64url (43 characters).</summary>
    public static string NewSecret() => SecretPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>What lists show of a secret: its first characters (the prefix and 2 more; at most a quarter of it).</summary>
    public static string Hint(string secret)
    {
        var keep = secret.StartsWith(SecretPrefix, StringComparison.Ordinal)
            ? SecretPrefix.Length + 2
            : Math.Min(4, secret.Length / 4);
        return secret[..keep] + "…";
    }

    public async Task<IReadOnlyList<WebhookView>> ListAsync(Caller caller, CancellationToken ct = default)
    {
        RequireAdmin(caller);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var hooks = await db.Webhooks.AsNoTracking().OrderBy(w => w.Id).ToListAsync(ct);
        return [.. hooks.Select(WebhookView.Of)];
    }

    public async Task<WebhookView> GetAsync(long id, Caller caller, CancellationToken ct = default)
    {
        RequireAdmin(caller);
        await using var db = await dbs.CreateDbContextAsync(ct);
        return WebhookView.Of(await db.Webhooks.AsNoTracking().FirstOrDefaultAsync(w => w.Id == id, ct) ?? throw NotFound(id));
    }

    /// <summary>Makes a webhook; its secret (given, or generated) is in this answer and nowhere else.</summary>
    public async Task<WebhookWithSecret> CreateAsync(WebhookInput input, Caller caller, CancellationToken ct = default)
    {
        RequireAdmin(caller);
        var name = ValidName(input.Name ?? throw MlflowException.InvalidParameter("A webhook needs a name."));
        var url = ValidUrl(input.Url ?? throw MlflowException.InvalidParameter("A webhook needs a url."));
        var events = ValidEvents(input.Events ?? ["*"]);
        var model = ValidModelName(input.ModelName);
        var secret = input.Secret is null ? NewSecret() : ValidSecret(input.Secret);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var hook = await dbs.WriteAsync(async db =>
        {
            var w = new Webhook
            {
                Name = name,
                Url = url,
                Events = PromotionPolicy.JoinLines(events),
                ModelName = model,
                Secret = secret,
                Enabled = input.Enabled ?? true,
                CreatedAt = now,
                CreatedBy = caller.Name,
                UpdatedAt = now,
            };
            db.Webhooks.Add(w);
            await db.SaveChangesAsync(ct);
            AuditLog.Add(db, now, caller.Name, AuditActions.WebhookCreated, AuditTargets.Webhook, Target(w), after: Audited(w));
            await db.SaveChangesAsync(ct);
            return w;
        }, ct);
        return new WebhookWithSecret(WebhookView.Of(hook), secret);
    }

    /// <summary>Changes what <paramref name="input"/> gives (its secret is not changed here: see <see cref="RotateSecretAsync"/>).</summary>
    public async Task<WebhookView> UpdateAsync(long id, WebhookInput input, Caller caller, CancellationToken ct = default)
    {
        RequireAdmin(caller);
        if (input.Secret is not null)
        {
            throw MlflowException.InvalidParameter("A webhook's secret is changed by rotate-secret, not by an update.");
        }
        var name = input.Name is null ? null : ValidName(input.Name);
        var url = input.Url is null ? null : ValidUrl(input.Url);
        var events = input.Events is null ? null : ValidEvents(input.Events);
        var model = input.ModelName is null ? null : ValidModelName(input.ModelName);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var hook = await dbs.WriteAsync(async db =>
        {
            var w = await db.Webhooks.FirstOrDefaultAsync(w => w.Id == id, ct) ?? throw NotFound(id);
            var before = Audited(w);
            w.Name = name ?? w.Name;
            w.Url = url ?? w.Url;
            w.Events = events is null ? w.Events : PromotionPolicy.JoinLines(events);
            w.ModelName = input.ModelName is null ? w.ModelName : model;
            w.Enabled = input.Enabled ?? w.Enabled;
            var after = Audited(w);
            if (before != after)
            {
                w.UpdatedAt = now;
                AuditLog.Add(db, now, caller.Name, AuditActions.WebhookUpdated, AuditTargets.Webhook, Target(w), before, after);
                await db.SaveChangesAsync(ct);
            }
            return w;
        }, ct);
        return WebhookView.Of(hook);
    }

    /// <summary>Replaces the secret (with a new generated one); the answer holds it, once. Deliveries not yet sent are signed with it.</summary>
    public async Task<WebhookWithSecret> RotateSecretAsync(long id, Caller caller, CancellationToken ct = default)
    {
        RequireAdmin(caller);
        var secret = NewSecret();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var hook = await dbs.WriteAsync(async db =>
        {
            var w = await db.Webhooks.FirstOrDefaultAsync(w => w.Id == id, ct) ?? throw NotFound(id);
            w.Secret = secret;
            w.UpdatedAt = now;
            AuditLog.Add(db, now, caller.Name, AuditActions.WebhookUpdated, AuditTargets.Webhook, Target(w),
                Audited(w), Audited(w) with { SecretRotated = true }, reason: "secret rotated");
            await db.SaveChangesAsync(ct);
            return w;
        }, ct);
        return new WebhookWithSecret(WebhookView.Of(hook), secret);
    }

    /// <summary>Deletes a webhook with its delivery log; deliveries not yet sent are dropped.</summary>
    public async Task DeleteAsync(long id, Caller caller, CancellationToken ct = default)
    {
        RequireAdmin(caller);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await dbs.WriteAsync(async db =>
        {
            var w = await db.Webhooks.FirstOrDefaultAsync(w => w.Id == id, ct) ?? throw NotFound(id);
            AuditLog.Add(db, now, caller.Name, AuditActions.WebhookDeleted, AuditTargets.Webhook, Target(w), before: Audited(w));
            db.Webhooks.Remove(w);
            await db.SaveChangesAsync(ct);
            return 0;
        }, ct);
    }

    /// <summary>
    /// Queues a <see cref="WebhookEvents.Test"/> event for this webhook alone, due now (a disabled webhook keeps it
    /// until it is enabled). Answers the delivery.
    /// </summary>
    public async Task<WebhookDeliveryView> SendTestAsync(long id, Caller caller, CancellationToken ct = default)
    {
        RequireAdmin(caller);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var delivery = await dbs.WriteAsync(async db =>
        {
            var w = await db.Webhooks.AsNoTracking().FirstOrDefaultAsync(w => w.Id == id, ct) ?? throw NotFound(id);
            var eventId = WebhookOutbox.NewEventId();
            var d = new WebhookDelivery
            {
                WebhookId = w.Id,
                EventId = eventId,
                EventType = WebhookEvents.Test,
                Payload = WebhookOutbox.Payload(eventId, WebhookEvents.Test, now,
                    new TestData(w.Id, w.Name, caller.Name, "A test event sent from Dashboard.")),
                CreatedAt = now,
                NextAttemptAt = now,
            };
            db.WebhookDeliveries.Add(d);
            await db.SaveChangesAsync(ct);
            return d;
        }, ct);
        return View(delivery, []);
    }

    /// <summary>A webhook's deliveries, newest first, keyset-paged, each with its attempts.</summary>
    public async Task<SearchPage<WebhookDeliveryView>> ListDeliveriesAsync(long webhookId, int? maxResults, string? pageToken, Caller caller,
        CancellationToken ct = default)
    {
        RequireAdmin(caller);
        var size = maxResults ?? DefaultPageSize;
        if (size is < 1 or > MaxPageSize)
        {
            throw MlflowException.InvalidParameter($"max_results must be 1 to {MaxPageSize}.");
        }
        var hash = PageToken.Hash("webhook-deliveries", webhookId.ToString(CultureInfo.InvariantCulture));
        var before = PageToken.ReadKeyset(pageToken, hash);
        await using var db = await dbs.CreateDbContextAsync(ct);
        if (!await db.Webhooks.AnyAsync(w => w.Id == webhookId, ct))
        {
            throw NotFound(webhookId);
        }
        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.WebhookId == webhookId);
        if (before is { } b)
        {
            query = query.Where(d => d.Id < b);
        }
        var rows = await query.OrderByDescending(d => d.Id).Take(size + 1).ToListAsync(ct);
        var page = rows.Take(size).ToList();
        var ids = page.Select(d => d.Id).ToList();
        var attempts = (await db.WebhookAttempts.AsNoTracking().Where(a => ids.Contains(a.DeliveryId))
                .OrderBy(a => a.DeliveryId).ThenBy(a => a.Number).ToListAsync(ct))
            .ToLookup(a => a.DeliveryId);
        var next = rows.Count > size ? PageToken.Keyset(page[^1].Id, hash) : null;
        return new SearchPage<WebhookDeliveryView>([.. page.Select(d => View(d, attempts[d.Id]))], next);
    }

    /// <summary>One delivery with its attempts.</summary>
    public async Task<WebhookDeliveryView> GetDeliveryAsync(long deliveryId, Caller caller, CancellationToken ct = default)
    {
        RequireAdmin(caller);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var d = await db.WebhookDeliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deliveryId, ct)
            ?? throw DeliveryNotFound(deliveryId);
        var attempts = await db.WebhookAttempts.AsNoTracking().Where(a => a.DeliveryId == deliveryId).OrderBy(a => a.Number).ToListAsync(ct);
        return View(d, attempts);
    }

    /// <summary>
    /// Sends a Delivered or Failed delivery again: it is Pending and due now, with a fresh retry budget; the same event
    /// id and body (a receiver that deduplicates by <c>Dashboard-Delivery</c> sees a repeat). A Pending one is 409.
    /// </summary>
    public async Task<WebhookDeliveryView> RedeliverAsync(long deliveryId, Caller caller, CancellationToken ct = default)
    {
        RequireAdmin(caller);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await dbs.WriteAsync(async db =>
        {
            var d = await db.WebhookDeliveries.FirstOrDefaultAsync(d => d.Id == deliveryId, ct) ?? throw DeliveryNotFound(deliveryId);
            if (d.State == DeliveryState.Pending)
            {
                throw new MlflowException(ErrorCode.INVALID_STATE, $"Delivery {deliveryId} is still pending: it is sent (or retried) already.");
            }
            d.State = DeliveryState.Pending;
            d.Attempts = 0;
            d.NextAttemptAt = now;
            d.DeliveredAt = null;
            d.LockedUntil = null;
            d.LockedBy = null;
            await db.SaveChangesAsync(ct);
            return 0;
        }, ct);
        return await GetDeliveryAsync(deliveryId, caller, ct);
    }

    internal static string ValidName(string name)
    {
        var trimmed = name.Trim();
        if (trimmed.Length == 0 || trimmed.Length > MaxNameLength)
        {
            throw MlflowException.InvalidParameter($"A webhook's name must be 1 to {MaxNameLength} characters.");
        }
        if (trimmed.Any(char.IsControl))
        {
            throw MlflowException.InvalidParameter("A webhook's name cannot hold control characters.");
        }
        return trimmed;
    }

    internal static string ValidUrl(string url)
    {
        var text = url.Trim();
        if (text.Length == 0 || text.Length > MaxUrlLength)
        {
            throw MlflowException.InvalidParameter($"A webhook's url must be 1 to {MaxUrlLength} characters.");
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host))
        {
            throw MlflowException.InvalidParameter("A webhook's url must be an absolute http:// or https:// URL.");
        }
        if (uri.UserInfo.Length > 0)
        {
            // Credentials in a URL end up in logs and lists; the signature is how a receiver authenticates us.
            throw MlflowException.InvalidParameter("A webhook's url cannot hold a user name or password.");
        }
        if (uri.Fragment.Length > 0 || text.Contains('#', StringComparison.Ordinal))
        {
            throw MlflowException.InvalidParameter("A webhook's url cannot have a fragment (#...): it is never sent.");
        }
        return text;
    }

    internal static IReadOnlyList<string> ValidEvents(IReadOnlyList<string> events)
    {
        if (events.Count == 0)
        {
            throw MlflowException.InvalidParameter("A webhook needs at least one event (or \"*\" for all).");
        }
        var result = new List<string>();
        foreach (var e in events)
        {
            var name = e?.Trim() ?? "";
            if (name != "*" && !WebhookEvents.All.Contains(name, StringComparer.Ordinal))
            {
                throw MlflowException.InvalidParameter(
                    $"Unknown webhook event '{Shorten(name)}'. Events: {string.Join(", ", WebhookEvents.All)}, or \"*\" for all.");
            }
            if (!result.Contains(name, StringComparer.Ordinal))
            {
                result.Add(name);
            }
        }
        return result.Contains("*") ? ["*"] : result;
    }

    private static string? ValidModelName(string? modelName)
    {
        var name = modelName?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }
        if (name.Length > DashboardDbContext.Lengths.RegisteredModelName)
        {
            throw MlflowException.InvalidParameter(
                $"model_name must be at most {DashboardDbContext.Lengths.RegisteredModelName} characters.");
        }
        return name;
    }

    internal static string ValidSecret(string secret)
    {
        if (secret.Length is < MinSecretLength or > MaxSecretLength)
        {
            throw MlflowException.InvalidParameter($"A webhook's secret must be {MinSecretLength} to {MaxSecretLength} characters.");
        }
        if (secret.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            throw MlflowException.InvalidParameter("A webhook's secret cannot hold spaces or control characters.");
        }
        return secret;
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";

    private static void RequireAdmin(Caller caller)
    {
        if (!caller.IsAdmin)
        {
            throw new MlflowException(ErrorCode.PERMISSION_DENIED, "Only an Admin may manage webhooks.");
        }
    }

    private static MlflowException NotFound(long id) => new(ErrorCode.RESOURCE_DOES_NOT_EXIST, $"No webhook with id {id}.");

    private static MlflowException DeliveryNotFound(long id) => new(ErrorCode.RESOURCE_DOES_NOT_EXIST, $"No webhook delivery with id {id}.");

    private static string Target(Webhook w) => w.Id.ToString(CultureInfo.InvariantCulture);

    /// <summary>What the audit trail keeps of a webhook: everything but its secret.</summary>
    private static AuditedWebhook Audited(Webhook w) =>
        new(w.Name, w.Url, PromotionPolicy.JoinLines(PromotionPolicy.Lines(w.Events)).Replace('\n', ','), w.ModelName, w.Enabled);

    private static WebhookDeliveryView View(WebhookDelivery d, IEnumerable<WebhookAttempt> attempts) => new(d.Id, d.WebhookId, d.EventId,
        d.EventType, d.State, d.Attempts, d.CreatedAt, d.NextAttemptAt, d.DeliveredAt, d.LastStatus, d.LastError, d.Payload,
        [.. attempts.Select(a => new WebhookAttemptView(a.Number, a.Time, a.Status, a.Error, a.DurationMs))]);

    private sealed record AuditedWebhook(string Name, string Url, string Events, string? ModelName, bool Enabled, bool? SecretRotated = null);

    private sealed record TestData(long WebhookId, string WebhookName, string SentBy, string Message);
}
