namespace Dashboard.Tracking;

/// <summary>
/// Where artifacts of experiments and runs live, as URIs the MLflow client resolves through the server's
/// artifact proxy. The artifacts issue adds storage behind these URIs.
/// </summary>
public static class ArtifactLocations
{
    public const string ProxyScheme = "mlflow-artifacts:";

    private const string RunFolder = "artifacts";

    /// <summary>
    /// The longest experiment location whose run locations (<c>{location}/{run id}/artifacts</c>) still fit the
    /// store's URI columns.
    /// </summary>
    public static readonly int MaxExperimentLocationLength =
        Data.DashboardDbContext.Lengths.Uri - Data.DashboardDbContext.Lengths.RunId - RunFolder.Length - 2;

    public static string ForExperiment(long experimentId) => $"{ProxyScheme}/{experimentId}";

    public static string ForRun(string experimentLocation, string runId) =>
        $"{experimentLocation.TrimEnd('/')}/{runId}/{RunFolder}";
}
