using System.Globalization;
using System.Text.Json;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Security;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Governance;

/// <summary>The kinds of <see cref="TimelineEntry"/>.</summary>
public static class TimelineKinds
{
    /// <summary>An approved request applied: a version moved to a stage, or an alias moved to it.</summary>
    public const string Promoted = "promoted";
    public const string RequestPending = "request_pending";
    public const string RequestRejected = "request_rejected";
    public const string RequestCancelled = "request_cancelled";
    public const string RequestExpired = "request_expired";
    /// <summary>A stage change made directly (no request), with the versions it archived.</summary>
    public const string StageChanged = "stage_changed";
    public const string AliasSet = "alias_set";
    public const string AliasDeleted = "alias_deleted";
    public const string VersionCreated = "version_created";
    public const string VersionDeleted = "version_deleted";
    public const string ModelCreated = "model_created";
    public const string ModelRenamed = "model_renamed";
    public const string PolicyChanged = "policy_changed";
    public const string DirectChangeRefused = "direct_change_refused";
}

/// <summary>
/// One readable entry of a model's promotion timeline. <see cref="Summary"/> says what happened and who did it
/// ("Version 7 → Production by bob"); <see cref="Details"/> adds the rest in order (requested by, approved by, gates,
/// override, archived versions); <see cref="Text"/> is both in one sentence.
/// </summary>
/// <param name="Time">Epoch milliseconds.</param>
/// <param name="Target">The stage, or the alias with its <c>@</c>, when the entry is about one.</param>
/// <param name="State">A request's state, for request entries.</param>
public sealed record TimelineEntry(
    string Kind,
    long Time,
    string Actor,
    int? Version,
    long? RequestId,
    string? Target,
    string? State,
    string Summary,
    IReadOnlyList<string> Details,
    IReadOnlyList<int> ArchivedVersions)
{
    public string Text => Details.Count == 0 ? Summary : Summary + ", " + string.Join(", ", Details);
}

/// <summary>A model's timeline, newest first. <see cref="Truncated"/>: only the newest events were read.</summary>
public sealed record ModelTimeline(string ModelName, IReadOnlyList<TimelineEntry> Entries, bool Truncated);

public sealed partial class AuditService
{
    /// <summary>The most audit events (and requests) one timeline reads, newest first.</summary>
    public const int TimelineEventLimit = 2000;

    private static readonly string[] TimelineActions =
    [
        AuditActions.ModelCreated, AuditActions.ModelRenamed, AuditActions.VersionCreated, AuditActions.VersionDeleted,
        AuditActions.StageChanged, AuditActions.AliasSet, AuditActions.AliasDeleted, AuditActions.PolicySet, AuditActions.PolicyDeleted,
        AuditActions.DirectChangeRefused,
    ];

    /// <summary>
    /// The promotion timeline of a model (the caller must read it): the model's audit events and promotion requests
    /// assembled into readable entries, newest first. A request is one entry, whatever number of events it wrote: who asked
    /// (and why), who approved, the gates, an override, the versions archived. Direct stage changes, alias moves, versions
    /// created or deleted and policy changes are entries of their own. Tag and description changes are left to the audit log.
    /// </summary>
    public async Task<ModelTimeline> TimelineAsync(string? modelName, Caller caller, CancellationToken ct = default)
    {
        var modelId = await permissions.RegisteredModelIdAsync(modelName, ct);
        await permissions.RequireRegisteredModelAsync(caller, modelName, AccessLevel.Read, ct);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var events = await db.AuditEvents.AsNoTracking()
            .Where(e => e.RegisteredModelId == modelId && TimelineActions.Contains(e.Action))
            .OrderByDescending(e => e.Id).Take(TimelineEventLimit + 1).ToListAsync(ct);
        var requests = await db.PromotionRequests.AsNoTracking()
            .Where(r => r.RegisteredModelId == modelId)
            .OrderByDescending(r => r.Id).Take(TimelineEventLimit + 1).ToListAsync(ct);
        var truncated = events.Count > TimelineEventLimit || requests.Count > TimelineEventLimit;
        events = [.. events.Take(TimelineEventLimit)];
        requests = [.. requests.Take(TimelineEventLimit)];
        var ids = requests.Select(r => r.Id).ToList();
        var reviews = await db.PromotionReviews.AsNoTracking().Where(r => ids.Contains(r.RequestId))
            .OrderBy(r => r.Time).ThenBy(r => r.Id).ToListAsync(ct);
        return new ModelTimeline(modelName!, Assemble(events, requests, reviews), truncated);
    }

