namespace Dashboard.Registry;

/// <summary>model_registry.proto's stages, stored and sent as these words.</summary>
public static class ModelStage
{
    public const string None = "None";
    public const string Staging = "Staging";
    public const string Production = "Production";
    public const string Archived = "Archived";

    public static readonly IReadOnlyList<string> All = [None, Staging, Production, Archived];

    /// <summary>The canonical stage a request names, whatever its case (MLflow accepts "production"); null when none.</summary>
    public static string? Parse(string? stage) =>
        stage is null ? null : All.FirstOrDefault(s => string.Equals(s, stage, StringComparison.OrdinalIgnoreCase));
}

/// <summary>model_registry.proto's ModelVersionStatus. Versions are created READY: the server does no background work.</summary>
public static class ModelVersionStatus
{
    public const string PendingRegistration = "PENDING_REGISTRATION";
    public const string FailedRegistration = "FAILED_REGISTRATION";
    public const string Ready = "READY";
}

/// <summary>
/// A registered model. <see cref="Id"/> is a surrogate key so that a rename touches one row; the wire knows the
/// model by its unique <see cref="Name"/>. <see cref="LastVersion"/> is the highest version number ever given:
/// versions are numbered from it under the row's lock, so numbers grow and are never reused, also after deletes.
/// </summary>
public sealed class RegisteredModel
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public long CreationTime { get; set; }
    public long LastUpdatedTime { get; set; }
    public string? Description { get; set; }
    public string? UserId { get; set; }
    public int LastVersion { get; set; }

    public List<RegisteredModelTag> Tags { get; set; } = [];
    public List<RegisteredModelAlias> Aliases { get; set; } = [];
    public List<ModelVersion> Versions { get; set; } = [];
}

public sealed class RegisteredModelTag
{
    public long RegisteredModelId { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
}

/// <summary>An alias of a registered model (e.g. <c>champion</c>) and the version it points to.</summary>
public sealed class RegisteredModelAlias
{
    public long RegisteredModelId { get; set; }
    public required string Alias { get; set; }
    public int Version { get; set; }
}

/// <summary>
/// A version of a registered model. <see cref="Source"/> is what the client sent (validated); <see cref="StorageLocation"/>
/// is the artifact location it resolved to, which get-download-uri answers. A deleted version stays as a row with
/// <see cref="Deleted"/> set (hidden everywhere), so its number is never given again.
/// </summary>
public sealed class ModelVersion
{
    public long RegisteredModelId { get; set; }
    public int Version { get; set; }
    public long CreationTime { get; set; }
    public long LastUpdatedTime { get; set; }
    public string? UserId { get; set; }
    public string CurrentStage { get; set; } = ModelStage.None;
    public string? Description { get; set; }
    public required string Source { get; set; }
    public required string StorageLocation { get; set; }
    public string? RunId { get; set; }
    public string? RunLink { get; set; }
    public string? ModelId { get; set; }
    public string Status { get; set; } = ModelVersionStatus.Ready;
    public string? StatusMessage { get; set; }
    public bool Deleted { get; set; }

    public RegisteredModel? RegisteredModel { get; set; }
    public List<ModelVersionTag> Tags { get; set; } = [];
}

public sealed class ModelVersionTag
{
    public long RegisteredModelId { get; set; }
    public int Version { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
}

/// <summary>What a <see cref="RegistryEvent"/> records.</summary>
public static class RegistryEventKind
{
    /// <summary>A version's stage changed (Before and After are stages), by a transition or by archiving.</summary>
    public const string StageChanged = "stage_changed";
    /// <summary>An alias was set or moved (Before is the previous version or null, After the new one).</summary>
    public const string AliasSet = "alias_set";
    /// <summary>An alias was removed (Before is the version it pointed to), by a delete or with its version.</summary>
    public const string AliasDeleted = "alias_deleted";
}

/// <summary>
/// One entry of the registry's history: who changed a version's stage or moved an alias, when, from what to what.
/// Append-only; it keeps the model's name and id without a foreign key, so it outlives renames and deletes.
/// </summary>
public sealed class RegistryEvent
{
    public long Id { get; set; }
    public long RegisteredModelId { get; set; }
    public required string ModelName { get; set; }
    public int? Version { get; set; }
    public required string Kind { get; set; }
    public string? Alias { get; set; }
    public string? Before { get; set; }
    public string? After { get; set; }
    public required string Actor { get; set; }
    public long Timestamp { get; set; }
}
