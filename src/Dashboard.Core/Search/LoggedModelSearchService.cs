using System.Linq.Expressions;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Search;

/// <summary>A dataset the metric terms of a logged-model search are restricted to (SearchLoggedModels.Dataset).</summary>
public sealed record LoggedModelDatasetFilter(string? DatasetName, string? DatasetDigest);

/// <summary>One order of a logged-model search (SearchLoggedModels.OrderBy): an attribute, or a metric measured on a dataset.</summary>
public sealed record LoggedModelOrder(string? FieldName, bool Ascending = true, string? DatasetName = null, string? DatasetDigest = null);

/// <summary>The arguments of logged-models/search.</summary>
public sealed record LoggedModelSearchRequest(
    IReadOnlyList<long> ExperimentIds,
    string? Filter,
    IReadOnlyList<LoggedModelDatasetFilter> Datasets,
    int MaxResults,
    IReadOnlyList<LoggedModelOrder> OrderBy,
    string? PageToken);

/// <summary>
/// logged-models/search: MLflow's logged-model filter (attributes, <c>metrics.</c>, <c>params.</c>, <c>tags.</c>,
/// joined by AND), the datasets that metric terms are measured on, order_by and offset page tokens, translated to SQL.
/// A metric term matches a model when any point recorded for it matches, as in MLflow; an order on a metric uses the
/// model's latest point (by timestamp, then step). Deleted models are never found.
/// </summary>
public sealed class LoggedModelSearchService(IDbContextFactory<DashboardDbContext> dbs)
{
    /// <summary>mlflow/store/tracking/__init__.py SEARCH_LOGGED_MODEL_MAX_RESULTS_DEFAULT.</summary>
    public const int DefaultMaxResults = 50;

    /// <summary>MLflow's store takes any page size; this bounds it like the other searches.</summary>
    public const int MaxResultsThreshold = 1000;

    public const int MaxExperimentIds = 1000;

    public const int MaxDatasets = 100;

    private static readonly Dictionary<string, string> OrderAliases = new(StringComparer.Ordinal)
    {
        ["creation_time"] = "creation_timestamp_ms",
        ["creation_timestamp"] = "creation_timestamp_ms",
        ["last_updated_timestamp"] = "last_updated_timestamp_ms",
    };

    public async Task<SearchPage<LoggedModel>> SearchAsync(LoggedModelSearchRequest request, CancellationToken ct = default)
    {
        if (request.ExperimentIds.Count == 0)
        {
            throw MlflowException.Missing("experiment_ids");
        }
        if (request.ExperimentIds.Count > MaxExperimentIds)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid value for request parameter experiment_ids: {request.ExperimentIds.Count} ids, more than the {MaxExperimentIds} allowed.");
        }
        if (request.MaxResults < 1 || request.MaxResults > MaxResultsThreshold)
        {
            throw MlflowException.InvalidParameter(TrackingValidation.InvalidValue("max_results", request.MaxResults,
                $"it must be between 1 and {MaxResultsThreshold}."));
        }
        if (request.Datasets.Count > MaxDatasets)
        {
            throw MlflowException.InvalidParameter($"A search may name at most {MaxDatasets} datasets. Got {request.Datasets.Count}.");
        }
        if (request.Datasets.Any(d => string.IsNullOrEmpty(d.DatasetName)))
        {
            throw MlflowException.InvalidParameter("`dataset_name` in the `datasets` clause must be specified.");
        }
        if (request.OrderBy.Count > OrderByParser.MaxTerms)
        {
            throw MlflowException.InvalidParameter($"Invalid order_by: {request.OrderBy.Count} clauses, more than the {OrderByParser.MaxTerms} allowed.");
        }
        var (filter, statuses, order) = Parse(request);
        var experimentIds = request.ExperimentIds.Distinct().ToList();
        var queryHash = PageToken.QueryHash(SearchScope.LoggedModels, experimentIds, Describe(request.Filter, request.Datasets),
            order.Select(o => o.ToString()).ToList(), ViewType.ActiveOnly);
        var offset = PageToken.ReadOffset(request.PageToken, queryHash);
        var take = request.MaxResults;
        if (offset > int.MaxValue - take - 1)
        {
            return new SearchPage<LoggedModel>([], null);
        }

