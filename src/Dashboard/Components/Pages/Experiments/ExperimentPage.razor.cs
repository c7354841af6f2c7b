using System.Diagnostics;
using System.Globalization;
using Dashboard.Components.Shared;
using Dashboard.Errors;
using Dashboard.Search;
using Dashboard.Tracking;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Dashboard.Components.Pages.Experiments;

/// <summary>
/// An experiment's runs: the table pages and sorts in the database (MudDataGrid's ServerData over
/// <see cref="RunSearchService.PageAsync"/>, one page of runs in the circuit at a time), with the filter, order,
/// columns, selection, tab and page in the URL (<see cref="RunTableState"/>). Every change of the view is a
/// navigation to the new URL; the page then reacts to the URL, so a link, a reload and back and forward show the
/// same view.
/// </summary>
public partial class ExperimentPage : IDisposable
{
    private static readonly string[] TabNames = [Tab.Runs, Tab.Charts, Tab.Groups];

    /// <summary>The default columns: the first metrics and params of the experiment's newest runs.</summary>
    private const int DefaultMetricColumns = 6;
    private const int DefaultParamColumns = 6;

    private MudDataGrid<RunRow>? _grid;
    private Experiment? _experiment;
    private string? _notFound;
    private RunKeys _keys = RunKeys.None;
    private RunTableState _state = new();
    private FilterError? _filterError;
    private Filter? _parsed;
    private IReadOnlyList<OrderTerm> _order = [];
    private object? _queryKey;
    private long? _total;
    private List<RunRow> _rows = [];
    private TimeSpan? _pageTime;
    private TimeSpan? _countTime;
    private object? _countKey;
    private CancellationTokenSource? _counting;
    private DateTimeOffset _now;

    [Inject] private ExperimentService Experiments { get; set; } = null!;
    [Inject] private Auth.PageAccess Access { get; set; } = null!;
    [Inject] private RunSearchService Search { get; set; } = null!;
    [Inject] private RunTableService Table { get; set; } = null!;
    [Inject] private NavigationManager Navigation { get; set; } = null!;
    [Inject] private BrowserStorage Storage { get; set; } = null!;
    [Inject] private IDialogService Dialogs { get; set; } = null!;
    [Inject] private TimeProvider Clock { get; set; } = null!;
    [Inject] private ILogger<ExperimentPage> Logger { get; set; } = null!;
    [Inject] private ISnackbar Snackbar { get; set; } = null!;

    [Parameter] public long ExperimentId { get; set; }

    [SupplyParameterFromQuery(Name = "filter")] public string? QueryFilter { get; set; }
    [SupplyParameterFromQuery(Name = "order")] public string? QueryOrder { get; set; }
    [SupplyParameterFromQuery(Name = "cols")] public string? QueryColumns { get; set; }
    [SupplyParameterFromQuery(Name = "sel")] public string? QuerySelected { get; set; }
    [SupplyParameterFromQuery(Name = "tab")] public string? QueryTab { get; set; }
    [SupplyParameterFromQuery(Name = "metric")] public string? QueryMetric { get; set; }
    [SupplyParameterFromQuery(Name = "page")] public int? QueryPage { get; set; }
    [SupplyParameterFromQuery(Name = "size")] public int? QuerySize { get; set; }
    [SupplyParameterFromQuery(Name = "status")] public string? QueryStatus { get; set; }
    [SupplyParameterFromQuery(Name = "user")] public string? QueryUser { get; set; }
    [SupplyParameterFromQuery(Name = "since")] public string? QuerySince { get; set; }
    [SupplyParameterFromQuery(Name = "group")] public string? QueryGroup { get; set; }
    [SupplyParameterFromQuery(Name = "gmetric")] public string? QueryGroupMetric { get; set; }
    [SupplyParameterFromQuery(Name = "gbest")] public string? QueryGroupBest { get; set; }

    private IReadOnlyList<RunColumn> Columns => _state.Columns ?? [];

    private string? OrderedMetric => _order.Count > 0 && _order[0] is { Entity: SearchEntity.Metric } term ? term.Key : null;

    private int TabIndex => Math.Max(0, Array.IndexOf(TabNames, _state.Tab));

    /// <summary>Pages of the count; while it runs, the pages seen so far and one more when this one is full.</summary>
    private int PageCount => _total is { } t ? (int)Math.Max(1, (t + _state.PageSize - 1) / _state.PageSize)
        : _state.Page + 1 + (_rows.Count == _state.PageSize ? 1 : 0);

    private string ColumnsKey => $"dashboard.columns.{ExperimentId}";

    private string ExportHref => Navigation.GetUriWithQueryParameters($"/experiments/{ExperimentId}/runs.csv",
        _state.ToExportQuery());

