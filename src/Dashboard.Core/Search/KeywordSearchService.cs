using System.Linq.Expressions;
using System.Reflection;
using Dashboard.Data;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Search;

/// <summary>How well a text matched a field: the whole field, its start, or somewhere inside (case-insensitive).</summary>
public enum KeywordMatch
{
    Exact = 0,
    Prefix = 1,
    Contains = 2,
}

/// <summary>Where a run matched: its name, a param's value, a tag's value, or its description (the tag mlflow.note.content).</summary>
public enum RunField
{
    Name,
    Param,
    Tag,
    Description,
}

public sealed record ExperimentHit(long Id, string Name, KeywordMatch Match, long LastUpdateTime);

/// <param name="Key">The param's or tag's key for <see cref="RunField.Param"/> and <see cref="RunField.Tag"/>.</param>
/// <param name="Text">What matched: the name, the value, or a part of the description around the match.</param>
public sealed record RunHit(string RunId, string? RunName, long ExperimentId, string ExperimentName, RunField Field, string? Key,
    string Text, KeywordMatch Match, long StartTime);

/// <param name="InDescription">The description matched, not the name.</param>
public sealed record ModelHit(string Name, string? Description, bool InDescription, KeywordMatch Match, long LastUpdatedTime);

public sealed record KeywordResults(string Text, IReadOnlyList<ExperimentHit> Experiments, IReadOnlyList<RunHit> Runs, IReadOnlyList<ModelHit> Models)
{
    public static readonly KeywordResults Empty = new("", [], [], []);

    public bool IsEmpty => Experiments.Count == 0 && Runs.Count == 0 && Models.Count == 0;
}

/// <summary>
/// The app bar's keyword search over active experiments (name), active runs of active experiments (name, param values,
/// tag values, description) and registered models (name, description). Each group is ranked exact match, then prefix,
/// then contains (case-insensitive), a name before a value of the same rank, most recent first, and cut to a limit.
/// </summary>
/// <remarks>
/// Substrings cannot use a B-tree index, so each source is one scan of its table (the five on their own connections, at
/// the same time) with the rank computed in the scan and
/// at most <see cref="CandidatesPerSource"/> best-ranked rows kept (a top-N sort, no join); only those candidates are
/// joined to their runs for the recency order and the lifecycle checks. A text found in every row (a single digit in
/// a million params) thus costs the scan, never a million joins; when one rank holds more than that many rows, recency
/// is exact among the candidates only. Measured at 100,000 runs in docs/performance.md.
/// </remarks>
public sealed class KeywordSearchService(IDbContextFactory<DashboardDbContext> dbs)
{
    /// <summary>The longest text searched for; longer text is cut (a name is at most 500 characters, a key 250).</summary>
    public const int MaxTextLength = 250;

    /// <summary>Rows kept per source before the join to runs (see the remarks).</summary>
    public const int CandidatesPerSource = 2000;

    /// <summary>The tag that holds a run's description in MLflow.</summary>
    public const string DescriptionTag = "mlflow.note.content";

    /// <summary>How much of a long description is shown around the match.</summary>
    private const int SnippetLength = 160;

    public Task<KeywordResults> SearchAsync(string? text, int perGroup, CancellationToken ct = default) => SearchAsync(text, perGroup, null, ct);

    /// <param name="access">Only what this caller may read (null: everything).</param>
    public async Task<KeywordResults> SearchAsync(string? text, int perGroup, Security.PermissionScope? access, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perGroup);
        var q = (text ?? "").Trim();
        if (q.Length == 0)
        {
            return KeywordResults.Empty;
        }
        if (q.Length > MaxTextLength)
        {
            q = q[..MaxTextLength];
        }
        var lower = q.ToLowerInvariant();
        var exact = EscapeLike(lower);
        var contains = "%" + exact + "%";
        var prefix = exact + "%";

        // Five scans, each on its own connection: on SQLite the two large ones (params, tags) then overlap instead of
        // adding up (WAL readers do not block each other).
        var experiments = QueryAsync(async db => await CaseInsensitive(db, Experiments(db, access).AsNoTracking()
            .Where(e => e.LifecycleStage == LifecycleStage.Active && EF.Functions.Like(e.Name, contains, "\\"))
            .Select(e => new { e.Id, e.Name, e.LastUpdateTime, Rank = EF.Functions.Like(e.Name, exact, "\\") ? 0 : EF.Functions.Like(e.Name, prefix, "\\") ? 1 : 2 })
            .OrderBy(e => e.Rank).ThenByDescending(e => e.LastUpdateTime).ThenBy(e => e.Id)
            .Take(perGroup)).ToListAsync(ct), ct);

