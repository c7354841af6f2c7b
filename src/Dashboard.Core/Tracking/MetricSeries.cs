using Dashboard.Data;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Tracking;

/// <summary>One point of a metric's history as a chart needs it; NaN is <see cref="IsNaN"/> (its stored value is 0).</summary>
public readonly record struct MetricPoint(long Step, long Timestamp, double Value, bool IsNaN)
{
    /// <summary>The value with NaN restored.</summary>
    public double Plain => IsNaN ? double.NaN : Value;

    /// <summary>The history's order (step, timestamp, value, is_nan): the metrics table's primary key.</summary>
    public bool IsAfter(MetricPoint other) =>
        Step != other.Step ? Step > other.Step
        : Timestamp != other.Timestamp ? Timestamp > other.Timestamp
        : Value != other.Value ? Value > other.Value
        : IsNaN && !other.IsNaN;
}

/// <summary>
/// A metric's history reduced to a point budget. <see cref="Total"/> is how many points the history has;
/// <see cref="Last"/> is the newest point in history order (where live updates continue from), absent when empty.
/// </summary>
public sealed record MetricSeries(string Key, IReadOnlyList<MetricPoint> Points, long Total, MetricPoint? Last);

/// <summary>A run's status and its latest point per metric key (ordered by key).</summary>
public sealed record RunPulse(string Status, long? EndTime, string LifecycleStage, IReadOnlyList<KeyValuePair<string, MetricPoint>> Latest);

/// <summary>
/// Min-max downsampling by position (the M4 family, without the per-bucket first and last): the points are split into
/// equal-count buckets in history order, and each bucket keeps its smallest and its largest value, in the order they
/// came; the series' first and last points are always kept. Spikes survive, which even sampling by step loses: a loss
/// that diverged for one step out of a million still shows. Buckets are by position, not by step range, because many
/// clients log every point at step 0 (MLflow's default) and then only the wall time tells points apart.
/// NaN never competes for min or max; a bucket with nothing but NaN keeps its first NaN, so that the chart shows the gap.
/// ±Infinity compete as the extremes they are (a diverging loss must not be smoothed away).
/// Memory is O(budget) whatever the length of the input: points are fed one at a time.
/// </summary>
public sealed class MinMaxDownsampler
{
    private readonly long _count;
    private readonly int _buckets;
    private readonly Bucket[] _slots;
    private long _index;
    private MetricPoint _first;
    private MetricPoint _last;
    private List<MetricPoint>? _kept;

    /// <param name="count">How many points will be fed (the bucket sizes depend on it).</param>
    /// <param name="budget">The most points <see cref="Result"/> returns; at least 4 (first, last, one bucket's min and max).</param>
    public MinMaxDownsampler(long count, int budget)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 4);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        _count = count;
        Budget = budget;
        // Two points a bucket, and two more for the first and the last (which may be a bucket's min or max too).
        _buckets = (int)Math.Max(1, Math.Min((budget - 2) / 2, count));
        _slots = new Bucket[_buckets];
    }

    public int Budget { get; }

    /// <summary>The points fed so far.</summary>
    public long Fed => _index;

    public void Add(MetricPoint point)
    {
        if (_index >= _count)
        {
            throw new InvalidOperationException($"More points than the {_count} announced.");
        }
        var i = _index++;
        if (i == 0)
        {
            _first = point;
        }
        _last = point;
        if (_count <= Budget)
        {
            // Everything fits: kept as is (the buckets are not used).
            (_kept ??= new List<MetricPoint>((int)_count)).Add(point);
            return;
        }
        var b = (int)((Int128)i * _buckets / _count);
        ref var slot = ref _slots[b];
        if (point.IsNaN)
        {
            if (!slot.HasNaN && !slot.HasValue)
            {
                slot.NaN = (i, point);
                slot.HasNaN = true;
            }
            return;
        }
        if (!slot.HasValue)
        {
            slot.Min = slot.Max = (i, point);
            slot.HasValue = true;
            return;
        }
        if (point.Value < slot.Min.Point.Value)
        {
            slot.Min = (i, point);
        }
        if (point.Value > slot.Max.Point.Value)
        {
            slot.Max = (i, point);
        }
    }

    /// <summary>The chosen points in history order: at most <see cref="Budget"/>, the first and the last always among them.</summary>
    public List<MetricPoint> Result()
    {
        if (_index == 0)
        {
            return [];
        }
        if (_kept is not null)
        {
            return [.. _kept];
        }
        var chosen = new List<(long Index, MetricPoint Point)>(Budget) { (0, _first) };
        foreach (var slot in _slots)
        {
            if (slot.HasValue)
            {
                var (a, b) = slot.Min.Index <= slot.Max.Index ? (slot.Min, slot.Max) : (slot.Max, slot.Min);
                Append(chosen, a);
                Append(chosen, b);
            }
            else if (slot.HasNaN)
            {
                Append(chosen, slot.NaN);
            }
        }
        Append(chosen, (_index - 1, _last));
        return chosen.ConvertAll(c => c.Point);
    }

    // Indexes only grow, so a point already taken (the first, or min == max) is the list's last entry.
    private static void Append(List<(long Index, MetricPoint Point)> chosen, (long Index, MetricPoint Point) entry)
    {
        if (chosen[^1].Index < entry.Index)
        {
            chosen.Add(entry);
        }
    }

    /// <summary>Downsamples points that are all in memory (in history order).</summary>
    public static List<MetricPoint> Reduce(IReadOnlyList<MetricPoint> points, int budget)
    {
        var sampler = new MinMaxDownsampler(points.Count, budget);
        foreach (var p in points)
        {
            sampler.Add(p);
        }
        return sampler.Result();
    }

    private struct Bucket
    {
        public bool HasValue;
        public bool HasNaN;
        public (long Index, MetricPoint Point) Min;
        public (long Index, MetricPoint Point) Max;
        public (long Index, MetricPoint Point) NaN;
    }
}

