using System.Globalization;
using Dashboard.Search;
using Dashboard.Tracking;

namespace Dashboard.Components.Pages.Experiments;

/// <summary>A column of the runs table beyond the fixed ones: a metric's latest value, a param or a tag.</summary>
public sealed record RunColumn(SearchEntity Kind, string Key)
{
    /// <summary>How the column is written in the URL and in local storage: <c>m:loss</c>, <c>p:lr</c>, <c>t:team</c>.
    /// MLflow keys never hold a comma, so a list is comma-separated; a key may hold ':', so only the first one counts.</summary>
    public string Token => Kind switch
    {
        SearchEntity.Metric => "m:",
        SearchEntity.Param => "p:",
        _ => "t:",
    } + Key;

    /// <summary>The identifier in MLflow's filter and order_by grammar, the key backticked (keys may hold spaces).</summary>
    public string Identifier => Kind switch
    {
        SearchEntity.Metric => "metrics",
        SearchEntity.Param => "params",
        _ => "tags",
    } + ".`" + Key + "`";

    public static RunColumn? Parse(string token)
    {
        if (token.Length < 3 || token[1] != ':')
        {
            return null;
        }
        SearchEntity? kind = token[0] switch
        {
            'm' => SearchEntity.Metric,
            'p' => SearchEntity.Param,
            't' => SearchEntity.Tag,
            _ => null,
        };
        var key = token[2..];
        // A key the API would refuse cannot be a column; this also keeps backticks out of the order_by built from it.
        return kind is null || key.Contains('`', StringComparison.Ordinal) || key.Length > 250 ? null : new RunColumn(kind.Value, key);
    }

    public static IReadOnlyList<RunColumn> ParseList(string? tokens) =>
        string.IsNullOrEmpty(tokens) ? [] : tokens.Split(',').Select(Parse).OfType<RunColumn>().Distinct().ToList();

    public static string Join(IEnumerable<RunColumn> columns) => string.Join(",", columns.Select(c => c.Token));
}

/// <summary>
/// Everything that decides what the runs table shows, as the URL carries it, so that a link reproduces the view:
/// <c>filter</c> (MLflow's filter as typed), <c>order</c> (one order_by clause), <c>cols</c>, <c>sel</c> (selected run
/// ids), <c>tab</c>, <c>metric</c> (the chart's), <c>page</c>, <c>size</c>, the quick filters <c>status</c>, <c>user</c>
/// and <c>since</c>, and <c>group</c>/<c>gmetric</c>/<c>gbest</c> of the groups tab.
/// </summary>
public sealed record RunTableState
{
    public const int DefaultPageSize = 50;
    public static readonly IReadOnlyList<int> PageSizes = [25, 50, 100, 250];

    /// <summary>At most this many runs are selected: get-history-bulk-interval's limit, and a URL stays short.</summary>
    public const int MaxSelected = MetricService.MaxRunsPerBulkRequest;

    /// <summary>The time ranges of the quick filter, by their URL value.</summary>
    public static readonly IReadOnlyDictionary<string, TimeSpan> Ranges = new Dictionary<string, TimeSpan>
    {
        ["1h"] = TimeSpan.FromHours(1),
        ["24h"] = TimeSpan.FromDays(1),
        ["7d"] = TimeSpan.FromDays(7),
        ["30d"] = TimeSpan.FromDays(30),
    };

    public string? Filter { get; init; }
    public string? Order { get; init; }

    /// <summary>Null when the URL names no columns (the page then takes the remembered or default ones).</summary>
    public IReadOnlyList<RunColumn>? Columns { get; init; }

    public IReadOnlyList<string> Selected { get; init; } = [];
    public string Tab { get; init; } = "runs";
    public string? Metric { get; init; }
    public int Page { get; init; }
    public int PageSize { get; init; } = DefaultPageSize;
    public string? Status { get; init; }
    public string? User { get; init; }
    public string? Since { get; init; }
    public string? Group { get; init; }
    public string? GroupMetric { get; init; }
    public bool GroupLowest { get; init; }

