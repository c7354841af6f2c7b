using Dashboard.Components.Pages.Experiments;
using Dashboard.Search;

namespace Dashboard.Components.Pages.Compare;

/// <summary>
/// What the compare page shows, as its URL carries it: <c>runs</c> (ids, comma-separated, 2 to 100), <c>tab</c>,
/// <c>equal=hide</c> (the params table without its equal rows), <c>metric</c> (the overlay's), <c>axes</c> (the parallel
/// coordinates' params and metrics, <c>p:lr,m:loss</c> as the runs table's columns), <c>x</c> and <c>y</c> (the scatter's)
/// and <c>dir</c> (the metrics whose direction was chosen by hand, <c>loss:max,acc:min</c>).
/// </summary>
public sealed record CompareState
{
    public static readonly IReadOnlyList<string> Tabs = [Compare.Tab.Params, Compare.Tab.Metrics, Compare.Tab.Parallel, Compare.Tab.Scatter, Compare.Tab.Best];

    public IReadOnlyList<string> Runs { get; init; } = [];
    public string Tab { get; init; } = Compare.Tab.Params;
    public bool HideEqual { get; init; }
    public string? Metric { get; init; }
    public IReadOnlyList<RunColumn>? Axes { get; init; }
    public RunColumn? X { get; init; }
    public RunColumn? Y { get; init; }
    public IReadOnlyDictionary<string, MetricGoal> Goals { get; init; } = new Dictionary<string, MetricGoal>();

    /// <summary>The direction of a metric: chosen by hand, else guessed from its name.</summary>
    public MetricGoal Goal(string metric) => Goals.TryGetValue(metric, out var goal) ? goal : RunComparison.DefaultGoal(metric);

    public CompareState WithGoal(string metric, MetricGoal goal)
    {
        var goals = Goals.Where(g => g.Key != metric).ToDictionary();
        if (goal != RunComparison.DefaultGoal(metric))
        {
            goals[metric] = goal;
        }
        return this with { Goals = goals };
    }

    /// <summary>Reads the URL's values; a value a hand-edited URL gets wrong is ignored on its own.</summary>
    public static CompareState From(string? runs, string? tab, string? equal, string? metric, string? axes, string? x, string? y, string? dir) => new()
    {
        Runs = (runs ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(IsRunId).Distinct(StringComparer.Ordinal).Take(RunComparison.MaxRuns).ToList(),
        Tab = Tabs.Contains(tab) ? tab! : Compare.Tab.Params,
        HideEqual = equal == "hide",
        Metric = string.IsNullOrEmpty(metric) ? null : metric,
        Axes = axes is null ? null : RunColumn.ParseList(axes).Where(c => c.Kind != SearchEntity.Tag).ToList(),
        X = x is null ? null : RunColumn.Parse(x) is { Kind: not SearchEntity.Tag } cx ? cx : null,
        Y = y is null ? null : RunColumn.Parse(y) is { Kind: SearchEntity.Metric } cy ? cy : null,
        Goals = ParseGoals(dir),
    };

    public Dictionary<string, object?> ToQuery() => new()
    {
        ["runs"] = string.Join(",", Runs),
        ["tab"] = Tab == Compare.Tab.Params ? null : Tab,
        ["equal"] = HideEqual ? "hide" : null,
        ["metric"] = Metric,
        ["axes"] = Axes is null ? null : RunColumn.Join(Axes),
        ["x"] = X?.Token,
        ["y"] = Y?.Token,
        ["dir"] = Goals.Count == 0 ? null
            : string.Join(",", Goals.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}:{(g.Value == MetricGoal.Min ? "min" : "max")}")),
    };

    /// <summary>MLflow run ids are 32 hex characters; anything else in the list is not a run.</summary>
    private static bool IsRunId(string id) => id.Length is > 0 and <= 32 && id.All(char.IsAsciiHexDigit);

    /// <summary><c>key:min,other:max</c>; a key may hold ':' but never ',', so the direction is after the last ':'.</summary>
    private static Dictionary<string, MetricGoal> ParseGoals(string? dir)
    {
        var goals = new Dictionary<string, MetricGoal>(StringComparer.Ordinal);
        foreach (var item in (dir ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = item.LastIndexOf(':');
            if (at > 0 && item[(at + 1)..] is "min" or "max")
            {
                goals[item[..at]] = item[(at + 1)..] == "min" ? MetricGoal.Min : MetricGoal.Max;
            }
        }
        return goals;
    }
}

/// <summary>The tabs of the compare page, by their URL value.</summary>
public static class Tab
{
    public const string Params = "params";
    public const string Metrics = "metrics";
    public const string Parallel = "parallel";
    public const string Scatter = "scatter";
    public const string Best = "best";
}
