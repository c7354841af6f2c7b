using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Search;
using Dashboard.Security;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Governance;

/// <summary>
/// Which audit events to find. Every field is optional; they combine with AND.
/// </summary>
/// <param name="Action">An action (<c>promotion_request.approved</c>), or a prefix ending in a dot (<c>promotion_request.</c>).</param>
/// <param name="ModelName">The registered model: events that named it, and every event of the model that now has this name.</param>
/// <param name="From">Epoch milliseconds, inclusive.</param>
/// <param name="To">Epoch milliseconds, exclusive.</param>
/// <param name="Text">Found anywhere in the target, without regard to case.</param>
public sealed record AuditQuery(
    string? Actor = null,
    string? Action = null,
    string? TargetType = null,
    string? ModelName = null,
    int? Version = null,
    long? RequestId = null,
    long? From = null,
    long? To = null,
    string? Text = null,
    int? MaxResults = null,
    string? PageToken = null);

/// <summary>
/// One audit event as the API, the exports and the Audit page show it. <see cref="Before"/> and <see cref="After"/> are the
/// stored JSON states as JSON values (a string when a state was too long and was cut when it was recorded).
/// </summary>
/// <param name="Time">Epoch milliseconds.</param>
public sealed record AuditEventView(
    long Id,
    long Time,
    string Actor,
    string Action,
    string TargetType,
    string Target,
    string? ModelName,
    int? Version,
    long? RequestId,
    JsonElement? Before,
    JsonElement? After,
    string? Reason)
{
    public static AuditEventView Of(AuditEvent e) =>
        new(e.Id, e.Time, e.Actor, e.Action, e.TargetType, e.Target, e.ModelName, e.Version, e.RequestId, Json(e.Before), Json(e.After), e.Reason);

    private static JsonElement? Json(string? text)
    {
        if (text is null)
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(text);
        }
    }
}

/// <summary>An export's rows and whether the cap cut it: <see cref="Rows"/> yields at most <see cref="Limit"/> events, newest first.</summary>
public sealed record AuditExport(int Limit, bool Truncated, IAsyncEnumerable<AuditEvent> Rows);

