using System.Threading.Channels;
using Dashboard.Errors;
using Dashboard.Search;
using Dashboard.Tracking;
using Microsoft.AspNetCore.Components;

namespace Dashboard.Components.Pages.Runs;

/// <summary>
/// The run page: overview, metrics (one chart each), params, tags, datasets, artifacts and models. The tab, the chart
/// options and the previewed file are in the URL. While the run is RUNNING (or SCHEDULED) the page follows it: it wakes
/// on the in-process <see cref="RunChanges"/> signal or every <see cref="PollInterval"/> (writes that went to another
/// replica), at most once every <see cref="MinInterval"/>, and reads only what changed (docs/adr/0011-run-page.md).
/// </summary>
public sealed partial class RunPage : IAsyncDisposable
{
    /// <summary>How often a live page looks when nothing signalled: the delay for writes that reached another replica.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    /// <summary>The throttle: at most four updates a second, however fast the run logs.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Children listed on the overview (runs whose mlflow.parentRunId is this run).</summary>
    public const int MaxChildren = 100;

    public const string ParentTag = "mlflow.parentRunId";

    public static readonly string[] Tabs = ["overview", "metrics", "params", "tags", "datasets", "artifacts", "models"];

    [Parameter] public string RunId { get; set; } = "";

    [SupplyParameterFromQuery(Name = "tab")] public string? TabQuery { get; set; }
    [SupplyParameterFromQuery(Name = "x")] public string? XQuery { get; set; }
    [SupplyParameterFromQuery(Name = "smooth")] public string? SmoothQuery { get; set; }
    [SupplyParameterFromQuery(Name = "log")] public string? LogQuery { get; set; }
    [SupplyParameterFromQuery(Name = "file")] public string? FileQuery { get; set; }