        await using var db = await dbs.CreateDbContextAsync(ct);
        // One more than asked tells whether another page exists: MLflow returns no token after the last page.
        var models = await Query(db, request, (filter, statuses, order))
            .Skip((int)offset).Take(take + 1).AsNoTracking().ToListAsync(ct);
        string? next = null;
        if (models.Count > take)
        {
            models.RemoveAt(models.Count - 1);
            next = PageToken.Create(offset + take, queryHash);
        }
        await LoggedModelService.LoadDataAsync(db, models, ct);
        return new SearchPage<LoggedModel>(models, next);
    }

    private static (Filter Filter, Dictionary<FilterTerm, FilterValue> Statuses, List<OrderKey> Order) Parse(LoggedModelSearchRequest request)
    {
        var filter = FilterParser.Parse(request.Filter, SearchScope.LoggedModels);
        return (filter, StatusValues(filter), request.OrderBy.Select(ParseOrder).ToList());
    }

    /// <summary>The filtered and ordered models of a request as one query, for tests that translate it without a server.</summary>
    internal static IQueryable<LoggedModel> Query(DashboardDbContext db, LoggedModelSearchRequest request) =>
        Query(db, request, Parse(request));

    private static IQueryable<LoggedModel> Query(DashboardDbContext db, LoggedModelSearchRequest request,
        (Filter Filter, Dictionary<FilterTerm, FilterValue> Statuses, List<OrderKey> Order) parsed)
    {
        var query = new QueryBuilder(db, request.Datasets, parsed.Statuses);
        return query.Ordered(query.Filtered(request.ExperimentIds.Distinct().ToList(), parsed.Filter), parsed.Order);
    }

    /// <summary>The statuses a filter names, mapped to the stored names (MLflow: "Unknown model status in filter").</summary>
    private static Dictionary<FilterTerm, FilterValue> StatusValues(Filter filter)
    {
        var values = new Dictionary<FilterTerm, FilterValue>();
        foreach (var term in filter.Terms.Where(t => t is { Entity: SearchEntity.Attribute, Key: SearchVocabulary.StatusAttribute }))
        {
            string Map(string s) => LoggedModelStatus.FromFilter(s)
                ?? throw MlflowException.InvalidParameter($"Unknown model status in filter: {LoggedModelValidation.PythonRepr(s)}");
            values[term] = term.Value switch
            {
                ListValue list => list with { Values = list.Values.Select(Map).ToList() },
                StringValue one => one with { Value = Map(one.Value) },
                var other => other!,
            };
        }
        return values;
    }

    private sealed record OrderKey(string Field, bool Ascending, string? DatasetName, string? DatasetDigest, bool IsMetric)
    {
        public override string ToString() => $"{(IsMetric ? "metrics." : "")}{Field}|{Ascending}|{DatasetName}|{DatasetDigest}";
    }

    /// <summary>MLflow's rules (_apply_order_by_search_logged_models): a field without a dot is an attribute of the model,
    /// one with a dot must be <c>metrics.&lt;key&gt;</c>; datasets narrow the points of a metric order.</summary>
    private static OrderKey ParseOrder(LoggedModelOrder o, int index)
    {
        var field = o.FieldName;
        if (string.IsNullOrEmpty(field))
        {
            throw MlflowException.Missing($"order_by[{index}].field_name");
        }
        if (!string.IsNullOrEmpty(o.DatasetDigest) && string.IsNullOrEmpty(o.DatasetName))
        {
            throw MlflowException.InvalidParameter(
                $"Invalid order_by[{index}]: `dataset_digest` may only be given with `dataset_name`.");
        }
        var dot = field.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
        {
            var name = OrderAliases.GetValueOrDefault(field, field);
            if (!SearchVocabulary.IsAttribute(SearchScope.LoggedModels, name, forOrder: true) && name != "experiment_id")
            {
                throw MlflowException.InvalidParameter($"Invalid order by field name: {field}");
            }
            if (!string.IsNullOrEmpty(o.DatasetName))
            {
                throw MlflowException.InvalidParameter(
                    $"Invalid order_by[{index}]: a dataset may only be given for a metric, not for '{field}'.");
            }
            return new OrderKey(name, o.Ascending, null, null, IsMetric: false);
        }
        if (field[..dot] != "metrics")
        {
            throw MlflowException.InvalidParameter($"Invalid order by field name: {field}. Only metrics are supported.");
        }
        var key = field[(dot + 1)..];
        if (key.Length > 1 && key[0] == '`' && key[^1] == '`')
        {
            key = key[1..^1];
        }
        return new OrderKey(key, o.Ascending, NullIfEmpty(o.DatasetName), NullIfEmpty(o.DatasetDigest), IsMetric: true);
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>What decides membership besides the experiments, for the page token's hash.</summary>
    private static string Describe(string? filter, IReadOnlyList<LoggedModelDatasetFilter> datasets) =>
        (filter ?? "").Trim() + "\u0001" + string.Join("\u0002", datasets.Select(d => $"{d.DatasetName}\u0003{d.DatasetDigest}"));

    private sealed class QueryBuilder(DashboardDbContext db, IReadOnlyList<LoggedModelDatasetFilter> datasets,
        Dictionary<FilterTerm, FilterValue> statuses)
    {
        private readonly DatabaseProvider _provider = db.Provider;

        public IQueryable<LoggedModel> Filtered(List<long> experimentIds, Filter filter)
        {
            var models = db.LoggedModels.Where(m => experimentIds.Contains(m.ExperimentId) && m.LifecycleStage == LifecycleStage.Active);
            var onDatasets = OnDatasets(null);
            var hasMetricTerms = false;
            foreach (var term in filter.Terms)
            {
                switch (term.Entity)
                {
                    case SearchEntity.Attribute:
                        models = models.Where(Attribute(term));
                        break;
                    case SearchEntity.Metric:
                        hasMetricTerms = true;
                        var key = term.Key;
                        var points = db.LoggedModelMetrics
                            .Where(SearchPredicates.On<LoggedModelMetric, string?>(p => p.Key, SearchPredicates.KeyEquals(_provider, key)))
                            .Where(MetricValue(term.Comparator, ((NumberValue)term.Value!).Value));
                        if (onDatasets is not null)
                        {
                            points = points.Where(onDatasets);
                        }
                        models = models.Where(m => points.Any(p => p.ModelId == m.Id));
                        break;
                    case SearchEntity.Param:
                        var @params = db.LoggedModelParams
                            .Where(SearchPredicates.On<LoggedModelParam, string?>(p => p.Key, SearchPredicates.KeyEquals(_provider, term.Key)))
                            .Where(SearchPredicates.On<LoggedModelParam, string?>(p => p.Value, SearchPredicates.Text(_provider, term.Comparator, term.Value!)));
                        models = models.Where(m => @params.Any(p => p.ModelId == m.Id));
                        break;
                    default:
                        var tags = db.LoggedModelTags
                            .Where(SearchPredicates.On<LoggedModelTag, string?>(t => t.Key, SearchPredicates.KeyEquals(_provider, term.Key)))
                            .Where(SearchPredicates.On<LoggedModelTag, string?>(t => t.Value, SearchPredicates.Text(_provider, term.Comparator, term.Value!)));
                        models = models.Where(m => tags.Any(t => t.ModelId == m.Id));
                        break;
                }
            }
            if (onDatasets is not null && !hasMetricTerms)
            {
                // Datasets without metric terms: the models with any point measured on one of them.
                var measured = db.LoggedModelMetrics.Where(onDatasets);
                models = models.Where(m => measured.Any(p => p.ModelId == m.Id));
            }
            return models;
        }

        private Expression<Func<LoggedModel, bool>> Attribute(FilterTerm term)
        {
            var value = statuses.GetValueOrDefault(term, term.Value!);
            switch (term.Key)
            {
                case "creation_timestamp_ms":
                    return SearchPredicates.On<LoggedModel, long?>(m => m.CreationTime,
                        SearchPredicates.Integer(term.Comparator, ((NumberValue)value).Value));
                case "last_updated_timestamp_ms":
                    return SearchPredicates.On<LoggedModel, long?>(m => m.LastUpdatedTime,
                        SearchPredicates.Integer(term.Comparator, ((NumberValue)value).Value));
                default:
                    return SearchPredicates.On(StringAttribute(term.Key), SearchPredicates.Text(_provider, term.Comparator, value));
            }
        }

        private static Expression<Func<LoggedModel, string?>> StringAttribute(string key) => key switch
        {
            "model_id" => m => m.Id,
            "name" => m => m.Name,
            "artifact_location" => m => m.ArtifactLocation,
            "status" => m => m.Status,
            "status_message" => m => m.StatusMessage,
            "model_type" => m => m.ModelType,
            "source_run_id" => m => m.SourceRunId,
            _ => throw new ArgumentOutOfRangeException(nameof(key), key, "not a string attribute of a logged model"),
        };

        /// <summary>
        /// The points measured on one of the search's datasets (and, for an order, on the order's own dataset):
        /// null when nothing narrows them.
        /// </summary>
        public Expression<Func<LoggedModelMetric, bool>>? OnDatasets(OrderKey? order)
        {
            Expression<Func<LoggedModelMetric, bool>>? any = null;
            if (order is not null)
            {
                if (order.DatasetName is null)
                {
                    return null;
                }
                return Dataset(order.DatasetName, order.DatasetDigest);
            }
            foreach (var d in datasets)
            {
                var one = Dataset(d.DatasetName!, NullIfEmpty(d.DatasetDigest));
                any = any is null ? one : Or(any, one);
            }
            return any;
        }

        private static Expression<Func<LoggedModelMetric, bool>> Dataset(string name, string? digest) =>
            digest is null ? p => p.DatasetName == name : p => p.DatasetName == name && p.DatasetDigest == digest;

        private static Expression<Func<LoggedModelMetric, bool>> Or(Expression<Func<LoggedModelMetric, bool>> a,
            Expression<Func<LoggedModelMetric, bool>> b)
        {
            var rebound = new Rebind(b.Parameters[0], a.Parameters[0]).Visit(b.Body);
            return Expression.Lambda<Func<LoggedModelMetric, bool>>(Expression.OrElse(a.Body, rebound), a.Parameters);
        }

        /// <summary>IEEE semantics for NaN (stored as 0 with is_nan): it matches != only, as in the runs' search.</summary>
        private static Expression<Func<LoggedModelMetric, bool>> MetricValue(Comparator op, double v)
        {
            var real = false;
            return op switch
            {
                Comparator.Equal => m => m.IsNaN == real && m.Value == v,
                Comparator.NotEqual => m => m.IsNaN != real || m.Value != v,
                Comparator.Less => m => m.IsNaN == real && m.Value < v,
                Comparator.LessOrEqual => m => m.IsNaN == real && m.Value <= v,
                Comparator.Greater => m => m.IsNaN == real && m.Value > v,
                Comparator.GreaterOrEqual => m => m.IsNaN == real && m.Value >= v,
                _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not a numeric comparison"),
            };
        }

        /// <summary>
        /// The orders asked for, each with models lacking the value last in both directions (and, for metrics, NaN after
        /// real values), then MLflow's tie-breakers: newest first, then model id.
        /// </summary>
        public IOrderedQueryable<LoggedModel> Ordered(IQueryable<LoggedModel> models, List<OrderKey> order)
        {
            IOrderedQueryable<LoggedModel>? ordered = null;
            void By<TKey>(Expression<Func<LoggedModel, TKey>> key, bool ascending) =>
                ordered = ordered is null
                    ? ascending ? models.OrderBy(key) : models.OrderByDescending(key)
                    : ascending ? ordered.ThenBy(key) : ordered.ThenByDescending(key);

            foreach (var o in order)
            {
                if (o.IsMetric)
                {
                    var key = o.Field;
                    var points = db.LoggedModelMetrics
                        .Where(SearchPredicates.On<LoggedModelMetric, string?>(p => p.Key, SearchPredicates.KeyEquals(_provider, key)));
                    if (OnDatasets(o) is { } narrowed)
                    {
                        points = points.Where(narrowed);
                    }
                    // The model's latest point: MLflow ranks by timestamp, then step, descending.
                    By(m => points.Where(p => p.ModelId == m.Id).OrderByDescending(p => p.Timestamp).ThenByDescending(p => p.Step)
                        .ThenBy(p => p.RunId).Select(p => (int?)(p.IsNaN ? 1 : 0)).FirstOrDefault() ?? 2, true);
                    By(m => points.Where(p => p.ModelId == m.Id).OrderByDescending(p => p.Timestamp).ThenByDescending(p => p.Step)
                        .ThenBy(p => p.RunId).Select(p => (double?)p.Value).FirstOrDefault(), o.Ascending);
                    continue;
                }
                switch (o.Field)
                {
                    case "creation_timestamp_ms":
                        By(m => m.CreationTime, o.Ascending);
                        break;
                    case "last_updated_timestamp_ms":
                        By(m => m.LastUpdatedTime, o.Ascending);
                        break;
                    case "experiment_id":
                        By(m => m.ExperimentId, o.Ascending);
                        break;
                    default:
                        var column = StringAttribute(o.Field);
                        By(SearchPredicates.Compose<LoggedModel, string?, int>(column, s => s == null ? 1 : 0), true);
                        By(column, o.Ascending);
                        break;
                }
            }
            if (!order.Any(o => o is { IsMetric: false, Field: "creation_timestamp_ms" }))
            {
                By(m => m.CreationTime, false);
            }
            if (!order.Any(o => o is { IsMetric: false, Field: "model_id" }))
            {
                By(m => m.Id, true);
            }
            return ordered!;
        }

        private sealed class Rebind(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
        {
            protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : node;
        }
    }
}
