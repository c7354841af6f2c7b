using Dashboard.Data;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Search;

// Placeholder until the search branch lands: no filter, no order_by, no paging. Deleted at the merge.

public sealed class RunSearchService(IDbContextFactory<DashboardDbContext> dbs)
{
    public async Task<SearchPage<Run>> SearchAsync(RunSearchRequest request, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var ids = request.ExperimentIds.ToList();
        var q = db.Runs.AsNoTracking().Where(r => ids.Contains(r.ExperimentId));
        q = request.ViewType switch
        {
            ViewType.ActiveOnly => q.Where(r => r.LifecycleStage == LifecycleStage.Active),
            ViewType.DeletedOnly => q.Where(r => r.LifecycleStage == LifecycleStage.Deleted),
            _ => q,
        };
        var runs = await q.OrderByDescending(r => r.StartTime).ThenBy(r => r.Id).Take(request.MaxResults).ToListAsync(ct);
        await RunLoader.LoadDataAsync(db, runs, ct);
        return new SearchPage<Run>(runs, null);
    }
}

public sealed class ExperimentSearchService(IDbContextFactory<DashboardDbContext> dbs)
{
    public async Task<SearchPage<Experiment>> SearchAsync(ExperimentSearchRequest request, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var q = db.Experiments.AsNoTracking().Include(e => e.Tags).AsQueryable();
        q = request.ViewType switch
        {
            ViewType.ActiveOnly => q.Where(r => r.LifecycleStage == LifecycleStage.Active),
            ViewType.DeletedOnly => q.Where(r => r.LifecycleStage == LifecycleStage.Deleted),
            _ => q,
        };
        var list = await q.OrderByDescending(e => e.CreationTime).ThenBy(e => e.Id).Take((int)request.MaxResults).ToListAsync(ct);
        return new SearchPage<Experiment>(list, null);
    }
}