    /// <summary>Builds the entries from the rows (any order), newest first.</summary>
    internal static IReadOnlyList<TimelineEntry> Assemble(IReadOnlyList<AuditEvent> events, IReadOnlyList<PromotionRequest> requests,
        IReadOnlyList<PromotionReview> reviews)
    {
        var entries = new List<(TimelineEntry Entry, long Order)>();
        var ordered = events.OrderBy(e => e.Id).ToList();
        var byRequest = ordered.Where(e => e.RequestId is not null).ToLookup(e => e.RequestId!.Value);
        var reviewsOf = reviews.ToLookup(r => r.RequestId);

        foreach (var r in requests)
        {
            var last = byRequest[r.Id].Select(e => e.Id).DefaultIfEmpty(0).Max();
            entries.Add((RequestEntry(r, reviewsOf[r.Id].ToList(), byRequest[r.Id].ToList()), last));
        }

        // Direct stage changes: the change and the archives it made share a time and an actor (one transaction).
        var direct = ordered.Where(e => e.RequestId is null).ToList();
        var used = new HashSet<long>();
        foreach (var e in direct)
        {
            if (used.Contains(e.Id))
            {
                continue;
            }
            used.Add(e.Id);
            switch (e.Action)
            {
                case AuditActions.StageChanged:
                {
                    var to = Field(e.After, "stage");
                    var archived = direct.Where(o => o.Id > e.Id && !used.Contains(o.Id) && o.Action == AuditActions.StageChanged
                            && o.Time == e.Time && o.Actor == e.Actor && o.Version != e.Version && Field(o.After, "stage") == "Archived"
                            && to != "Archived")
                        .ToList();
                    used.UnionWith(archived.Select(a => a.Id));
                    var versions = archived.Select(a => a.Version ?? 0).ToList();
                    var details = new List<string> { $"was {Field(e.Before, "stage") ?? "None"}" };
                    details.AddRange(versions.Select(v => $"archived version {V(v)}"));
                    entries.Add((new TimelineEntry(TimelineKinds.StageChanged, e.Time, e.Actor, e.Version, null, to, null,
                        $"Version {V(e.Version)} → {to} by {e.Actor}", details, versions), e.Id));
                    break;
                }
                case AuditActions.AliasSet:
                {
                    var alias = "@" + (Field(e.After, "alias") ?? AliasOf(e.Target));
                    var previous = Field(e.Before, "version");
                    entries.Add((new TimelineEntry(TimelineKinds.AliasSet, e.Time, e.Actor, e.Version, null, alias, null,
                        $"{alias} → version {V(e.Version)} by {e.Actor}", previous is null ? [] : [$"was version {previous}"], []), e.Id));
                    break;
                }
                case AuditActions.AliasDeleted:
                {
                    var alias = "@" + (Field(e.Before, "alias") ?? AliasOf(e.Target));
                    var previous = Field(e.Before, "version");
                    entries.Add((new TimelineEntry(TimelineKinds.AliasDeleted, e.Time, e.Actor, e.Version ?? Int(previous), null, alias, null,
                        $"{alias} removed by {e.Actor}", previous is null ? [] : [$"was version {previous}"], []), e.Id));
                    break;
                }
                case AuditActions.VersionCreated:
                {
                    var run = Field(e.After, "run_id");
                    entries.Add((new TimelineEntry(TimelineKinds.VersionCreated, e.Time, e.Actor, e.Version, null, null, null,
                        $"Version {V(e.Version)} created by {e.Actor}", run is null ? [] : [$"from run {run}"], []), e.Id));
                    break;
                }
                case AuditActions.VersionDeleted:
                    entries.Add((new TimelineEntry(TimelineKinds.VersionDeleted, e.Time, e.Actor, e.Version, null, null, null,
                        $"Version {V(e.Version)} deleted by {e.Actor}", [], []), e.Id));
                    break;
                case AuditActions.ModelCreated:
                    entries.Add((new TimelineEntry(TimelineKinds.ModelCreated, e.Time, e.Actor, null, null, null, null,
                        $"Model created by {e.Actor}", [], []), e.Id));
                    break;
                case AuditActions.ModelRenamed:
                    entries.Add((new TimelineEntry(TimelineKinds.ModelRenamed, e.Time, e.Actor, null, null, null, null,
                        $"Renamed from {Field(e.Before, "name")} to {Field(e.After, "name")} by {e.Actor}", [], []), e.Id));
                    break;
                case AuditActions.PolicySet or AuditActions.PolicyDeleted:
                    entries.Add((new TimelineEntry(TimelineKinds.PolicyChanged, e.Time, e.Actor, null, null, null, null,
                        e.Action == AuditActions.PolicySet ? $"Promotion policy set by {e.Actor}" : $"Promotion policy removed by {e.Actor} (the default applies)",
                        e.Reason is { Length: > 0 } why ? [why] : [], []), e.Id));
                    break;
                case AuditActions.DirectChangeRefused:
                    entries.Add((new TimelineEntry(TimelineKinds.DirectChangeRefused, e.Time, e.Actor, e.Version, null, null, null,
                        $"Direct change refused for {e.Actor}", e.Reason is { Length: > 0 } reason ? [reason] : [], []), e.Id));
                    break;
            }
        }
        return [.. entries.OrderByDescending(x => x.Entry.Time).ThenByDescending(x => x.Order).Select(x => x.Entry)];
    }

