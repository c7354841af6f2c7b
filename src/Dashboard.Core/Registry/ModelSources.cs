using Dashboard.Data;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Registry;

/// <summary>
/// A model version's source as the registry stores it: the source the client sent, the artifact location the
/// version's files are downloaded from (get-download-uri), and the run and logged model it came from.
/// </summary>
public sealed record ResolvedModelSource(string Source, string StorageLocation, string? RunId, string? ModelId);

/// <summary>
/// Validates the source of model-versions/create and resolves where its artifacts are (docs/adr/0009-model-registry.md).
/// </summary>
public sealed class ModelSourceResolver(IDbContextFactory<DashboardDbContext> dbs)
{
    /// <summary>
    /// The resolved source of a new version, or an <see cref="Errors.MlflowException"/> (400 INVALID_PARAMETER_VALUE,
    /// 404 for a run or logged model that does not exist).
    /// </summary>
    public Task<ResolvedModelSource> ResolveAsync(string? source, string? runId, string? modelId, CancellationToken ct = default)
    {
        _ = dbs;
        throw new NotImplementedException("ModelSourceResolver is being written on branch registry-sources.");
    }
}