        var models = QueryAsync(async db => await CaseInsensitive(db, (access is null ? db.RegisteredModels : access.RegisteredModels(db, db.RegisteredModels)).AsNoTracking()
            .Where(m => EF.Functions.Like(m.Name, contains, "\\") || (m.Description != null && EF.Functions.Like(m.Description, contains, "\\")))
            .Select(m => new
            {
                m.Name, m.Description, m.LastUpdatedTime,
                Rank = EF.Functions.Like(m.Name, exact, "\\") ? 0 : EF.Functions.Like(m.Name, prefix, "\\") ? 1
                    : EF.Functions.Like(m.Name, contains, "\\") ? 2 : 3,
            })
            .OrderBy(m => m.Rank).ThenByDescending(m => m.LastUpdatedTime).ThenBy(m => m.Name)
            .Take(perGroup)).ToListAsync(ct), ct);

        var byName = QueryAsync(async db => await CaseInsensitive(db,
            from r in db.Runs
            join e in Experiments(db, access) on r.ExperimentId equals e.Id
            where r.LifecycleStage == LifecycleStage.Active && e.LifecycleStage == LifecycleStage.Active
                  && r.Name != null && EF.Functions.Like(r.Name, contains, "\\")
            let rank = EF.Functions.Like(r.Name!, exact, "\\") ? 0 : EF.Functions.Like(r.Name!, prefix, "\\") ? 1 : 2
            orderby rank, r.StartTime descending, r.Id
            select new Candidate(r.Id, r.Name, r.ExperimentId, e.Name, r.StartTime, null, r.Name!, rank))
            .Take(perGroup).ToListAsync(ct), ct);

        var byParam = QueryAsync(db => RunValuesAsync(db, db.Params
            .Select(p => new RunValue { RunId = p.RunId, Key = p.Key, Value = p.Value }), contains, exact, prefix, perGroup, access, ct), ct);

        // System tags (mlflow.user, mlflow.source.name, ...) are not what people search for, and mlflow.runName is the name.
        var byTag = QueryAsync(db => RunValuesAsync(db, db.RunTags
            .Where(t => !t.Key.StartsWith("mlflow.") || t.Key == DescriptionTag)
            .Select(t => new RunValue { RunId = t.RunId, Key = t.Key, Value = t.Value }), contains, exact, prefix, perGroup, access, ct), ct);

        await Task.WhenAll(experiments, models, byName, byParam, byTag);

        // A name outranks a value of the same match; a run found through several fields is listed once, by its best match.
        var runs = (await byName).Select(c => (Hit: c.ToHit(RunField.Name, lower), Rank: c.Rank * 2))
            .Concat((await byParam).Select(c => (Hit: c.ToHit(RunField.Param, lower), Rank: (c.Rank * 2) + 1)))
            .Concat((await byTag).Select(c => (Hit: c.ToHit(c.Key == DescriptionTag ? RunField.Description : RunField.Tag, lower), Rank: (c.Rank * 2) + 1)))
            .OrderBy(r => r.Rank).ThenByDescending(r => r.Hit.StartTime).ThenBy(r => r.Hit.RunId, StringComparer.Ordinal)
            .ThenBy(r => r.Hit.Field).ThenBy(r => r.Hit.Key, StringComparer.Ordinal)
            .DistinctBy(r => r.Hit.RunId)
            .Take(perGroup)
            .Select(r => r.Hit)
            .ToList();

