using System.Text.RegularExpressions;
using Dashboard.Data;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Search;

/// <summary>Whether a metric is better low (a loss) or high (an accuracy).</summary>
public enum MetricGoal
{
    Min,
    Max,
}

/// <summary>One param across the compared runs: its value per run (null where a run lacks it) and whether they differ.</summary>
public sealed record ParamRow(string Key, IReadOnlyList<string?> Values)
{
    /// <summary>True when not every run has the same value; a run without the param differs from one with it.</summary>
    public bool Differs => Values.Distinct(StringComparer.Ordinal).Skip(1).Any();
}

/// <summary>The best run of one metric among the compared runs, by the metric's latest value.</summary>
/// <param name="Runs">How many of the compared runs have a number for the metric (NaN left out).</param>
public sealed record BestOfMetric(string Metric, MetricGoal Goal, Run? Best, double? Value, int Runs);

/// <summary>
/// Compares a handful of runs (2 to 100, from any experiments): loads them with their data, lines their params up, and
/// picks the best run of each metric.
/// </summary>
public sealed partial class RunComparison(IDbContextFactory<DashboardDbContext> dbs)
{
    /// <summary>At most this many runs are compared: get-history-bulk-interval's limit, used for the overlays.</summary>
    public const int MaxRuns = MetricService.MaxRunsPerBulkRequest;

    /// <summary>
    /// The runs of <paramref name="runIds"/> in that order, with params, tags and latest metrics, and the names of their
    /// experiments; ids that name no run are left out. Deleted runs are shown too: a shared link should not lose them.
    /// </summary>
    public Task<(IReadOnlyList<Run> Runs, IReadOnlyDictionary<long, string> Experiments)> LoadAsync(IReadOnlyList<string> runIds,
        CancellationToken ct = default) => LoadAsync(runIds, null, ct);

    /// <param name="access">Only runs of experiments this caller may read (null: every run).</param>
    public async Task<(IReadOnlyList<Run> Runs, IReadOnlyDictionary<long, string> Experiments)> LoadAsync(IReadOnlyList<string> runIds,
        Security.PermissionScope? access, CancellationToken ct = default)
    {
        var ids = runIds.Distinct(StringComparer.Ordinal).Take(MaxRuns).ToList();
        if (ids.Count == 0)
        {
            return ([], new Dictionary<long, string>());
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        var query = db.Runs.AsNoTracking().Where(r => ids.Contains(r.Id));
        if (access is { Unrestricted: false })
        {
            var readable = access.ExperimentIds(db);
            query = query.Where(r => readable.Contains(r.ExperimentId));
        }
        var runs = await query.ToListAsync(ct);
        await RunLoader.LoadDataAsync(db, runs, ct);
        var experimentIds = runs.Select(r => r.ExperimentId).Distinct().ToList();
        var experiments = await db.Experiments.AsNoTracking().Where(e => experimentIds.Contains(e.Id))
            .ToDictionaryAsync(e => e.Id, e => e.Name, ct);
        var order = ids.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i, StringComparer.Ordinal);
        return (runs.OrderBy(r => order[r.Id]).ToList(), experiments);
    }

    /// <summary>Every param key of the runs (ordinal order), with each run's value.</summary>
    public static IReadOnlyList<ParamRow> Params(IReadOnlyList<Run> runs)
    {
        var values = runs.Select(r => r.Params.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)).ToList();
        return values.SelectMany(v => v.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(key => new ParamRow(key, values.Select(v => v.GetValueOrDefault(key)).ToList()))
            .ToList();
    }

    /// <summary>Every metric key of the runs' latest values, in ordinal order.</summary>
    public static IReadOnlyList<string> MetricKeys(IEnumerable<Run> runs) =>
        runs.SelectMany(r => r.LatestMetrics.Select(m => m.Key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// The run with the lowest (<see cref="MetricGoal.Min"/>) or highest latest value of <paramref name="metric"/>; NaN
    /// never wins, infinities count as numbers; on a tie the earlier run in <paramref name="runs"/> wins.
    /// </summary>
    public static BestOfMetric Best(IReadOnlyList<Run> runs, string metric, MetricGoal goal)
    {
        Run? best = null;
        double? value = null;
        var count = 0;
        foreach (var run in runs)
        {
            if (run.LatestMetrics.FirstOrDefault(m => m.Key == metric) is not { IsNaN: false } m || double.IsNaN(m.Value))
            {
                continue;
            }
            count++;
            if (value is not { } v || (goal == MetricGoal.Min ? m.Value < v : m.Value > v))
            {
                best = run;
                value = m.Value;
            }
        }
        return new BestOfMetric(metric, goal, best, value, count);
    }

    /// <summary>
    /// The usual direction of a metric by its name: lower is better for losses, errors, distances, perplexity, time and
    /// memory (<c>val_loss</c>, <c>wer</c>, <c>rmse</c>, <c>epoch_time_s</c>), higher for anything else (accuracy, F1,
    /// AUC). A guess that the page lets a person turn round.
    /// </summary>
    public static MetricGoal DefaultGoal(string metric) => LowerIsBetter().IsMatch(metric) ? MetricGoal.Min : MetricGoal.Max;

    // Whole words between non-letters (val_loss, test/wer, loss): a camelCase key (valLoss) is not split, and is a Max.
    [GeneratedRegex(@"(^|[^a-z])(loss|losses|error|err|errors|mse|rmse|mae|mape|nll|wer|cer|ter|perplexity|ppl|latency|time|duration|seconds|secs|ms|memory|mem|distance|dist|fpr|fnr|miss|regret|cost|penalty|bpc|bpd)([^a-z]|$)|(_s|_sec|_ms)$",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex LowerIsBetter();
}
