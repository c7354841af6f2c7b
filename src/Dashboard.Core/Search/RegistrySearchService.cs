using System.Linq.Expressions;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Registry;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Search;

/// <summary>The arguments of registered-models/search (model_registry.proto SearchRegisteredModels).</summary>
public sealed record RegisteredModelSearchRequest(string? Filter, long? MaxResults, IReadOnlyList<string> OrderBy, string? PageToken,
    Security.PermissionScope? Access = null);

/// <summary>The arguments of model-versions/search (model_registry.proto SearchModelVersions).</summary>
public sealed record ModelVersionSearchRequest(string? Filter, long? MaxResults, IReadOnlyList<string> OrderBy, string? PageToken,
    Security.PermissionScope? Access = null);

/// <summary>A model version's key: its registered model's id and its number.</summary>
public readonly record struct ModelVersionKey(long RegisteredModelId, int Version);

/// <summary>
/// Searches registered models and model versions with MLflow's filter language, through the same parser as runs.
/// Answers keys in order; the registry loads what the wire shows.
/// <list type="bullet">
/// <item>Registered models: <c>name</c> and <c>tags.&lt;key&gt;</c> (= != LIKE ILIKE), ordered by <c>name</c> and
/// <c>last_updated_timestamp</c> (alias <c>timestamp</c>), then name ascending.</item>
/// <item>Model versions: <c>name</c>, <c>run_id</c> (also IN and NOT IN), <c>source_path</c> (= != LIKE ILIKE),
/// <c>version_number</c> (numeric) and <c>tags.&lt;key&gt;</c>; ordered by name, version_number, creation_timestamp
/// and last_updated_timestamp, by default last update descending, then name ascending, then version descending.
/// Deleted versions are never found.</item>
/// </list>
/// A tag comparison needs the tag, so <c>!=</c> does not match a model without it, as for runs. The one exception
/// is MLflow's prompt tag (<see cref="PromptTag"/>), see <see cref="PromptRule"/>. Everything is translated to SQL,
/// one query a page, with offset page tokens as the other searches.
/// </summary>
public sealed class RegistrySearchService(IDbContextFactory<DashboardDbContext> dbs)
{
    /// <summary>mlflow/store/model_registry/__init__.py SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT (and the proto's default).</summary>
    public const int RegisteredModelDefaultMaxResults = 100;

    /// <summary>SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD.</summary>
    public const int RegisteredModelMaxResultsThreshold = 1000;

    /// <summary>What MLflow 2.17 and 3.9 clients send when their caller gives no max_results (SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT
    /// of those releases, Databricks' limit); the server uses it when the request has none.</summary>
    public const int ModelVersionDefaultMaxResults = 10_000;

    /// <summary>SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD.</summary>
    public const int ModelVersionMaxResultsThreshold = 200_000;

    /// <summary>MLflow's tag that makes a registered model (and its versions) a prompt (prompt_version.IS_PROMPT_TAG_KEY).</summary>
    public const string PromptTag = "mlflow.prompt.is_prompt";

    /// <summary>MLflow's order of model versions when the request names none (search_model_versions).</summary>
    private static readonly IReadOnlyList<OrderTerm> DefaultModelVersionOrder =
    [
        new(SearchEntity.Attribute, SearchVocabulary.LastUpdatedTimestampAttribute, Ascending: false),
        new(SearchEntity.Attribute, SearchVocabulary.NameAttribute, Ascending: true),
        new(SearchEntity.Attribute, SearchVocabulary.VersionNumberAttribute, Ascending: false),
    ];

