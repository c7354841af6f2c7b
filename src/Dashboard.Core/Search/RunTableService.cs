using System.Runtime.CompilerServices;
using Dashboard.Data;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Search;

/// <summary>The param, metric and tag keys a run table offers as columns.</summary>
public sealed record RunKeys(IReadOnlyList<string> Params, IReadOnlyList<string> Metrics, IReadOnlyList<string> Tags)
{
    public static RunKeys None { get; } = new([], [], []);
}

/// <summary>One group of a run table grouped by a param's value (<see cref="Value"/> null: runs without the param).</summary>
/// <param name="Best">The highest (or lowest, as asked) latest value of the metric among the group's runs; null when none has it.</param>
/// <param name="Mean">The mean latest value of the metric over the group's runs that have a real (not NaN) value.</param>
public sealed record RunGroup(string? Value, long Count, double? Best, double? Mean);

/// <summary>
/// What the dashboard's runs table needs beside the page itself (<see cref="RunSearchService.PageAsync"/>): the
/// number of matching runs, the keys offered as columns, groups by a param, and every matching run as a stream for the
/// CSV export. Filters and orders come from <see cref="FilterParser"/> and <see cref="OrderByParser"/>, and are
/// translated to SQL by the same <see cref="RunQuery"/> as runs/search: the table shows what the API would answer.
/// </summary>
public sealed class RunTableService(IDbContextFactory<DashboardDbContext> dbs)
{
    /// <summary>The keys offered as columns are those of the newest runs: reading every run's keys of a 100,000-run
    /// experiment costs a scan of millions of rows, and an experiment's runs log the same keys as a rule.</summary>
    public const int KeySampleRuns = 1000;

    /// <summary>How many groups a grouped table shows; a param with more distinct values is no useful grouping.</summary>
    public const int MaxGroups = 200;

    /// <summary>How many runs the CSV export loads data for at once.</summary>
    public const int ExportChunk = 500;

    /// <summary>The number of runs that match: a COUNT without ORDER BY, started from the filter's most selective term
    /// (<see cref="RunQuery.CountAsync"/>).</summary>
    public async Task<long> CountAsync(IReadOnlyList<long> experimentIds, ViewType viewType, Filter filter, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var serial = await RunQuery.WithoutParallelWorkersAsync(db, ct);
        return await new RunQuery(db, experimentIds, viewType, filter, []).CountAsync(ct);
    }

    /// <summary>The param, metric and tag keys of the newest <see cref="KeySampleRuns"/> runs of the experiment, sorted.</summary>
    public async Task<RunKeys> KeysAsync(long experimentId, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        // The (experiment, stage, start_time) index gives the newest runs without a sort.
        var newest = db.Runs
            .Where(r => r.ExperimentId == experimentId && r.LifecycleStage == LifecycleStage.Active)
            .OrderByDescending(r => r.StartTime)
            .Take(KeySampleRuns)
            .Select(r => r.Id);
        var @params = await db.Params.Where(p => newest.Contains(p.RunId)).Select(p => p.Key).Distinct().ToListAsync(ct);
        var metrics = await db.LatestMetrics.Where(m => newest.Contains(m.RunId)).Select(m => m.Key).Distinct().ToListAsync(ct);
        var tags = await db.RunTags.Where(t => newest.Contains(t.RunId)).Select(t => t.Key).Distinct().ToListAsync(ct);
        // Sorted here: the providers' collations differ, and the lists are small.
        return new RunKeys(Sorted(@params), Sorted(metrics), Sorted(tags));
    }

