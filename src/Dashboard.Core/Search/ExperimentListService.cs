using Dashboard.Data;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Search;

/// <summary>An experiment as the dashboard lists it: with its number of active runs and its last activity.</summary>
/// <param name="LastActivity">Epoch milliseconds: the later of the experiment's last update and its newest run's start.</param>
public sealed record ExperimentSummary(Experiment Experiment, long RunCount, long LastActivity);

/// <summary>A run found by name, with its experiment's name (for the app bar's search).</summary>
public sealed record RunNameMatch(string RunId, string? RunName, long ExperimentId, string ExperimentName);

/// <summary>
/// The dashboard's experiment list and the app bar's name search. Filters go through <see cref="FilterParser"/> and
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
        IReadOnlyList<string> orderBy, int offset, int count, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var parsed = FilterParser.Parse(filter, SearchScope.Experiments);
        var order = OrderByParser.Parse(orderBy, SearchScope.Experiments);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var query = ExperimentSearchService.Query(db, viewType, parsed, order);
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

    /// <summary>
    /// Active experiments and runs whose name contains <paramref name="text"/> (case-insensitive): the app bar's
    /// placeholder search until the ranked keyword search exists. A run name search scans the runs table; it stops at
    /// <paramref name="limit"/> matches.
    /// </summary>
    public async Task<(IReadOnlyList<Experiment> Experiments, IReadOnlyList<RunNameMatch> Runs)> FindByNameAsync(string text,
        int limit, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return ([], []);
        }
        var pattern = "%" + EscapeLike(text.Trim()) + "%";
        await using var db = await dbs.CreateDbContextAsync(ct);
        var experiments = await db.Experiments.AsNoTracking()
            .Where(e => e.LifecycleStage == LifecycleStage.Active && EF.Functions.Like(e.Name.ToLower(), pattern.ToLower(), "\\"))
            .OrderBy(e => e.Name).Take(limit).ToListAsync(ct);
        var runs = await (from r in db.Runs
                          join e in db.Experiments on r.ExperimentId equals e.Id
                          where r.LifecycleStage == LifecycleStage.Active && e.LifecycleStage == LifecycleStage.Active
                                && r.Name != null && EF.Functions.Like(r.Name.ToLower(), pattern.ToLower(), "\\")
                          orderby r.StartTime descending
                          select new RunNameMatch(r.Id, r.Name, e.Id, e.Name)).Take(limit).ToListAsync(ct);
        return (experiments, runs);
    }

    /// <summary>Escapes LIKE's wildcards so that the text is searched for as typed.</summary>
    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