    private static TimelineEntry RequestEntry(PromotionRequest r, IReadOnlyList<PromotionReview> reviews, IReadOnlyList<AuditEvent> events)
    {
        var isAlias = r.TargetKind == PromotionTargetKind.Alias;
        var target = isAlias ? "@" + r.Target : r.Target;
        var what = isAlias ? $"{target} → version {V(r.Version)}" : $"Version {V(r.Version)} → {target}";
        var requested = $"requested by {r.RequestedBy} (#{V(r.Id)}" + (string.IsNullOrWhiteSpace(r.Comment) ? ")" : $", {Quote(r.Comment)})");
        var approvers = reviews.Where(x => x.Decision == ReviewDecision.Approve).Select(x => x.Reviewer).Distinct().ToList();
        var rejecter = reviews.LastOrDefault(x => x.Decision == ReviewDecision.Reject);
        var gates = GateResult.Parse(r.GateResults);
        var details = new List<string> { requested };
        var archived = new List<int>();
        string kind;
        string summary;
        long time;
        string actor;
        switch (r.State)
        {
            case PromotionState.Approved:
                kind = TimelineKinds.Promoted;
                actor = r.ClosedBy ?? approvers.LastOrDefault() ?? r.RequestedBy;
                time = r.ClosedAt ?? r.UpdatedAt;
                summary = $"{what} by {actor}";
                if (approvers.Count > 0)
                {
                    details.Add("approved by " + Names(approvers));
                }
                AddGates(details, gates, r);
                archived.AddRange(events.Where(e => e.Action == AuditActions.StageChanged && e.Version != r.Version
                        && Field(e.After, "stage") == "Archived").Select(e => e.Version ?? 0).Distinct());
                if (isAlias && r.PreviousVersion is { } moved)
                {
                    details.Add($"was version {V(moved)}");
                }
                else if (archived.Count == 0 && r.PreviousVersion is { } holder && r.ArchiveExisting)
                {
                    archived.Add(holder);
                }
                details.AddRange(archived.Select(v => $"archived version {V(v)}"));
                break;
            case PromotionState.Rejected:
                kind = TimelineKinds.RequestRejected;
                actor = r.ClosedBy ?? rejecter?.Reviewer ?? "unknown";
                time = r.ClosedAt ?? r.UpdatedAt;
                summary = $"Request for {Lower(what)} rejected by {actor}";
                if (rejecter?.Comment is { Length: > 0 } why)
                {
                    details.Add(Quote(why));
                }
                if (approvers.Count > 0)
                {
                    details.Add("approved before by " + Names(approvers));
                }
                break;
            case PromotionState.Cancelled:
                kind = TimelineKinds.RequestCancelled;
                actor = r.ClosedBy ?? r.RequestedBy;
                time = r.ClosedAt ?? r.UpdatedAt;
                summary = $"Request for {Lower(what)} cancelled by {actor}";
                break;
            case PromotionState.Expired:
                kind = TimelineKinds.RequestExpired;
                actor = r.ClosedBy ?? AuditLog.SystemActor;
                time = r.ClosedAt ?? r.ExpiresAt ?? r.UpdatedAt;
                summary = $"Request for {Lower(what)} expired";
                if (approvers.Count > 0)
                {
                    details.Add("approved by " + Names(approvers) + " only");
                }
                break;
            default:
                kind = TimelineKinds.RequestPending;
                actor = r.RequestedBy;
                time = r.CreatedAt;
                summary = $"Request for {Lower(what)} pending";
                details.Add(approvers.Count == 0 ? "no approvals yet" : "approved so far by " + Names(approvers));
                AddGates(details, gates, r);
                break;
        }
        return new TimelineEntry(kind, time, actor, r.Version, r.Id, target, r.State, summary, details, archived);
    }

    private static void AddGates(List<string> details, IReadOnlyList<GateResult> gates, PromotionRequest r)
    {
        if (gates.Count > 0)
        {
            var passed = gates.Count(g => g.Passed);
            details.Add($"gates {passed}/{gates.Count} passed");
        }
        if (r.OverriddenBy is { Length: > 0 } by)
        {
            details.Add($"gates overridden by {by}" + (string.IsNullOrWhiteSpace(r.OverrideReason) ? "" : $": {Quote(r.OverrideReason)}"));
        }
    }

    private static string Names(List<string> names) => names.Count switch
    {
        1 => names[0],
        _ => string.Join(", ", names.Take(names.Count - 1)) + " and " + names[^1],
    };

    private static string Lower(string what) => what.StartsWith("Version ", StringComparison.Ordinal) ? "v" + what[1..] : what;

    private static string Quote(string text)
    {
        var one = text.ReplaceLineEndings(" ").Trim();
        return "“" + (one.Length <= 200 ? one : one[..200] + "…") + "”";
    }

    private static string V(long? n) => n?.ToString(CultureInfo.InvariantCulture) ?? "?";

    private static int? Int(string? text) => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static string AliasOf(string target) => target.LastIndexOf('@') is var at and >= 0 ? target[(at + 1)..] : target;

    /// <summary>A top-level field of a stored JSON state, as text (numbers as written); null when absent or unreadable.</summary>
    private static string? Field(string? json, string name)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty(name, out var value))
            {
                return null;
            }
            return value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                _ => value.GetRawText(),
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
