using System.Globalization;
using Dashboard.Errors;

namespace Dashboard.Tracking;

/// <summary>service.proto's LoggedModelStatus, stored and sent by name.</summary>
public static class LoggedModelStatus
{
    public const string Pending = "LOGGED_MODEL_PENDING";
    public const string Ready = "LOGGED_MODEL_READY";
    public const string UploadFailed = "LOGGED_MODEL_UPLOAD_FAILED";

    /// <summary>
    /// A status of a request: its proto name, its number (protobuf's JSON mapping allows both), or null when the text
    /// names none. LOGGED_MODEL_STATUS_UNSPECIFIED (0) is no status a model can have.
    /// </summary>
    public static string? Parse(string? value) => value switch
    {
        Pending or "1" => Pending,
        Ready or "2" => Ready,
        UploadFailed or "3" => UploadFailed,
        _ => null,
    };

    /// <summary>
    /// A status as MLflow's logged-model filter writes it (<c>status = 'READY'</c>: the names of
    /// mlflow.entities.LoggedModelStatus), or as the proto names it; null when it names none.
    /// </summary>
    public static string? FromFilter(string value) => value switch
    {
        "PENDING" or Pending => Pending,
        "READY" or Ready => Ready,
        "FAILED" or "UPLOAD_FAILED" or UploadFailed => UploadFailed,
        _ => null,
    };
}

/// <summary>
/// An MLflow 3 logged model: a model an experiment produced, with its own artifacts, params, tags and the metrics
/// that runs logged for it. <see cref="Id"/> is <c>m-</c> and 32 hex characters, as MLflow makes them.
/// </summary>
public sealed class LoggedModel
{
    public const string IdPrefix = "m-";

    public required string Id { get; set; }
    public long ExperimentId { get; set; }
    public required string Name { get; set; }
    public required string ArtifactLocation { get; set; }
    public long CreationTime { get; set; }
    public long LastUpdatedTime { get; set; }
    public string Status { get; set; } = LoggedModelStatus.Pending;
    public string? StatusMessage { get; set; }
    public string? ModelType { get; set; }
    public string? SourceRunId { get; set; }
    public string LifecycleStage { get; set; } = Tracking.LifecycleStage.Active;

    public List<LoggedModelTag> Tags { get; set; } = [];
    public List<LoggedModelParam> Params { get; set; } = [];
    public List<LoggedModelMetric> Metrics { get; set; } = [];

    public static string NewId() => IdPrefix + Guid.NewGuid().ToString("N");

    /// <summary>
    /// Finalizing says whether the upload of the model's files succeeded. A model finalizes as READY or
    /// UPLOAD_FAILED; saying it again is harmless (clients retry), but a READY model never becomes a failed one.
    /// </summary>
    public void FinalizeAs(string status, long now)
    {
        if (status is not (LoggedModelStatus.Ready or LoggedModelStatus.UploadFailed))
        {
            throw MlflowException.InvalidParameter(TrackingValidation.InvalidValue("status", status,
                $"a logged model is finalized as {LoggedModelStatus.Ready} or {LoggedModelStatus.UploadFailed}."));
        }
        if (Status == LoggedModelStatus.Ready && status == LoggedModelStatus.UploadFailed)
        {
            throw MlflowException.InvalidParameter(
                $"Logged model '{Id}' is already {LoggedModelStatus.Ready}: it cannot become {LoggedModelStatus.UploadFailed}.");
        }
        Status = status;
        LastUpdatedTime = now;
    }

    /// <summary>The proxied location of a model's artifacts: <c>{experiment location}/models/{id}/artifacts</c>.</summary>
    public static string ArtifactLocationFor(string experimentLocation, string modelId) =>
        string.Create(CultureInfo.InvariantCulture, $"{experimentLocation.TrimEnd('/')}/models/{modelId}/artifacts");
}

public sealed class LoggedModelTag
{
    public required string ModelId { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
}

public sealed class LoggedModelParam
{
    public required string ModelId { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
}

/// <summary>
/// A metric a run logged for a logged model (log-batch or log-metric with <c>model_id</c>), with the dataset it was
/// measured on. NaN is stored as value 0 with <see cref="IsNaN"/> set, as in the runs' metrics; the key of the table
/// is the whole point, so an exact duplicate is one row.
/// </summary>
public sealed class LoggedModelMetric
{
    public required string ModelId { get; set; }
    public required string Key { get; set; }
    public double Value { get; set; }
    public long Timestamp { get; set; }
    public long Step { get; set; }
    public bool IsNaN { get; set; }
    public required string RunId { get; set; }
    public long ExperimentId { get; set; }
    public string? DatasetName { get; set; }
    public string? DatasetDigest { get; set; }
}

/// <summary>A logged model that a run produced, at a step (runs/outputs; the run's outputs.model_outputs).</summary>
public sealed class RunOutput
{
    public required string RunId { get; set; }
    public required string ModelId { get; set; }
    public long Step { get; set; }
}

/// <summary>A logged model that a run used (log-inputs' models; the run's inputs.model_inputs).</summary>
public sealed class RunModelInput
{
    public required string RunId { get; set; }
    public required string ModelId { get; set; }
}
