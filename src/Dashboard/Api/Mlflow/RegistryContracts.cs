using System.Globalization;
using Dashboard.Registry;
using Dashboard.Tracking;

namespace Dashboard.Api.Mlflow;

// The messages of model_registry.proto as MLflow's server writes them (checked against the recorded 2.17 and 3.9
// sessions), in its field order. Versions travel as strings.

/// <summary>
/// model_registry.proto's ModelVersion. <c>description</c>, <c>run_id</c> and <c>run_link</c> are always written ("" when
/// unset: MLflow's handler stores the request's defaults); <c>user_id</c> and <c>model_id</c> are not, as MLflow's
/// server never answers them.
/// </summary>
public sealed record ModelVersionMessage(
    string Name,
    string Version,
    long CreationTimestamp,
    long LastUpdatedTimestamp,
    string CurrentStage,
    string Description,
    string Source,
    string RunId,
    string Status,
    string? StatusMessage,
    IReadOnlyList<KeyValue> Tags,
    string RunLink,
    IReadOnlyList<string> Aliases);

public sealed record RegisteredModelAliasMessage(string Alias, string Version);

/// <summary>
/// model_registry.proto's RegisteredModel: <c>description</c> is left out when empty, as MLflow writes it; the
/// latest versions carry no aliases.
/// </summary>
public sealed record RegisteredModelMessage(
    string Name,
    long CreationTimestamp,
    long LastUpdatedTimestamp,
    string? Description,
    IReadOnlyList<ModelVersionMessage> LatestVersions,
    IReadOnlyList<KeyValue> Tags,
    IReadOnlyList<RegisteredModelAliasMessage> Aliases);

public static class RegistryWire
{
    public static RegisteredModelMessage Model(RegisteredModelDetails d) => new(
        d.Model.Name,
        d.Model.CreationTime,
        d.Model.LastUpdatedTime,
        string.IsNullOrEmpty(d.Model.Description) ? null : d.Model.Description,
        d.LatestVersions.Select(v => Version(v, withAliases: false)).ToList(),
        d.Model.Tags.Select(t => new KeyValue(t.Key, t.Value)).ToList(),
        d.Model.Aliases.Select(a => new RegisteredModelAliasMessage(a.Alias, Number(a.Version))).ToList());

    /// <param name="withAliases">Whether the RPC answers the version's aliases (get, create, update, transition,
    /// get-latest-versions and alias get do; search and a model's latest versions do not, as in MLflow).</param>
    public static ModelVersionMessage Version(ModelVersionDetails d, bool withAliases = true) => new(
        d.ModelName,
        Number(d.Version.Version),
        d.Version.CreationTime,
        d.Version.LastUpdatedTime,
        d.Version.CurrentStage,
        d.Version.Description ?? "",
        d.Version.Source,
        d.Version.RunId ?? "",
        d.Version.Status,
        d.Version.StatusMessage,
        d.Version.Tags.Select(t => new KeyValue(t.Key, t.Value)).ToList(),
        d.Version.RunLink ?? "",
        withAliases ? d.Aliases : []);

    public static string Number(int version) => version.ToString(CultureInfo.InvariantCulture);
}

// Requests. Every field is nullable: the service says which are required, with MLflow's messages.

public sealed record CreateRegisteredModelRequest(string? Name, IReadOnlyList<KeyValueInput>? Tags, string? Description);
public sealed record RegisteredModelNameRequest(string? Name);
public sealed record RenameRegisteredModelRequest(string? Name, string? NewName);
public sealed record UpdateRegisteredModelRequest(string? Name, string? Description);
public sealed record SearchRegisteredModelsRequest(string? Filter, long? MaxResults, IReadOnlyList<string>? OrderBy, string? PageToken);
public sealed record GetLatestVersionsRequest(string? Name, IReadOnlyList<string>? Stages);
public sealed record SetRegisteredModelTagRequest(string? Name, string? Key, string? Value);
public sealed record DeleteRegisteredModelTagRequest(string? Name, string? Key);
public sealed record SetRegisteredModelAliasRequest(string? Name, string? Alias, string? Version);
public sealed record RegisteredModelAliasRequest(string? Name, string? Alias);

public sealed record CreateModelVersionRequest(string? Name, string? Source, string? RunId, IReadOnlyList<KeyValueInput>? Tags,
    string? RunLink, string? Description, string? ModelId);
public sealed record ModelVersionRequest(string? Name, string? Version);
public sealed record UpdateModelVersionRequest(string? Name, string? Version, string? Description);
public sealed record TransitionModelVersionStageRequest(string? Name, string? Version, string? Stage, bool? ArchiveExistingVersions);
public sealed record SearchModelVersionsRequest(string? Filter, long? MaxResults, IReadOnlyList<string>? OrderBy, string? PageToken);
public sealed record SetModelVersionTagRequest(string? Name, string? Version, string? Key, string? Value);
public sealed record DeleteModelVersionTagRequest(string? Name, string? Version, string? Key);

// Responses.

public sealed record RegisteredModelResponse(RegisteredModelMessage RegisteredModel);
public sealed record SearchRegisteredModelsResponse(IReadOnlyList<RegisteredModelMessage> RegisteredModels, string? NextPageToken);
public sealed record ModelVersionResponse(ModelVersionMessage ModelVersion);
public sealed record ModelVersionsResponse(IReadOnlyList<ModelVersionMessage> ModelVersions);
public sealed record SearchModelVersionsResponse(IReadOnlyList<ModelVersionMessage> ModelVersions, string? NextPageToken);
public sealed record DownloadUriResponse(string ArtifactUri);
