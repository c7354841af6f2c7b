using Dashboard.Errors;
using Dashboard.Governance;
using Microsoft.AspNetCore.Components;

namespace Dashboard.Components.Pages.Audit;

/// <summary>
/// The Audit page: the filters are the URL's query, with the names of the API's parameters (so a filtered view is a link
/// to share and the export buttons pass it on unchanged); pages follow the search's keyset tokens.
/// </summary>
public partial class AuditPage
{
    public const int PageSize = 50;

    /// <summary>A filter box: the query parameter, its label and its hint.</summary>
    public sealed record Filter(string Key, string Label, string? Help = null);

    public static readonly IReadOnlyList<Filter> Filters =
    [
        new("actor", "Actor"),
        new("action", "Action", "e.g. promotion_request."),
        new("target_type", "Target type", "e.g. access_token"),
        new("name", "Model"),
        new("version", "Version"),
        new("request_id", "Request"),
        new("from", "From", "2026-11-28 or epoch ms"),
        new("to", "To (before)"),
        new("q", "Target contains"),
    ];

    private List<AuditEvent> _events = [];
    private readonly List<string?> _pages = [null];
    private readonly HashSet<long> _open = [];
    private string? _next;
    private string? _error;
    private bool _loaded;
    private bool _everything;
    private Dictionary<string, string?> _query = [];

    // Each filter is a query parameter, so that a change of the URL sets the parameters again and the page reloads.
    [SupplyParameterFromQuery(Name = "actor")] public string? Actor { get; set; }
    [SupplyParameterFromQuery(Name = "action")] public string? Action { get; set; }
    [SupplyParameterFromQuery(Name = "target_type")] public string? TargetType { get; set; }
    [SupplyParameterFromQuery(Name = "name")] public string? ModelName { get; set; }
    [SupplyParameterFromQuery(Name = "version")] public string? Version { get; set; }
    [SupplyParameterFromQuery(Name = "request_id")] public string? RequestId { get; set; }
    [SupplyParameterFromQuery(Name = "from")] public string? From { get; set; }
    [SupplyParameterFromQuery(Name = "to")] public string? To { get; set; }
    [SupplyParameterFromQuery(Name = "q")] public string? Text { get; set; }

    protected override async Task OnParametersSetAsync()
    {
        _query = new Dictionary<string, string?>
        {
            ["actor"] = Actor, ["action"] = Action, ["target_type"] = TargetType, ["name"] = ModelName, ["version"] = Version,
            ["request_id"] = RequestId, ["from"] = From, ["to"] = To, ["q"] = Text,
        }.ToDictionary(p => p.Key, p => string.IsNullOrEmpty(p.Value) ? null : p.Value);
        _pages.Clear();
        _pages.Add(null);
        _open.Clear();
        await LoadAsync();
    }

    private string? QueryValue(string key) => _query.GetValueOrDefault(key);

    /// <summary>The API's export address with this page's filters.</summary>
    private string ExportHref(string format)
    {
        var parts = new List<string> { "format=" + format };
        parts.AddRange(_query.Where(p => p.Value is not null).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!)}"));
        return "/api/v1/audit-events/export?" + string.Join('&', parts);
    }

    private async Task LoadAsync()
    {
        _error = null;
        try
        {
            var caller = await Access.CallerAsync();
            _everything = AuditService.SeesEverything(caller);
            var query = new AuditQuery(
                Actor: QueryValue("actor"),
                Action: QueryValue("action")?.Trim(),
                TargetType: QueryValue("target_type")?.Trim(),
                ModelName: QueryValue("name"),
                Version: Number(QueryValue("version"), "version") is { } v ? (int)Math.Clamp(v, int.MinValue, int.MaxValue) : null,
                RequestId: Number(QueryValue("request_id"), "request_id"),
                From: AuditService.ParseTime(QueryValue("from"), "from"),
                To: AuditService.ParseTime(QueryValue("to"), "to"),
                Text: QueryValue("q"),
                MaxResults: PageSize,
                PageToken: _pages[^1]);
            var page = await Audit.SearchAsync(query, caller);
            _events = [.. page.Items];
            _next = page.NextPageToken;
        }
        catch (MlflowException e)
        {
            _error = e.Message;
            _events = [];
            _next = null;
        }
        _loaded = true;
    }

    private static long? Number(string? text, string parameter) =>
        text is null ? null
        : long.TryParse(text.Trim(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n
        : throw MlflowException.InvalidParameter($"'{parameter}' must be a number.");

    private Task SetAsync(string key, string? value)
    {
        // From the page's own filters, not the current address: two boxes typed in quick succession both count even
        // when the first navigation has not come back yet.
        _query[key] = string.IsNullOrWhiteSpace(value) ? null : value;
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(_query.ToDictionary(p => p.Key, p => (object?)p.Value)), replace: true);
        return Task.CompletedTask;
    }

    private void Toggle(long id)
    {
        if (!_open.Remove(id))
        {
            _open.Add(id);
        }
    }

    private async Task NextAsync()
    {
        if (_next is not null)
        {
            _pages.Add(_next);
            _open.Clear();
            await LoadAsync();
        }
    }

    private async Task PreviousAsync()
    {
        if (_pages.Count > 1)
        {
            _pages.RemoveAt(_pages.Count - 1);
            _open.Clear();
            await LoadAsync();
        }
    }
}