        return new KeywordResults(q,
            (await experiments).Select(e => new ExperimentHit(e.Id, e.Name, (KeywordMatch)e.Rank, e.LastUpdateTime)).ToList(),
            runs,
            (await models).Select(m => new ModelHit(m.Name, m.Description, m.Rank == 3, (KeywordMatch)Math.Min(m.Rank, 2), m.LastUpdatedTime)).ToList());
    }

    private sealed record Candidate(string RunId, string? RunName, long ExperimentId, string ExperimentName, long StartTime, string? Key,
        string Value, int Rank)
    {
        public RunHit ToHit(RunField field, string lowerQuery) => new(RunId, RunName, ExperimentId, ExperimentName, field,
            field is RunField.Param or RunField.Tag ? Key : null, field == RunField.Description ? Snippet(Value, lowerQuery) : Value,
            (KeywordMatch)Rank, StartTime);
    }

    /// <summary>A param or tag of a run, so that both are searched by one query shape.</summary>
    private sealed class RunValue
    {
        public required string RunId { get; init; }
        public required string Key { get; init; }
        public required string Value { get; init; }
    }

    /// <summary>
    /// The runs whose values (params or tags) contain the text: the best-ranked candidates of the value table first,
    /// bounded, then joined to their active runs, so the cost does not grow with how many rows match.
    /// </summary>
    private static async Task<List<Candidate>> RunValuesAsync(DashboardDbContext db, IQueryable<RunValue> values,
        string contains, string exact, string prefix, int perGroup, Security.PermissionScope? access, CancellationToken ct)
    {
        var candidates = values
            .Where(v => EF.Functions.Like(v.Value, contains, "\\"))
            .Select(v => new { v.RunId, v.Key, v.Value, Rank = EF.Functions.Like(v.Value, exact, "\\") ? 0 : EF.Functions.Like(v.Value, prefix, "\\") ? 1 : 2 })
            .OrderBy(v => v.Rank).Take(CandidatesPerSource);
        return await CaseInsensitive(db,
            from c in candidates
            join r in db.Runs on c.RunId equals r.Id
            join e in Experiments(db, access) on r.ExperimentId equals e.Id
            where r.LifecycleStage == LifecycleStage.Active && e.LifecycleStage == LifecycleStage.Active
            orderby c.Rank, r.StartTime descending, r.Id, c.Key
            select new Candidate(r.Id, r.Name, r.ExperimentId, e.Name, r.StartTime, c.Key, c.Value, c.Rank))
            .Take(perGroup * 4).ToListAsync(ct);
    }

    private static IQueryable<Experiment> Experiments(DashboardDbContext db, Security.PermissionScope? access) =>
        access is null ? db.Experiments : access.Experiments(db, db.Experiments);

    private async Task<T> QueryAsync<T>(Func<DashboardDbContext, Task<T>> query, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var serial = await RunQuery.WithoutParallelWorkersAsync(db, ct);
        return await query(db);
    }

    /// <summary>
    /// LIKE is already case-insensitive on SQLite (for ASCII letters) and under SQL Server's default collations, and
    /// cheaper there than lower(column) LIKE (180 against 450 ms over a million params on SQLite); PostgreSQL's LIKE is
    /// case-sensitive, so there every LIKE of the query becomes ILIKE.
    /// </summary>
    private static IQueryable<T> CaseInsensitive<T>(DashboardDbContext db, IQueryable<T> query) =>
        db.Provider == DatabaseProvider.PostgreSql ? query.Provider.CreateQuery<T>(new LikeToILike().Visit(query.Expression)) : query;

    private sealed class LikeToILike : ExpressionVisitor
    {
        private static readonly MethodInfo Like = typeof(DbFunctionsExtensions).GetMethod(nameof(DbFunctionsExtensions.Like),
            [typeof(DbFunctions), typeof(string), typeof(string), typeof(string)])!;
        private static readonly MethodInfo ILike = typeof(NpgsqlDbFunctionsExtensions).GetMethod(nameof(NpgsqlDbFunctionsExtensions.ILike),
            [typeof(DbFunctions), typeof(string), typeof(string), typeof(string)])!;

        protected override Expression VisitMethodCall(MethodCallExpression node) => node.Method == Like
            ? Expression.Call(ILike, node.Arguments.Select(Visit)!)
            : base.VisitMethodCall(node);
    }

    /// <summary>A part of a long text around the first match, so that a description shows why it was found.</summary>
    internal static string Snippet(string text, string lowerQuery)
    {
        var flat = text.ReplaceLineEndings(" ");
        if (flat.Length <= SnippetLength)
        {
            return flat;
        }
        var at = flat.ToLowerInvariant().IndexOf(lowerQuery, StringComparison.Ordinal);
        var start = Math.Clamp(at - (SnippetLength / 3), 0, flat.Length - SnippetLength);
        return string.Concat(start > 0 ? "…" : "", flat.AsSpan(start, SnippetLength), start + SnippetLength < flat.Length ? "…" : "");
    }

    /// <summary>Escapes LIKE's wildcards so that the text is searched for as typed.</summary>
    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
