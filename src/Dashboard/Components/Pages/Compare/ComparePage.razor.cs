using Dashboard.Components.Pages.Experiments;
using Dashboard.Search;
using Dashboard.Tracking;
using Microsoft.AspNetCore.Components;

namespace Dashboard.Components.Pages.Compare;

/// <summary>
/// 2 to 100 runs from any experiments side by side: params (the differing rows tinted, equal rows hideable), metric
/// overlays downsampled on the server, parallel coordinates, a scatter of a param against a metric, and the best run of
/// each metric. Everything the view shows is in the URL (<see cref="CompareState"/>); the runs are loaded once per list.
/// </summary>
public partial class ComparePage
{
    /// <summary>The parallel coordinates' default axes: the first differing params and the first metrics.</summary>
    private const int DefaultParamAxes = 4;
    private const int DefaultMetricAxes = 2;

    private CompareState _state = new();
    private IReadOnlyList<Run> _runs = [];
    private IReadOnlyDictionary<long, string> _experiments = new Dictionary<long, string>();
    private IReadOnlyList<ParamRow> _params = [];
    private IReadOnlyList<string> _metrics = [];
    private IReadOnlyList<RunColumn> _choices = [];
    private string? _loadedFor;
    private bool _loaded;
    private int _missing;

    [Inject] private RunComparison Comparison { get; set; } = null!;
    [Inject] private Dashboard.Auth.PageAccess Access { get; set; } = null!;
    [Inject] private NavigationManager Navigation { get; set; } = null!;

    [SupplyParameterFromQuery(Name = "runs")] public string? QueryRuns { get; set; }
    [SupplyParameterFromQuery(Name = "tab")] public string? QueryTab { get; set; }
    [SupplyParameterFromQuery(Name = "equal")] public string? QueryEqual { get; set; }
    [SupplyParameterFromQuery(Name = "metric")] public string? QueryMetric { get; set; }
    [SupplyParameterFromQuery(Name = "axes")] public string? QueryAxes { get; set; }
    [SupplyParameterFromQuery(Name = "x")] public string? QueryX { get; set; }
    [SupplyParameterFromQuery(Name = "y")] public string? QueryY { get; set; }
    [SupplyParameterFromQuery(Name = "dir")] public string? QueryDir { get; set; }

    private int TabIndex => Math.Max(0, CompareState.Tabs.ToList().IndexOf(_state.Tab));

    /// <summary>The URL's axes, else the first params that differ and the first metrics.</summary>
    private IReadOnlyList<RunColumn> Axes => _state.Axes ??
        _params.Where(p => p.Differs).Take(DefaultParamAxes).Select(p => new RunColumn(SearchEntity.Param, p.Key))
            .Concat(_metrics.Take(DefaultMetricAxes).Select(m => new RunColumn(SearchEntity.Metric, m))).ToList();

    private RunColumn? ScatterX => _state.X
        ?? ((_params.FirstOrDefault(p => p.Differs) ?? (_params.Count > 0 ? _params[0] : null)) is { } p ? new RunColumn(SearchEntity.Param, p.Key) : null);

    private RunColumn? ScatterY => _state.Y ?? (_metrics.Count > 0 ? new RunColumn(SearchEntity.Metric, _metrics[0]) : null);

    protected override async Task OnParametersSetAsync()
    {
        _state = CompareState.From(QueryRuns, QueryTab, QueryEqual, QueryMetric, QueryAxes, QueryX, QueryY, QueryDir);
        var key = string.Join(",", _state.Runs);
        if (key == _loadedFor)
        {
            return;
        }
        _loadedFor = key;
        (_runs, _experiments) = await Comparison.LoadAsync(_state.Runs, await Access.ReadScopeAsync());
        _missing = _state.Runs.Count - _runs.Count;
        _params = RunComparison.Params(_runs);
        _metrics = RunComparison.MetricKeys(_runs);
        _choices = _params.Select(p => new RunColumn(SearchEntity.Param, p.Key))
            .Concat(_metrics.Select(m => new RunColumn(SearchEntity.Metric, m))).ToList();
        _loaded = true;
    }

    /// <summary>Shows <paramref name="state"/> by going to its URL (replacing the history entry: a view is one place).</summary>
    private Task GoAsync(CompareState state)
    {
        // Kept at once: a second change made before the navigation comes back builds on this one.
        _state = state;
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(state.ToQuery()), replace: true);
        return Task.CompletedTask;
    }
}
