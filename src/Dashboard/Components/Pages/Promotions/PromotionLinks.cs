using System.Globalization;
using Dashboard.Components.Pages.Models;
using Dashboard.Governance;
using MudBlazor;

namespace Dashboard.Components.Pages.Promotions;

/// <summary>Addresses and colours of the promotion pages.</summary>
public static class PromotionLinks
{
    public static string Request(long id) => "/promotions/" + id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The version page (model name percent-encoded as one segment, as <see cref="RegistryLinks"/> does).</summary>
    public static string Version(string model, int version) =>
        RegistryLinks.Model(model) + "/versions/" + version.ToString(CultureInfo.InvariantCulture);

    /// <summary>A request's target in words: "stage Production" or "alias @champion".</summary>
    public static string Target(PromotionRequest r) =>
        r.TargetKind == PromotionTargetKind.Alias ? "alias @" + r.Target : "stage " + r.Target;

    public static Color StateColor(string state) => state switch
    {
        PromotionState.Pending => Color.Info,
        PromotionState.Approved => Color.Success,
        PromotionState.Rejected => Color.Error,
        _ => Color.Default,
    };
}
