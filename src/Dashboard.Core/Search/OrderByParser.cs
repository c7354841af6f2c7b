using Dashboard.Errors;

namespace Dashboard.Search;

/// <summary>
/// Parses order_by clauses (<c>metrics.`val loss` DESC</c>, <c>params.lr</c>, <c>start_time</c>) with MLflow's rules
/// and messages (SearchUtils._parse_order_by_string, parse_order_by_for_search_runs, _experiments, _registered_models
/// and _model_versions).
/// </summary>
public static class OrderByParser
{
    public const int MaxTerms = 20;
    public const int MaxClauseLength = 1_000;

    /// <summary>Parses or throws <see cref="MlflowException"/> INVALID_PARAMETER_VALUE.</summary>
    public static IReadOnlyList<OrderTerm> Parse(IReadOnlyList<string>? orderBy, SearchScope scope = SearchScope.Runs)
    {
        if (orderBy is null || orderBy.Count == 0)
        {
            return [];
        }
        if (orderBy.Count > MaxTerms)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid order_by: {orderBy.Count} clauses, more than the {MaxTerms} allowed.");
        }
        var terms = new List<OrderTerm>(orderBy.Count);
        var seen = new HashSet<(SearchEntity, string)>();
        foreach (var clause in orderBy)
        {
            OrderTerm term;
            try
            {
                term = ParseClause(clause ?? "", scope);
            }
            catch (SearchSyntaxException e)
            {
                throw MlflowException.InvalidParameter(e.Message);
            }
            if (!seen.Add((term.Entity, term.Key)))
            {
                throw MlflowException.InvalidParameter(
                    $"`order_by` contains duplicate fields: [{string.Join(", ", orderBy.Select(o => $"'{o}'"))}]");
            }
            terms.Add(term);
        }
        return terms;
    }

    private static OrderTerm ParseClause(string clause, SearchScope scope)
    {
        SearchSyntaxException CouldNotParse(string _, int position) =>
            new($"Invalid order_by clause '{FilterScanner.Shown(clause)}'. Could not be parsed.", position);

        if (clause.Length > MaxClauseLength || FilterScanner.FirstUnencodable(clause) is var bad && bad >= 0)
        {
            throw CouldNotParse("", 0);
        }
        var s = new FilterScanner(clause);
        s.SkipWhitespace();
        var raw = s.TryReadIdentifier(CouldNotParse) ?? throw CouldNotParse("", s.Position);
        s.SkipWhitespace();
        var ascending = true;
        if (!s.AtEnd)
        {
            var at = s.Position;
            var word = s.TryReadWord() ?? throw CouldNotParse("", at);
            ascending = word.ToLowerInvariant() switch
            {
                "asc" => true,
                "desc" => false,
                _ => throw new SearchSyntaxException($"Invalid ordering key in order_by clause '{clause}'.", at),
            };
            s.SkipWhitespace();
            if (!s.AtEnd)
            {
                throw CouldNotParse("", s.Position);
            }
        }
        if (scope == SearchScope.RegisteredModels)
        {
            // MLflow's SQL store takes three bare words here, no entity prefix; timestamp is last_updated_timestamp.
            var written = raw.Entity is null ? raw.Key : raw.Entity + "." + raw.Key;
            if (raw.Entity is not null || !SearchVocabulary.IsAttribute(scope, raw.Key, forOrder: true))
            {
                throw new SearchSyntaxException(SearchVocabulary.InvalidRegisteredModelOrderKey(written), raw.Start);
            }
            var field = raw.Key == SearchVocabulary.NameAttribute ? raw.Key : SearchVocabulary.LastUpdatedTimestampAttribute;
            return new OrderTerm(SearchEntity.Attribute, field, ascending);
        }
        var (entity, key) = SearchIdentifiers.Resolve(scope, raw, forOrder: true);
        if (scope is SearchScope.Experiments or SearchScope.ModelVersions && entity != SearchEntity.Attribute)
        {
            throw new SearchSyntaxException("Invalid order_by entity: tag", raw.Start);
        }
        if (entity == SearchEntity.Dataset)
        {
            throw new SearchSyntaxException("Invalid identifier type 'dataset'", raw.Start);
        }
        return new OrderTerm(entity, entity == SearchEntity.Attribute ? SearchVocabulary.CanonicalAttribute(key) : key, ascending);
    }
}
