using Dashboard.Data;
using Dashboard.Errors;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Tracking;

/// <summary>Metric histories: paged for get-history, downsampled for charts and get-history-bulk-interval.</summary>
public sealed class MetricService(IDbContextFactory<DashboardDbContext> dbs)
{
    /// <summary>The most points get-history returns a page (MLflow's GET_METRIC_HISTORY_MAX_RESULTS).</summary>
    public const int MaxHistoryPage = 25000;

    public async Task<SearchHistoryPage> GetHistoryAsync(string? runId, string? key, int? maxResults, string? pageToken,
        CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(runId, "run_id");
        var k = key ?? throw MlflowException.Missing("metric_key");
        var limit = maxResults ?? MaxHistoryPage;
        if (limit < 1 || limit > MaxHistoryPage)
        {
            throw MlflowException.InvalidParameter(TrackingValidation.InvalidValue("max_results", limit,
                $"it must be between 1 and {MaxHistoryPage}."));
        }
        var after = HistoryToken.Decode(pageToken);
        await using var db = await dbs.CreateDbContextAsync(ct);
        if (!await db.Runs.AnyAsync(r => r.Id == id, ct))
        {
            throw RunService.NotFound(id);
        }
        var query = db.Metrics.AsNoTracking().Where(m => m.RunId == id && m.Key == k);
        if (after is { } a)
        {
            // Keyset paging over the key's order (step, timestamp, value, is_nan): stable under concurrent inserts.
            query = query.Where(m => m.Step > a.Step
                || (m.Step == a.Step && (m.Timestamp > a.Timestamp
                    || (m.Timestamp == a.Timestamp && (m.Value > a.Value
                        || (m.Value == a.Value && m.IsNaN && !a.IsNaN))))));
        }
        var rows = await query
            .OrderBy(m => m.Step).ThenBy(m => m.Timestamp).ThenBy(m => m.Value).ThenBy(m => m.IsNaN)
            .Take(limit + 1)
            .ToListAsync(ct);
        string? next = null;
        if (rows.Count > limit)
        {
            rows.RemoveAt(rows.Count - 1);
            next = HistoryToken.Encode(rows[^1]);
        }
        return new SearchHistoryPage(rows, next);
    }

    /// <summary>
    /// get-history-bulk-interval: for each run, at most <paramref name="maxResults"/> points of the key between
    /// the steps given, chosen evenly over the steps and always keeping the first and the last.
    /// </summary>
    public async Task<IReadOnlyList<Metric>> GetHistoryBulkIntervalAsync(IReadOnlyList<string> runIds, string? key,
        long? startStep, long? endStep, int? maxResults, CancellationToken ct = default)
    {
        if (runIds.Count == 0)
        {
            throw MlflowException.Missing("run_ids");
        }
        if (runIds.Count > MaxRunsPerBulkRequest)
        {
            throw MlflowException.InvalidParameter(
                $"GetMetricHistoryBulkInterval request must specify at most {MaxRunsPerBulkRequest} run_ids. Received {runIds.Count} run_ids.");
        }
        var k = key ?? throw MlflowException.Missing("metric_key");
        if ((startStep is null) != (endStep is null))
        {
            throw MlflowException.InvalidParameter(
                "If either start step or end step are specified, both must be specified.");
        }
        if (startStep > endStep)
        {
            throw MlflowException.InvalidParameter("end_step must be greater than start_step. ");
        }
        var limit = maxResults ?? MaxPointsPerRun;
        if (limit < 1 || limit > MaxPointsPerRun)
        {
            throw MlflowException.InvalidParameter(TrackingValidation.InvalidValue("max_results", limit,
                $"it must be between 1 and {MaxPointsPerRun}."));
        }
        var result = new List<Metric>();
        await using var db = await dbs.CreateDbContextAsync(ct);
        foreach (var runId in runIds.Distinct())
        {
            var q = db.Metrics.AsNoTracking().Where(m => m.RunId == runId && m.Key == k);
            if (startStep is { } s && endStep is { } e)
            {
                q = q.Where(m => m.Step >= s && m.Step <= e);
            }
            var steps = await q.Select(m => m.Step).Distinct().OrderBy(x => x).ToListAsync(ct);
            if (steps.Count == 0)
            {
                continue;
            }
            var chosen = Downsample.EvenSteps(steps, limit);
            var points = await q.Where(m => chosen.Contains(m.Step))
                .OrderBy(m => m.Step).ThenBy(m => m.Timestamp).ThenBy(m => m.Value)
                .ToListAsync(ct);
            result.AddRange(points);
        }
        return result;
    }

    public const int MaxRunsPerBulkRequest = 100;
    public const int MaxPointsPerRun = 2500;
}

public sealed record SearchHistoryPage(IReadOnlyList<Metric> Metrics, string? NextPageToken);
