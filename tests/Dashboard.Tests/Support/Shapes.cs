namespace Dashboard.Tests.Support;

/// <summary>The messages of service.proto as MLflow's server writes them (see WireShape for the notation).</summary>
public static class Shapes
{
    public const string KeyValue = """{"key": "string", "value": "string"}""";

    public const string Experiment = $$"""
        {"experiment_id": "string", "name": "string", "artifact_location": "string", "lifecycle_stage": "string",
         "last_update_time": "number", "creation_time": "number", "tags?": [{{KeyValue}}]}
        """;

    public const string RunInfo = """
        {"run_uuid": "string", "experiment_id": "string", "run_name": "string", "user_id?": "string", "status": "string",
         "start_time": "number", "end_time?": "number", "artifact_uri": "string", "lifecycle_stage": "string", "run_id": "string"}
        """;

    public const string Metric = """{"key": "string", "value": "double", "timestamp": "number", "step": "number"}""";

    public const string Dataset = """
        {"name": "string", "digest": "string", "source_type": "string", "source": "string", "schema?": "string", "profile?": "string"}
        """;

    public const string Run = $$$"""
        {"info": {{{RunInfo}}},
         "data": {"metrics?": [{{{Metric}}}], "params?": [{{{KeyValue}}}], "tags?": [{{{KeyValue}}}]},
         "inputs": {"dataset_inputs?": [{"tags?": [{{{KeyValue}}}], "dataset": {{{Dataset}}}}], "model_inputs?": [{"model_id": "string"}]},
         "outputs": {"model_outputs?": [{"model_id": "string", "step": "number"}]}}
        """;

    public const string LoggedModel = $$$"""
        {"info": {"model_id": "string", "experiment_id": "string", "name": "string", "creation_timestamp_ms": "number",
                  "last_updated_timestamp_ms": "number", "artifact_uri": "string", "status": "string", "model_type": "string",
                  "source_run_id": "string", "tags?": [{{{KeyValue}}}]},
         "data": {"params?": [{{{KeyValue}}}],
                  "metrics?": [{"key": "string", "value": "double", "timestamp": "number", "step": "number",
                                "dataset_name?": "string", "dataset_digest?": "string", "model_id": "string", "run_id": "string"}]}}
        """;

    /// <summary>model_registry.proto's ModelVersion as MLflow's server writes it.</summary>
    public const string ModelVersion = $$"""
        {"name": "string", "version": "string", "creation_timestamp": "number", "last_updated_timestamp": "number",
         "current_stage": "string", "description": "string", "source": "string", "run_id": "string", "status": "string",
         "status_message?": "string", "tags?": [{{KeyValue}}], "run_link": "string", "aliases?": ["string"]}
        """;

    /// <summary>model_registry.proto's RegisteredModel as MLflow's server writes it.</summary>
    public const string RegisteredModel = $$"""
        {"name": "string", "creation_timestamp": "number", "last_updated_timestamp": "number", "description?": "string",
         "latest_versions?": [{{ModelVersion}}], "tags?": [{{KeyValue}}], "aliases?": [{"alias": "string", "version": "string"}]}
        """;

    public const string Error = """{"error_code": "string", "message": "string"}""";

    public const string Empty = "{}";
}