    protected override async Task OnParametersSetAsync()
    {
        var state = RunTableState.From(QueryFilter, QueryOrder, QueryColumns, QuerySelected, QueryTab, QueryMetric, QueryPage, QuerySize,
            QueryStatus, QueryUser, QuerySince, QueryGroup, QueryGroupMetric, QueryGroupBest);
        if (_experiment?.Id != ExperimentId)
        {
            _queryKey = null;
            _countKey = null;
            _total = null;
            try
            {
                _experiment = await Experiments.GetExperimentAsync(ExperimentId.ToString(CultureInfo.InvariantCulture));
                await Access.RequireExperimentAsync(_experiment.Id, Security.AccessLevel.Read);
                _notFound = _experiment.LifecycleStage == LifecycleStage.Active ? null
                    : $"Experiment {ExperimentId} is deleted. Restore it from the deleted experiments to see its runs.";
            }
            catch (MlflowException e) when (e.ErrorCode is ErrorCode.RESOURCE_DOES_NOT_EXIST or ErrorCode.PERMISSION_DENIED)
            {
                _notFound = e.Message;
            }
            _keys = _notFound is null ? await Table.KeysAsync(ExperimentId) : RunKeys.None;
        }
        if (_notFound is not null)
        {
            return;
        }
        if (state.Columns is null)
        {
            // No columns in the URL: this browser's last choice for the experiment, else the defaults; written into the
            // URL at once, so that a link copied from here shows the same columns to anyone. Defaults of an experiment
            // without runs yet stay out of the URL: a reload once runs have arrived should offer their keys.
            var remembered = await Storage.GetAsync(ColumnsKey);
            IReadOnlyList<RunColumn> columns = remembered is null ? DefaultColumns() : RunColumn.ParseList(remembered);
            if (columns.Count > 0 || remembered is not null)
            {
                await GoAsync(state with { Columns = columns }, remember: false);
                return;
            }
        }
        _state = state;
        _now = Clock.GetUtcNow();
        // The runs change only with what decides membership, order and the page; columns, selection and tabs re-render.
        // The count changes only with membership: paging and ordering do not count again.
        var countKey = (state.Filter, state.Status, state.User, state.Since);
        var queryKey = (countKey, state.Order, state.Page, state.PageSize);
        if (!Equals(queryKey, _queryKey))
        {
            _queryKey = queryKey;
            Parse();
            if (!Equals(countKey, _countKey))
            {
                _countKey = countKey;
                StartCount();
            }
            if (_grid is not null)
            {
                await _grid.ReloadServerData();
            }
        }
    }

    /// <summary>
    /// Counts the matching runs beside the page, on its own connection: a filter checked per run costs hundreds of
    /// milliseconds at 100,000 runs (measured, docs/performance.md), and the rows need not wait for it. The pager and
    /// the total show when it is done; a newer filter cancels an older count.
    /// </summary>
    private void StartCount()
    {
        _counting?.Cancel();
        _counting?.Dispose();
        _counting = null;
        _total = null;
        if (_parsed is not { } filter)
        {
            _total = 0;
            return;
        }
        var cts = new CancellationTokenSource();
        _counting = cts;
        _ = CountAsync(filter, cts.Token);
    }

