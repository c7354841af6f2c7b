using Dashboard.Components.Pages.Experiments;
using Dashboard.Components.Pages.Runs;
using MudBlazor.Services;

namespace Dashboard.Components;

/// <summary>
/// The web dashboard: Blazor Server components (MudBlazor) mapped beside the MLflow API and /api/v1, which keep their
/// own routes and error shapes (docs/adr/0010-dashboard-ui.md).
/// </summary>
public static class DashboardUi
{
    public static IServiceCollection AddDashboardUi(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.AddScoped<Shared.BrowserStorage>();
        services.AddScoped<Auth.CircuitActor>();
        // Core services only the dashboard's pages use: compare, keyword search, best configuration.
        services.AddSingleton<Search.RunComparison>().AddSingleton<Search.KeywordSearchService>().AddSingleton<Search.BestRunsService>();
        return services;
    }

    public static void MapDashboardUi(this WebApplication app)
    {
        app.MapStaticAssets();
        // Blazor's own "frame-ancestors 'self'" header would be a second policy: Auth/Hardening.cs sends one with 'none'.
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null);
        app.MapRunExport();
        app.MapRunArtifactDownload();
        // The static assets bring a GET-only catch-all ("{**path:file}"), so that any other method on an unknown path
        // became a 405 from the routing; before the dashboard it was a 404, and clients and tests rely on that (a
        // traversal that the URL parser folds into /tmp/x must stay "not found").
        app.MapMethods("{**path}", [HttpMethods.Post, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Patch], () => Results.NotFound())
            .WithOrder(int.MaxValue)
            .ExcludeFromDescription();
    }
}
