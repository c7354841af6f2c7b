using System.Linq.Expressions;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Search;

/// <summary>
/// experiments/search: MLflow's filter on name, creation_time, last_update_time and tags, its order_by, and paging,
/// translated to SQL; experiments come back with their tags.
/// </summary>
public sealed class ExperimentSearchService(IDbContextFactory<DashboardDbContext> dbs)
{
    public const int DefaultMaxResults = 1000;
    public const int MaxResultsThreshold = 50_000;

    /// <summary>MLflow's default order (_get_search_experiments_order_by_clauses).</summary>
    private static readonly IReadOnlyList<OrderTerm> DefaultOrder =
    [
        new(SearchEntity.Attribute, "creation_time", Ascending: false),
        new(SearchEntity.Attribute, "experiment_id", Ascending: true),
    ];

    public async Task<SearchPage<Experiment>> SearchAsync(ExperimentSearchRequest request, CancellationToken ct = default)
    {
        var maxResults = request.MaxResults;
        if (maxResults < 1)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid value for max_results. It must be a positive integer, but got {maxResults}");
        }
        if (maxResults > MaxResultsThreshold)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid value for max_results. It must be at most {MaxResultsThreshold}, but got {maxResults}");
        }
        var filter = FilterParser.Parse(request.Filter, SearchScope.Experiments);
        var order = OrderByParser.Parse(request.OrderBy, SearchScope.Experiments);
        var queryHash = PageToken.QueryHash(SearchScope.Experiments, null, request.Filter, request.OrderBy, request.ViewType);
        var offset = PageToken.ReadOffset(request.PageToken, queryHash);
        var take = (int)maxResults;
        if (offset > int.MaxValue - take - 1)
        {
            return new SearchPage<Experiment>([], null);
        }

        await using var db = await dbs.CreateDbContextAsync(ct);
        // One more than asked tells whether another page exists: MLflow returns no token after the last page.
        var experiments = await Query(db, request.ViewType, filter, order, request.Access)
            .Skip((int)offset)
            .Take(take + 1)
            .AsNoTracking()
            .ToListAsync(ct);
        string? next = null;
        if (experiments.Count > take)
        {
            experiments.RemoveAt(experiments.Count - 1);
            next = PageToken.Create(offset + take, queryHash);
        }
        await LoadTagsAsync(db, experiments, ct);
        return new SearchPage<Experiment>(experiments, next);
    }

    /// <summary>The filtered and ordered experiments as a query, for callers that page themselves.</summary>
    /// <param name="access">Only what this caller may read (null: everything).</param>
    public static IQueryable<Experiment> Query(DashboardDbContext db, ViewType viewType, Filter filter, IReadOnlyList<OrderTerm> order,
        Security.PermissionScope? access = null)
    {
        IQueryable<Experiment> experiments = viewType switch
        {
            ViewType.ActiveOnly => db.Experiments.Where(e => e.LifecycleStage == LifecycleStage.Active),
            ViewType.DeletedOnly => db.Experiments.Where(e => e.LifecycleStage == LifecycleStage.Deleted),
            _ => db.Experiments,
        };
        if (access is not null)
        {
            experiments = access.Experiments(db, experiments);
        }
        var provider = db.Provider;
        foreach (var term in filter.Terms)
        {
            experiments = experiments.Where(Predicate(db, provider, term));
        }
        return Order(experiments, order.Count == 0 ? DefaultOrder : order);
    }

    private static Expression<Func<Experiment, bool>> Predicate(DashboardDbContext db, DatabaseProvider provider, FilterTerm term)
    {
        if (term.Entity == SearchEntity.Tag)
        {
            var tags = db.ExperimentTags
                .Where(SearchPredicates.On<ExperimentTag, string?>(t => t.Key, SearchPredicates.KeyEquals(provider, term.Key)))
                .Where(SearchPredicates.On<ExperimentTag, string?>(t => t.Value, SearchPredicates.Text(provider, term.Comparator, term.Value!)))
                .Select(t => t.ExperimentId);
            return e => tags.Contains(e.Id);
        }
        return term.Key switch
        {
            "name" => SearchPredicates.On<Experiment, string?>(e => e.Name, SearchPredicates.Text(provider, term.Comparator, term.Value!)),
            "creation_time" => SearchPredicates.On<Experiment, long?>(e => e.CreationTime,
                SearchPredicates.Integer(term.Comparator, ((NumberValue)term.Value!).Value)),
            _ => SearchPredicates.On<Experiment, long?>(e => e.LastUpdateTime,
                SearchPredicates.Integer(term.Comparator, ((NumberValue)term.Value!).Value)),
        };
    }

    private static IOrderedQueryable<Experiment> Order(IQueryable<Experiment> experiments, IReadOnlyList<OrderTerm> order)
    {
        IOrderedQueryable<Experiment>? ordered = null;
        void By<TKey>(Expression<Func<Experiment, TKey>> key, bool ascending) =>
            ordered = ordered is null
                ? ascending ? experiments.OrderBy(key) : experiments.OrderByDescending(key)
                : ascending ? ordered.ThenBy(key) : ordered.ThenByDescending(key);

        var idOrdered = false;
        foreach (var term in order)
        {
            switch (term.Key)
            {
                case "name":
                    By(e => e.Name, term.Ascending);
                    break;
                case "creation_time":
                    By(e => e.CreationTime, term.Ascending);
                    break;
                case "last_update_time":
                    By(e => e.LastUpdateTime, term.Ascending);
                    break;
                default:
                    idOrdered = true;
                    By(e => e.Id, term.Ascending);
                    break;
            }
        }
        // MLflow's tie-breaker when the order does not name experiment_id.
        if (!idOrdered)
        {
            By(e => e.Id, false);
        }
        return ordered!;
    }

    private static async Task LoadTagsAsync(DashboardDbContext db, List<Experiment> experiments, CancellationToken ct)
    {
        var byId = experiments.ToDictionary(e => e.Id);
        foreach (var chunk in byId.Keys.Chunk(500))
        {
            foreach (var tag in await db.ExperimentTags.AsNoTracking().Where(t => chunk.Contains(t.ExperimentId)).ToListAsync(ct))
            {
                byId[tag.ExperimentId].Tags.Add(tag);
            }
        }
    }
}