    public async Task<SearchPage<long>> SearchRegisteredModelsAsync(RegisteredModelSearchRequest request, CancellationToken ct = default)
    {
        var maxResults = request.MaxResults ?? RegisteredModelDefaultMaxResults;
        if (maxResults > RegisteredModelMaxResultsThreshold)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid value for request parameter max_results. It must be at most {RegisteredModelMaxResultsThreshold}, but got value {maxResults}");
        }
        // MLflow's store takes 0 and below and answers a page that never advances; this refuses them as its versions search does.
        RequirePositive(maxResults);
        var filter = FilterParser.Parse(request.Filter, SearchScope.RegisteredModels);
        var order = OrderByParser.Parse(request.OrderBy, SearchScope.RegisteredModels);
        var queryHash = PageToken.QueryHash(SearchScope.RegisteredModels, null, request.Filter, request.OrderBy, ViewType.ActiveOnly);
        var offset = PageToken.ReadOffset(request.PageToken, queryHash);
        var take = (int)maxResults;
        if (offset > int.MaxValue - take - 1)
        {
            return new SearchPage<long>([], null);
        }

        await using var db = await dbs.CreateDbContextAsync(ct);
        // One more than asked tells whether another page exists: MLflow answers no token after the last page.
        var ids = await RegisteredModels(db, filter, order, request.Access).Skip((int)offset).Take(take + 1).Select(m => m.Id).ToListAsync(ct);
        return Page(ids, take, offset, queryHash);
    }

    public async Task<SearchPage<ModelVersionKey>> SearchModelVersionsAsync(ModelVersionSearchRequest request, CancellationToken ct = default)
    {
        var maxResults = request.MaxResults ?? ModelVersionDefaultMaxResults;
        RequirePositive(maxResults);
        if (maxResults > ModelVersionMaxResultsThreshold)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid value for request parameter max_results. It must be at most {ModelVersionMaxResultsThreshold}, but got value {maxResults}");
        }
        var filter = FilterParser.Parse(request.Filter, SearchScope.ModelVersions);
        var order = OrderByParser.Parse(request.OrderBy, SearchScope.ModelVersions);
        var queryHash = PageToken.QueryHash(SearchScope.ModelVersions, null, request.Filter, request.OrderBy, ViewType.ActiveOnly);
        var offset = PageToken.ReadOffset(request.PageToken, queryHash);
        var take = (int)maxResults;
        if (offset > int.MaxValue - take - 1)
        {
            return new SearchPage<ModelVersionKey>([], null);
        }

        await using var db = await dbs.CreateDbContextAsync(ct);
        var keys = await ModelVersions(db, filter, order, request.Access).Skip((int)offset).Take(take + 1)
            .Select(v => new ModelVersionKey(v.RegisteredModelId, v.Version)).ToListAsync(ct);
        return Page(keys, take, offset, queryHash);
    }

    private static void RequirePositive(long maxResults)
    {
        if (maxResults < 1)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid value for max_results. It must be a positive integer, but got {maxResults}");
        }
    }

    private static SearchPage<T> Page<T>(List<T> items, int take, long offset, string queryHash)
    {
        if (items.Count <= take)
        {
            return new SearchPage<T>(items, null);
        }
        items.RemoveAt(items.Count - 1);
        return new SearchPage<T>(items, PageToken.Create(offset + take, queryHash));
    }

    /// <summary>
    /// The registered models a parsed filter finds, in the parsed order then by name (MLflow's tie-breaker), as one
    /// query: for callers that page or count themselves. <paramref name="filter"/> and <paramref name="order"/> come from
    /// <see cref="FilterParser"/> and <see cref="OrderByParser"/> with <see cref="SearchScope.RegisteredModels"/>.
    /// </summary>
    public static IOrderedQueryable<RegisteredModel> RegisteredModels(DashboardDbContext db, Filter filter, IReadOnlyList<OrderTerm> order,
        Security.PermissionScope? access = null)
    {
        var provider = db.Provider;
        var (terms, hidePrompts) = PromptRule(filter);
        IQueryable<RegisteredModel> models = access is null ? db.RegisteredModels : access.RegisteredModels(db, db.RegisteredModels);
        foreach (var term in terms)
        {
            if (term.Entity == SearchEntity.Tag)
            {
                var tags = db.RegisteredModelTags
                    .Where(SearchPredicates.On<RegisteredModelTag, string?>(t => t.Key, SearchPredicates.KeyEquals(provider, term.Key)))
                    .Where(SearchPredicates.On<RegisteredModelTag, string?>(t => t.Value, SearchPredicates.Text(provider, term.Comparator, term.Value!)));
                models = models.Where(m => tags.Any(t => t.RegisteredModelId == m.Id));
            }
            else
            {
                models = models.Where(SearchPredicates.On<RegisteredModel, string?>(m => m.Name, SearchPredicates.Text(provider, term.Comparator, term.Value!)));
            }
        }
        if (hidePrompts)
        {
            var prompts = PromptTags(db.RegisteredModelTags, provider, t => t.Key, t => t.Value);
            models = models.Where(m => !prompts.Any(t => t.RegisteredModelId == m.Id));
        }

        IOrderedQueryable<RegisteredModel>? ordered = null;
        void By<TKey>(Expression<Func<RegisteredModel, TKey>> key, bool ascending) =>
            ordered = ordered is null
                ? ascending ? models.OrderBy(key) : models.OrderByDescending(key)
                : ascending ? ordered.ThenBy(key) : ordered.ThenByDescending(key);

        foreach (var term in order)
        {
            if (term.Key == SearchVocabulary.NameAttribute)
            {
                By(m => m.Name, term.Ascending);
            }
            else
            {
                By(m => m.LastUpdatedTime, term.Ascending);
            }
        }
        if (!order.Any(t => t.Key == SearchVocabulary.NameAttribute))
        {
            By(m => m.Name, true);
        }
        // Names are unique; the id settles names that a case-insensitive collation (SQL Server's) sorts as equal.
        By(m => m.Id, true);
        return ordered!;
    }

    /// <summary>
    /// The model versions a parsed filter finds, never deleted ones, in the parsed order (MLflow's default when it is
    /// empty) then by name ascending and version descending, as one query. <paramref name="filter"/> and
    /// <paramref name="order"/> come from <see cref="FilterParser"/> and <see cref="OrderByParser"/> with
    /// <see cref="SearchScope.ModelVersions"/>.
    /// </summary>
    public static IOrderedQueryable<ModelVersion> ModelVersions(DashboardDbContext db, Filter filter, IReadOnlyList<OrderTerm> order,
        Security.PermissionScope? access = null)
    {
        var provider = db.Provider;
        var (terms, hidePrompts) = PromptRule(filter);
        IQueryable<ModelVersion> versions = db.ModelVersions.Where(v => !v.Deleted);
        if (access is { Unrestricted: false })
        {
            var readable = access.RegisteredModelIds(db);
            versions = versions.Where(v => readable.Contains(v.RegisteredModelId));
        }
        foreach (var term in terms)
        {
            if (term.Entity == SearchEntity.Tag)
            {
                var tags = db.ModelVersionTags
                    .Where(SearchPredicates.On<ModelVersionTag, string?>(t => t.Key, SearchPredicates.KeyEquals(provider, term.Key)))
                    .Where(SearchPredicates.On<ModelVersionTag, string?>(t => t.Value, SearchPredicates.Text(provider, term.Comparator, term.Value!)));
                versions = versions.Where(v => tags.Any(t => t.RegisteredModelId == v.RegisteredModelId && t.Version == v.Version));
                continue;
            }
            versions = versions.Where(term.Key switch
            {
                SearchVocabulary.VersionNumberAttribute => SearchPredicates.On<ModelVersion, long?>(v => v.Version,
                    SearchPredicates.Integer(term.Comparator, ((NumberValue)term.Value!).Value)),
                SearchVocabulary.RunIdAttribute => SearchPredicates.On<ModelVersion, string?>(v => v.RunId,
                    SearchPredicates.Text(provider, term.Comparator, term.Value!)),
                SearchVocabulary.SourcePathAttribute => SearchPredicates.On<ModelVersion, string?>(v => v.Source,
                    SearchPredicates.Text(provider, term.Comparator, term.Value!)),
                _ => SearchPredicates.On<ModelVersion, string?>(v => v.RegisteredModel!.Name,
                    SearchPredicates.Text(provider, term.Comparator, term.Value!)),
            });
        }
        if (hidePrompts)
        {
            // MLflow looks for the tag on any version of the same model, deleted ones included.
            var prompts = PromptTags(db.ModelVersionTags, provider, t => t.Key, t => t.Value);
            versions = versions.Where(v => !prompts.Any(t => t.RegisteredModelId == v.RegisteredModelId));
        }

        IOrderedQueryable<ModelVersion>? ordered = null;
        void By<TKey>(Expression<Func<ModelVersion, TKey>> key, bool ascending) =>
            ordered = ordered is null
                ? ascending ? versions.OrderBy(key) : versions.OrderByDescending(key)
                : ascending ? ordered.ThenBy(key) : ordered.ThenByDescending(key);

        var effective = order.Count == 0 ? DefaultModelVersionOrder : order;
        foreach (var term in effective)
        {
            switch (term.Key)
            {
                case SearchVocabulary.NameAttribute:
                    By(v => v.RegisteredModel!.Name, term.Ascending);
                    break;
                case SearchVocabulary.VersionNumberAttribute:
                    By(v => v.Version, term.Ascending);
                    break;
                case SearchVocabulary.CreationTimestampAttribute:
                    By(v => v.CreationTime, term.Ascending);
                    break;
                default:
                    By(v => v.LastUpdatedTime, term.Ascending);
                    break;
            }
        }
        if (!effective.Any(t => t.Key == SearchVocabulary.NameAttribute))
        {
            By(v => v.RegisteredModel!.Name, true);
        }
        if (!effective.Any(t => t.Key == SearchVocabulary.VersionNumberAttribute))
        {
            By(v => v.Version, false);
        }
        By(v => v.RegisteredModelId, true);
        return ordered!;
    }

    /// <summary>
    /// MLflow's prompt rule (SqlAlchemyStore._is_querying_prompt and _update_query_to_exclude_prompts). A search hides
    /// prompts, the models whose <see cref="PromptTag"/> is exactly <c>true</c>, unless the first comparison on that
    /// tag asks for them (<c>= 'true'</c> or <c>!= 'false'</c>, in any case). When it hides them, every comparison on
    /// the tag is dropped: MLflow 3 clients send <c>tags.`mlflow.prompt.is_prompt` != 'true'</c> with every search and
    /// expect models without the tag to match, where any other missing tag never matches. When it asks for them, the
    /// comparisons are ordinary tag comparisons.
    /// </summary>
    internal static (IReadOnlyList<FilterTerm> Terms, bool HidePrompts) PromptRule(Filter filter)
    {
        static bool OnPromptTag(FilterTerm t) => t.Entity == SearchEntity.Tag && t.Key == PromptTag;
        var first = filter.Terms.FirstOrDefault(OnPromptTag);
        var asksForPrompts = first is { Value: StringValue value }
            && (first.Comparator, value.Value.ToLowerInvariant()) is (Comparator.Equal, "true") or (Comparator.NotEqual, "false");
        return asksForPrompts ? (filter.Terms, false) : (filter.Terms.Where(t => !OnPromptTag(t)).ToList(), true);
    }

    /// <summary>The tag rows that mark a prompt: key and value compared exactly, also on SQL Server.</summary>
    private static IQueryable<TTag> PromptTags<TTag>(IQueryable<TTag> tags, DatabaseProvider provider,
        Expression<Func<TTag, string?>> key, Expression<Func<TTag, string?>> value) =>
        tags.Where(SearchPredicates.On(key, SearchPredicates.KeyEquals(provider, PromptTag)))
            .Where(SearchPredicates.On(value, SearchPredicates.KeyEquals(provider, "true")));
}