/// <summary>
/// Metric histories for the run page's charts: each series downsampled in the server to a point budget
/// (<see cref="MinMaxDownsampler"/>), read as a stream so that a million-point history is never held in memory,
/// and the points logged after a known one (live runs), read by a seek on the metrics table's primary key.
/// </summary>
public sealed class MetricSeriesService(IDbContextFactory<DashboardDbContext> dbs)
{
    /// <summary>Points a chart series gets: about one per pixel of a wide chart, min and max of each pair of pixels.</summary>
    public const int DefaultBudget = 1000;

    /// <summary>The most new points one live refresh reads per key; more means "read the whole series again".</summary>
    public const int MaxNewPoints = 20_000;

    /// <summary>
    /// What a live run page looks at on each tick: the run's status and end time, and its latest point per key (one
    /// latest_metrics row a key, read by the primary key). Two small queries, whatever the length of the histories.
    /// Null when the run no longer exists.
    /// </summary>
    public async Task<RunPulse?> PulseAsync(string runId, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == runId)
            .Select(r => new { r.Status, r.EndTime, r.LifecycleStage }).FirstOrDefaultAsync(ct);
        if (run is null)
        {
            return null;
        }
        var latest = await db.LatestMetrics.AsNoTracking().Where(m => m.RunId == runId).OrderBy(m => m.Key)
            .Select(m => new KeyValuePair<string, MetricPoint>(m.Key, new MetricPoint(m.Step, m.Timestamp, m.Value, m.IsNaN)))
            .ToListAsync(ct);
        return new RunPulse(run.Status, run.EndTime, run.LifecycleStage, latest);
    }

    /// <summary>The whole history of one key, downsampled to <paramref name="budget"/> points.</summary>
    public async Task<MetricSeries> GetAsync(string runId, string key, int budget = DefaultBudget, CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var history = db.Metrics.AsNoTracking().Where(m => m.RunId == runId && m.Key == key);
        // The count decides the bucket sizes; it reads the primary key's (run_id, key) range, not the rows.
        // A point logged between the count and the read is left for the next read (Add refuses more than announced).
        var count = await history.LongCountAsync(ct);
        var sampler = new MinMaxDownsampler(count, budget);
        MetricPoint? last = null;
        await foreach (var p in history
            .OrderBy(m => m.Step).ThenBy(m => m.Timestamp).ThenBy(m => m.Value).ThenBy(m => m.IsNaN)
            .Select(m => new MetricPoint(m.Step, m.Timestamp, m.Value, m.IsNaN))
            .Take((int)Math.Min(count, int.MaxValue))
            .AsAsyncEnumerable().WithCancellation(ct))
        {
            sampler.Add(p);
            last = p;
        }
        return new MetricSeries(key, sampler.Result(), sampler.Fed, last);
    }

    /// <summary>
    /// The points of <paramref name="key"/> after <paramref name="after"/> in history order, at most
    /// <paramref name="limit"/> (null when there are more: the caller reads the series again).
    /// </summary>
    public async Task<List<MetricPoint>?> GetAfterAsync(string runId, string key, MetricPoint after, int limit = MaxNewPoints,
        CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var a = after;
        var rows = await db.Metrics.AsNoTracking()
            .Where(m => m.RunId == runId && m.Key == key)
            // The same keyset as get-history's page token: a seek on the primary key.
            .Where(m => m.Step > a.Step
                || (m.Step == a.Step && (m.Timestamp > a.Timestamp
                    || (m.Timestamp == a.Timestamp && (m.Value > a.Value
                        || (m.Value == a.Value && m.IsNaN && !a.IsNaN))))))
            .OrderBy(m => m.Step).ThenBy(m => m.Timestamp).ThenBy(m => m.Value).ThenBy(m => m.IsNaN)
            .Select(m => new MetricPoint(m.Step, m.Timestamp, m.Value, m.IsNaN))
            .Take(limit + 1)
            .ToListAsync(ct);
        return rows.Count > limit ? null : rows;
    }
}
