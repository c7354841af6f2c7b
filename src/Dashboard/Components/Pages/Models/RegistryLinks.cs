namespace Dashboard.Components.Pages.Models;

/// <summary>
/// Addresses of registry pages. Names are percent-encoded as one path segment: a registered model's name may hold
/// spaces, <c>%</c>, <c>?</c>, <c>#</c> and any unicode (only <c>/</c> and <c>:</c> are refused), and the router
/// decodes the segment back into the name.
/// </summary>
public static class RegistryLinks
{
    public static string Model(string name) => "/models/" + Uri.EscapeDataString(name);

    /// <summary>The run page (built beside this one, docs/adr/0010-dashboard-ui.md).</summary>
    public static string Run(string runId) => "/runs/" + Uri.EscapeDataString(runId);
}