    private static List<string> Sorted(List<string> keys)
    {
        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    /// <summary>
    /// The matching runs grouped by the value of param <paramref name="paramKey"/>, with each group's size and, when
    /// <paramref name="metricKey"/> is given, the best and the mean of the metric's latest values. Largest groups first;
    /// groups of equal size by value, runs without the param last; at most <see cref="MaxGroups"/>. One GROUP BY in the database; no run is loaded.
    /// </summary>
    public async Task<IReadOnlyList<RunGroup>> GroupAsync(long experimentId, ViewType viewType, Filter filter, string paramKey,
        string? metricKey, bool higherIsBetter, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var serial = await RunQuery.WithoutParallelWorkersAsync(db, ct);
        var runs = new RunQuery(db, [experimentId], viewType, filter, []).Matching();
        var @params = db.Params.Where(p => p.Key == paramKey);
        var real = false;
        var metrics = db.LatestMetrics.Where(m => m.Key == metricKey && m.IsNaN == real);
        var rows = from r in runs
                   join p in @params on r.Id equals p.RunId into ps
                   from p in ps.DefaultIfEmpty()
                   join m in metrics on r.Id equals m.RunId into ms
                   from m in ms.DefaultIfEmpty()
                   select new { Value = p == null ? null : p.Value, Metric = m == null ? (double?)null : m.Value };
        var groups = await rows
            .GroupBy(x => x.Value)
            .Select(g => new { g.Key, Count = g.LongCount(), Max = g.Max(x => x.Metric), Min = g.Min(x => x.Metric), Mean = g.Average(x => x.Metric) })
            .OrderByDescending(g => g.Count)
            // Runs without the param last among equals: the providers disagree on where NULL sorts.
            .ThenBy(g => g.Key == null ? 1 : 0)
            .ThenBy(g => g.Key)
            .Take(MaxGroups)
            .ToListAsync(ct);
        return groups.Select(g => new RunGroup(g.Key, g.Count, metricKey is null ? null : higherIsBetter ? g.Max : g.Min,
            metricKey is null ? null : g.Mean)).ToList();
    }

    /// <summary>
    /// Every matching run in the table's order, in chunks, with the latest metrics, params and tags of the keys in
    /// <paramref name="columns"/> loaded (only those: an export of a few columns need not read every value of every run).
    /// One sorted query streamed from the database (never an offset per page); each chunk's values are read on a second
    /// connection, one query per kind.
    /// </summary>
    public async IAsyncEnumerable<IReadOnlyList<Run>> StreamAsync(IReadOnlyList<long> experimentIds, ViewType viewType, Filter filter,
        IReadOnlyList<OrderTerm> order, RunKeys columns, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var serial = await RunQuery.WithoutParallelWorkersAsync(db, ct);
        await using var data = await dbs.CreateDbContextAsync(ct);
        var chunk = new List<Run>(ExportChunk);
        await foreach (var run in new RunQuery(db, experimentIds, viewType, filter, order).All().AsNoTracking().AsAsyncEnumerable().WithCancellation(ct))
        {
            chunk.Add(run);
            if (chunk.Count == ExportChunk)
            {
                await LoadColumnsAsync(data, chunk, columns, ct);
                yield return chunk;
                chunk = new List<Run>(ExportChunk);
            }
        }
        if (chunk.Count > 0)
        {
            await LoadColumnsAsync(data, chunk, columns, ct);
            yield return chunk;
        }
    }

    /// <summary>
    /// The chunk's values of the chosen keys, one query per kind. Each run is a seek on the (run_id, key) primary key;
    /// run ids are random, so every seek lands on another page: about 25 µs a run and kind on SQLite, which is what a
    /// 100,000-run export spends most of its time on (docs/performance.md). Naming the keys in the SQL halves it
    /// (fewer rows read back).
    /// </summary>
    private static async Task LoadColumnsAsync(DashboardDbContext db, List<Run> runs, RunKeys columns, CancellationToken ct)
    {
        var byId = runs.ToDictionary(r => r.Id);
        var ids = byId.Keys.ToList();
        if (columns.Params.Count > 0)
        {
            var keys = columns.Params;
            foreach (var p in await db.Params.AsNoTracking().Where(p => ids.Contains(p.RunId) && keys.Contains(p.Key)).ToListAsync(ct))
            {
                byId[p.RunId].Params.Add(p);
            }
        }
        if (columns.Metrics.Count > 0)
        {
            var keys = columns.Metrics;
            foreach (var m in await db.LatestMetrics.AsNoTracking().Where(m => ids.Contains(m.RunId) && keys.Contains(m.Key)).ToListAsync(ct))
            {
                byId[m.RunId].LatestMetrics.Add(m);
            }
        }
        if (columns.Tags.Count > 0)
        {
            var keys = columns.Tags;
            foreach (var t in await db.RunTags.AsNoTracking().Where(t => ids.Contains(t.RunId) && keys.Contains(t.Key)).ToListAsync(ct))
            {
                byId[t.RunId].Tags.Add(t);
            }
        }
    }
}
