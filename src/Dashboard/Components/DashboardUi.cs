using Dashboard.Components.Pages.Experiments;
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
        return services;
    }

    public static void MapDashboardUi(this WebApplication app)
    {
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        app.MapRunExport();
    }
}
