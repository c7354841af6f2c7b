using Dashboard.Data;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Search;

/// <summary>An experiment as the dashboard lists it: with its number of active runs and its last activity.</summary>
/// <param name="LastActivity">Epoch milliseconds: the later of the experiment's last update and its newest run's start.</param>
public sealed record ExperimentSummary(Experiment Experiment, long RunCount, long LastActivity);

/// <summary>
/// The dashboard's experiment list (the app bar's search is <see cref="KeywordSearchService"/>). Filters go through <see cref="FilterParser"/> and
/// <see cref="ExperimentSearchService.Query"/>, so the list searches exactly as experiments/search does.
/// </summary>
public sealed class ExperimentListService(IDbContextFactory<DashboardDbContext> dbs)
{
    /// <summary>
    /// One page of experiments ordered by <paramref name="orderBy"/> (MLflow's order_by of experiments/search), with run
    /// counts and last activity computed for the page only: one grouped query over the runs index
    /// (experiment, stage, start_time), never a count per experiment.
    /// </summary>
    public async Task<(IReadOnlyList<ExperimentSummary> Page, long Total)> PageAsync(string? filter, ViewType viewType,
        IReadOnlyList<string> orderBy, int offset, int count, Security.PermissionScope? access = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var parsed = FilterParser.Parse(filter, SearchScope.Experiments);
        var order = OrderByParser.Parse(orderBy, SearchScope.Experiments);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var query = ExperimentSearchService.Query(db, viewType, parsed, order, access);
        var total = await query.LongCountAsync(ct);
        var experiments = await query.Skip(offset).Take(count).AsNoTracking().ToListAsync(ct);
        var ids = experiments.Select(e => e.Id).ToList();
        var stats = await db.Runs
            .Where(r => ids.Contains(r.ExperimentId) && r.LifecycleStage == LifecycleStage.Active)
            .GroupBy(r => r.ExperimentId)
            .Select(g => new { Id = g.Key, Count = g.LongCount(), Newest = g.Max(r => r.StartTime) })
            .ToDictionaryAsync(s => s.Id, ct);
        foreach (var tag in await db.ExperimentTags.AsNoTracking().Where(t => ids.Contains(t.ExperimentId)).ToListAsync(ct))
        {
            experiments.First(e => e.Id == tag.ExperimentId).Tags.Add(tag);
        }
        return (experiments.Select(e => stats.TryGetValue(e.Id, out var s)
            ? new ExperimentSummary(e, s.Count, Math.Max(e.LastUpdateTime, s.Newest))
            : new ExperimentSummary(e, 0, e.LastUpdateTime)).ToList(), total);
    }
}
