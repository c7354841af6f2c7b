using System.Globalization;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Search;

/// <summary>Where the best configuration is looked for: one experiment, or every active experiment's runs with a tag.</summary>
public sealed record BestScope
{
    public long? ExperimentId { get; init; }
    public string? TagKey { get; init; }
    public string? TagValue { get; init; }

    public static BestScope Experiment(long id) => new() { ExperimentId = id };

    public static BestScope Tag(string key, string value) => new() { TagKey = key, TagValue = value };

    /// <summary>
    /// <c>task:ocr</c> or <c>task=ocr</c>: the key ends at the first <c>=</c>, else at the first <c>:</c> (MLflow keys may
    /// hold a colon, never an equals sign, so <c>a:b=c</c> is the key <c>a:b</c>). Null when there is no key or no separator.
    /// </summary>
    public static BestScope? ParseTag(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var at = text.IndexOf('=', StringComparison.Ordinal);
        if (at < 0)
        {
            at = text.IndexOf(':', StringComparison.Ordinal);
        }
        return at <= 0 ? null : Tag(text[..at].Trim(), text[(at + 1)..].Trim());
    }
}

/// <summary>The best runs of a scope by a metric, each with its params and tags.</summary>
public sealed record BestRuns(IReadOnlyList<Run> Runs, IReadOnlyDictionary<long, string> Experiments);

/// <summary>
/// "Best configuration": the top runs of an experiment or of a tag by a metric's latest value, through
/// <see cref="RunSearchService"/> (the same planner as runs/search: the metric's index is walked in order and stops at
/// the page), so that a new hire finds the best known settings of a task in one view.
/// </summary>
public sealed class BestRunsService(IDbContextFactory<DashboardDbContext> dbs, RunSearchService search)
{
    public const int DefaultCount = 10;
    public const int MaxCount = 100;

    /// <summary>
    /// The <paramref name="count"/> best active runs with a number for <paramref name="metric"/> (NaN and the infinity on
    /// the wrong side left out, as a filter on the metric leaves them out), best first. A tag scope searches the active
    /// experiments (at most <see cref="RunSearchService.MaxExperimentIds"/>, the most recently updated).
    /// </summary>
    public Task<BestRuns> TopAsync(BestScope scope, string metric, MetricGoal goal, int count, CancellationToken ct = default) =>
        TopAsync(scope, metric, goal, count, null, ct);

    /// <param name="access">Only runs of experiments this caller may read (null: every run).</param>
    public async Task<BestRuns> TopAsync(BestScope scope, string metric, MetricGoal goal, int count, Security.PermissionScope? access,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(metric);
        count = Math.Clamp(count, 1, MaxCount);
        if (metric.Contains('`', StringComparison.Ordinal))
        {
            throw MlflowException.InvalidParameter($"A metric key cannot hold a backtick: {metric}");
        }
        List<long> experimentIds;
        await using (var db = await dbs.CreateDbContextAsync(ct))
        {
            IQueryable<Tracking.Experiment> readable = access is null ? db.Experiments : access.Experiments(db, db.Experiments);
            experimentIds = scope.ExperimentId is { } id
                ? access is null ? [id] : await readable.Where(e => e.Id == id).Select(e => e.Id).ToListAsync(ct)
                : await readable.AsNoTracking().Where(e => e.LifecycleStage == LifecycleStage.Active)
                    .OrderByDescending(e => e.LastUpdateTime).Select(e => e.Id).Take(RunSearchService.MaxExperimentIds).ToListAsync(ct);
        }
        // A comparison with the most negative double keeps every finite value and +Infinity, and leaves NaN (and runs
        // without the metric) out: the page is then the best runs that have a number, N of them when there are N.
        var terms = new List<string> { $"metrics.`{metric}` >= {double.MinValue.ToString("R", CultureInfo.InvariantCulture)}" };
        if (scope.TagKey is { } key)
        {
            if (key.Contains('`', StringComparison.Ordinal))
            {
                throw MlflowException.InvalidParameter($"A tag key cannot hold a backtick: {key}");
            }
            terms.Add($"tags.`{key}` = '{(scope.TagValue ?? "").Replace("'", "''", StringComparison.Ordinal)}'");
        }
        var filter = FilterParser.Parse(string.Join(" AND ", terms), SearchScope.Runs);
        var order = OrderByParser.Parse([$"metrics.`{metric}` {(goal == MetricGoal.Min ? "ASC" : "DESC")}"], SearchScope.Runs);
        if (experimentIds.Count == 0 && access is not null)
        {
            return new BestRuns([], new Dictionary<long, string>());
        }
        var runs = await search.PageAsync(experimentIds, ViewType.ActiveOnly, filter, order, 0, count, ct);
        var ids = runs.Select(r => r.ExperimentId).Distinct().ToList();
        await using var names = await dbs.CreateDbContextAsync(ct);
        var experiments = await names.Experiments.AsNoTracking().Where(e => ids.Contains(e.Id)).ToDictionaryAsync(e => e.Id, e => e.Name, ct);
        return new BestRuns(runs, experiments);
    }
}