    private async Task CountAsync(Filter filter, CancellationToken ct)
    {
        try
        {
            var clock = Stopwatch.StartNew();
            var total = await Table.CountAsync([ExperimentId], ViewType.ActiveOnly, filter, ct);
            if (!ct.IsCancellationRequested)
            {
                _total = total;
                _countTime = clock.Elapsed;
                await InvokeAsync(StateHasChanged);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // A newer filter took over.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Nobody awaits this task: a failure is logged and the pager goes on without a total.
            Logger.LogError(e, "Counting the runs of experiment {ExperimentId} failed", ExperimentId);
        }
    }

    public void Dispose()
    {
        _counting?.Cancel();
        _counting?.Dispose();
        GC.SuppressFinalize(this);
    }

    private List<RunColumn> DefaultColumns() =>
        _keys.Metrics.Take(DefaultMetricColumns).Select(k => new RunColumn(SearchEntity.Metric, k))
            .Concat(_keys.Params.Take(DefaultParamColumns).Select(k => new RunColumn(SearchEntity.Param, k))).ToList();

    /// <summary>The typed filter is checked alone, so that an error's position points into what the person typed; then
    /// with the quick filters joined to it.</summary>
    private void Parse()
    {
        _parsed = null;
        _filterError = null;
        if (!FilterParser.TryParse(_state.Filter, SearchScope.Runs, out _, out var error))
        {
            _filterError = error;
            return;
        }
        if (!FilterParser.TryParse(_state.EffectiveFilter(_now), SearchScope.Runs, out var parsed, out var quickError))
        {
            _filterError = new FilterError($"A quick filter cannot be searched for: {quickError.Message}", 0);
            return;
        }
        try
        {
            _order = OrderByParser.Parse(_state.OrderBy, SearchScope.Runs);
        }
        catch (MlflowException e)
        {
            _filterError = new FilterError($"The order in the address is not valid, so the default order is used: {e.Message}", 0);
            _order = [];
        }
        _parsed = parsed;
    }

    /// <summary>The grid's ServerData: the page the URL names (the grid's own paging state is not used: the pager
    /// below the grid is the URL's).</summary>
    private async Task<GridData<RunRow>> LoadRunsAsync(GridState<RunRow> state, CancellationToken ct)
    {
        if (_parsed is null)
        {
            _rows = [];
            _pageTime = null;
            return new GridData<RunRow> { Items = [], TotalItems = 0 };
        }
        var clock = Stopwatch.StartNew();
        var runs = await Search.PageAsync([ExperimentId], ViewType.ActiveOnly, _parsed, _order, _state.Page * _state.PageSize, _state.PageSize, ct);
        _rows = runs.Select(r => new RunRow(r)).ToList();
        _pageTime = clock.Elapsed;
        // The pager and the selection's header box live outside the grid's render.
        _ = InvokeAsync(StateHasChanged);
        return new GridData<RunRow> { Items = _rows, TotalItems = _rows.Count };
    }

    private string LoadInfo => _pageTime is not { } page ? ""
        : $"{_rows.Count} shown · page in {page.TotalMilliseconds:0} ms" + (_countTime is { } count && _total is not null ? $", counted in {count.TotalMilliseconds:0} ms" : "");

    /// <summary>Shows <paramref name="state"/> by going to its URL (replacing the history entry: a view is one place).</summary>
    private Task GoAsync(RunTableState state, bool remember = true)
    {
        if (remember && state.Columns is { } columns && !Equals(RunColumn.Join(columns), RunColumn.Join(Columns)))
        {
            _ = Storage.SetAsync(ColumnsKey, RunColumn.Join(columns));
        }
        // Taken now, not when the new address comes back: a second click (another tick) before that builds on this
        // state instead of the previous one, so quick clicks under load are not lost. The data follow the address.
        _state = state;
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(state.ToQuery()), replace: true);
        return Task.CompletedTask;
    }

    private Task OrderAsync(string order) => GoAsync(_state with { Order = order, Page = 0 });

    private static readonly string TooMany =
        $"At most {RunTableState.MaxSelected} runs can be selected (the chart reads at most that many histories at once).";

    private Task SelectAsync(string runId, bool selected)
    {
        var ids = _state.Selected.Where(id => id != runId).ToList();
        if (selected)
        {
            if (ids.Count >= RunTableState.MaxSelected)
            {
                Snackbar.Add(TooMany, Severity.Warning);
                return Task.CompletedTask;
            }
            ids.Add(runId);
        }
        return GoAsync(_state with { Selected = ids });
    }

    /// <summary>All, none or some of the page's runs are selected (the header's check box).</summary>
    private bool? PageSelection => _rows.Count == 0 || !_rows.Any(r => _state.Selected.Contains(r.Run.Id)) ? false
        : _rows.All(r => _state.Selected.Contains(r.Run.Id)) ? true : null;

    private Task SelectPageAsync(bool? selected)
    {
        var pageIds = _rows.Select(r => r.Run.Id).ToHashSet();
        var ids = _state.Selected.Where(id => !pageIds.Contains(id)).ToList();
        if (selected == true)
        {
            if (ids.Count + pageIds.Count > RunTableState.MaxSelected)
            {
                Snackbar.Add(TooMany, Severity.Warning);
            }
            ids.AddRange(pageIds.Take(RunTableState.MaxSelected - ids.Count));
        }
        return GoAsync(_state with { Selected = ids });
    }

    private async Task ChooseColumnsAsync()
    {
        var dialog = await Dialogs.ShowAsync<ColumnChooserDialog>("Columns", new DialogParameters<ColumnChooserDialog>
        {
            { d => d.Keys, _keys },
            { d => d.Current, Columns },
            { d => d.Defaults, DefaultColumns() },
        }, new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true });
        if (await dialog.Result is { Canceled: false, Data: IReadOnlyList<RunColumn> columns })
        {
            await GoAsync(_state with { Columns = columns });
        }
    }

    private Task PickGroupAsync(string value)
    {
        var term = $"params.`{_state.Group}` = {RunTableState.Quote(value)}";
        return GoAsync(_state with { Filter = _state.Filter is null ? term : $"{_state.Filter} AND {term}", Tab = Tab.Runs, Page = 0 });
    }

    private static Color StatusColor(string status) => status switch
    {
        RunStatus.Finished => Color.Success,
        RunStatus.Failed => Color.Error,
        RunStatus.Killed => Color.Warning,
        RunStatus.Running => Color.Info,
        _ => Color.Default,
    };
}

/// <summary>The tabs of the experiment page, by their URL value.</summary>
public static class Tab
{
    public const string Runs = "runs";
    public const string Charts = "charts";
    public const string Groups = "groups";
}
