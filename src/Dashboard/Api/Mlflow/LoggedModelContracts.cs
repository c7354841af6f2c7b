using System.Text.Json.Serialization;
using Dashboard.Search;
using Dashboard.Tracking;

namespace Dashboard.Api.Mlflow;

// MLflow 3's logged models (service.proto LoggedModel, LoggedModelInfo, LoggedModelData) and the requests of their
// RPCs, with runs/log-model and runs/outputs. Records list fields in the order MLflow's server writes them.

public sealed record LoggedModelInfoMessage(
    string ModelId,
    string ExperimentId,
    string Name,
    long CreationTimestampMs,
    long LastUpdatedTimestampMs,
    string ArtifactUri,
    string Status,
    string? ModelType,
    string? SourceRunId,
    string? StatusMessage,
    IReadOnlyList<KeyValue> Tags);

/// <summary>service.proto's Metric as a logged model lists it: with the model, the run and the dataset.</summary>
public sealed record LoggedModelMetricMessage(
    string Key,
    double Value,
    long Timestamp,
    long Step,
    string? DatasetName,
    string? DatasetDigest,
    string ModelId,
    string RunId);

public sealed record LoggedModelDataMessage(IReadOnlyList<KeyValue> Params, IReadOnlyList<LoggedModelMetricMessage> Metrics);

public sealed record LoggedModelMessage(LoggedModelInfoMessage Info, LoggedModelDataMessage Data);

/// <summary>service.proto's FileInfo as logged-models/{id}/artifacts/directories lists it.</summary>
public sealed record ModelArtifactFileMessage(string Path, bool IsDir, long? FileSize);

public static class LoggedModelWire
{
    public static LoggedModelMessage Model(LoggedModel m) => new(
        new LoggedModelInfoMessage(
            m.Id, Wire.Id(m.ExperimentId), m.Name, m.CreationTime, m.LastUpdatedTime, m.ArtifactLocation, m.Status,
            m.ModelType, m.SourceRunId, m.StatusMessage, m.Tags.Select(t => new KeyValue(t.Key, t.Value)).ToList()),
        new LoggedModelDataMessage(
            m.Params.Select(p => new KeyValue(p.Key, p.Value)).ToList(),
            m.Metrics.Select(x => new LoggedModelMetricMessage(x.Key, x.IsNaN ? double.NaN : x.Value, x.Timestamp, x.Step,
                x.DatasetName, x.DatasetDigest, x.ModelId, x.RunId)).ToList()));
}

// Requests. The model id of the path wins; MLflow clients repeat it in the body.

public sealed record CreateLoggedModelRequest(string? ExperimentId, string? Name, string? ModelType, string? SourceRunId,
    IReadOnlyList<KeyValueInput>? Params, IReadOnlyList<KeyValueInput>? Tags);
public sealed record ModelIdRequest(string? ModelId);
public sealed record FinalizeLoggedModelRequest(string? ModelId, [property: JsonConverter(typeof(ProtoEnumConverter))] string? Status);
public sealed record SetLoggedModelTagsRequest(string? ModelId, IReadOnlyList<KeyValueInput>? Tags);
public sealed record LogLoggedModelParamsRequest(string? ModelId, IReadOnlyList<KeyValueInput>? Params);
public sealed record SearchLoggedModelsDataset(string? DatasetName, string? DatasetDigest);
public sealed record SearchLoggedModelsOrderBy(string? FieldName, bool? Ascending, string? DatasetName, string? DatasetDigest);
public sealed record SearchLoggedModelsRequest(IReadOnlyList<string>? ExperimentIds, string? Filter,
    IReadOnlyList<SearchLoggedModelsDataset>? Datasets, int? MaxResults, IReadOnlyList<SearchLoggedModelsOrderBy>? OrderBy, string? PageToken);
public sealed record ListLoggedModelArtifactsRequest(string? ArtifactDirectoryPath, string? PageToken);
public sealed record LogModelRequest(string? RunId, string? ModelJson);
public sealed record LogOutputsRequest(string? RunId, IReadOnlyList<ModelOutputSpec>? Models);

// Responses.

public sealed record LoggedModelResponse(LoggedModelMessage Model);
public sealed record SearchLoggedModelsResponse(IReadOnlyList<LoggedModelMessage> Models, string? NextPageToken);
public sealed record ListLoggedModelArtifactsResponse(string RootUri, IReadOnlyList<ModelArtifactFileMessage> Files, string? NextPageToken);

internal static class LoggedModelRequests
{
    public static LoggedModelSearchRequest Search(SearchLoggedModelsRequest req) => new(
        (req.ExperimentIds ?? []).Select(id => TrackingValidation.ExperimentId(id, "experiment_ids")).ToList(),
        req.Filter,
        (req.Datasets ?? []).Select(d => new LoggedModelDatasetFilter(d.DatasetName, d.DatasetDigest)).ToList(),
        req.MaxResults ?? LoggedModelSearchService.DefaultMaxResults,
        (req.OrderBy ?? []).Select(o => new LoggedModelOrder(o.FieldName, o.Ascending ?? true, o.DatasetName, o.DatasetDigest)).ToList(),
        req.PageToken);
}
