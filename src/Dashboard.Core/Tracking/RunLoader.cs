using Dashboard.Data;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Tracking;

/// <summary>
/// Fills params, tags, latest metrics, dataset and model inputs and model outputs of already loaded runs: one query per kind for the
/// whole page, never one per run, and no cartesian product.
/// </summary>
public static class RunLoader
{
    public static async Task LoadDataAsync(DashboardDbContext db, IReadOnlyList<Run> runs, CancellationToken ct)
    {
        if (runs.Count == 0)
        {
            return;
        }
        var byId = runs.ToDictionary(r => r.Id);
        foreach (var chunk in byId.Keys.Chunk(500))
        {
            foreach (var p in await db.Params.AsNoTracking().Where(p => chunk.Contains(p.RunId)).ToListAsync(ct))
            {
                byId[p.RunId].Params.Add(p);
            }
            foreach (var t in await db.RunTags.AsNoTracking().Where(t => chunk.Contains(t.RunId)).ToListAsync(ct))
            {
                byId[t.RunId].Tags.Add(t);
            }
            foreach (var m in await db.LatestMetrics.AsNoTracking().Where(m => chunk.Contains(m.RunId)).ToListAsync(ct))
            {
                byId[m.RunId].LatestMetrics.Add(m);
            }
            var inputs = await db.RunInputs.AsNoTracking()
                .Where(i => chunk.Contains(i.RunId))
                .Include(i => i.Dataset)
                .Include(i => i.Tags)
                .AsSplitQuery()
                .ToListAsync(ct);
            foreach (var i in inputs)
            {
                byId[i.RunId].Inputs.Add(i);
            }
            foreach (var m in await db.RunModelInputs.AsNoTracking().Where(m => chunk.Contains(m.RunId)).ToListAsync(ct))
            {
                byId[m.RunId].ModelInputs.Add(m);
            }
            foreach (var o in await db.RunOutputs.AsNoTracking().Where(o => chunk.Contains(o.RunId)).ToListAsync(ct))
            {
                byId[o.RunId].Outputs.Add(o);
            }
        }
    }
}
