using System.Globalization;
using Dashboard.Security;

namespace Dashboard.Auth;

/// <summary>Registers the permission checks (docs/adr/0012-authentication-and-permissions.md, "Permissions").</summary>
public static class PermissionSetup
{
    /// <summary>
    /// <see cref="PermissionService"/> with the defaults of <c>Dashboard:Auth</c>: <see cref="AuthOptions.DefaultPermission"/>,
    /// and creators granted MANAGE in Oidc mode only (in Local mode the one user is the Admin).
    /// </summary>
    public static IServiceCollection AddDashboardPermissions(this IServiceCollection services)
    {
        services.AddSingleton(sp => sp.GetService<AuthOptions>() is { } options
            ? new PermissionDefaults(options.DefaultPermission, GrantCreators: options.Mode == AuthMode.Oidc)
            : PermissionDefaults.Local);
        services.AddSingleton<PermissionService>();
        services.AddScoped<PageAccess>();
        return services;
    }
}

/// <summary>
/// The checks an endpoint makes before it acts, with the request's caller: one line per handler, named by what the
/// request names (an experiment id, a run id, a model name). A caller of role Admin passes without a query.
/// </summary>
public static class Access
{
    public static Caller Caller(this HttpContext http) => CurrentCaller.Of(http);

    private static PermissionService Permissions(HttpContext http) => http.RequestServices.GetRequiredService<PermissionService>();

    /// <summary>Creating an experiment or registered model: role Contributor or more, not with a read token.</summary>
    public static void RequireCreate(this HttpContext http) => PermissionService.RequireCreate(http.Caller());

    /// <summary>
    /// The permission on an experiment given as the wire's string id. A malformed id passes: the handler answers
    /// INVALID_PARAMETER_VALUE for it as before.
    /// </summary>
    public static Task RequireExperimentAsync(this HttpContext http, string? experimentId, AccessLevel needed) =>
        ExperimentIdOf(experimentId) is { } id
            ? Permissions(http).RequireExperimentAsync(http.Caller(), id, needed, http.RequestAborted)
            : Task.CompletedTask;

    public static Task RequireExperimentAsync(this HttpContext http, long experimentId, AccessLevel needed) =>
        Permissions(http).RequireExperimentAsync(http.Caller(), experimentId, needed, http.RequestAborted);

    public static Task RequireRunAsync(this HttpContext http, string? runId, AccessLevel needed) =>
        Permissions(http).RequireRunAsync(http.Caller(), runId, needed, http.RequestAborted);

    public static Task RequireRunsAsync(this HttpContext http, IReadOnlyCollection<string> runIds, AccessLevel needed) =>
        Permissions(http).RequireRunsAsync(http.Caller(), runIds, needed, http.RequestAborted);

    public static Task RequireLoggedModelAsync(this HttpContext http, string? modelId, AccessLevel needed) =>
        Permissions(http).RequireLoggedModelAsync(http.Caller(), modelId, needed, http.RequestAborted);

    public static Task RequireRegisteredModelAsync(this HttpContext http, string? name, AccessLevel needed) =>
        Permissions(http).RequireRegisteredModelAsync(http.Caller(), name, needed, http.RequestAborted);

    /// <summary>The promotion policy's guard of a direct stage or alias change (403 for a protected target the caller may not approve).</summary>
    public static Task GuardDirectChangeAsync(this HttpContext http, string? name, string? version, string targetKind, string target) =>
        http.RequestServices.GetRequiredService<Governance.PromotionService>().GuardDirectChangeAsync(name, version, targetKind, target, http.Caller(), http.RequestAborted);

    /// <summary>The promotion policy's guard of deleting a version (or, with no version, a model) that holds a protected target.</summary>
    public static Task GuardDeletionAsync(this HttpContext http, string? name, string? version) =>
        http.RequestServices.GetRequiredService<Governance.PromotionService>().GuardDeletionAsync(name, version, http.Caller(), http.RequestAborted);

    /// <summary>The caller's read filters for the searches.</summary>
    public static PermissionScope ReadScope(this HttpContext http) => Permissions(http).ScopeOf(http.Caller());

    /// <summary>The experiments of a search's list the caller may read (MLflow's auth drops the runs of the others).</summary>
    public static async Task<IReadOnlyList<long>> ReadableExperimentsAsync(this HttpContext http, IReadOnlyList<long> experimentIds) =>
        await Permissions(http).ReadableExperimentsAsync(http.Caller(), experimentIds, http.RequestAborted);

    /// <summary>
    /// An artifact path of the proxy (mlflow-artifacts): experiments keep their files under their id
    /// (<c>mlflow-artifacts:/&lt;experiment_id&gt;</c>), so the first segment names the experiment whose permission
    /// applies. A path outside any experiment's folder is for the Admin role only.
    /// </summary>
    public static async Task RequireArtifactPathAsync(this HttpContext http, string? path, AccessLevel needed)
    {
        var caller = http.Caller();
        if (caller.Role == DashboardRole.Admin && caller.Ceiling >= needed)
        {
            return;
        }
        var first = (path ?? "").TrimStart('/').Split('/', 2)[0];
        if (ExperimentIdOf(first) is { } id)
        {
            await Permissions(http).RequireExperimentAsync(caller, id, needed, http.RequestAborted);
            return;
        }
        throw PermissionService.Denied(caller, "use artifacts outside an experiment's folder");
    }

    public static long? ExperimentIdOf(string? experimentId) =>
        long.TryParse(experimentId, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
}
