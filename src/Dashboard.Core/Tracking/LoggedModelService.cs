using System.Text.Json;
using System.Text.Json.Nodes;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Secrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Dashboard.Tracking;

/// <summary>
/// MLflow 3's logged models: create, get, finalize, delete, tags and params. A deleted model does not exist for any of
/// these (MLflow hides it from get and search only). Metrics reach a model through log-batch (<see cref="RunService"/>).
/// </summary>
/// <param name="secrets">Checks params and tags for credentials before anything is stored; the default policy when absent.</param>
public sealed class LoggedModelService(IDbContextFactory<DashboardDbContext> dbs, TimeProvider time, SecretGuard? secrets = null)
{
    private readonly SecretGuard _secrets = secrets ?? new SecretGuard(dbs, time);

    /// <summary>The tag in which MLflow's registry lists the model versions made from a logged model.</summary>
    public const string ModelVersionsTag = "mlflow.modelVersions";

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<LoggedModel> CreateAsync(string? experimentId, string? name, string? modelType, string? sourceRunId,
        IReadOnlyList<KeyValueInput>? @params, IReadOnlyList<KeyValueInput>? tags, CancellationToken ct = default)
    {
        var expId = TrackingValidation.ExperimentId(experimentId);
        LoggedModelValidation.Name(name);
        TrackingValidation.Length(modelType, "model_type", DashboardDbContext.Lengths.ModelType);
        TrackingValidation.Length(sourceRunId, "source_run_id", DashboardDbContext.Lengths.RunId);
        var paramRows = LoggedModelValidation.Params(@params);
        var tagRows = LoggedModelValidation.Tags(tags);
        var verdict = await _secrets.CheckAsync(
            [.. SecretItem.Of(SecretTargets.LoggedModelParam, paramRows), .. SecretItem.Of(SecretTargets.LoggedModelTag, tagRows)],
            new SecretScope(RunId: string.IsNullOrEmpty(sourceRunId) ? null : sourceRunId, ExperimentId: expId), ct: ct);
        paramRows = verdict.Apply(SecretTargets.LoggedModelParam, paramRows);
        tagRows = verdict.Apply(SecretTargets.LoggedModelTag, tagRows);

        await using var db = await dbs.CreateDbContextAsync(ct);
        var experiment = await db.Experiments.AsNoTracking().Where(e => e.Id == expId)
            .Select(e => new { e.LifecycleStage, e.ArtifactLocation }).FirstOrDefaultAsync(ct) ?? throw ExperimentService.NotFound(expId);
        if (experiment.LifecycleStage != LifecycleStage.Active)
        {
            throw MlflowException.InvalidParameter(
                $"The experiment {expId} must be in the 'active' state. Current state is {experiment.LifecycleStage}.");
        }
        var id = LoggedModel.NewId();
        var now = Now;
        var model = new LoggedModel
        {
            Id = id,
            ExperimentId = expId,
            Name = string.IsNullOrEmpty(name) ? RunNames.Generate() : name,
            ArtifactLocation = LoggedModel.ArtifactLocationFor(experiment.ArtifactLocation, id),
            CreationTime = now,
            LastUpdatedTime = now,
            Status = LoggedModelStatus.Pending,
            // MLflow's handler passes the proto's defaults: an absent model type or source run is "".
            ModelType = modelType ?? "",
            SourceRunId = sourceRunId ?? "",
        };
        model.Params.AddRange(paramRows.Select(p => new LoggedModelParam { ModelId = id, Key = p.Key, Value = p.Value }));
        model.Tags.AddRange(tagRows.Select(t => new LoggedModelTag { ModelId = id, Key = t.Key, Value = t.Value }));
        db.LoggedModels.Add(model);
        await db.SaveChangesAsync(ct);
        Sort(model);
        return model;
    }

    /// <summary>A model with its tags, params and metrics.</summary>
    public async Task<LoggedModel> GetAsync(string? modelId, CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(modelId, "model_id");
        await using var db = await dbs.CreateDbContextAsync(ct);
        var model = await Active(db, id).AsNoTracking().FirstOrDefaultAsync(ct) ?? throw NotFound(id);
        await LoadDataAsync(db, [model], ct);
        return model;
    }

