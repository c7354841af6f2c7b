using Dashboard.Errors;
using Dashboard.Search;
using Dashboard.Tracking;

namespace Dashboard.Api.Mlflow;

internal static class ViewTypes
{
    /// <summary>service.proto's ViewType by name (or by number, as protobuf's JSON mapping allows).</summary>
    public static ViewType Parse(string? value, string path) => value switch
    {
        null or "" or "ACTIVE_ONLY" or "1" => ViewType.ActiveOnly,
        "DELETED_ONLY" or "2" => ViewType.DeletedOnly,
        "ALL" or "3" => ViewType.All,
        _ => throw MlflowException.InvalidParameter(TrackingValidation.InvalidValue(path, value,
            "expected one of ACTIVE_ONLY, DELETED_ONLY, ALL.")),
    };
}

internal static class RunStatuses
{
    /// <summary>service.proto's RunStatus by name, or by number as protobuf's JSON mapping allows; other text is left
    /// for the run service to refuse.</summary>
    public static string? Parse(string? value) => value switch
    {
        "1" => RunStatus.Running,
        "2" => RunStatus.Scheduled,
        "3" => RunStatus.Finished,
        "4" => RunStatus.Failed,
        "5" => RunStatus.Killed,
        _ => value,
    };
}