    [Inject] private RunService Runs { get; set; } = default!;
    [Inject] private Auth.PageAccess Access { get; set; } = default!;
    [Inject] private ExperimentService Experiments { get; set; } = default!;
    [Inject] private RunSearchService Search { get; set; } = default!;
    [Inject] private MetricSeriesService SeriesService { get; set; } = default!;
    [Inject] private RunChanges Changes { get; set; } = default!;
    [Inject] private NavigationManager Nav { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;
    [Inject] private ILogger<RunPage> Log { get; set; } = default!;

    private readonly CancellationTokenSource _cts = new();
    // Cancelled when the page moves to another run (a link to a child or the parent keeps this component).
    private CancellationTokenSource _runCts = new();
    private Run? _run;
    private string? _notFound;
    private string? _loadedRunId;
    private string? _experimentName;
    private Run? _parent;
    private IReadOnlyList<Run> _children = [];
    private bool _childrenTruncated;

    // Metric keys of the run (from latest_metrics) and the series loaded so far; only the charts shown are loaded.
    private List<string> _keys = [];
    private readonly Dictionary<string, MetricSeries> _series = new(StringComparer.Ordinal);
    private Dictionary<string, MetricPoint> _latest = new(StringComparer.Ordinal);
    private string? _metricFilter;
    private bool _loadingSeries;
    private bool _loadAgain;
    private Task? _live;
    private string? _liveError;
    private int _liveUpdates;

    private string Tab => Tabs.Contains(TabQuery) ? TabQuery! : "overview";

    private int TabIndex => Array.IndexOf(Tabs, Tab);

    private ChartOptions Options => ChartOptions.From(XQuery, SmoothQuery, LogQuery);

    private bool IsLive => _run is { } r && !RunStatus.IsTerminal(r.Status) && r.LifecycleStage == LifecycleStage.Active;

    private IEnumerable<string> MatchingKeys => string.IsNullOrWhiteSpace(_metricFilter) ? _keys
        : _keys.Where(k => k.Contains(_metricFilter.Trim(), StringComparison.OrdinalIgnoreCase));

    private List<MetricSeries> ShownSeries =>
        MatchingKeys.Take(MetricCharts.MaxCharts).Where(_series.ContainsKey).Select(k => _series[k]).ToList();

    protected override async Task OnParametersSetAsync()
    {
        if (RunId == _loadedRunId)
        {
            return;
        }
        _loadedRunId = RunId;
        await _runCts.CancelAsync();
        _runCts.Dispose();
        _runCts = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
        _run = null;
        _liveError = null;
        _liveUpdates = 0;
        _notFound = null;
        _series.Clear();
        try
        {
            _run = await Runs.GetRunAsync(RunId, _runCts.Token);
            await Access.RequireExperimentAsync(_run.ExperimentId, Security.AccessLevel.Read, _runCts.Token);
        }
        catch (MlflowException e) when (e.ErrorCode is ErrorCode.RESOURCE_DOES_NOT_EXIST or ErrorCode.INVALID_PARAMETER_VALUE
            or ErrorCode.PERMISSION_DENIED)
        {
            _notFound = e.Message;
            return;
        }
        _experimentName = (await Experiments.GetExperimentAsync(_run.ExperimentId.ToString(System.Globalization.CultureInfo.InvariantCulture), _runCts.Token)).Name;
        _keys = [.. _run.LatestMetrics.Select(m => m.Key).Order(StringComparer.Ordinal)];
        _latest = _run.LatestMetrics.ToDictionary(m => m.Key, m => new MetricPoint(m.Step, m.Timestamp, m.Value, m.IsNaN), StringComparer.Ordinal);
        await LoadRelativesAsync(_run);
        _ = LoadSeriesAsync();
        if (IsLive)
        {
            _live = FollowAsync(_run.Id, _runCts.Token);
        }
    }

    private async Task LoadRelativesAsync(Run run)
    {
        _parent = null;
        if (Tag(run, ParentTag) is { Length: > 0 } parentId)
        {
            try
            {
                _parent = await Runs.GetRunAsync(parentId, _runCts.Token);
            }
            catch (MlflowException e) when (e.ErrorCode == ErrorCode.RESOURCE_DOES_NOT_EXIST)
            {
                // The overview shows the id without a name.
            }
        }
        // Quotes doubled: a run id is the user's text as far as the filter language knows.
        var filter = FilterParser.Parse($"tags.`{ParentTag}` = '{run.Id.Replace("'", "''", StringComparison.Ordinal)}'", SearchScope.Runs);
        var children = await Search.PageAsync([run.ExperimentId], ViewType.ActiveOnly, filter, [], 0, MaxChildren + 1, _runCts.Token);
        _childrenTruncated = children.Count > MaxChildren;
        _children = [.. children.Take(MaxChildren)];
    }

    /// <summary>
    /// Loads the series of the charts to be shown that are not loaded yet, one after another, drawing each as it comes
    /// (a run with many million-point metrics shows its first chart without waiting for the last).
    /// </summary>
    private async Task LoadSeriesAsync()
    {
        if (_loadingSeries)
        {
            _loadAgain = true;
            return;
        }
        _loadingSeries = true;
        var runId = RunId;
        var token = _runCts.Token;
        try
        {
            do
            {
                _loadAgain = false;
                foreach (var key in MatchingKeys.Take(MetricCharts.MaxCharts).Where(k => !_series.ContainsKey(k)).ToList())
                {
                    var series = await SeriesService.GetAsync(runId, key, MetricSeriesService.DefaultBudget, token);
                    token.ThrowIfCancellationRequested();
                    _series.TryAdd(key, series);
                    StateHasChanged();
                }
            }
            while (_loadAgain);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Log.LogError(e, "Loading the charts of run {RunId} failed", RunId);
            _liveError = "The charts could not be loaded; reload the page to try again.";
        }
        finally
        {
            _loadingSeries = false;
            if (_loadAgain && !_cts.IsCancellationRequested)
            {
                // Asked for meanwhile by another run (the page moved on while a series was read).
                _ = LoadSeriesAsync();
            }
            else if (!_cts.IsCancellationRequested)
            {
                StateHasChanged();
            }
        }
    }

    /// <summary>Follows a live run until it ends, the page closes or an error stops it.</summary>
    private async Task FollowAsync(string runId, CancellationToken ct)
    {
        // One pending signal is enough: a burst of writes is one look.
        var signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        using var watch = Changes.Watch(runId, () => signal.Writer.TryWrite(true));
        try
        {
            while (IsLive)
            {
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    wait.CancelAfter(PollInterval);
                    try
                    {
                        await signal.Reader.ReadAsync(wait.Token);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        // The poll: nothing signalled here, but another replica may have taken writes.
                    }
                }
                if (await RefreshAsync(runId, ct))
                {
                    _liveUpdates++;
                    StateHasChanged();
                }
                await Task.Delay(MinInterval, Clock, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Log.LogError(e, "Following run {RunId} failed", runId);
            _liveError = "Live updates stopped after an error; reload the page to resume them.";
            StateHasChanged();
        }
    }

    /// <summary>Reads the run's status and latest points, then the new points of the charts shown. True when anything changed.</summary>
    private async Task<bool> RefreshAsync(string runId, CancellationToken ct)
    {
        var pulse = await SeriesService.PulseAsync(runId, ct);
        if (pulse is null || _run is null)
        {
            return false;
        }
        var changed = false;
        if (pulse.Status != _run.Status || pulse.EndTime != _run.EndTime || pulse.LifecycleStage != _run.LifecycleStage)
        {
            _run.Status = pulse.Status;
            _run.EndTime = pulse.EndTime;
            _run.LifecycleStage = pulse.LifecycleStage;
            changed = true;
        }
        var newKeys = false;
        foreach (var (key, latest) in pulse.Latest)
        {
            if (_latest.TryGetValue(key, out var seen) && !latest.IsAfter(seen))
            {
                continue;
            }
            changed = true;
            if (!_latest.ContainsKey(key))
            {
                newKeys = true;
            }
            _latest[key] = latest;
            if (_series.TryGetValue(key, out var series))
            {
                _series[key] = await ExtendAsync(runId, series, ct);
            }
        }
        if (newKeys)
        {
            _keys = [.. _latest.Keys.Order(StringComparer.Ordinal)];
            _ = LoadSeriesAsync();
        }
        return changed;
    }

    /// <summary>The series with the points logged after its last one, downsampled again when over the budget.</summary>
    private async Task<MetricSeries> ExtendAsync(string runId, MetricSeries series, CancellationToken ct)
    {
        if (series.Last is not { } last)
        {
            return await SeriesService.GetAsync(runId, series.Key, MetricSeriesService.DefaultBudget, ct);
        }
        var added = await SeriesService.GetAfterAsync(runId, series.Key, last, MetricSeriesService.MaxNewPoints, ct);
        if (added is null)
        {
            // Too many new points to merge: read the whole history again (still downsampled while reading).
            return await SeriesService.GetAsync(runId, series.Key, MetricSeriesService.DefaultBudget, ct);
        }
        if (added.Count == 0)
        {
            return series;
        }
        // The kept points already hold each stretch's min and max, so reducing them with the new ones keeps the
        // extremes, the first and the last; only the stretches' boundaries drift until the next full read.
        var merged = new List<MetricPoint>(series.Points.Count + added.Count);
        merged.AddRange(series.Points);
        merged.AddRange(added);
        var points = merged.Count > MetricSeriesService.DefaultBudget ? MinMaxDownsampler.Reduce(merged, MetricSeriesService.DefaultBudget) : merged;
        return new MetricSeries(series.Key, points, series.Total + added.Count, added[^1]);
    }

    private Task OnFilterChanged(string? filter)
    {
        _metricFilter = filter;
        return LoadSeriesAsync();
    }

    private void OnRunChanged(Run run)
    {
        _run = run;
        StateHasChanged();
    }

    private void Go(string? tab = null, ChartOptions? options = null, string? file = null, bool clearFile = false)
    {
        var o = options ?? Options;
        var t = tab ?? Tab;
        var f = clearFile ? null : file ?? FileQuery;
        var query = new Dictionary<string, object?>
        {
            ["tab"] = t == "overview" ? null : t,
            ["x"] = o.XAxis == XAxisMode.Step ? null : ChartOptions.Name(o.XAxis),
            ["smooth"] = o.Smoothing > 0 ? o.Smoothing.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) : null,
            ["log"] = o.LogScale ? "1" : null,
            ["file"] = string.IsNullOrEmpty(f) ? null : f,
        };
        Nav.NavigateTo(Nav.GetUriWithQueryParameters(query), replace: true);
    }

    internal static string? Tag(Run run, string key) => run.Tags.FirstOrDefault(t => t.Key == key)?.Value;

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        if (_live is not null)
        {
            try
            {
                await _live;
            }
            catch (OperationCanceledException)
            {
            }
        }
        _runCts.Dispose();
        _cts.Dispose();
    }
}