    public static RunTableState From(string? filter, string? order, string? cols, string? sel, string? tab, string? metric, int? page,
        int? size, string? status, string? user, string? since, string? group, string? gmetric, string? gbest) => new()
    {
        Filter = string.IsNullOrWhiteSpace(filter) ? null : filter,
        Order = string.IsNullOrWhiteSpace(order) ? null : order,
        Columns = cols is null ? null : RunColumn.ParseList(cols),
        Selected = string.IsNullOrEmpty(sel) ? [] : sel.Split(',').Where(IsRunId).Distinct().Take(MaxSelected).ToList(),
        Tab = tab is "charts" or "groups" ? tab : "runs",
        Metric = string.IsNullOrEmpty(metric) ? null : metric,
        Page = page is > 0 ? page.Value : 0,
        PageSize = size is { } s && PageSizes.Contains(s) ? s : DefaultPageSize,
        Status = status is not null && RunStatus.All.Contains(status) ? status : null,
        User = string.IsNullOrWhiteSpace(user) ? null : user,
        Since = since is not null && Ranges.ContainsKey(since) ? since : null,
        Group = string.IsNullOrEmpty(group) ? null : group,
        GroupMetric = string.IsNullOrEmpty(gmetric) ? null : gmetric,
        GroupLowest = gbest == "min",
    };

    private static bool IsRunId(string id) => id.Length is > 0 and <= 64 && id.All(char.IsAsciiLetterOrDigit);

    /// <summary>The query parameters of this state (null removes a parameter), for NavigationManager.GetUriWithQueryParameters.</summary>
    public IReadOnlyDictionary<string, object?> ToQuery() => new Dictionary<string, object?>
    {
        ["filter"] = Filter,
        ["order"] = Order,
        ["cols"] = Columns is null ? null : RunColumn.Join(Columns),
        ["sel"] = Selected.Count == 0 ? null : string.Join(",", Selected),
        ["tab"] = Tab == "runs" ? null : Tab,
        ["metric"] = Metric,
        ["page"] = Page == 0 ? null : Page.ToString(CultureInfo.InvariantCulture),
        ["size"] = PageSize == DefaultPageSize ? null : PageSize.ToString(CultureInfo.InvariantCulture),
        ["status"] = Status,
        ["user"] = User,
        ["since"] = Since,
        ["group"] = Group,
        ["gmetric"] = GroupMetric,
        ["gbest"] = GroupLowest ? "min" : null,
    };

    /// <summary>The part of the state that decides which runs match and in which order (what the CSV export reads).</summary>
    public IReadOnlyDictionary<string, object?> ToExportQuery() => new Dictionary<string, object?>
    {
        ["filter"] = Filter,
        ["order"] = Order,
        ["cols"] = Columns is null ? null : RunColumn.Join(Columns),
        ["status"] = Status,
        ["user"] = User,
        ["since"] = Since,
    };

    public IReadOnlyList<string> OrderBy => Order is null ? [] : [Order];

    /// <summary>The quick filters as MLflow filter terms, joined to the typed filter with AND.</summary>
    public string EffectiveFilter(DateTimeOffset now)
    {
        var terms = new List<string>();
        if (Filter is not null)
        {
            terms.Add(Filter);
        }
        if (Status is not null)
        {
            terms.Add($"attributes.status = '{Status}'");
        }
        if (User is not null)
        {
            terms.Add($"attributes.user_id = {Quote(User)}");
        }
        if (Since is not null)
        {
            terms.Add($"attributes.start_time >= {(now - Ranges[Since]).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}");
        }
        return string.Join(" AND ", terms);
    }

    /// <summary>A filter string literal: SQL's doubled quote escapes a quote (FilterParser reads it so).</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>The order on <paramref name="identifier"/> after a click on its header: descending first for metrics and
    /// times (the best and newest on top), ascending first for text; a second click turns it round.</summary>
    public string NextOrder(string identifier, bool descendingFirst)
    {
        if (Order is not null && Order.StartsWith(identifier + " ", StringComparison.Ordinal))
        {
            return identifier + (Order.EndsWith(" DESC", StringComparison.Ordinal) ? " ASC" : " DESC");
        }
        return identifier + (descendingFirst ? " DESC" : " ASC");
    }

    /// <summary>The direction of the current order on <paramref name="identifier"/>: true descending, false ascending, null not ordered on it.</summary>
    public bool? Direction(string identifier) =>
        Order is not null && Order.StartsWith(identifier + " ", StringComparison.Ordinal) ? Order.EndsWith(" DESC", StringComparison.Ordinal) : null;
}
