namespace Dashboard.Search;

internal static class SearchIdentifiers
{
    /// <summary>
    /// Turns a written identifier into an entity and key, with MLflow's messages (SearchUtils._get_identifier)
    /// for an unknown entity word, attribute or dataset key. The key keeps MLflow's aliases (created, run name):
    /// messages quote the name as written, and callers resolve it with <see cref="SearchVocabulary.CanonicalAttribute"/>.
    /// </summary>
    public static (SearchEntity Entity, string Key) Resolve(SearchScope scope, RawIdentifier raw, bool forOrder)
    {
        SearchEntity entity;
        if (raw.Entity is null)
        {
            entity = SearchEntity.Attribute;
        }
        else
        {
            entity = SearchVocabulary.Entity(scope, raw.Entity)
                ?? throw new SearchSyntaxException(SearchVocabulary.InvalidEntity(scope, raw.Entity), raw.Start);
        }
        if (entity == SearchEntity.Attribute && !SearchVocabulary.IsAttribute(scope, raw.Key, forOrder))
        {
            throw new SearchSyntaxException(SearchVocabulary.InvalidAttribute(scope, raw.Key, forOrder), raw.KeyStart);
        }
        if (entity == SearchEntity.Dataset && !SearchVocabulary.IsDatasetKey(raw.Key))
        {
            throw new SearchSyntaxException(SearchVocabulary.InvalidDatasetKey(raw.Key), raw.KeyStart);
        }
        return (entity, raw.Key);
    }
}
