using Dashboard.Auth;
using Dashboard.Errors;
using Dashboard.Security;

namespace Dashboard.Api.Mlflow;

/// <summary>
/// MLflow's permission RPCs (its basic-auth app: experiments/permissions/* and registered-models/permissions/*), for
/// scripts. Only a caller who may MANAGE the experiment or model (or an Admin) reads or changes its grants. As an
/// extension, <c>group_name</c> may be given instead of <c>username</c> (docs/mlflow-compat.md).
/// </summary>
public static class PermissionEndpoints
{
    public static void MapPermissionEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapPost("/experiments/permissions/create", CreateExperimentPermission);
        api.MapGet("/experiments/permissions/get", GetExperimentPermission);
        api.MapPatch("/experiments/permissions/update", UpdateExperimentPermission);
        api.MapDelete("/experiments/permissions/delete", DeleteExperimentPermission);
        api.MapPost("/registered-models/permissions/create", CreateRegisteredModelPermission);
        api.MapGet("/registered-models/permissions/get", GetRegisteredModelPermission);
        api.MapPatch("/registered-models/permissions/update", UpdateRegisteredModelPermission);
        api.MapDelete("/registered-models/permissions/delete", DeleteRegisteredModelPermission);
    }

    private static IResult Json<T>(T message) => Results.Json(message, MlflowJson.Options);

    public static async Task<IResult> CreateExperimentPermission(HttpContext http, PermissionService permissions)
    {
        var req = await MlflowRequest.ReadAsync<ExperimentPermissionRequest>(http);
        var (id, kind, name) = await ExperimentTarget(http, req.ExperimentId, req.Username, req.GroupName);
        var permission = Permission(req.Permission);
        if (await permissions.GetExperimentGrantAsync(id, kind, name, http.RequestAborted) is not null)
        {
            // MLflow answers RESOURCE_ALREADY_EXISTS (400) for a second grant of the same user.
            throw MlflowException.AlreadyExists($"Experiment permission (experiment_id={id}, {Who(kind, name)}) already exists");
        }
        await permissions.SetExperimentGrantAsync(id, kind, name, permission, http.RequestAborted);
        return Json(new ExperimentPermissionResponse(await ExperimentMessage(http, id, kind, name, permission)));
    }

    public static async Task<IResult> GetExperimentPermission(HttpContext http, PermissionService permissions)
    {
        var req = await MlflowRequest.ReadAsync<ExperimentPermissionRequest>(http);
        var (id, kind, name) = await ExperimentTarget(http, req.ExperimentId, req.Username, req.GroupName);
        var grant = await permissions.GetExperimentGrantAsync(id, kind, name, http.RequestAborted)
            ?? throw MlflowException.NotFound($"Experiment permission with experiment_id={id} and {Who(kind, name)} not found");
        return Json(new ExperimentPermissionResponse(await ExperimentMessage(http, id, kind, name, grant.Permission)));
    }

    public static async Task<IResult> UpdateExperimentPermission(HttpContext http, PermissionService permissions)
    {
        var req = await MlflowRequest.ReadAsync<ExperimentPermissionRequest>(http);
        var (id, kind, name) = await ExperimentTarget(http, req.ExperimentId, req.Username, req.GroupName);
        var permission = Permission(req.Permission);
        _ = await permissions.GetExperimentGrantAsync(id, kind, name, http.RequestAborted)
            ?? throw MlflowException.NotFound($"Experiment permission with experiment_id={id} and {Who(kind, name)} not found");
        await permissions.SetExperimentGrantAsync(id, kind, name, permission, http.RequestAborted);
        return Json(Empty.Instance);
    }

    public static async Task<IResult> DeleteExperimentPermission(HttpContext http, PermissionService permissions)
    {
        var req = await MlflowRequest.ReadAsync<ExperimentPermissionRequest>(http);
        var (id, kind, name) = await ExperimentTarget(http, req.ExperimentId, req.Username, req.GroupName);
        if (!await permissions.DeleteExperimentGrantAsync(id, kind, name, http.RequestAborted))
        {
            throw MlflowException.NotFound($"Experiment permission with experiment_id={id} and {Who(kind, name)} not found");
        }
        return Json(Empty.Instance);
    }

    public static async Task<IResult> CreateRegisteredModelPermission(HttpContext http, PermissionService permissions)
    {
        var req = await MlflowRequest.ReadAsync<RegisteredModelPermissionRequest>(http);
        var (id, kind, name) = await ModelTarget(http, permissions, req.Name, req.Username, req.GroupName);
        var permission = Permission(req.Permission);
        if (await permissions.GetRegisteredModelGrantAsync(id, kind, name, http.RequestAborted) is not null)
        {
            throw MlflowException.AlreadyExists($"Registered model permission (name={req.Name}, {Who(kind, name)}) already exists");
        }
        await permissions.SetRegisteredModelGrantAsync(id, kind, name, permission, http.RequestAborted);
        return Json(new RegisteredModelPermissionResponse(await ModelMessage(http, req.Name!, kind, name, permission)));
    }

    public static async Task<IResult> GetRegisteredModelPermission(HttpContext http, PermissionService permissions)
    {
        var req = await MlflowRequest.ReadAsync<RegisteredModelPermissionRequest>(http);
        var (id, kind, name) = await ModelTarget(http, permissions, req.Name, req.Username, req.GroupName);
        var grant = await permissions.GetRegisteredModelGrantAsync(id, kind, name, http.RequestAborted)
            ?? throw MlflowException.NotFound($"Registered model permission with name={req.Name} and {Who(kind, name)} not found");
        return Json(new RegisteredModelPermissionResponse(await ModelMessage(http, req.Name!, kind, name, grant.Permission)));
    }

    public static async Task<IResult> UpdateRegisteredModelPermission(HttpContext http, PermissionService permissions)
    {
        var req = await MlflowRequest.ReadAsync<RegisteredModelPermissionRequest>(http);
        var (id, kind, name) = await ModelTarget(http, permissions, req.Name, req.Username, req.GroupName);
        var permission = Permission(req.Permission);
        _ = await permissions.GetRegisteredModelGrantAsync(id, kind, name, http.RequestAborted)
            ?? throw MlflowException.NotFound($"Registered model permission with name={req.Name} and {Who(kind, name)} not found");
        await permissions.SetRegisteredModelGrantAsync(id, kind, name, permission, http.RequestAborted);
        return Json(Empty.Instance);
    }

    public static async Task<IResult> DeleteRegisteredModelPermission(HttpContext http, PermissionService permissions)
    {
        var req = await MlflowRequest.ReadAsync<RegisteredModelPermissionRequest>(http);
        var (id, kind, name) = await ModelTarget(http, permissions, req.Name, req.Username, req.GroupName);
        if (!await permissions.DeleteRegisteredModelGrantAsync(id, kind, name, http.RequestAborted))
        {
            throw MlflowException.NotFound($"Registered model permission with name={req.Name} and {Who(kind, name)} not found");
        }
        return Json(Empty.Instance);
    }

    /// <summary>The experiment, checked to exist and to be managed by the caller, and whose grant the request names.</summary>
    private static async Task<(long Id, string Kind, string Name)> ExperimentTarget(HttpContext http, string? experimentId, string? username,
        string? groupName)
    {
        var id = Tracking.TrackingValidation.ExperimentId(experimentId);
        var (kind, name) = Principal(username, groupName);
        await http.RequireExperimentAsync(id, AccessLevel.Manage);
        return (id, kind, name);
    }

    private static async Task<(long Id, string Kind, string Name)> ModelTarget(HttpContext http, PermissionService permissions, string? model,
        string? username, string? groupName)
    {
        var id = await permissions.RegisteredModelIdAsync(model, http.RequestAborted);
        var (kind, name) = Principal(username, groupName);
        await http.RequireRegisteredModelAsync(model, AccessLevel.Manage);
        return (id, kind, name);
    }

    private static (string Kind, string Name) Principal(string? username, string? groupName)
    {
        var hasUser = !string.IsNullOrWhiteSpace(username);
        var hasGroup = !string.IsNullOrWhiteSpace(groupName);
        var (kind, name, field) = (hasUser, hasGroup) switch
        {
            (true, false) => (PrincipalKind.User, username!.Trim(), "username"),
            (false, true) => (PrincipalKind.Group, groupName!.Trim(), "group_name"),
            (true, true) => throw MlflowException.InvalidParameter("Give either 'username' or 'group_name', not both."),
            _ => throw MlflowException.Missing("username"),
        };
        // The column holds an actor's name; a longer one names nobody and must not reach the database.
        return name.Length <= Registry.Actor.MaxLength
            ? (kind, name)
            : throw MlflowException.InvalidParameter($"'{field}' exceeds the maximum length of {Registry.Actor.MaxLength} characters.");
    }

    private static AccessLevel Permission(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            throw MlflowException.Missing("permission");
        }
        // MLflow's words only, in capitals (mlflow/server/auth/permissions.py validates against them).
        return text is PermissionNames.Read or PermissionNames.Edit or PermissionNames.Manage or PermissionNames.NoPermissions
            ? PermissionNames.Parse(text)!.Value
            : throw MlflowException.InvalidParameter(
                $"Invalid permission '{text}'. Valid permissions are: ('READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS')");
    }

    private static string Who(string kind, string name) => kind == PrincipalKind.User ? $"username={name}" : $"group_name={name}";

    private static async Task<long?> UserId(HttpContext http, string kind, string name) =>
        kind == PrincipalKind.User
            ? (await http.RequestServices.GetRequiredService<UserDirectory>().FindByNameAsync(name, http.RequestAborted))?.Id
            : null;

    private static async Task<ExperimentPermissionMessage> ExperimentMessage(HttpContext http, long id, string kind, string name,
        AccessLevel permission) =>
        new(Wire.Id(id), await UserId(http, kind, name), kind == PrincipalKind.User ? name : null, kind == PrincipalKind.Group ? name : null,
            PermissionNames.Of(permission));

    private static async Task<RegisteredModelPermissionMessage> ModelMessage(HttpContext http, string model, string kind, string name,
        AccessLevel permission) =>
        new(model, await UserId(http, kind, name), kind == PrincipalKind.User ? name : null, kind == PrincipalKind.Group ? name : null,
            PermissionNames.Of(permission));
}

/// <summary>The fields of every experiments/permissions/* request; <c>group_name</c> is our extension.</summary>
public sealed record ExperimentPermissionRequest(string? ExperimentId, string? Username, string? GroupName, string? Permission);

/// <summary>The fields of every registered-models/permissions/* request; <c>group_name</c> is our extension.</summary>
public sealed record RegisteredModelPermissionRequest(string? Name, string? Username, string? GroupName, string? Permission);

/// <param name="UserId">The user's id in this server's directory, when they have signed in (MLflow's user_id).</param>
public sealed record ExperimentPermissionMessage(string ExperimentId, long? UserId, string? Username, string? GroupName, string Permission);

public sealed record RegisteredModelPermissionMessage(string Name, long? UserId, string? Username, string? GroupName, string Permission);

public sealed record ExperimentPermissionResponse(ExperimentPermissionMessage ExperimentPermission);

public sealed record RegisteredModelPermissionResponse(RegisteredModelPermissionMessage RegisteredModelPermission);
