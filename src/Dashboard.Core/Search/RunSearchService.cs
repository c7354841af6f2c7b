using System.Globalization;
using System.Linq.Expressions;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Search;

/// <summary>
/// runs/search: MLflow's filter, order_by and paging translated to one SQL query on the store (never filtered in
/// memory), then the page's params, tags, latest metrics and inputs loaded by <see cref="RunLoader"/>.
/// </summary>
public sealed class RunSearchService(IDbContextFactory<DashboardDbContext> dbs)
{
    /// <summary>mlflow/store/tracking/__init__.py SEARCH_MAX_RESULTS_DEFAULT.</summary>
    public const int DefaultMaxResults = 1000;

    /// <summary>mlflow/store/tracking/__init__.py SEARCH_MAX_RESULTS_THRESHOLD.</summary>
    public const int MaxResultsThreshold = 50_000;

    /// <summary>Keeps a query within SQL Server's 2100 parameters with a full filter beside it.</summary>
    public const int MaxExperimentIds = 1000;

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
        var offset = PageToken.ReadOffset(request.PageToken, queryHash);
        if (experimentIds.Count == 0 || offset > int.MaxValue - maxResults)
        {
            return new SearchPage<Run>([], null);
        }

        await using var db = await dbs.CreateDbContextAsync(ct);
        var runs = await Query(db, experimentIds, request.ViewType, filter, order)
            .Skip((int)offset)
            .Take(maxResults)
            .AsNoTracking()
            .ToListAsync(ct);
        await RunLoader.LoadDataAsync(db, runs, ct);
        // As MLflow's SQL store: a full page gets a token, so the page after the last full one is empty.
        var next = runs.Count == maxResults ? PageToken.Create(offset + maxResults, queryHash) : null;
        return new SearchPage<Run>(runs, next);
    }

    /// <summary>The filtered and ordered runs as a query, for callers that page or count themselves (the UI's grid).</summary>
    public static IQueryable<Run> Query(DashboardDbContext db, IReadOnlyList<long> experimentIds, ViewType viewType,
        Filter filter, IReadOnlyList<OrderTerm> order)
    {
        IQueryable<Run> runs = db.Runs;
        if (experimentIds.Count == 1)
        {
            // An equality rather than IN (x) lets every provider walk the (experiment, stage, start_time) index in order.
            var id = experimentIds[0];
            runs = runs.Where(r => r.ExperimentId == id);
        }
        else
        {
            runs = runs.Where(r => experimentIds.Contains(r.ExperimentId));
        }
        runs = viewType switch
        {
            ViewType.ActiveOnly => runs.Where(r => r.LifecycleStage == LifecycleStage.Active),
            ViewType.DeletedOnly => runs.Where(r => r.LifecycleStage == LifecycleStage.Deleted),
            _ => runs,
        };
        foreach (var term in filter.Terms)
        {
            runs = runs.Where(Predicate(db, term));
        }
        return Order(db, runs, order);
    }

    private static Expression<Func<Run, bool>> Predicate(DashboardDbContext db, FilterTerm term)
    {
        var provider = db.Provider;
        var key = term.Key;
        switch (term.Entity)
        {
            case SearchEntity.Attribute when term.Value is NumberValue number:
                var integer = SearchPredicates.Integer(term.Comparator, number.Value);
                return key == SearchVocabulary.StartTimeAttribute
                    ? SearchPredicates.On<Run, long?>(r => r.StartTime, integer)
                    : SearchPredicates.On<Run, long?>(r => r.EndTime, integer);
            case SearchEntity.Attribute:
                return SearchPredicates.On(StringAttribute(key), SearchPredicates.Text(provider, term.Comparator, term.Value!));
            case SearchEntity.Metric:
                var metrics = db.LatestMetrics
                    .Where(SearchPredicates.On<LatestMetric, string?>(m => m.Key, SearchPredicates.KeyEquals(provider, key)))
                    .Where(MetricValue(term.Comparator, ((NumberValue)term.Value!).Value))
                    .Select(m => m.RunId);
                return r => metrics.Contains(r.Id);
            case SearchEntity.Param:
                var @params = db.Params
                    .Where(SearchPredicates.On<Param, string?>(p => p.Key, SearchPredicates.KeyEquals(provider, key)))
                    .Where(SearchPredicates.On<Param, string?>(p => p.Value, SearchPredicates.Text(provider, term.Comparator, term.Value!)))
                    .Select(p => p.RunId);
                return r => @params.Contains(r.Id);
            case SearchEntity.Tag:
                var tags = db.RunTags
                    .Where(SearchPredicates.On<RunTag, string?>(t => t.Key, SearchPredicates.KeyEquals(provider, key)))
                    .Where(SearchPredicates.On<RunTag, string?>(t => t.Value, SearchPredicates.Text(provider, term.Comparator, term.Value!)))
                    .Select(t => t.RunId);
                return r => tags.Contains(r.Id);
            case SearchEntity.Dataset when key == "context":
                // The context is the input's mlflow.data.context tag, as in MLflow.
                var contextKey = SearchVocabulary.DatasetContextTag;
                var contexts = db.InputTags
                    .Where(t => t.Key == contextKey)
                    .Where(SearchPredicates.On<InputTag, string?>(t => t.Value, SearchPredicates.Text(provider, term.Comparator, term.Value!)))
                    .Join(db.RunInputs, t => t.InputId, i => i.Id, (t, i) => i.RunId);
                return r => contexts.Contains(r.Id);
            case SearchEntity.Dataset:
                Expression<Func<RunInput, string?>> field = key == "name" ? i => i.Dataset!.Name : i => i.Dataset!.Digest;
                var inputs = db.RunInputs
                    .Where(SearchPredicates.On(field, SearchPredicates.Text(provider, term.Comparator, term.Value!)))
                    .Select(i => i.RunId);
                return r => inputs.Contains(r.Id);
            default:
                throw new ArgumentOutOfRangeException(nameof(term), term.Entity, "unknown entity");
        }
    }

    /// <summary>
    /// NaN is stored as value 0 with is_nan set: it must never pass for 0. It compares as IEEE 754 says (false for
    /// everything but !=), which is also what MLflow's in-memory search does.
    /// </summary>
    private static Expression<Func<LatestMetric, bool>> MetricValue(Comparator op, double v) => op switch
    {
        Comparator.Equal => m => !m.IsNaN && m.Value == v,
        Comparator.NotEqual => m => m.IsNaN || m.Value != v,
        Comparator.Less => m => !m.IsNaN && m.Value < v,
        Comparator.LessOrEqual => m => !m.IsNaN && m.Value <= v,
        Comparator.Greater => m => !m.IsNaN && m.Value > v,
        Comparator.GreaterOrEqual => m => !m.IsNaN && m.Value >= v,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not a numeric comparison"),
    };

    private static Expression<Func<Run, string?>> StringAttribute(string key) => key switch
    {
        "run_id" => r => r.Id,
        // runs.name follows the mlflow.runName tag (RunService keeps them together), so no join is needed.
        "run_name" => r => r.Name,
        "status" => r => r.Status,
        "user_id" => r => r.UserId,
        "artifact_uri" => r => r.ArtifactUri,
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, "not a string attribute"),
    };

    /// <summary>
    /// MLflow's order (_get_orderby_clauses): each term sorts first on a rank that puts runs without the value last in
    /// both directions (and NaN metrics after real values but before missing ones), then on the value; then start_time
    /// DESC unless ordered on already, then run id. The rank is explicit because the providers disagree on where NULL sorts.
    /// </summary>
    private static IOrderedQueryable<Run> Order(DashboardDbContext db, IQueryable<Run> runs, IReadOnlyList<OrderTerm> order)
    {
        IOrderedQueryable<Run>? ordered = null;
        void By<TKey>(Expression<Func<Run, TKey>> key, bool ascending) =>
            ordered = ordered is null
                ? ascending ? runs.OrderBy(key) : runs.OrderByDescending(key)
                : ascending ? ordered.ThenBy(key) : ordered.ThenByDescending(key);

        var provider = db.Provider;
        var startTimeOrdered = false;
        foreach (var term in order)
        {
            var key = term.Key;
            switch (term.Entity)
            {
                case SearchEntity.Attribute:
                    switch (key)
                    {
                        case "start_time":
                            startTimeOrdered = true;
                            By(r => r.StartTime, term.Ascending);
                            break;
                        case "end_time":
                            By(r => r.EndTime == null ? 1 : 0, true);
                            By(r => r.EndTime, term.Ascending);
                            break;
                        case "run_name":
                            By(r => r.Name == null ? 1 : 0, true);
                            By(r => r.Name, term.Ascending);
                            break;
                        case "user_id":
                            By(r => r.UserId == null ? 1 : 0, true);
                            By(r => r.UserId, term.Ascending);
                            break;
                        default:
                            By(StringAttribute(key), term.Ascending);
                            break;
                    }
                    break;
                case SearchEntity.Metric:
                    var metricKey = SearchPredicates.On<LatestMetric, string?>(m => m.Key, SearchPredicates.KeyEquals(provider, key));
                    var metrics = db.LatestMetrics.Where(metricKey);
                    By(r => metrics.Where(m => m.RunId == r.Id).Select(m => (int?)(m.IsNaN ? 1 : 0)).FirstOrDefault() ?? 2, true);
                    By(r => metrics.Where(m => m.RunId == r.Id).Select(m => (double?)m.Value).FirstOrDefault(), term.Ascending);
                    break;
                case SearchEntity.Param:
                    var @params = db.Params.Where(
                        SearchPredicates.On<Param, string?>(p => p.Key, SearchPredicates.KeyEquals(provider, key)));
                    By(r => @params.Any(p => p.RunId == r.Id) ? 0 : 1, true);
                    By(r => @params.Where(p => p.RunId == r.Id).Select(p => p.Value).FirstOrDefault(), term.Ascending);
                    break;
                case SearchEntity.Tag:
                    var tags = db.RunTags.Where(
                        SearchPredicates.On<RunTag, string?>(t => t.Key, SearchPredicates.KeyEquals(provider, key)));
                    By(r => tags.Any(t => t.RunId == r.Id) ? 0 : 1, true);
                    By(r => tags.Where(t => t.RunId == r.Id).Select(t => t.Value).FirstOrDefault(), term.Ascending);
                    break;
                default:
                    throw MlflowException.InvalidParameter(
                        string.Create(CultureInfo.InvariantCulture, $"Invalid identifier type '{term.Entity}'"));
            }
        }
        if (!startTimeOrdered)
        {
            By(r => r.StartTime, false);
        }
        By(r => r.Id, true);
        return ordered!;
    }
}
