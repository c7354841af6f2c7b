using System.Text.RegularExpressions;
using Dashboard.Artifacts;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Registry;

/// <summary>
/// A model version's source as the registry stores it: the source the client sent, the artifact location the
/// version's files are downloaded from (get-download-uri), and the run and logged model it came from.
/// </summary>
public sealed record ResolvedModelSource(string Source, string StorageLocation, string? RunId, string? ModelId);

/// <summary>What a <c>models:/</c> URI names, with the artifact location its files are in.</summary>
public abstract record ModelUriTarget(string StorageLocation);

/// <summary>
/// <c>models:/&lt;name&gt;/&lt;version&gt;</c>, <c>models:/&lt;name&gt;/&lt;stage&gt;</c>, <c>models:/&lt;name&gt;/latest</c>
/// or <c>models:/&lt;name&gt;@&lt;alias&gt;</c>: a (not deleted) version of a registered model, with the run and logged
/// model it was registered from.
/// </summary>
public sealed record RegisteredVersionTarget(
    long RegisteredModelId, string Name, int Version, string StorageLocation, string? RunId, string? ModelId)
    : ModelUriTarget(StorageLocation);

/// <summary><c>models:/m-&lt;id&gt;</c>: an MLflow 3 logged model, with the run that logged it (null for none).</summary>
public sealed record LoggedModelTarget(string ModelId, string StorageLocation, string? SourceRunId) : ModelUriTarget(StorageLocation);

/// <summary>
/// Validates the source of model-versions/create and resolves where its artifacts are, and resolves <c>models:/</c>
/// URIs (docs/adr/0009-model-registry.md, "Sources"). The rules are the same for every request: nothing but the
/// source, run_id and model_id is looked at (no tag, such as <c>mlflow.prompt.is_prompt</c>, loosens them).
/// </summary>
public sealed partial class ModelSourceResolver(IDbContextFactory<DashboardDbContext> dbs)
{
    private const string SourceParameter = "source";
    private const string UriParameter = "uri";

    private const string RunsForm = "a runs: URI is 'runs:/<run_id>' or 'runs:/<run_id>/<path in the run's artifacts>'.";

    private const string ModelsForm =
        "a models: URI is 'models:/<model_id>', 'models:/<name>/<version>', 'models:/<name>/<stage>', " +
        "'models:/<name>/latest' or 'models:/<name>@<alias>'.";

    [GeneratedRegex("^m-[0-9a-f]{32}$", RegexOptions.IgnoreCase)]
    private static partial Regex LoggedModelId();

    /// <summary>
    /// The resolved source of a new version, or an <see cref="MlflowException"/> (400 INVALID_PARAMETER_VALUE,
    /// 404 for a run, logged model, registered model or version that does not exist). <paramref name="runId"/> and
    /// <paramref name="modelId"/> are the request's run_id and model_id ("" is none, as protobuf sends it).
    /// </summary>
    public async Task<ResolvedModelSource> ResolveAsync(string? source, string? runId, string? modelId, CancellationToken ct = default)
    {
        var raw = TrackingValidation.Required(source, SourceParameter);
        TrackingValidation.Length(raw, SourceParameter, DashboardDbContext.Lengths.ModelSource);
        var givenRun = string.IsNullOrEmpty(runId) ? null : runId;
        var givenModel = string.IsNullOrEmpty(modelId) ? null : modelId;
        TrackingValidation.Length(givenRun, "run_id", DashboardDbContext.Lengths.RunId);
        TrackingValidation.Length(givenModel, "model_id", DashboardDbContext.Lengths.ModelId);
        Refuse("run_id", givenRun is null ? null : SourceUris.Unencodable(givenRun));
        Refuse("model_id", givenModel is null ? null : SourceUris.Unencodable(givenModel));
        var decoded = Check(SourceParameter, SourceUris.Decode(raw, out var d), d);
        Refuse(SourceParameter, SourceUris.SplitScheme(decoded, out var scheme, out var rest));
        // A location is judged before the database is asked anything: a refused host or local path costs no query.
        var location = scheme is SourceUris.RunsScheme or SourceUris.ModelsScheme
            ? null
            : Check(SourceParameter, SourceUris.NormalizeLocation(scheme, rest, out var n), n);

        await using var db = await dbs.CreateDbContextAsync(ct);
        var (storage, run, model) = scheme switch
        {
            SourceUris.RunsScheme => await FromRunsUriAsync(db, rest, givenRun, givenModel, ct),
            SourceUris.ModelsScheme => await FromModelsUriAsync(db, rest, givenRun, givenModel, ct),
            _ => await FromLocationAsync(db, location!, givenRun, givenModel, ct),
        };
        if (storage.Length > DashboardDbContext.Lengths.ModelSource)
        {
            throw Invalid(SourceParameter,
                $"it resolves to a storage location longer than {DashboardDbContext.Lengths.ModelSource} characters.");
        }
        return new ResolvedModelSource(raw, storage, run, model);
    }

