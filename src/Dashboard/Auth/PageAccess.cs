using Dashboard.Security;

namespace Dashboard.Auth;

/// <summary>
/// The permission checks of a dashboard circuit, for the pages: the same <see cref="PermissionService"/> rules as the
/// endpoints, with the circuit's caller (<see cref="CircuitActor.CallerAsync"/>).
/// </summary>
public sealed class PageAccess(IServiceProvider services)
{
    private PermissionService Permissions => services.GetRequiredService<PermissionService>();

    public Task<Caller> CallerAsync() => services.GetRequiredService<CircuitActor>().CallerAsync();

    /// <summary>The caller's read filter for the lists and searches (no filter for an Admin).</summary>
    public async Task<PermissionScope> ReadScopeAsync() => Permissions.ScopeOf(await CallerAsync());

    public async Task<AccessLevel> ExperimentAsync(long experimentId, CancellationToken ct = default) =>
        await Permissions.ExperimentLevelAsync(await CallerAsync(), experimentId, ct);

    /// <summary>The caller's permission on each of a list's experiments, with one query (none for an Admin).</summary>
    public async Task<IReadOnlyDictionary<long, AccessLevel>> ExperimentsAsync(IReadOnlyCollection<long> experimentIds, CancellationToken ct = default) =>
        await Permissions.ExperimentLevelsAsync(await CallerAsync(), experimentIds, ct);

    /// <summary>The caller's permission on each of a list's registered models (by surrogate id), with one query (none for an Admin).</summary>
    public async Task<IReadOnlyDictionary<long, AccessLevel>> RegisteredModelsAsync(IReadOnlyCollection<long> registeredModelIds, CancellationToken ct = default) =>
        await Permissions.RegisteredModelLevelsAsync(await CallerAsync(), registeredModelIds, ct);

    public async Task<AccessLevel> RegisteredModelAsync(string name, CancellationToken ct = default) =>
        await Permissions.RegisteredModelLevelAsync(await CallerAsync(), name, ct) ?? AccessLevel.NoPermissions;

    /// <summary>Refuses (PERMISSION_DENIED) what the caller may not do on an experiment: the pages check as the API does.</summary>
    public async Task RequireExperimentAsync(long experimentId, AccessLevel needed, CancellationToken ct = default) =>
        await Permissions.RequireExperimentAsync(await CallerAsync(), experimentId, needed, ct);

    public async Task RequireRunAsync(string runId, AccessLevel needed, CancellationToken ct = default) =>
        await Permissions.RequireRunAsync(await CallerAsync(), runId, needed, ct);

    public async Task RequireRegisteredModelAsync(string name, AccessLevel needed, CancellationToken ct = default) =>
        await Permissions.RequireRegisteredModelAsync(await CallerAsync(), name, needed, ct);

    /// <summary>The promotion policy's guard of a direct stage or alias change, as the MLflow endpoints apply it.</summary>
    public async Task GuardDirectChangeAsync(string name, string? version, string targetKind, string target, CancellationToken ct = default) =>
        await services.GetRequiredService<Governance.PromotionService>().GuardDirectChangeAsync(name, version, targetKind, target, await CallerAsync(), ct);

    /// <summary>The promotion policy's guard of deleting a model whose versions hold a protected target, as the MLflow endpoints apply it.</summary>
    public async Task GuardDeletionAsync(string name, string? version, CancellationToken ct = default) =>
        await services.GetRequiredService<Governance.PromotionService>().GuardDeletionAsync(name, version, await CallerAsync(), ct);

    /// <summary>Refuses a caller who may not create (a Viewer).</summary>
    public async Task RequireCreateAsync() => PermissionService.RequireCreate(await CallerAsync());

    /// <summary>Grants the creator MANAGE (Oidc mode), as the API does.</summary>
    public async Task GrantCreatorOfExperimentAsync(long experimentId, CancellationToken ct = default) =>
        await Permissions.GrantCreatorOfExperimentAsync(await CallerAsync(), experimentId, ct);

    public async Task GrantCreatorOfRegisteredModelAsync(string name, CancellationToken ct = default) =>
        await Permissions.GrantCreatorOfRegisteredModelAsync(await CallerAsync(), await Permissions.RegisteredModelIdAsync(name, ct), ct);

    /// <summary>Whether the caller may create experiments and registered models at all (Contributor or more).</summary>
    public async Task<bool> CanCreateAsync() => (await CallerAsync()).CanWrite;
}
