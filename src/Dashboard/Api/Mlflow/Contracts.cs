using System.Globalization;
using System.Text.Json.Serialization;
using Dashboard.Tracking;

namespace Dashboard.Api.Mlflow;

// The messages of service.proto as they travel: records in the order MLflow's server writes their fields.
// Field names come from MlflowJson's snake_case policy. Never EF entities.

public sealed record Empty
{
    public static readonly Empty Instance = new();
}

public sealed record KeyValue(string Key, string Value);

public sealed record ExperimentMessage(
    string ExperimentId,
    string Name,
    string ArtifactLocation,
    string LifecycleStage,
    long LastUpdateTime,
    long CreationTime,
    IReadOnlyList<KeyValue> Tags);

public sealed record RunInfoMessage(
    string RunUuid,
    string ExperimentId,
    string? RunName,
    string? UserId,
    string Status,
    long StartTime,
    long? EndTime,
    string ArtifactUri,
    string LifecycleStage,
    string RunId);

public sealed record MetricMessage(string Key, double Value, long Timestamp, long Step);

public sealed record MetricWithRunIdMessage(string Key, double Value, long Timestamp, long Step, string RunId);

public sealed record RunDataMessage(IReadOnlyList<MetricMessage> Metrics, IReadOnlyList<KeyValue> Params, IReadOnlyList<KeyValue> Tags);

public sealed record DatasetMessage(string Name, string Digest, string SourceType, string Source, string? Schema, string? Profile);

public sealed record DatasetInputMessage(IReadOnlyList<KeyValue> Tags, DatasetMessage Dataset);

public sealed record ModelInputMessage(string ModelId);

public sealed record RunInputsMessage(IReadOnlyList<DatasetInputMessage> DatasetInputs, IReadOnlyList<ModelInputMessage> ModelInputs);

public sealed record ModelOutputMessage(string ModelId, long Step);

/// <summary>MLflow 3's run outputs: the logged models the run produced (runs/outputs).</summary>
public sealed record RunOutputsMessage(IReadOnlyList<ModelOutputMessage> ModelOutputs);

public sealed record RunMessage(RunInfoMessage Info, RunDataMessage Data, RunInputsMessage Inputs, RunOutputsMessage Outputs);

public static class Wire
{
    public static ExperimentMessage Experiment(Experiment e) => new(
        Id(e.Id), e.Name, e.ArtifactLocation, e.LifecycleStage, e.LastUpdateTime, e.CreationTime,
        e.Tags.Select(t => new KeyValue(t.Key, t.Value)).ToList());

    public static RunInfoMessage RunInfo(Run r) => new(
        r.Id, Id(r.ExperimentId), r.Name, r.UserId, r.Status, r.StartTime, r.EndTime, r.ArtifactUri, r.LifecycleStage, r.Id);

    public static RunMessage Run(Run r) => new(
        RunInfo(r),
        new RunDataMessage(
            r.LatestMetrics.Select(m => new MetricMessage(m.Key, m.IsNaN ? double.NaN : m.Value, m.Timestamp, m.Step)).ToList(),
            r.Params.Select(p => new KeyValue(p.Key, p.Value)).ToList(),
            r.Tags.Select(t => new KeyValue(t.Key, t.Value)).ToList()),
        new RunInputsMessage(r.Inputs.Where(i => i.Dataset is not null).Select(i => new DatasetInputMessage(
            i.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new KeyValue(t.Key, t.Value)).ToList(),
            new DatasetMessage(i.Dataset!.Name, i.Dataset.Digest, i.Dataset.SourceType, i.Dataset.Source, i.Dataset.Schema, i.Dataset.Profile)))
            .ToList(),
            r.ModelInputs.OrderBy(m => m.ModelId, StringComparer.Ordinal).Select(m => new ModelInputMessage(m.ModelId)).ToList()),
        new RunOutputsMessage(r.Outputs.OrderBy(o => o.Step).ThenBy(o => o.ModelId, StringComparer.Ordinal)
            .Select(o => new ModelOutputMessage(o.ModelId, o.Step)).ToList()));

    public static MetricMessage Metric(Metric m) => new(m.Key, m.IsNaN ? double.NaN : m.Value, m.Timestamp, m.Step);

    public static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}

// Requests. Every field is nullable: absent on the wire is not the same as empty, and the services say which
// fields are required with MLflow's messages.

public sealed record CreateExperimentRequest(string? Name, string? ArtifactLocation, IReadOnlyList<KeyValueInput>? Tags);
public sealed record ExperimentIdRequest(string? ExperimentId);
public sealed record GetExperimentByNameRequest(string? ExperimentName);
public sealed record UpdateExperimentRequest(string? ExperimentId, string? NewName);
public sealed record SetExperimentTagRequest(string? ExperimentId, string? Key, string? Value);
public sealed record DeleteExperimentTagRequest(string? ExperimentId, string? Key);
public sealed record SearchExperimentsRequest(long? MaxResults, string? PageToken, string? Filter, IReadOnlyList<string>? OrderBy,
    [property: JsonConverter(typeof(ProtoEnumConverter))] string? ViewType);

public sealed record CreateRunRequest(string? ExperimentId, string? UserId, string? RunName, long? StartTime, IReadOnlyList<KeyValueInput>? Tags);
public sealed record RunIdRequest(string? RunId, string? RunUuid);
public sealed record UpdateRunRequest(string? RunId, string? RunUuid, [property: JsonConverter(typeof(ProtoEnumConverter))] string? Status,
    long? EndTime, string? RunName);
public sealed record LogMetricRequest(string? RunId, string? RunUuid, string? Key, double? Value, long? Timestamp, long? Step,
    string? ModelId = null, string? DatasetName = null, string? DatasetDigest = null);
public sealed record KeyValueRunRequest(string? RunId, string? RunUuid, string? Key, string? Value);
public sealed record DeleteTagRequest(string? RunId, string? Key);
public sealed record LogBatchRequest(string? RunId, IReadOnlyList<MetricInput>? Metrics, IReadOnlyList<KeyValueInput>? Params, IReadOnlyList<KeyValueInput>? Tags);
public sealed record LogInputsRequest(string? RunId, IReadOnlyList<DatasetInputSpec>? Datasets, IReadOnlyList<ModelInputSpec>? Models = null);
public sealed record SearchRunsRequest(IReadOnlyList<string>? ExperimentIds, string? Filter,
    [property: JsonConverter(typeof(ProtoEnumConverter))] string? RunViewType, int? MaxResults, IReadOnlyList<string>? OrderBy, string? PageToken);
public sealed record GetMetricHistoryRequest(string? RunId, string? RunUuid, string? MetricKey, string? PageToken, int? MaxResults);
public sealed record GetMetricHistoryBulkIntervalRequest(IReadOnlyList<string>? RunIds, string? MetricKey, long? StartStep, long? EndStep, int? MaxResults);

// Responses.

public sealed record CreateExperimentResponse(string ExperimentId);
public sealed record ExperimentResponse(ExperimentMessage Experiment);
public sealed record SearchExperimentsResponse(IReadOnlyList<ExperimentMessage> Experiments, string? NextPageToken);
public sealed record RunResponse(RunMessage Run);
public sealed record UpdateRunResponse(RunInfoMessage RunInfo);
public sealed record SearchRunsResponse(IReadOnlyList<RunMessage> Runs, string? NextPageToken);
public sealed record MetricHistoryResponse(IReadOnlyList<MetricMessage> Metrics, string? NextPageToken);
public sealed record MetricHistoryBulkResponse(IReadOnlyList<MetricWithRunIdMessage> Metrics);
