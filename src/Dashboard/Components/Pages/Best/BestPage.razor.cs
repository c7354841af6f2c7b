using System.Globalization;
using Dashboard.Components.Shared;
using Dashboard.Errors;
using Dashboard.Search;
using Dashboard.Tracking;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Dashboard.Components.Pages.Best;

/// <summary>
/// "Best configuration": for an experiment or a tag (<c>task:ocr</c>) and a metric with its direction, the top N runs
/// with their params side by side (differences tinted), and a run's params copied as a Python dict or YAML. State in
/// the URL: <c>/best?tag=task:ocr&amp;metric=val_loss&amp;direction=min&amp;n=10</c> (or <c>experiment=ID</c>).
/// </summary>
public partial class BestPage
{
    private BestState _state = new();
    private Dictionary<long, string> _experiments = [];
    private long? _experiment;
    private BestScope? _scope;
    private BestRuns? _best;
    private IReadOnlyList<ParamRow> _rows = [];
    private string? _error;
    private object? _loadedFor;

    [Inject] private BestRunsService Best { get; set; } = null!;
    [Inject] private Dashboard.Auth.PageAccess Access { get; set; } = null!;
    [Inject] private ExperimentListService ExperimentList { get; set; } = null!;
    [Inject] private NavigationManager Navigation { get; set; } = null!;
    [Inject] private IDialogService Dialogs { get; set; } = null!;

    [SupplyParameterFromQuery(Name = "experiment")] public long? QueryExperiment { get; set; }
    [SupplyParameterFromQuery(Name = "tag")] public string? QueryTag { get; set; }
    [SupplyParameterFromQuery(Name = "metric")] public string? QueryMetric { get; set; }
    [SupplyParameterFromQuery(Name = "direction")] public string? QueryDirection { get; set; }
    [SupplyParameterFromQuery(Name = "n")] public int? QueryCount { get; set; }
    [SupplyParameterFromQuery(Name = "equal")] public string? QueryEqual { get; set; }

    private string? Tag => _state.Tag;
    private string? Metric => _state.Metric;
    private int Count => _state.Count;

    /// <summary>The URL's direction, else the one the metric's name suggests (min for loss-like names).</summary>
    private MetricGoal Goal => _state.Direction switch
    {
        "min" => MetricGoal.Min,
        "max" => MetricGoal.Max,
        _ => Metric is null ? MetricGoal.Min : RunComparison.DefaultGoal(Metric),
    };

    protected override async Task OnParametersSetAsync()
    {
        if (_experiments.Count == 0)
        {
            // The experiment picker: the active experiments by name (a few hundred at most in practice; the rest by URL).
            var (page, _) = await ExperimentList.PageAsync(null, ViewType.ActiveOnly, ["name ASC"], 0, 1000,
                await Access.ReadScopeAsync());
            _experiments = page.ToDictionary(e => e.Experiment.Id, e => e.Experiment.Name);
        }
        _state = new BestState
        {
            Experiment = QueryExperiment,
            Tag = string.IsNullOrWhiteSpace(QueryTag) ? null : QueryTag,
            Metric = string.IsNullOrWhiteSpace(QueryMetric) ? null : QueryMetric,
            Direction = QueryDirection is "min" or "max" ? QueryDirection : null,
            Count = QueryCount is { } n ? Math.Clamp(n, 1, BestRunsService.MaxCount) : BestRunsService.DefaultCount,
            HideEqual = QueryEqual == "hide",
        };
        _experiment = _state.Experiment;
        _error = null;
        _scope = _state.Experiment is { } id ? BestScope.Experiment(id) : BestScope.ParseTag(_state.Tag);
        if (_scope is null && _state.Tag is not null)
        {
            _error = $"“{_state.Tag}” is not a tag: write it as key:value, for example task:ocr.";
        }
        var key = (_scope, Metric, Goal, Count);
        if (_scope is null || Metric is null || Equals(key, _loadedFor))
        {
            return;
        }
        _loadedFor = key;
        _best = null;
        try
        {
            _best = await Best.TopAsync(_scope, Metric, Goal, Count, await Access.ReadScopeAsync());
            _rows = RunComparison.Params(_best.Runs);
        }
        catch (MlflowException e)
        {
            _error = e.Message;
        }
    }

    private int Rank(Run run) => _best is null ? 0 : _best.Runs.ToList().IndexOf(run) + 1;

    private string Value(Run run) => run.LatestMetrics.FirstOrDefault(m => m.Key == Metric) is { } m ? Format.Number(m.Value, m.IsNaN) : "";

    private Task GoAsync(long? experiment, string? tag) => Go(_state with { Experiment = experiment, Tag = experiment is null ? tag : null });

    private Task Go(BestState state)
    {
        // Kept at once: a second change made before the navigation comes back (tag, then metric) builds on this one.
        _state = state;
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameters("/best", new Dictionary<string, object?>
        {
            ["experiment"] = state.Experiment?.ToString(CultureInfo.InvariantCulture),
            ["tag"] = state.Tag,
            ["metric"] = state.Metric,
            ["direction"] = state.Direction,
            ["n"] = state.Count == BestRunsService.DefaultCount ? null : state.Count.ToString(CultureInfo.InvariantCulture),
            ["equal"] = state.HideEqual ? "hide" : null,
        }), replace: true);
        return Task.CompletedTask;
    }

    private async Task ShowCopyAsync(Run run, bool python)
    {
        var values = run.Params.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, p.Value)).ToList();
        await Dialogs.ShowAsync<CopyDialog>(python ? "Params as a Python dict" : "Params as YAML", new DialogParameters<CopyDialog>
        {
            { d => d.Text, python ? ParamsExport.ToPythonDict(values) : ParamsExport.ToYaml(values) },
        }, new DialogOptions { MaxWidth = MaxWidth.Medium, FullWidth = true, CloseButton = true });
    }

    private sealed record BestState
    {
        public long? Experiment { get; init; }
        public string? Tag { get; init; }
        public string? Metric { get; init; }
        public string? Direction { get; init; }
        public int Count { get; init; } = BestRunsService.DefaultCount;
        public bool HideEqual { get; init; }
    }
}
