using Dashboard.Auth;
using Dashboard.Search;
using Dashboard.Security;
using Dashboard.Tracking;

namespace Dashboard.Api.Mlflow;

/// <summary>The experiment RPCs of service.proto. Handlers are named after the RPC.</summary>
public static class ExperimentEndpoints
{
    public static void MapExperimentEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapPost("/experiments/create", CreateExperiment);
        api.MapGet("/experiments/get", GetExperiment);
        api.MapGet("/experiments/get-by-name", GetExperimentByName);
        api.MapPost("/experiments/search", SearchExperiments);
        api.MapGet("/experiments/search", SearchExperiments);
        api.MapPost("/experiments/update", UpdateExperiment);
        api.MapPost("/experiments/delete", DeleteExperiment);
        api.MapPost("/experiments/restore", RestoreExperiment);
        api.MapPost("/experiments/set-experiment-tag", SetExperimentTag);
        api.MapPost("/experiments/delete-experiment-tag", DeleteExperimentTag);
    }

    public static async Task<IResult> CreateExperiment(HttpContext http, ExperimentService experiments)
    {
        var req = await MlflowRequest.ReadAsync<CreateExperimentRequest>(http);
        http.RequireCreate();
        var id = await experiments.CreateExperimentAsync(req.Name, req.ArtifactLocation, req.Tags, http.RequestAborted);
        // MLflow's auth: the creator manages what they created.
        await http.RequestServices.GetRequiredService<PermissionService>().GrantCreatorOfExperimentAsync(http.Caller(), id, http.RequestAborted);
        return Results.Json(new CreateExperimentResponse(Wire.Id(id)), MlflowJson.Options);
    }

    public static async Task<IResult> GetExperiment(HttpContext http, ExperimentService experiments)
    {
        var req = await MlflowRequest.ReadAsync<ExperimentIdRequest>(http);
        await http.RequireExperimentAsync(req.ExperimentId, AccessLevel.Read);
        var experiment = await experiments.GetExperimentAsync(req.ExperimentId, http.RequestAborted);
        return Results.Json(new ExperimentResponse(Wire.Experiment(experiment)), MlflowJson.Options);
    }

    public static async Task<IResult> GetExperimentByName(HttpContext http, ExperimentService experiments)
    {
        var req = await MlflowRequest.ReadAsync<GetExperimentByNameRequest>(http);
        var experiment = await experiments.GetExperimentByNameAsync(req.ExperimentName, http.RequestAborted);
        await http.RequireExperimentAsync(experiment.Id, AccessLevel.Read);
        return Results.Json(new ExperimentResponse(Wire.Experiment(experiment)), MlflowJson.Options);
    }

    public static async Task<IResult> SearchExperiments(HttpContext http, ExperimentSearchService search)
    {
        var req = await MlflowRequest.ReadAsync<SearchExperimentsRequest>(http);
        var page = await search.SearchAsync(new ExperimentSearchRequest(
            req.Filter, ViewTypes.Parse(req.ViewType, "view_type"), req.MaxResults ?? ExperimentSearchService.DefaultMaxResults,
            req.OrderBy ?? [], req.PageToken, http.ReadScope()), http.RequestAborted);
        return Results.Json(new SearchExperimentsResponse(page.Items.Select(Wire.Experiment).ToList(), page.NextPageToken),
            MlflowJson.Options);
    }

    public static async Task<IResult> UpdateExperiment(HttpContext http, ExperimentService experiments)
    {
        var req = await MlflowRequest.ReadAsync<UpdateExperimentRequest>(http);
        await http.RequireExperimentAsync(req.ExperimentId, AccessLevel.Edit);
        await experiments.RenameExperimentAsync(req.ExperimentId, req.NewName, http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> DeleteExperiment(HttpContext http, ExperimentService experiments)
    {
        var req = await MlflowRequest.ReadAsync<ExperimentIdRequest>(http);
        await http.RequireExperimentAsync(req.ExperimentId, AccessLevel.Manage);
        await experiments.DeleteExperimentAsync(req.ExperimentId, http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> RestoreExperiment(HttpContext http, ExperimentService experiments)
    {
        var req = await MlflowRequest.ReadAsync<ExperimentIdRequest>(http);
        await http.RequireExperimentAsync(req.ExperimentId, AccessLevel.Manage);
        await experiments.RestoreExperimentAsync(req.ExperimentId, http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> SetExperimentTag(HttpContext http, ExperimentService experiments)
    {
        var req = await MlflowRequest.ReadAsync<SetExperimentTagRequest>(http);
        await http.RequireExperimentAsync(req.ExperimentId, AccessLevel.Edit);
        await experiments.SetExperimentTagAsync(req.ExperimentId, req.Key, req.Value, http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> DeleteExperimentTag(HttpContext http, ExperimentService experiments)
    {
        var req = await MlflowRequest.ReadAsync<DeleteExperimentTagRequest>(http);
        await http.RequireExperimentAsync(req.ExperimentId, AccessLevel.Edit);
        await experiments.DeleteExperimentTagAsync(req.ExperimentId, req.Key, http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }
}
