using Dashboard.Auth;
using Dashboard.Governance;
using Dashboard.Registry;
using Dashboard.Search;
using Dashboard.Security;

namespace Dashboard.Api.Mlflow;

/// <summary>
/// The RPCs of model_registry.proto (ModelRegistryService). Handlers are named after the RPC; paths and methods are the
/// proto's. The changes the registry's history records (stages, aliases) and the models and versions created are made
/// as <see cref="CurrentActor"/>.
/// </summary>
public static class RegistryEndpoints
{
    public static void MapRegistryEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapPost("/registered-models/create", CreateRegisteredModel);
        api.MapPost("/registered-models/rename", RenameRegisteredModel);
        api.MapPatch("/registered-models/update", UpdateRegisteredModel);
        api.MapDelete("/registered-models/delete", DeleteRegisteredModel);
        api.MapGet("/registered-models/get", GetRegisteredModel);
        api.MapGet("/registered-models/search", SearchRegisteredModels);
        api.MapPost("/registered-models/get-latest-versions", GetLatestVersions);
        api.MapGet("/registered-models/get-latest-versions", GetLatestVersions);
        api.MapPost("/registered-models/set-tag", SetRegisteredModelTag);
        api.MapDelete("/registered-models/delete-tag", DeleteRegisteredModelTag);
        api.MapPost("/registered-models/alias", SetRegisteredModelAlias);
        api.MapDelete("/registered-models/alias", DeleteRegisteredModelAlias);
        api.MapGet("/registered-models/alias", GetModelVersionByAlias);
        api.MapPost("/model-versions/create", CreateModelVersion);
        api.MapPatch("/model-versions/update", UpdateModelVersion);
        api.MapPost("/model-versions/transition-stage", TransitionModelVersionStage);
        api.MapDelete("/model-versions/delete", DeleteModelVersion);
        api.MapGet("/model-versions/get", GetModelVersion);
        api.MapGet("/model-versions/search", SearchModelVersions);
        api.MapGet("/model-versions/get-download-uri", GetModelVersionDownloadUri);
        api.MapPost("/model-versions/set-tag", SetModelVersionTag);
        api.MapDelete("/model-versions/delete-tag", DeleteModelVersionTag);
    }

    private static IResult Json<T>(T message) => Results.Json(message, MlflowJson.Options);

    private static IResult Empty() => Json(Mlflow.Empty.Instance);

    private static IResult Model(RegisteredModelDetails model) => Json(new RegisteredModelResponse(RegistryWire.Model(model)));

    private static IResult Version(ModelVersionDetails version) => Json(new ModelVersionResponse(RegistryWire.Version(version)));

    public static async Task<IResult> CreateRegisteredModel(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<CreateRegisteredModelRequest>(http);
        http.RequireCreate();
        var model = await registry.CreateRegisteredModelAsync(req.Name, req.Tags, req.Description, CurrentActor.Of(http), http.RequestAborted);
        // MLflow's auth: the creator manages what they created.
        var permissions = http.RequestServices.GetRequiredService<PermissionService>();
        await permissions.GrantCreatorOfRegisteredModelAsync(http.Caller(), model.Model.Id, http.RequestAborted);
        return Model(model);
    }

    public static async Task<IResult> RenameRegisteredModel(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<RenameRegisteredModelRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Edit);
        return Model(await registry.RenameRegisteredModelAsync(req.Name, req.NewName, http.RequestAborted));
    }

    public static async Task<IResult> UpdateRegisteredModel(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<UpdateRegisteredModelRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Edit);
        return Model(await registry.UpdateRegisteredModelAsync(req.Name, req.Description, http.RequestAborted));
    }

    public static async Task<IResult> DeleteRegisteredModel(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<RegisteredModelNameRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Manage);
        await http.GuardDeletionAsync(req.Name, null);
        await registry.DeleteRegisteredModelAsync(req.Name, CurrentActor.Of(http), http.RequestAborted);
        return Empty();
    }

    public static async Task<IResult> GetRegisteredModel(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<RegisteredModelNameRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Read);
        return Model(await registry.GetRegisteredModelAsync(req.Name, http.RequestAborted));
    }

    public static async Task<IResult> SearchRegisteredModels(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<SearchRegisteredModelsRequest>(http);
        var page = await registry.SearchRegisteredModelsAsync(
            new RegisteredModelSearchRequest(req.Filter, req.MaxResults, req.OrderBy ?? [], req.PageToken, http.ReadScope()), http.RequestAborted);
        return Json(new SearchRegisteredModelsResponse(page.Items.Select(RegistryWire.Model).ToList(), page.NextPageToken));
    }

    public static async Task<IResult> GetLatestVersions(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<GetLatestVersionsRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Read);
        var versions = await registry.GetLatestVersionsAsync(req.Name, req.Stages, http.RequestAborted);
        return Json(new ModelVersionsResponse(versions.Select(v => RegistryWire.Version(v)).ToList()));
    }

    public static async Task<IResult> SetRegisteredModelTag(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<SetRegisteredModelTagRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Edit);
        await registry.SetRegisteredModelTagAsync(req.Name, req.Key, req.Value, http.RequestAborted);
        return Empty();
    }

    public static async Task<IResult> DeleteRegisteredModelTag(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<DeleteRegisteredModelTagRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Edit);
        await registry.DeleteRegisteredModelTagAsync(req.Name, req.Key, http.RequestAborted);
        return Empty();
    }

    public static async Task<IResult> SetRegisteredModelAlias(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<SetRegisteredModelAliasRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Edit);
        await http.GuardDirectChangeAsync(req.Name, req.Version, PromotionTargetKind.Alias, req.Alias ?? "");
        await registry.SetAliasAsync(req.Name, req.Alias, req.Version, CurrentActor.Of(http), http.RequestAborted);
        return Empty();
    }

    public static async Task<IResult> DeleteRegisteredModelAlias(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<RegisteredModelAliasRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Manage);
        await http.GuardDirectChangeAsync(req.Name, null, PromotionTargetKind.Alias, req.Alias ?? "");
        await registry.DeleteAliasAsync(req.Name, req.Alias, CurrentActor.Of(http), http.RequestAborted);
        return Empty();
    }

    public static async Task<IResult> GetModelVersionByAlias(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<RegisteredModelAliasRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Read);
        return Version(await registry.GetModelVersionByAliasAsync(req.Name, req.Alias, http.RequestAborted));
    }

    public static async Task<IResult> CreateModelVersion(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<CreateModelVersionRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Edit);
        // Stricter than MLflow: a version makes its run's files readable to the model's readers, so the caller must
        // read the run (or logged model) it comes from.
        await http.RequireRunAsync(req.RunId, AccessLevel.Read);
        await http.RequireLoggedModelAsync(req.ModelId, AccessLevel.Read);
        return Version(await registry.CreateModelVersionAsync(req.Name, req.Source, req.RunId, req.Tags, req.RunLink, req.Description,
            req.ModelId, CurrentActor.Of(http), http.RequestAborted));
    }

    public static async Task<IResult> UpdateModelVersion(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<UpdateModelVersionRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Edit);
        return Version(await registry.UpdateModelVersionAsync(req.Name, req.Version, req.Description, http.RequestAborted));
    }

    public static async Task<IResult> TransitionModelVersionStage(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<TransitionModelVersionStageRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Edit);
        await http.GuardDirectChangeAsync(req.Name, req.Version, PromotionTargetKind.Stage, req.Stage ?? "");
        return Version(await registry.TransitionStageAsync(req.Name, req.Version, req.Stage, req.ArchiveExistingVersions ?? false,
            CurrentActor.Of(http), http.RequestAborted));
    }

    public static async Task<IResult> DeleteModelVersion(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<ModelVersionRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Manage);
        await http.GuardDeletionAsync(req.Name, req.Version ?? "");
        await registry.DeleteModelVersionAsync(req.Name, req.Version, CurrentActor.Of(http), http.RequestAborted);
        return Empty();
    }

    public static async Task<IResult> GetModelVersion(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<ModelVersionRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Read);
        return Version(await registry.GetModelVersionAsync(req.Name, req.Version, http.RequestAborted));
    }

    public static async Task<IResult> SearchModelVersions(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<SearchModelVersionsRequest>(http);
        var page = await registry.SearchModelVersionsAsync(
            new ModelVersionSearchRequest(req.Filter, req.MaxResults, req.OrderBy ?? [], req.PageToken, http.ReadScope()), http.RequestAborted);
        return Json(new SearchModelVersionsResponse(page.Items.Select(v => RegistryWire.Version(v, withAliases: false)).ToList(),
            page.NextPageToken));
    }

    public static async Task<IResult> GetModelVersionDownloadUri(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<ModelVersionRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Read);
        return Json(new DownloadUriResponse(await registry.GetDownloadUriAsync(req.Name, req.Version, http.RequestAborted)));
    }

    public static async Task<IResult> SetModelVersionTag(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<SetModelVersionTagRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Edit);
        await registry.SetModelVersionTagAsync(req.Name, req.Version, req.Key, req.Value, http.RequestAborted);
        return Empty();
    }

    public static async Task<IResult> DeleteModelVersionTag(HttpContext http, RegistryService registry)
    {
        var req = await MlflowRequest.ReadAsync<DeleteModelVersionTagRequest>(http);
        await http.RequireRegisteredModelAsync(req.Name, AccessLevel.Manage);
        await registry.DeleteModelVersionTagAsync(req.Name, req.Version, req.Key, http.RequestAborted);
        return Empty();
    }
}
