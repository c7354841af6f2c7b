using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dashboard.Secrets;

/// <summary>
/// The one check every write of params, tags, run names and descriptions passes before anything of its request is
/// stored (docs/adr/0012, "Secret blocking"). The services call it at their validation step, so the MLflow API, the
/// dashboard's pages and anything else that writes through them are covered alike.
/// <para>
/// Refuse (the default): the whole request fails with INVALID_PARAMETER_VALUE naming each key and rule, never the value.
/// Redact: the request goes on with each such value replaced by <see cref="SecretPolicy.RedactedValue"/>. A key that
/// itself looks like a credential cannot be redacted (it names the row) and is refused under either policy. Each
/// finding is recorded in secret_blocks in a transaction of its own: what, where, which rule, who; never the value.
/// </para>
/// </summary>
public sealed class SecretGuard(IDbContextFactory<DashboardDbContext> dbs, TimeProvider time, SecretPolicy? policy = null,
    ILogger<SecretGuard>? logger = null)
{
    /// <summary>What a record says for a key that was itself the secret.</summary>
    public const string HiddenKey = "[key hidden: looks like a secret]";

    /// <summary>The actor recorded when neither the caller nor the web layer named one (a worker, the demo seeder).</summary>
    public const string UnknownActor = "system";

    private const int MaxNamedInMessage = 10;

    private readonly ILogger _logger = logger ?? NullLogger<SecretGuard>.Instance;

    public SecretPolicy Policy { get; } = policy ?? SecretPolicy.Default;

    /// <summary>
    /// Checks the items; throws when the policy refuses them (after recording), and otherwise answers which values
    /// to replace (none unless the policy redacts). Items with a null key or value are left to the caller's validation.
    /// </summary>
    /// <param name="actor">Who writes; by default the ambient actor of the request (<see cref="AmbientActor"/>).</param>
    public async Task<SecretVerdict> CheckAsync(IReadOnlyList<SecretItem> items, SecretScope scope, string? actor = null,
        CancellationToken ct = default)
    {
        if (!Policy.Enabled || items.Count == 0)
        {
            return SecretVerdict.Clean;
        }
        List<Finding>? findings = null;
        foreach (var item in items)
        {
            if (string.IsNullOrEmpty(item.Key) || Policy.Allows(item.Key))
            {
                continue;
            }
            if (SecretScanner.MatchValue(item.Key) is { } keyRule)
            {
                (findings ??= []).Add(new Finding(item.Target, item.Key, keyRule, KeyIsSecret: true));
            }
            else if (((item.CheckKey ? SecretScanner.MatchKey(item.Key) : null) ?? SecretScanner.MatchValue(item.Value)) is { } rule)
            {
                (findings ??= []).Add(new Finding(item.Target, item.Key, rule, KeyIsSecret: false));
            }
        }
        if (findings is null)
        {
            return SecretVerdict.Clean;
        }
        var refuse = Policy.Action == SecretAction.Refuse || findings.Any(f => f.KeyIsSecret);
        var who = actor ?? AmbientActor.Current ?? UnknownActor;
        await RecordAsync(findings, scope, who, refuse ? "refused" : "redacted", ct);
        if (refuse)
        {
            throw Refusal(findings);
        }
        return new SecretVerdict(findings.Select(f => (f.Target, f.Key)).ToHashSet());
    }

    /// <summary>The most records one page holds, and the default.</summary>
    public const int MaxPage = 1000;

    /// <summary>The record of blocks, newest first, paged by the id of the last row of the previous page.</summary>
    public async Task<Search.SearchPage<SecretBlock>> ListBlocksAsync(int? maxResults, string? pageToken, CancellationToken ct = default)
    {
        var size = maxResults ?? MaxPage;
        if (size is < 1 or > MaxPage)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid value {size} for parameter 'max_results' supplied: it must be between 1 and {MaxPage}.");
        }
        long? before = null;
        if (!string.IsNullOrEmpty(pageToken))
        {
            before = long.TryParse(pageToken, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)
                ? id
                : throw MlflowException.InvalidParameter("Invalid page token.");
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        var query = db.SecretBlocks.AsNoTracking();
        if (before is { } b)
        {
            query = query.Where(x => x.Id < b);
        }
        var rows = await query.OrderByDescending(x => x.Id).Take(size + 1).ToListAsync(ct);
        var next = rows.Count > size ? rows[size - 1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        return new Search.SearchPage<SecretBlock>([.. rows.Take(size)], next);
    }

    private static MlflowException Refusal(List<Finding> findings)
    {
        static string Name(Finding f) => f.KeyIsSecret
            ? $"{SecretTargets.Label(f.Target)} with a key that itself looks like a secret ({f.Rule})"
            : $"{SecretTargets.Label(f.Target)} '{f.Key}' ({f.Rule})";

        var what = findings.Count == 1
            ? $"{Name(findings[0])} looks like a secret and was not stored."
            : string.Join(", ", findings.Take(MaxNamedInMessage).Select(Name))
                + (findings.Count > MaxNamedInMessage ? $" and {findings.Count - MaxNamedInMessage} more" : "")
                + " look like secrets and were not stored.";
        return MlflowException.InvalidParameter(what +
            " Nothing of this request was stored. Keep credentials in a secret store or environment variables, not in " +
            "params, tags or descriptions; an administrator can allow a key with Dashboard:Secrets:Allow.");
    }

    private async Task RecordAsync(List<Finding> findings, SecretScope scope, string actor, string action, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var who = actor.Length <= Registry.Actor.MaxLength ? actor : actor[..Registry.Actor.MaxLength];
        foreach (var f in findings)
        {
            // Never the value: the target, the key (unless it is the secret), the rule, where and who.
            _logger.LogWarning("Secret {Action}: {Target} {Key} ({Rule}) by {Actor}; run {RunId}, experiment {ExperimentId}, model {ModelName}",
                action, f.Target, f.KeyIsSecret ? HiddenKey : f.Key, f.Rule, who, scope.RunId, scope.ExperimentId, scope.ModelName);
        }
        try
        {
            await using var db = await dbs.CreateDbContextAsync(CancellationToken.None);
            db.SecretBlocks.AddRange(findings.Select(f => new SecretBlock
            {
                Time = now,
                Actor = who,
                Target = f.Target,
                Key = f.KeyIsSecret ? HiddenKey : Cut(f.Key, DashboardDbContext.Lengths.EntityKey),
                Rule = f.Rule,
                Action = action,
                RunId = scope.RunId is { Length: <= DashboardDbContext.Lengths.RunId } r ? r : null,
                ExperimentId = scope.ExperimentId,
                ModelName = scope.ModelName is { } m ? Cut(m, DashboardDbContext.Lengths.RegisteredModelName) : null,
            }));
            // Not the request's token: a client that gives up must not erase the record of what it tried.
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException or System.Data.Common.DbException)
        {
            // The refusal stands without its record; the log above keeps what it would have said.
            _logger.LogError(e, "Could not record a secret block");
        }
        ct.ThrowIfCancellationRequested();
    }

    private static string Cut(string s, int max) => s.Length <= max ? s : s[..max];

    private sealed record Finding(string Target, string Key, string Rule, bool KeyIsSecret);
}

/// <summary>One value on its way to storage: where it goes, its key, the value.</summary>
/// <param name="CheckKey">False for values without a key of their own (a run name, a description): only the value is scanned.</param>
public readonly record struct SecretItem(string Target, string? Key, string? Value, bool CheckKey = true)
{
    /// <summary>A value without a key of its own, named by its field (run_name, description).</summary>
    public static SecretItem Field(string target, string field, string? value) => new(target, field, value, CheckKey: false);

    public static IEnumerable<SecretItem> Of(string target, IEnumerable<KeyValuePair<string, string>> rows) =>
        rows.Select(r => new SecretItem(target, r.Key, r.Value));

    public static IEnumerable<SecretItem> Of(string target, IEnumerable<Tracking.KeyValueInput>? rows) =>
        (rows ?? []).Select(r => new SecretItem(target, r.Key, r.Value));
}

/// <summary>The values a redacting policy replaced (none when nothing matched or the policy refuses).</summary>
public sealed class SecretVerdict
{
    public static readonly SecretVerdict Clean = new([]);

    private readonly HashSet<(string Target, string Key)> _redacted;

    internal SecretVerdict(HashSet<(string Target, string Key)> redacted) => _redacted = redacted;

    public bool IsClean => _redacted.Count == 0;

    /// <summary>The value to store for the item.</summary>
    public string? Apply(string target, string? key, string? value) =>
        key is not null && value is not null && _redacted.Contains((target, key)) ? SecretPolicy.RedactedValue : value;

    public List<KeyValuePair<string, string>> Apply(string target, List<KeyValuePair<string, string>> rows) =>
        IsClean ? rows : [.. rows.Select(r => new KeyValuePair<string, string>(r.Key, Apply(target, r.Key, r.Value)!))];

    public IReadOnlyList<Tracking.KeyValueInput>? Apply(string target, IReadOnlyList<Tracking.KeyValueInput>? rows) =>
        IsClean || rows is null ? rows : [.. rows.Select(r => r with { Value = Apply(target, r.Key, r.Value) })];

    public void ApplyInPlace(string target, Dictionary<string, string> rows)
    {
        if (IsClean)
        {
            return;
        }
        foreach (var key in rows.Keys.ToList())
        {
            rows[key] = Apply(target, key, rows[key])!;
        }
    }
}
