using Dashboard.Data;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Search;

/// <summary>The arguments of registered-models/search (model_registry.proto SearchRegisteredModels).</summary>
public sealed record RegisteredModelSearchRequest(string? Filter, long? MaxResults, IReadOnlyList<string> OrderBy, string? PageToken);

/// <summary>The arguments of model-versions/search (model_registry.proto SearchModelVersions).</summary>
public sealed record ModelVersionSearchRequest(string? Filter, long? MaxResults, IReadOnlyList<string> OrderBy, string? PageToken);

/// <summary>A model version's key: its registered model's id and its number.</summary>
public readonly record struct ModelVersionKey(long RegisteredModelId, int Version);

/// <summary>
/// Searches registered models and model versions with MLflow's filter language, through the same parser as runs.
/// Answers keys in order; the registry loads what the wire shows.
/// </summary>
public sealed class RegistrySearchService(IDbContextFactory<DashboardDbContext> dbs)
{
    public Task<SearchPage<long>> SearchRegisteredModelsAsync(RegisteredModelSearchRequest request, CancellationToken ct = default)
    {
        _ = dbs;
        throw new NotImplementedException("Registry search is being written on branch registry-search.");
    }

    public Task<SearchPage<ModelVersionKey>> SearchModelVersionsAsync(ModelVersionSearchRequest request, CancellationToken ct = default)
    {
        throw new NotImplementedException("Registry search is being written on branch registry-search.");
    }
}
