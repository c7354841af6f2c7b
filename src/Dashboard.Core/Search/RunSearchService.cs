using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Search;

/// <summary>
/// runs/search: MLflow's filter, order_by and paging translated to SQL on the store, never filtered in memory (capped
/// probes pick the shape of the query, see <see cref="RunQuery"/>); then the page's params, tags, latest metrics and
/// inputs are loaded by <see cref="RunLoader"/>.
/// </summary>
public sealed class RunSearchService(IDbContextFactory<DashboardDbContext> dbs)
{
    /// <summary>mlflow/store/tracking/__init__.py SEARCH_MAX_RESULTS_DEFAULT.</summary>
    public const int DefaultMaxResults = 1000;

    /// <summary>mlflow/store/tracking/__init__.py SEARCH_MAX_RESULTS_THRESHOLD.</summary>
    public const int MaxResultsThreshold = 50_000;

    /// <summary>Keeps a query within SQL Server's 2100 parameters with a full filter beside it.</summary>
    public const int MaxExperimentIds = 1000;

    /// <summary>How many candidate runs are few enough to sort rather than walk an index (tests set 0 to walk).</summary>
    internal int SmallSet { get; init; } = RunQuery.DefaultSmallSet;

    /// <summary>How many index entries a walk may read before sorting is preferred (tests set 0 to sort, int.MaxValue to walk).</summary>
    internal int WalkBudget { get; init; } = RunQuery.DefaultWalkBudget;

    public async Task<SearchPage<Run>> SearchAsync(RunSearchRequest request, CancellationToken ct = default)
    {
        var maxResults = request.MaxResults;
        if (maxResults > MaxResultsThreshold)
        {
            throw MlflowException.InvalidParameter(
                "Invalid value for request parameter max_results. It must be at " +
                $"most {MaxResultsThreshold}, but got value {maxResults}");
        }
        if (maxResults < 1)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid value for request parameter max_results. It must be a positive integer, but got value {maxResults}");
        }
        var experimentIds = (request.ExperimentIds ?? []).Distinct().ToList();
        if (experimentIds.Count > MaxExperimentIds)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid value for request parameter experiment_ids: {experimentIds.Count} ids, more than the {MaxExperimentIds} allowed.");
        }
        var filter = FilterParser.Parse(request.Filter, SearchScope.Runs);
        var order = OrderByParser.Parse(request.OrderBy, SearchScope.Runs);
        var queryHash = PageToken.QueryHash(SearchScope.Runs, experimentIds, request.Filter, request.OrderBy, request.ViewType);
        var position = PageToken.Read(request.PageToken, queryHash);
        if (experimentIds.Count == 0 || position.Offset > int.MaxValue - maxResults)
        {
            return new SearchPage<Run>([], null);
        }

        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var serial = await RunQuery.WithoutParallelWorkersAsync(db, ct);
        var (runs, next) = await new RunQuery(db, experimentIds, request.ViewType, filter, order, SmallSet, WalkBudget).PageAsync(position, maxResults, ct);
        await RunLoader.LoadDataAsync(db, runs, ct);
        // As MLflow's SQL store: a full page gets a token, so the page after the last full one is empty.
        return new SearchPage<Run>(runs, runs.Count == maxResults ? PageToken.Create(next, queryHash) : null);
    }

    /// <summary>
    /// One page at any offset, with its data loaded: for a grid that pages on the server and jumps between pages.
    /// <paramref name="filter"/> and <paramref name="order"/> come from <see cref="FilterParser"/> and <see cref="OrderByParser"/>.
    /// </summary>
    public async Task<IReadOnlyList<Run>> PageAsync(IReadOnlyList<long> experimentIds, ViewType viewType, Filter filter,
        IReadOnlyList<OrderTerm> order, int offset, int count, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var serial = await RunQuery.WithoutParallelWorkersAsync(db, ct);
        var (runs, _) = await new RunQuery(db, experimentIds, viewType, filter, order, SmallSet, WalkBudget)
            .PageAsync(new PagePosition(offset), count, ct);
        await RunLoader.LoadDataAsync(db, runs, ct);
        return runs;
    }

    /// <summary>
    /// The filtered and ordered runs as one plain query (sorted, never walked), for callers that count or project.
    /// <paramref name="filter"/> and <paramref name="order"/> come from <see cref="FilterParser"/> and <see cref="OrderByParser"/>.
    /// </summary>
    public static IQueryable<Run> Query(DashboardDbContext db, IReadOnlyList<long> experimentIds, ViewType viewType,
        Filter filter, IReadOnlyList<OrderTerm> order) =>
        new RunQuery(db, experimentIds, viewType, filter, order).All();
}
