using Dashboard.Auth;
using Dashboard.Search;
using Dashboard.Security;
using Dashboard.Tracking;

namespace Dashboard.Api.Mlflow;

/// <summary>The run RPCs of service.proto. Handlers are named after the RPC.</summary>
public static class RunEndpoints
{
    public static void MapRunEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapPost("/runs/create", CreateRun);
        api.MapGet("/runs/get", GetRun);
        api.MapPost("/runs/update", UpdateRun);
        api.MapPost("/runs/delete", DeleteRun);
        api.MapPost("/runs/restore", RestoreRun);
        api.MapPost("/runs/log-metric", LogMetric);
        api.MapPost("/runs/log-parameter", LogParam);
        api.MapPost("/runs/set-tag", SetTag);
        api.MapPost("/runs/delete-tag", DeleteTag);
        api.MapPost("/runs/log-batch", LogBatch);
        api.MapPost("/runs/log-inputs", LogInputs);
        api.MapPost("/runs/search", SearchRuns);
    }

    /// <summary>MLflow clients send both run_id and run_uuid (the deprecated name); either identifies the run.</summary>
    private static string? RunId(string? runId, string? runUuid) => string.IsNullOrEmpty(runId) ? runUuid : runId;

    public static async Task<IResult> CreateRun(HttpContext http, RunService runs)
    {
        var req = await MlflowRequest.ReadAsync<CreateRunRequest>(http);
        await http.RequireExperimentAsync(req.ExperimentId, AccessLevel.Edit);
        var run = await runs.CreateRunAsync(req.ExperimentId, req.UserId, req.RunName, req.StartTime, req.Tags, http.RequestAborted);
        return Results.Json(new RunResponse(Wire.Run(run)), MlflowJson.Options);
    }

    public static async Task<IResult> GetRun(HttpContext http, RunService runs)
    {
        var req = await MlflowRequest.ReadAsync<RunIdRequest>(http);
        await http.RequireRunAsync(RunId(req.RunId, req.RunUuid), AccessLevel.Read);
        var run = await runs.GetRunAsync(RunId(req.RunId, req.RunUuid), http.RequestAborted);
        return Results.Json(new RunResponse(Wire.Run(run)), MlflowJson.Options);
    }

    public static async Task<IResult> UpdateRun(HttpContext http, RunService runs)
    {
        var req = await MlflowRequest.ReadAsync<UpdateRunRequest>(http);
        await http.RequireRunAsync(RunId(req.RunId, req.RunUuid), AccessLevel.Edit);
        var run = await runs.UpdateRunAsync(RunId(req.RunId, req.RunUuid), RunStatuses.Parse(req.Status), req.EndTime, req.RunName,
            http.RequestAborted);
        return Results.Json(new UpdateRunResponse(Wire.RunInfo(run)), MlflowJson.Options);
    }

    public static async Task<IResult> DeleteRun(HttpContext http, RunService runs)
    {
        var req = await MlflowRequest.ReadAsync<RunIdRequest>(http);
        await http.RequireRunAsync(RunId(req.RunId, req.RunUuid), AccessLevel.Manage);
        await runs.DeleteRunAsync(RunId(req.RunId, req.RunUuid), http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> RestoreRun(HttpContext http, RunService runs)
    {
        var req = await MlflowRequest.ReadAsync<RunIdRequest>(http);
        await http.RequireRunAsync(RunId(req.RunId, req.RunUuid), AccessLevel.Manage);
        await runs.RestoreRunAsync(RunId(req.RunId, req.RunUuid), http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> LogMetric(HttpContext http, RunService runs)
    {
        var req = await MlflowRequest.ReadAsync<LogMetricRequest>(http);
        await http.RequireRunAsync(RunId(req.RunId, req.RunUuid), AccessLevel.Edit);
        await runs.LogMetricAsync(RunId(req.RunId, req.RunUuid),
            new MetricInput(req.Key, req.Value, req.Timestamp, req.Step, req.ModelId, req.DatasetName, req.DatasetDigest), http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> LogParam(HttpContext http, RunService runs)
    {
        var req = await MlflowRequest.ReadAsync<KeyValueRunRequest>(http);
        await http.RequireRunAsync(RunId(req.RunId, req.RunUuid), AccessLevel.Edit);
        await runs.LogParamAsync(RunId(req.RunId, req.RunUuid), new KeyValueInput(req.Key, req.Value), http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> SetTag(HttpContext http, RunService runs)
    {
        var req = await MlflowRequest.ReadAsync<KeyValueRunRequest>(http);
        await http.RequireRunAsync(RunId(req.RunId, req.RunUuid), AccessLevel.Edit);
        await runs.SetTagAsync(RunId(req.RunId, req.RunUuid), new KeyValueInput(req.Key, req.Value), http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> DeleteTag(HttpContext http, RunService runs)
    {
        var req = await MlflowRequest.ReadAsync<DeleteTagRequest>(http);
        await http.RequireRunAsync(req.RunId, AccessLevel.Edit);
        await runs.DeleteTagAsync(req.RunId, req.Key, http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> LogBatch(HttpContext http, RunService runs)
    {
        // MLflow limits the raw body of a batch to 1 MB (MAX_BATCH_LOG_REQUEST_SIZE).
        var req = await MlflowRequest.ReadAsync<LogBatchRequest>(http, TrackingValidation.MaxBatchRequestBytes);
        await http.RequireRunAsync(req.RunId, AccessLevel.Edit);
        await runs.LogBatchAsync(req.RunId, req.Metrics, req.Params, req.Tags, http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> LogInputs(HttpContext http, RunService runs)
    {
        var req = await MlflowRequest.ReadAsync<LogInputsRequest>(http);
        await http.RequireRunAsync(req.RunId, AccessLevel.Edit);
        await runs.LogInputsAsync(req.RunId, req.Datasets, req.Models, http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> SearchRuns(HttpContext http, RunSearchService search)
    {
        var req = await MlflowRequest.ReadAsync<SearchRunsRequest>(http);
        var experimentIds = (req.ExperimentIds ?? []).Select(id => TrackingValidation.ExperimentId(id, "experiment_ids")).ToList();
        // MLflow's auth answers only the runs of experiments the caller may read; the others are dropped from the search.
        var readable = await http.ReadableExperimentsAsync(experimentIds);
        if (readable.Count == 0 && experimentIds.Count > 0)
        {
            return Results.Json(new SearchRunsResponse([], null), MlflowJson.Options);
        }
        experimentIds = [.. readable];
        var page = await search.SearchAsync(new RunSearchRequest(
            experimentIds, req.Filter, ViewTypes.Parse(req.RunViewType, "run_view_type"), req.MaxResults ?? RunSearchService.DefaultMaxResults, req.OrderBy ?? [], req.PageToken),
            http.RequestAborted);
        return Results.Json(new SearchRunsResponse(page.Items.Select(Wire.Run).ToList(), page.NextPageToken), MlflowJson.Options);
    }
}