    public async Task DeleteAsync(string? modelId, CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(modelId, "model_id");
        var now = Now;
        await using var db = await dbs.CreateDbContextAsync(ct);
        var changed = await Active(db, id).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.LifecycleStage, LifecycleStage.Deleted)
            .SetProperty(m => m.LastUpdatedTime, now), ct);
        if (changed == 0)
        {
            throw NotFound(id);
        }
    }

    /// <param name="status">READY or UPLOAD_FAILED, by name or number.</param>
    public async Task<LoggedModel> FinalizeAsync(string? modelId, string? status, CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(modelId, "model_id");
        var s = TrackingValidation.Required(status, "status");
        var parsed = LoggedModelStatus.Parse(s) ?? throw MlflowException.InvalidParameter(TrackingValidation.InvalidValue(
            "status", s, $"expected {LoggedModelStatus.Ready} or {LoggedModelStatus.UploadFailed}."));
        await using var db = await dbs.CreateDbContextAsync(ct);
        var model = await Active(db, id).FirstOrDefaultAsync(ct) ?? throw NotFound(id);
        model.FinalizeAs(parsed, Math.Max(Now, model.LastUpdatedTime));
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        await LoadDataAsync(db, [model], ct);
        return model;
    }

    /// <summary>Sets tags, replacing the values of keys that exist; a key given twice keeps its last value.</summary>
    public async Task SetTagsAsync(string? modelId, IReadOnlyList<KeyValueInput>? tags, CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(modelId, "model_id");
        var rows = LoggedModelValidation.Tags(tags);
        rows = (await _secrets.CheckAsync([.. SecretItem.Of(SecretTargets.LoggedModelTag, rows)], new SecretScope(), ct: ct))
            .Apply(SecretTargets.LoggedModelTag, rows);
        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (!await Active(db, id).AnyAsync(ct))
        {
            throw NotFound(id);
        }
        if (rows.Count > 0)
        {
            await TrackingSql.UpsertLoggedModelTagsAsync(db.Database.GetDbConnection(), tx.GetDbTransaction(), db.Provider, id, rows, ct);
        }
        await tx.CommitAsync(ct);
    }

    public async Task DeleteTagAsync(string? modelId, string? key, CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(modelId, "model_id");
        var k = TrackingValidation.Required(key, "tag_key");
        await using var db = await dbs.CreateDbContextAsync(ct);
        if (!await Active(db, id).AnyAsync(ct))
        {
            throw NotFound(id);
        }
        if (await db.LoggedModelTags.Where(t => t.ModelId == id && t.Key == k).ExecuteDeleteAsync(ct) == 0)
        {
            throw MlflowException.NotFound($"No tag with key {LoggedModelValidation.PythonRepr(k)} found for model with ID {LoggedModelValidation.PythonRepr(id)}.");
        }
    }

    /// <summary>Params are immutable, as a run's: logging a stored param again with its value is harmless, with another value refused.</summary>
    public async Task LogParamsAsync(string? modelId, IReadOnlyList<KeyValueInput>? @params, CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(modelId, "model_id");
        var rows = LoggedModelValidation.Params(@params);
        rows = (await _secrets.CheckAsync([.. SecretItem.Of(SecretTargets.LoggedModelParam, rows)], new SecretScope(), ct: ct))
            .Apply(SecretTargets.LoggedModelParam, rows);
        await using var db = await dbs.CreateDbContextAsync(ct);
        if (!await Active(db, id).AnyAsync(ct))
        {
            throw NotFound(id);
        }
        if (rows.Count == 0)
        {
            return;
        }
        for (var attempt = 0; ; attempt++)
        {
            var keys = rows.Select(r => r.Key).ToList();
            var stored = await db.LoggedModelParams.AsNoTracking().Where(p => p.ModelId == id && keys.Contains(p.Key)).ToListAsync(ct);
            foreach (var p in stored)
            {
                var value = rows.FirstOrDefault(r => r.Key == p.Key).Value;
                if (value is not null && value != p.Value)
                {
                    throw MlflowException.InvalidParameter(
                        $"Changing param values is not allowed. Param with key='{p.Key}' was already logged with value='{p.Value}' " +
                        $"for logged model ID='{id}'. Attempted logging new value '{value}'.");
                }
            }
            var fresh = rows.Where(r => !stored.Any(s => s.Key == r.Key)).ToList();
            if (fresh.Count == 0)
            {
                return;
            }
            db.LoggedModelParams.AddRange(fresh.Select(r => new LoggedModelParam { ModelId = id, Key = r.Key, Value = r.Value }));
            try
            {
                await db.SaveChangesAsync(ct);
                return;
            }
            catch (DbUpdateException) when (attempt == 0)
            {
                // A concurrent request stored some of these keys between the read and the insert: compare again.
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>
    /// Lists a model version made from this model in its <c>mlflow.modelVersions</c> tag, as MLflow's registry does
    /// when model-versions/create names a <c>model_id</c> (the tracking store's set_model_versions_tags).
    /// </summary>
    public async Task RecordModelVersionAsync(string modelId, string registeredModelName, int version, CancellationToken ct = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            await using var db = await dbs.CreateDbContextAsync(ct);
            if (!await Active(db, modelId).AnyAsync(ct))
            {
                throw NotFound(modelId);
            }
            var stored = await db.LoggedModelTags.AsNoTracking().Where(t => t.ModelId == modelId && t.Key == ModelVersionsTag)
                .Select(t => t.Value).FirstOrDefaultAsync(ct);
            JsonArray versions;
            try
            {
                versions = stored is null ? [] : JsonNode.Parse(stored) as JsonArray ?? [];
            }
            catch (JsonException)
            {
                versions = [];
            }
            versions.Add(new JsonObject { ["name"] = registeredModelName, ["version"] = version });
            var value = PythonJson.Serialize(versions);
            while (value.Length > TrackingValidation.MaxRunTagValueLength && versions.Count > 1)
            {
                versions.RemoveAt(0);
                value = PythonJson.Serialize(versions);
            }
            if (await TryReplaceTagAsync(db, modelId, ModelVersionsTag, stored, value, ct))
            {
                return;
            }
            if (attempt >= 10)
            {
                throw new MlflowException(ErrorCode.TEMPORARILY_UNAVAILABLE, "The model's tags changed concurrently; try again.");
            }
        }
    }

    /// <summary>Writes a tag only if it still holds <paramref name="expected"/> (null: absent), for read-modify-write.</summary>
    private static async Task<bool> TryReplaceTagAsync(DashboardDbContext db, string modelId, string key, string? expected, string value,
        CancellationToken ct)
    {
        if (expected is not null)
        {
            return await db.LoggedModelTags.Where(t => t.ModelId == modelId && t.Key == key && t.Value == expected)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.Value, value), ct) == 1;
        }
        db.LoggedModelTags.Add(new LoggedModelTag { ModelId = modelId, Key = key, Value = value });
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            return false;
        }
    }

    private static IQueryable<LoggedModel> Active(DashboardDbContext db, string id) =>
        db.LoggedModels.Where(m => m.Id == id && m.LifecycleStage == LifecycleStage.Active);

    /// <summary>Fills tags, params and metrics of loaded models: one query per kind for the whole page.</summary>
    public static async Task LoadDataAsync(DashboardDbContext db, IReadOnlyList<LoggedModel> models, CancellationToken ct)
    {
        if (models.Count == 0)
        {
            return;
        }
        var byId = models.ToDictionary(m => m.Id);
        foreach (var model in models)
        {
            model.Tags.Clear();
            model.Params.Clear();
            model.Metrics.Clear();
        }
        foreach (var chunk in byId.Keys.Chunk(500))
        {
            foreach (var t in await db.LoggedModelTags.AsNoTracking().Where(t => chunk.Contains(t.ModelId)).ToListAsync(ct))
            {
                byId[t.ModelId].Tags.Add(t);
            }
            foreach (var p in await db.LoggedModelParams.AsNoTracking().Where(p => chunk.Contains(p.ModelId)).ToListAsync(ct))
            {
                byId[p.ModelId].Params.Add(p);
            }
            foreach (var m in await db.LoggedModelMetrics.AsNoTracking().Where(m => chunk.Contains(m.ModelId)).ToListAsync(ct))
            {
                byId[m.ModelId].Metrics.Add(m);
            }
        }
        foreach (var model in models)
        {
            Sort(model);
        }
    }

    /// <summary>Tags and params by key, as MLflow's server lists them; metrics in the order they were measured.</summary>
    private static void Sort(LoggedModel model)
    {
        model.Tags.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        model.Params.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        model.Metrics = [.. model.Metrics.OrderBy(m => m.Timestamp).ThenBy(m => m.Step).ThenBy(m => m.Key, StringComparer.Ordinal)
            .ThenBy(m => m.RunId, StringComparer.Ordinal)];
    }

    public static MlflowException NotFound(string modelId) =>
        MlflowException.NotFound($"Logged model with ID '{modelId}' not found.");
}