    /// <summary>
    /// What a <c>models:/</c> URI names: a registered model's version (by number, stage, <c>latest</c> or alias) or a
    /// logged model. Decoded and checked as a source is; errors as MLflow answers them (404 for an unknown model or
    /// version, 400 for an unknown alias or stage), the parameter being called <c>uri</c>.
    /// </summary>
    public async Task<ModelUriTarget> ResolveModelUriAsync(string uri, CancellationToken ct = default)
    {
        var raw = TrackingValidation.Required(uri, UriParameter);
        TrackingValidation.Length(raw, UriParameter, DashboardDbContext.Lengths.ModelSource);
        var decoded = Check(UriParameter, SourceUris.Decode(raw, out var d), d);
        if (SourceUris.SplitScheme(decoded, out var scheme, out var rest) is not null || scheme != SourceUris.ModelsScheme)
        {
            throw Invalid(UriParameter, ModelsForm);
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await ModelsUriAsync(db, rest, UriParameter, ct);
    }

    /// <summary><c>runs:/&lt;run_id&gt;/&lt;path&gt;</c> (MLflow 2 clients): the path inside the run's artifact location.</summary>
    private static async Task<(string, string?, string?)> FromRunsUriAsync(DashboardDbContext db, string rest, string? runId,
        string? modelId, CancellationToken ct)
    {
        if (!rest.StartsWith('/') || rest.StartsWith("//", StringComparison.Ordinal))
        {
            throw Invalid(SourceParameter, RunsForm);
        }
        var body = rest[1..];
        var slash = body.IndexOf('/', StringComparison.Ordinal);
        var id = slash < 0 ? body : body[..slash];
        if (id.Length == 0)
        {
            throw Invalid(SourceParameter, RunsForm);
        }
        if (runId is not null && runId != id)
        {
            throw Invalid("run_id", $"the source names run '{id}', not '{runId}'.");
        }
        if (!ArtifactPath.TryParse(slash < 0 ? "" : body[(slash + 1)..], out var path, out var pathProblem))
        {
            throw Invalid(SourceParameter, pathProblem!);
        }
        var run = await ActiveRunAsync(db, id, ct);
        if (modelId is not null)
        {
            var model = await ActiveModelAsync(db, modelId, ct);
            await EnsureRunLoggedAsync(db, run.Id, model, ct);
        }
        var location = SourceUris.NormalizeStored(run.ArtifactUri) ?? throw StoredLocationRefused(SourceParameter, "run");
        return (path.IsRoot ? location : $"{location}/{path.Value}", run.Id, modelId);
    }

    /// <summary>
    /// <c>models:/m-&lt;id&gt;</c> (MLflow 3 clients) is the logged model's artifact location; a registered version's URI
    /// is that version's storage location (a copy of the version), with its run and logged model.
    /// </summary>
    private static async Task<(string, string?, string?)> FromModelsUriAsync(DashboardDbContext db, string rest, string? runId,
        string? modelId, CancellationToken ct)
    {
        switch (await ModelsUriAsync(db, rest, SourceParameter, ct))
        {
            case LoggedModelTarget logged:
                if (modelId is not null && modelId != logged.ModelId)
                {
                    throw Invalid("model_id", $"the source names logged model '{logged.ModelId}', not '{modelId}'.");
                }
                if (runId is not null)
                {
                    var run = await ActiveRunAsync(db, runId, ct);
                    await EnsureRunLoggedAsync(db, run.Id, new ModelRow(logged.ModelId, logged.StorageLocation, logged.SourceRunId), ct);
                }
                return (logged.StorageLocation, runId ?? logged.SourceRunId, logged.ModelId);
            case RegisteredVersionTarget version:
                // MLflow's copy_model_version sends the version's own run_id and model_id; others would describe
                // another model than the files the new version points to.
                if (runId is not null && runId != version.RunId)
                {
                    throw Invalid("run_id", $"the source names version {version.Version} of '{version.Name}', which was not registered from run '{runId}'.");
                }
                if (modelId is not null && modelId != version.ModelId)
                {
                    throw Invalid("model_id", $"the source names version {version.Version} of '{version.Name}', which was not registered from logged model '{modelId}'.");
                }
                return (version.StorageLocation, version.RunId, version.ModelId);
            default:
                throw new InvalidOperationException("A models: URI names a registered version or a logged model.");
        }
    }

    /// <summary>
    /// Any other source (<c>mlflow-artifacts:/...</c>, <c>s3://...</c>, <c>https://...</c>) is taken only as the artifact
    /// location of the run or logged model the request names, or a location inside it.
    /// </summary>
    private static async Task<(string, string?, string?)> FromLocationAsync(DashboardDbContext db, string location, string? runId,
        string? modelId, CancellationToken ct)
    {
        if (runId is null && modelId is null)
        {
            throw Invalid(SourceParameter,
                "a source that is not a runs:/ or models:/ URI must be the artifact location of the run named by run_id " +
                "or of the logged model named by model_id, or lie inside it: give run_id or model_id.");
        }
        var run = runId is null ? null : await ActiveRunAsync(db, runId, ct);
        var model = modelId is null ? null : await ActiveModelAsync(db, modelId, ct);
        if (run is not null && model is not null)
        {
            await EnsureRunLoggedAsync(db, run.Id, model, ct);
        }
        if (!(run is not null && IsInside(location, run.ArtifactUri)) && !(model is not null && IsInside(location, model.ArtifactLocation)))
        {
            var owner = (run, model) switch
            {
                (not null, null) => $"run '{run.Id}'",
                (null, not null) => $"logged model '{model.Id}'",
                _ => $"run '{run!.Id}' or of logged model '{model!.Id}'",
            };
            throw Invalid(SourceParameter, $"it is neither the artifact location of {owner} nor a location inside it.");
        }
        return (location, run?.Id ?? NullIfEmpty(model!.SourceRunId), model?.Id);
    }

    private static bool IsInside(string location, string storedLocation) =>
        SourceUris.NormalizeStored(storedLocation) is { } owner && SourceUris.IsInside(location, owner);

    /// <summary>The target of the part of a models: URI after <c>models:</c>, as MLflow's _parse_model_uri reads it.</summary>
    private static async Task<ModelUriTarget> ModelsUriAsync(DashboardDbContext db, string rest, string parameter, CancellationToken ct)
    {
        if (!rest.StartsWith('/') || rest.StartsWith("//", StringComparison.Ordinal))
        {
            throw Invalid(parameter, ModelsForm);
        }
        var parts = rest[1..].Split('/');
        if (parts.Length > 2 || string.IsNullOrWhiteSpace(parts[0]) || (parts.Length == 2 && string.IsNullOrWhiteSpace(parts[1])))
        {
            throw Invalid(parameter, ModelsForm);
        }
        if (parts.Length == 2)
        {
            var (name, suffix) = (parts[0], parts[1]);
            var registered = await RegisteredModelAsync(db, name, ct);
            var versions = db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModelId == registered.Id && !v.Deleted);
            if (suffix.All(char.IsAsciiDigit))
            {
                var number = int.TryParse(suffix, out var n) ? n : -1;
                return await VersionAsync(versions.Where(v => v.Version == number), registered, parameter, ct)
                    ?? throw VersionNotFound(registered.Name, suffix);
            }
            if (string.Equals(suffix, "latest", StringComparison.OrdinalIgnoreCase))
            {
                return await VersionAsync(versions, registered, parameter, ct)
                    ?? throw MlflowException.NotFound($"No versions of model with name '{registered.Name}' found");
            }
            // MLflow reads any other suffix as a stage, whatever its case.
            var stage = ModelStage.Parse(suffix) ?? throw MlflowException.InvalidParameter(
                $"Invalid Model Version stage: {suffix}. Value must be one of {string.Join(", ", ModelStage.All)}.");
            return await VersionAsync(versions.Where(v => v.CurrentStage == stage), registered, parameter, ct)
                ?? throw MlflowException.NotFound($"No versions of model with name '{registered.Name}' and stage '{stage}' found");
        }
        var at = parts[0].LastIndexOf('@');
        if (at >= 0)
        {
            var (name, alias) = (parts[0][..at], parts[0][(at + 1)..]);
            if (string.IsNullOrWhiteSpace(name) || string.IsNullOrWhiteSpace(alias))
            {
                throw Invalid(parameter, ModelsForm);
            }
            var registered = await RegisteredModelAsync(db, name, ct);
            var number = await db.RegisteredModelAliases.AsNoTracking()
                .Where(a => a.RegisteredModelId == registered.Id && a.Alias == alias)
                .Select(a => (int?)a.Version).FirstOrDefaultAsync(ct)
                // MLflow answers an unknown alias with 400, not 404.
                ?? throw MlflowException.InvalidParameter($"Registered model alias {alias} not found.");
            return await VersionAsync(
                db.ModelVersions.AsNoTracking().Where(v => v.RegisteredModelId == registered.Id && v.Version == number && !v.Deleted),
                registered, parameter, ct) ?? throw VersionNotFound(registered.Name, number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (!LoggedModelId().IsMatch(parts[0]))
        {
            throw Invalid(parameter, $"{ModelsForm} A model ID is 'm-' and 32 hexadecimal digits.");
        }
        var model = await ActiveModelAsync(db, parts[0], ct);
        var storage = SourceUris.NormalizeStored(model.ArtifactLocation) ?? throw StoredLocationRefused(parameter, "logged model");
        return new LoggedModelTarget(model.Id, storage, NullIfEmpty(model.SourceRunId));
    }

    /// <summary>The highest-numbered of <paramref name="versions"/>, or null when there is none.</summary>
    private static async Task<RegisteredVersionTarget?> VersionAsync(IQueryable<ModelVersion> versions, RegisteredRow registered,
        string parameter, CancellationToken ct)
    {
        var version = await versions.OrderByDescending(v => v.Version)
            .Select(v => new { v.Version, v.StorageLocation, v.RunId, v.ModelId })
            .FirstOrDefaultAsync(ct);
        if (version is null)
        {
            return null;
        }
        var storage = SourceUris.NormalizeStored(version.StorageLocation) ?? throw StoredLocationRefused(parameter, "model version");
        return new RegisteredVersionTarget(registered.Id, registered.Name, version.Version, storage, version.RunId, version.ModelId);
    }

    private static async Task<RegisteredRow> RegisteredModelAsync(DashboardDbContext db, string name, CancellationToken ct) =>
        await db.RegisteredModels.AsNoTracking().Where(m => m.Name == name)
            .Select(m => new RegisteredRow(m.Id, m.Name)).FirstOrDefaultAsync(ct)
        ?? throw MlflowException.NotFound($"Registered Model with name={name} not found");

    /// <summary>A run that exists (404) and is not deleted (400: its artifacts may be purged).</summary>
    private static async Task<RunRow> ActiveRunAsync(DashboardDbContext db, string id, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == id)
            .Select(r => new RunRow(r.Id, r.ArtifactUri, r.LifecycleStage)).FirstOrDefaultAsync(ct)
            ?? throw RunService.NotFound(id);
        RunService.EnsureActive(run.Id, run.LifecycleStage);
        return run;
    }

    /// <summary>A logged model that exists and is not deleted (404 otherwise, as everywhere else).</summary>
    private static async Task<ModelRow> ActiveModelAsync(DashboardDbContext db, string id, CancellationToken ct) =>
        await db.LoggedModels.AsNoTracking().Where(m => m.Id == id && m.LifecycleStage == LifecycleStage.Active)
            .Select(m => new ModelRow(m.Id, m.ArtifactLocation, m.SourceRunId)).FirstOrDefaultAsync(ct)
        ?? throw LoggedModelService.NotFound(id);

    /// <summary>A run_id next to a logged model must be the run that logged it: its source run, or a run whose outputs list it.</summary>
    private static async Task EnsureRunLoggedAsync(DashboardDbContext db, string runId, ModelRow model, CancellationToken ct)
    {
        if (model.SourceRunId == runId || await db.RunOutputs.AnyAsync(o => o.RunId == runId && o.ModelId == model.Id, ct))
        {
            return;
        }
        throw Invalid("run_id", $"run '{runId}' did not log logged model '{model.Id}'.");
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static string Check(string parameter, string? problem, string value) =>
        problem is null ? value : throw Invalid(parameter, problem);

    private static void Refuse(string parameter, string? problem)
    {
        if (problem is not null)
        {
            throw Invalid(parameter, problem);
        }
    }

    private static MlflowException Invalid(string parameter, string why) =>
        MlflowException.InvalidParameter($"Invalid value for parameter '{parameter}' supplied: {why}");

    private static MlflowException VersionNotFound(string name, string version) =>
        MlflowException.NotFound($"Model Version (name={name}, version={version}) not found");

    // A location stored by an older version (a local path, an internal host) is not handed out again as a new version's.
    private static MlflowException StoredLocationRefused(string parameter, string owner) =>
        Invalid(parameter, $"the {owner}'s artifact location is not one that versions can be registered from (a local path or an internal host).");

    private sealed record RunRow(string Id, string ArtifactUri, string LifecycleStage);

    private sealed record ModelRow(string Id, string ArtifactLocation, string? SourceRunId);

    private sealed record RegisteredRow(long Id, string Name);
}
