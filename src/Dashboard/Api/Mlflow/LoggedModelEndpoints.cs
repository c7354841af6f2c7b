using Dashboard.Artifacts;
using Dashboard.Auth;
using Dashboard.Security;
using Dashboard.Errors;
using Dashboard.Search;
using Dashboard.Tracking;

namespace Dashboard.Api.Mlflow;

/// <summary>
/// Model logging RPCs of service.proto: MLflow 3's logged models, runs/outputs, and MLflow 2's runs/log-model.
/// Handlers are named after the RPC. Every path sits under /api/2.0 (the endpoints' <c>since</c> is major 2).
/// </summary>
public static class LoggedModelEndpoints
{
    public static void MapLoggedModelEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapPost("/logged-models", CreateLoggedModel);
        api.MapPost("/logged-models/search", SearchLoggedModels);
        api.MapGet("/logged-models/{model_id}", GetLoggedModel);
        api.MapPatch("/logged-models/{model_id}", FinalizeLoggedModel);
        api.MapDelete("/logged-models/{model_id}", DeleteLoggedModel);
        api.MapPatch("/logged-models/{model_id}/tags", SetLoggedModelTags);
        // Tag keys may contain slashes.
        api.MapDelete("/logged-models/{model_id}/tags/{**tag_key}", DeleteLoggedModelTag);
        api.MapPost("/logged-models/{model_id}/params", LogLoggedModelParams);
        api.MapGet("/logged-models/{model_id}/artifacts/directories", ListLoggedModelArtifacts);
        api.MapPost("/runs/outputs", LogOutputs);
        api.MapPost("/runs/log-model", LogModel);
    }

    /// <summary>The model of the path. MLflow clients repeat it in the body; a body naming another model is refused.</summary>
    private static string? PathModelId(HttpContext http, string? bodyModelId = null)
    {
        var id = http.GetRouteValue("model_id") as string;
        if (!string.IsNullOrEmpty(bodyModelId) && bodyModelId != id)
        {
            throw MlflowException.InvalidParameter(
                $"The request body names model_id '{bodyModelId}', but its path names '{id}'.");
        }
        return id;
    }

    private static IResult Model(LoggedModel model) =>
        Results.Json(new LoggedModelResponse(LoggedModelWire.Model(model)), MlflowJson.Options);

    public static async Task<IResult> CreateLoggedModel(HttpContext http, LoggedModelService models)
    {
        var req = await MlflowRequest.ReadAsync<CreateLoggedModelRequest>(http);
        await http.RequireExperimentAsync(req.ExperimentId, AccessLevel.Edit);
        var model = await models.CreateAsync(req.ExperimentId, req.Name, req.ModelType, req.SourceRunId, req.Params, req.Tags,
            http.RequestAborted);
        return Model(model);
    }

    public static async Task<IResult> GetLoggedModel(HttpContext http, LoggedModelService models)
    {
        await http.RequireLoggedModelAsync(PathModelId(http), AccessLevel.Read);
        return Model(await models.GetAsync(PathModelId(http), http.RequestAborted));
    }

    public static async Task<IResult> FinalizeLoggedModel(HttpContext http, LoggedModelService models)
    {
        var req = await MlflowRequest.ReadAsync<FinalizeLoggedModelRequest>(http);
        await http.RequireLoggedModelAsync(PathModelId(http, req.ModelId), AccessLevel.Edit);
        return Model(await models.FinalizeAsync(PathModelId(http, req.ModelId), req.Status, http.RequestAborted));
    }

    public static async Task<IResult> DeleteLoggedModel(HttpContext http, LoggedModelService models)
    {
        var req = await MlflowRequest.ReadAsync<ModelIdRequest>(http);
        await http.RequireLoggedModelAsync(PathModelId(http, req.ModelId), AccessLevel.Manage);
        await models.DeleteAsync(PathModelId(http, req.ModelId), http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> SetLoggedModelTags(HttpContext http, LoggedModelService models)
    {
        var req = await MlflowRequest.ReadAsync<SetLoggedModelTagsRequest>(http);
        await http.RequireLoggedModelAsync(PathModelId(http, req.ModelId), AccessLevel.Edit);
        await models.SetTagsAsync(PathModelId(http, req.ModelId), req.Tags, http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> DeleteLoggedModelTag(HttpContext http, LoggedModelService models)
    {
        var req = await MlflowRequest.ReadAsync<ModelIdRequest>(http);
        await http.RequireLoggedModelAsync(PathModelId(http, req.ModelId), AccessLevel.Edit);
        await models.DeleteTagAsync(PathModelId(http, req.ModelId), http.GetRouteValue("tag_key") as string, http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> LogLoggedModelParams(HttpContext http, LoggedModelService models)
    {
        var req = await MlflowRequest.ReadAsync<LogLoggedModelParamsRequest>(http);
        await http.RequireLoggedModelAsync(PathModelId(http, req.ModelId), AccessLevel.Edit);
        await models.LogParamsAsync(PathModelId(http, req.ModelId), req.Params, http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> SearchLoggedModels(HttpContext http, LoggedModelSearchService search)
    {
        var req = await MlflowRequest.ReadAsync<SearchLoggedModelsRequest>(http);
        var request = LoggedModelRequests.Search(req);
        // As runs/search: the experiments the caller may not read are dropped from the search.
        var readable = await http.ReadableExperimentsAsync(request.ExperimentIds);
        if (readable.Count == 0 && request.ExperimentIds.Count > 0)
        {
            return Results.Json(new SearchLoggedModelsResponse([], null), MlflowJson.Options);
        }
        var page = await search.SearchAsync(request with { ExperimentIds = readable }, http.RequestAborted);
        return Results.Json(new SearchLoggedModelsResponse(page.Items.Select(LoggedModelWire.Model).ToList(), page.NextPageToken),
            MlflowJson.Options);
    }

    /// <summary>The children of a folder of the model's artifacts (one level, as MLflow lists them; never paged).</summary>
    public static async Task<IResult> ListLoggedModelArtifacts(HttpContext http, LoggedModelService models)
    {
        var req = await MlflowRequest.ReadAsync<ListLoggedModelArtifactsRequest>(http);
        await http.RequireLoggedModelAsync(PathModelId(http), AccessLevel.Read);
        var model = await models.GetAsync(PathModelId(http), http.RequestAborted);
        var store = http.RequestServices.GetService<IArtifactStore>()
            ?? throw new MlflowException(ErrorCode.NOT_IMPLEMENTED, "This server has no artifact store configured.");
        var files = await LoggedModelArtifacts.ListAsync(store, model, req.ArtifactDirectoryPath, http.RequestAborted);
        return Results.Json(new ListLoggedModelArtifactsResponse(model.ArtifactLocation,
            files.Select(f => new ModelArtifactFileMessage(f.Path, f.IsDirectory, f.Size)).ToList(), null), MlflowJson.Options);
    }

    public static async Task<IResult> LogOutputs(HttpContext http, RunService runs)
    {
        var req = await MlflowRequest.ReadAsync<LogOutputsRequest>(http);
        await http.RequireRunAsync(req.RunId, AccessLevel.Edit);
        await runs.LogOutputsAsync(req.RunId, req.Models, http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> LogModel(HttpContext http, RunService runs)
    {
        var req = await MlflowRequest.ReadAsync<LogModelRequest>(http);
        await http.RequireRunAsync(req.RunId, AccessLevel.Edit);
        await runs.LogModelAsync(req.RunId, req.ModelJson, http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }
}
