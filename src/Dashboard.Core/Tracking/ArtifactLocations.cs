using Dashboard.Artifacts;
using Dashboard.Errors;

namespace Dashboard.Tracking;

/// <summary>
/// Where artifacts of experiments and runs live, as URIs the MLflow client resolves through the server's
/// artifact proxy (<c>mlflow-artifacts:/&lt;path&gt;</c>, the path being a path in the artifact store).
/// </summary>
public static class ArtifactLocations
{
    public const string ProxyScheme = "mlflow-artifacts:";

    private const string ProxyPrefix = ProxyScheme + "/";

    private const string RunFolder = "artifacts";

    /// <summary>
    /// The longest experiment location whose run locations (<c>{location}/{run id}/artifacts</c>) still fit the
    /// store's URI columns. (The path rules allow less: <see cref="ArtifactPath.MaxLength"/>.)
    /// </summary>
    public static readonly int MaxExperimentLocationLength =
        Data.DashboardDbContext.Lengths.Uri - Data.DashboardDbContext.Lengths.RunId - RunFolder.Length - 2;

    public static string ForExperiment(long experimentId) => $"{ProxyPrefix}{experimentId}";

    public static string ForRun(string experimentLocation, string runId) =>
        $"{experimentLocation.TrimEnd('/')}/{runId}/{RunFolder}";

    /// <summary>
    /// Validates an explicit experiment location and answers its canonical form, or null for none (the default
    /// location). Only <c>mlflow-artifacts:/&lt;path&gt;</c> with a valid, non-root <see cref="ArtifactPath"/> is
    /// taken: with any other scheme (file:, s3:, http:, runs:) or a plain path, clients would read and write the
    /// storage themselves, bypassing the proxy, its path checks and its permissions (docs/adr/0006).
    /// </summary>
    public static string? ValidateExperimentLocation(string? location)
    {
        if (string.IsNullOrEmpty(location))
        {
            return null;
        }
        TrackingValidation.Length(location, "artifact_location", MaxExperimentLocationLength);
        if (location.StartsWith("runs:", StringComparison.OrdinalIgnoreCase))
        {
            // MLflow's own message (validation._validate_experiment_artifact_location).
            throw MlflowException.InvalidParameter($"Artifact location cannot be a runs:/ URI. Given: '{location}'");
        }
        // "mlflow-artifacts://host/path" would send clients to another server; only the path form is this one.
        if (!location.StartsWith(ProxyPrefix, StringComparison.Ordinal) || location.StartsWith(ProxyPrefix + "/", StringComparison.Ordinal))
        {
            throw MlflowException.InvalidParameter(
                "Invalid value for parameter 'artifact_location' supplied: artifacts are stored behind this server's proxy; " +
                $"an artifact location is '{ProxyPrefix}<path>' (a relative path in the artifact store) or empty.");
        }
        var path = ArtifactPath.Parse(location[ProxyPrefix.Length..], "artifact_location");
        if (path.IsRoot)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid value for parameter 'artifact_location' supplied: '{ProxyPrefix}' needs a path after it.");
        }
        return ProxyPrefix + path.Value;
    }

    /// <summary>
    /// The store path behind an experiment's or run's artifact URI; null when the URI is not one of this server's
    /// proxy URIs (left by a version that took other locations).
    /// </summary>
    public static ArtifactPath? StorePath(string artifactUri) =>
        artifactUri.StartsWith(ProxyPrefix, StringComparison.Ordinal)
        && !artifactUri.StartsWith(ProxyPrefix + "/", StringComparison.Ordinal)
        && ArtifactPath.TryParse(artifactUri[ProxyPrefix.Length..], out var path, out _)
            ? path
            : null;
}
