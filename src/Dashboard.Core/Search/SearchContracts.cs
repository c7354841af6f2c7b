using Dashboard.Tracking;

namespace Dashboard.Search;

/// <summary>service.proto's ViewType.</summary>
public enum ViewType
{
    ActiveOnly,
    DeletedOnly,
    All,
}

/// <summary>One page of a search and the opaque token of the next page (null on the last page).</summary>
public sealed record SearchPage<T>(IReadOnlyList<T> Items, string? NextPageToken);

/// <summary>The arguments of runs/search (service.proto SearchRuns).</summary>
public sealed record RunSearchRequest(
    IReadOnlyList<long> ExperimentIds,
    string? Filter,
    ViewType ViewType,
    int MaxResults,
    IReadOnlyList<string> OrderBy,
    string? PageToken);

/// <summary>The arguments of experiments/search (service.proto SearchExperiments).</summary>
/// <param name="Access">The caller's read filter; null reads everything (the server's own callers).</param>
public sealed record ExperimentSearchRequest(
    string? Filter,
    ViewType ViewType,
    long MaxResults,
    IReadOnlyList<string> OrderBy,
    string? PageToken,
    Security.PermissionScope? Access = null);