/// <summary>
/// Reads the audit trail (issue 7, item 5; docs/adr/0013): a search newest first with filters and keyset paging, a
/// streamed export with the same filters, and the promotion timeline of a model. All filtering happens in SQL.
/// Admins and Approvers see every event; anyone else only the events of registered models they may read (events
/// without a model, such as token and experiment-permission changes, are hidden from them).
/// </summary>
public sealed partial class AuditService(IDbContextFactory<DashboardDbContext> dbs, PermissionService permissions)
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;
    public const int MaxTextLength = 500;

    /// <summary>The most rows one export holds (the answer says when it was cut).</summary>
    public int ExportLimit { get; init; } = 100_000;

    /// <summary>Rows read per query while an export streams.</summary>
    public int ExportBatch { get; init; } = 1000;

    /// <summary>Whether a caller sees every event (Admin, Approver) rather than only those of models they may read.</summary>
    public static bool SeesEverything(Caller caller) => caller.Role >= DashboardRole.Approver;

    /// <summary>One page of events, newest first.</summary>
    public async Task<SearchPage<AuditEvent>> SearchAsync(AuditQuery query, Caller caller, CancellationToken ct = default)
    {
        var size = query.MaxResults ?? DefaultPageSize;
        if (size is < 1 or > MaxPageSize)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid value {size} for parameter 'max_results' supplied: it must be between 1 and {MaxPageSize}.");
        }
        Validate(query);
        var hash = QueryHash(query);
        var before = PageToken.ReadKeyset(query.PageToken, hash);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var events = await FilterAsync(db, query, caller, ct);
        if (before is { } b)
        {
            events = events.Where(e => e.Id < b);
        }
        var rows = await events.OrderByDescending(e => e.Id).Take(size + 1).ToListAsync(ct);
        var next = rows.Count > size ? PageToken.Keyset(rows[size - 1].Id, hash) : null;
        return new SearchPage<AuditEvent>([.. rows.Take(size)], next);
    }

    /// <summary>
    /// An export of the events the filters select (the page token and size are ignored), newest first, at most
    /// <see cref="ExportLimit"/>. The filters are checked now (a bad one throws before anything streams); the rows are
    /// those present now (later events are not included) and are read in batches as they are enumerated.
    /// </summary>
    public async Task<AuditExport> ExportAsync(AuditQuery query, Caller caller, CancellationToken ct = default)
    {
        Validate(query);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var events = await FilterAsync(db, query, caller, ct);
        var newest = await db.AuditEvents.MaxAsync(e => (long?)e.Id, ct) ?? 0;
        var truncated = await events.Where(e => e.Id <= newest).OrderByDescending(e => e.Id).Skip(ExportLimit).AnyAsync(ct);
        return new AuditExport(ExportLimit, truncated, StreamAsync(query, caller, newest, CancellationToken.None));
    }

    private async IAsyncEnumerable<AuditEvent> StreamAsync(AuditQuery query, Caller caller, long newest,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var left = ExportLimit;
        var below = newest + 1;
        while (left > 0)
        {
            List<AuditEvent> batch;
            // A context per batch: a long download does not hold one connection for its whole length.
            await using (var db = await dbs.CreateDbContextAsync(ct))
            {
                var events = await FilterAsync(db, query, caller, ct);
                var bound = below;
                batch = await events.AsNoTracking().Where(e => e.Id < bound).OrderByDescending(e => e.Id)
                    .Take(Math.Min(ExportBatch, left)).ToListAsync(ct);
            }
            foreach (var e in batch)
            {
                yield return e;
            }
            if (batch.Count < Math.Min(ExportBatch, left))
            {
                yield break;
            }
            left -= batch.Count;
            below = batch[^1].Id;
        }
    }

    /// <summary>The events the filters and the caller's visibility select, as a query (no order, no page).</summary>
    private async Task<IQueryable<AuditEvent>> FilterAsync(DashboardDbContext db, AuditQuery query, Caller caller, CancellationToken ct)
    {
        var events = db.AuditEvents.AsNoTracking();
        if (!SeesEverything(caller))
        {
            var readable = permissions.ScopeOf(caller).RegisteredModelIds(db);
            events = events.Where(e => e.RegisteredModelId != null && readable.Contains(e.RegisteredModelId.Value));
        }
        if (!string.IsNullOrEmpty(query.Actor))
        {
            events = events.Where(e => e.Actor == query.Actor);
        }
        if (!string.IsNullOrEmpty(query.Action))
        {
            if (query.Action.EndsWith('.'))
            {
                var prefix = query.Action;
                // The action's characters are letters, '_' and '.', none of them special to LIKE except '_', which
                // StartsWith escapes in its translation.
                events = events.Where(e => e.Action.StartsWith(prefix));
            }
            else
            {
                events = events.Where(e => e.Action == query.Action);
            }
        }
        if (!string.IsNullOrEmpty(query.TargetType))
        {
            events = events.Where(e => e.TargetType == query.TargetType);
        }
        if (!string.IsNullOrEmpty(query.ModelName))
        {
            var name = query.ModelName;
            var id = await db.RegisteredModels.Where(m => m.Name == name).Select(m => (long?)m.Id).FirstOrDefaultAsync(ct);
            events = id is { } modelId
                ? events.Where(e => e.ModelName == name || e.RegisteredModelId == modelId)
                : events.Where(e => e.ModelName == name);
        }
        if (query.Version is { } version)
        {
            events = events.Where(e => e.Version == version);
        }
        if (query.RequestId is { } requestId)
        {
            events = events.Where(e => e.RequestId == requestId);
        }
        if (query.From is { } from)
        {
            events = events.Where(e => e.Time >= from);
        }
        if (query.To is { } to)
        {
            events = events.Where(e => e.Time < to);
        }
        if (!string.IsNullOrEmpty(query.Text))
        {
            var text = query.Text.ToLowerInvariant();
            // ToLower on both sides translates to SQL lower() on every provider (a StringComparison would not translate).
#pragma warning disable CA1862
            events = events.Where(e => e.Target.ToLower().Contains(text));
#pragma warning restore CA1862
        }
        return events;
    }

    // ---- Validation ----------------------------------------------------------------------------------------------

    [GeneratedRegex(@"^[a-z_]+(\.[a-z_]*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex ActionShape();

    [GeneratedRegex(@"^[a-z_]+$", RegexOptions.CultureInvariant)]
    private static partial Regex TargetTypeShape();

    /// <summary>Refuses filters that cannot select anything sensible (INVALID_PARAMETER_VALUE, naming the parameter).</summary>
    public static void Validate(AuditQuery query)
    {
        if (query.Actor is { Length: > Registry.Actor.MaxLength })
        {
            throw MlflowException.InvalidParameter($"'actor' exceeds the maximum length of {Registry.Actor.MaxLength} characters.");
        }
        if (query.Action is { Length: > 0 } action && (action.Length > 64 || !ActionShape().IsMatch(action)))
        {
            throw MlflowException.InvalidParameter(
                "'action' must be an action such as 'promotion_request.approved', or a prefix ending in a dot such as 'promotion_request.'.");
        }
        if (query.TargetType is { Length: > 0 } type && (type.Length > 32 || !TargetTypeShape().IsMatch(type)))
        {
            throw MlflowException.InvalidParameter("'target_type' must be a target type such as 'model_version' or 'access_token'.");
        }
        if (query.ModelName is { Length: > DashboardDbContext.Lengths.RegisteredModelName })
        {
            throw MlflowException.InvalidParameter($"'name' exceeds the maximum length of {DashboardDbContext.Lengths.RegisteredModelName} characters.");
        }
        if (query.Version is < 1)
        {
            throw MlflowException.InvalidParameter("'version' must be a positive integer.");
        }
        if (query.RequestId is < 1)
        {
            throw MlflowException.InvalidParameter("'request_id' must be a positive integer.");
        }
        if (query is { From: { } from, To: { } to } && from >= to)
        {
            throw MlflowException.InvalidParameter("'from' must be earlier than 'to'.");
        }
        if (query.Text is { Length: > MaxTextLength })
        {
            throw MlflowException.InvalidParameter($"'q' exceeds the maximum length of {MaxTextLength} characters.");
        }
    }

    /// <summary>
    /// A time filter: epoch milliseconds, or an ISO 8601 date or date and time (UTC unless it names an offset).
    /// Null or empty is no filter; anything else throws INVALID_PARAMETER_VALUE naming <paramref name="parameter"/>.
    /// </summary>
    public static long? ParseTime(string? text, string parameter)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        text = text.Trim();
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
        {
            return ms <= 253402300799999 ? ms : throw BadTime(parameter, text);
        }
        if (text.Length is >= 10 and <= 40 && char.IsAsciiDigit(text[0])
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
                out var time))
        {
            return time.ToUnixTimeMilliseconds();
        }
        throw BadTime(parameter, text);
    }

    private static MlflowException BadTime(string parameter, string text) =>
        MlflowException.InvalidParameter(
            $"Invalid value '{(text.Length <= 40 ? text : text[..40] + "…")}' for parameter '{parameter}': give epoch milliseconds or an ISO 8601 " +
            "date or date and time, e.g. 2026-11-28 or 2026-11-28T09:30:00Z.");

    // ---- Page tokens ---------------------------------------------------------------------------------------------
    // base64url of {"b": last id of the page, "q": hash of the filters}: keyset paging (a page never repeats or skips an
    // event written meanwhile), and a token used with other filters is refused.

    private static string QueryHash(AuditQuery q) => PageToken.Hash("audit", q.Actor, q.Action, q.TargetType, q.ModelName,
        q.Version?.ToString(CultureInfo.InvariantCulture), q.RequestId?.ToString(CultureInfo.InvariantCulture),
        q.From?.ToString(CultureInfo.InvariantCulture), q.To?.ToString(CultureInfo.InvariantCulture), q.Text);
}
