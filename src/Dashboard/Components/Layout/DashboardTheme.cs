using MudBlazor;

namespace Dashboard.Components.Layout;

/// <summary>One theme, light and dark palettes; system fonts only (the server may run without internet access).</summary>
public static class DashboardTheme
{
    public static MudTheme Theme { get; } = new()
    {
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"] },
        },
        LayoutProperties = new LayoutProperties { AppbarHeight = "48px" },
    };
}
