namespace Dashboard.Tracking;

/// <summary>
/// Where artifacts of experiments and runs live, as URIs the MLflow client resolves through the server's
/// artifact proxy. The artifacts issue adds storage behind these URIs.
/// </summary>
public static class ArtifactLocations
{
    public const string ProxyScheme = "mlflow-artifacts:";

    public static string ForExperiment(long experimentId) => $"{ProxyScheme}/{experimentId}";

    public static string ForRun(string experimentLocation, string runId) =>
        $"{experimentLocation.TrimEnd('/')}/{runId}/artifacts";
}
