using System.Data.Common;
using System.Text.Json.Nodes;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Secrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Dashboard.Tracking;

/// <summary>Runs and everything logged to them: params, metrics, tags, dataset inputs.</summary>
/// <param name="changes">Told after each committed write, so that open run pages update at once; optional.</param>
/// <param name="secrets">Checks params, tags and run names for credentials before anything is stored; the default policy when absent.</param>
public sealed class RunService(IDbContextFactory<DashboardDbContext> dbs, TimeProvider time, RunChanges? changes = null,
    SecretGuard? secrets = null)
{
    private readonly SecretGuard _secrets = secrets ?? new SecretGuard(dbs, time);

    public const string RunNameTag = "mlflow.runName";
    public const string UserTag = "mlflow.user";

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<Run> CreateRunAsync(string? experimentId, string? userId, string? runName, long? startTime,
        IReadOnlyList<KeyValueInput>? tags, CancellationToken ct = default)
    {
        // MLflow's store puts a run created without an experiment into the default experiment.
        var expId = string.IsNullOrEmpty(experimentId) ? Experiment.DefaultId : TrackingValidation.ExperimentId(experimentId);
        var tagList = tags ?? [];
        for (var i = 0; i < tagList.Count; i++)
        {
            TrackingValidation.RunTag(tagList[i].Key, tagList[i].Value, $"tags[{i}]");
        }
        var verdict = await _secrets.CheckAsync(
            [.. SecretItem.Of(SecretTargets.RunTag, tagList), SecretItem.Field(SecretTargets.RunName, "run_name", runName)],
            new SecretScope(ExperimentId: expId), ct: ct);
        tagList = verdict.Apply(SecretTargets.RunTag, tagList)!;
        runName = verdict.Apply(SecretTargets.RunName, "run_name", runName);
        var nameTag = tagList.LastOrDefault(t => t.Key == RunNameTag)?.Value;
        if (!string.IsNullOrEmpty(runName) && !string.IsNullOrEmpty(nameTag) && runName != nameTag)
        {
            throw MlflowException.InvalidParameter(
                $"Both 'run_name' argument and '{RunNameTag}' tag are specified, but with different values " +
                $"(run_name='{runName}', {RunNameTag}='{nameTag}').");
        }
        var name = !string.IsNullOrEmpty(runName) ? runName : !string.IsNullOrEmpty(nameTag) ? nameTag : RunNames.Generate();
        TrackingValidation.Length(name, "run_name", TrackingValidation.MaxRunNameLength);
        var user = !string.IsNullOrEmpty(userId) ? userId : tagList.LastOrDefault(t => t.Key == UserTag)?.Value;
        TrackingValidation.Length(user, "user_id", TrackingValidation.MaxUserIdLength);

        await using var db = await dbs.CreateDbContextAsync(ct);
        var experiment = await db.Experiments.AsNoTracking()
            .Where(e => e.Id == expId)
            .Select(e => new { e.LifecycleStage, e.ArtifactLocation })
            .FirstOrDefaultAsync(ct) ?? throw ExperimentService.NotFound(expId);
        if (experiment.LifecycleStage != LifecycleStage.Active)
        {
            throw MlflowException.InvalidParameter(
                $"The experiment {expId} must be in the 'active' state. Current state is {experiment.LifecycleStage}.");
        }

        var id = Guid.NewGuid().ToString("N");
        var run = new Run
        {
            Id = id,
            ExperimentId = expId,
            Name = name,
            UserId = user,
            Status = RunStatus.Running,
            StartTime = startTime ?? Now,
            ArtifactUri = ArtifactLocations.ForRun(experiment.ArtifactLocation, id),
        };
        // Last value wins for a key given twice, as when the tags are set one after another.
        var tagRows = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var t in tagList)
        {
            tagRows[t.Key!] = t.Value!;
        }
        tagRows[RunNameTag] = name;
        foreach (var (key, value) in tagRows)
        {
            run.Tags.Add(new RunTag { RunId = id, Key = key, Value = value });
        }
        db.Runs.Add(run);
        await db.SaveChangesAsync(ct);
        return run;
    }

    /// <summary>A run with its params, tags, latest metrics and inputs, deleted or not.</summary>
    public async Task<Run> GetRunAsync(string? runId, CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(runId, "run_id");
        await using var db = await dbs.CreateDbContextAsync(ct);
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct) ?? throw NotFound(id);
        await RunLoader.LoadDataAsync(db, [run], ct);
        return run;
    }

    public async Task<Run> UpdateRunAsync(string? runId, string? status, long? endTime, string? runName, CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(runId, "run_id");
        if (status is not null && !RunStatus.All.Contains(status))
        {
            throw MlflowException.InvalidParameter(TrackingValidation.InvalidValue("status", status));
        }
        TrackingValidation.Length(runName, "run_name", TrackingValidation.MaxRunNameLength);
        runName = (await _secrets.CheckAsync([SecretItem.Field(SecretTargets.RunName, "run_name", runName)], new SecretScope(RunId: id), ct: ct))
            .Apply(SecretTargets.RunName, "run_name", runName);
        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == id, ct) ?? throw NotFound(id);
        EnsureActive(run.Id, run.LifecycleStage);
        if (status is not null)
        {
            run.Status = status;
        }
        if (endTime is not null)
        {
            run.EndTime = endTime;
        }
        if (!string.IsNullOrEmpty(runName))
        {
            run.Name = runName;
            await TrackingSql.UpsertTagsAsync(db.Database.GetDbConnection(), tx.GetDbTransaction(), db.Provider, id,
                [new(RunNameTag, runName)], ct);
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        changes?.Changed(id);
        return run;
    }

    public Task DeleteRunAsync(string? runId, CancellationToken ct = default) =>
        SetLifecycleAsync(runId, LifecycleStage.Deleted, Now, ct);

    public Task RestoreRunAsync(string? runId, CancellationToken ct = default) =>
        SetLifecycleAsync(runId, LifecycleStage.Active, null, ct);

    private async Task SetLifecycleAsync(string? runId, string stage, long? deletedTime, CancellationToken ct)
    {
        var id = TrackingValidation.Required(runId, "run_id");
        await using var db = await dbs.CreateDbContextAsync(ct);
        var changed = await db.Runs.Where(r => r.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.LifecycleStage, stage).SetProperty(r => r.DeletedTime, deletedTime), ct);
        if (changed == 0)
        {
            throw NotFound(id);
        }
        changes?.Changed(id);
    }

    public Task LogMetricAsync(string? runId, MetricInput metric, CancellationToken ct = default) =>
        LogCoreAsync(runId, [metric], null, null, "", ct);

    public Task LogParamAsync(string? runId, KeyValueInput param, CancellationToken ct = default) =>
        LogCoreAsync(runId, null, [param], null, "", ct);

    public Task SetTagAsync(string? runId, KeyValueInput tag, CancellationToken ct = default) =>
        LogCoreAsync(runId, null, null, [tag], "", ct);

    /// <summary>
    /// log-batch: everything is validated before anything is written, then params, tags and metrics are written
    /// in one transaction through multi-row statements. A failure stores nothing of the batch.
    /// </summary>
    public Task LogBatchAsync(string? runId, IReadOnlyList<MetricInput>? metrics, IReadOnlyList<KeyValueInput>? @params,
        IReadOnlyList<KeyValueInput>? tags, CancellationToken ct = default) =>
        LogCoreAsync(runId, metrics, @params, tags, null, ct);

    /// <param name="singlePath">The JSON path of the one item of log-metric, log-parameter and set-tag ("");
    /// null for log-batch, whose items are named metrics[i], params[i], tags[i].</param>
    private async Task LogCoreAsync(string? runId, IReadOnlyList<MetricInput>? metrics, IReadOnlyList<KeyValueInput>? @params,
        IReadOnlyList<KeyValueInput>? tags, string? singlePath, CancellationToken ct)
    {
        var id = TrackingValidation.Required(runId, "run_id");
        metrics ??= [];
        @params ??= [];
        tags ??= [];
        TrackingValidation.BatchLimits(metrics.Count, @params.Count, tags.Count);

        var metricRows = new List<MetricRow>(metrics.Count);
        List<ModelMetricRow>? modelRows = null;
        for (var i = 0; i < metrics.Count; i++)
        {
            var m = metrics[i];
            var path = singlePath ?? $"metrics[{i}]";
            if (m.Key is null && singlePath is not null)
            {
                // log-metric's request schema names the field 'key'; log-batch's validation names it metrics[i].name.
                throw MlflowException.Missing("key");
            }
            if (m.Value is null)
            {
                throw MlflowException.Missing(TrackingValidation.Join(path, "value"));
            }
            if (m.Timestamp is null)
            {
                throw MlflowException.Missing(TrackingValidation.Join(path, "timestamp"));
            }
            TrackingValidation.Metric(m.Key, m.Value.Value, m.Timestamp.Value, path);
            var row = MetricRow.From(m.Key!, m.Value.Value, m.Timestamp.Value, m.Step ?? 0);
            metricRows.Add(row);
            if (!string.IsNullOrEmpty(m.ModelId))
            {
                // MLflow 3 records the point for the logged model too (its data.metrics), with the dataset it was measured on.
                TrackingValidation.Length(m.DatasetName, TrackingValidation.Join(path, "dataset_name"), TrackingValidation.MaxDatasetNameLength);
                TrackingValidation.Length(m.DatasetDigest, TrackingValidation.Join(path, "dataset_digest"), TrackingValidation.MaxDatasetDigestLength);
                (modelRows ??= []).Add(new ModelMetricRow(m.ModelId, row, NullIfEmpty(m.DatasetName), NullIfEmpty(m.DatasetDigest)));
            }
        }
        var paramRows = new Dictionary<string, string>(StringComparer.Ordinal);
        var duplicates = new List<string>();
        for (var i = 0; i < @params.Count; i++)
        {
            var p = @params[i];
            TrackingValidation.Param(p.Key, p.Value, singlePath ?? $"params[{i}]");
            if (!paramRows.TryAdd(p.Key!, p.Value!))
            {
                duplicates.Add(p.Key!);
            }
        }
        if (duplicates.Count > 0)
        {
            throw MlflowException.InvalidParameter(
                $"Duplicate parameter keys have been submitted: [{string.Join(", ", duplicates.Select(d => $"'{d}'"))}]. " +
                "Please ensure the request contains only one param value per param key.");
        }
        var tagRows = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < tags.Count; i++)
        {
            var t = tags[i];
            TrackingValidation.RunTag(t.Key, t.Value, singlePath ?? $"tags[{i}]");
            if (t.Key == RunNameTag)
            {
                // The tag renames the run, and a run name is at most 250 characters.
                TrackingValidation.Length(t.Value, RunNameTag, TrackingValidation.MaxRunNameLength);
            }
            tagRows[t.Key!] = t.Value!;
        }
        // The whole request is refused (or its secrets redacted) before anything of it is written.
        if (paramRows.Count > 0 || tagRows.Count > 0)
        {
            var verdict = await _secrets.CheckAsync(
                [.. SecretItem.Of(SecretTargets.Param, paramRows), .. SecretItem.Of(SecretTargets.RunTag, tagRows)],
                new SecretScope(RunId: id), ct: ct);
            verdict.ApplyInPlace(SecretTargets.Param, paramRows);
            verdict.ApplyInPlace(SecretTargets.RunTag, tagRows);
        }

        await using var db = await dbs.CreateDbContextAsync(ct);
        // Validation and parsing above run in parallel; the write waits for its turn (SQLite has one writer).
        using var turn = await SqliteWriteGate.EnterAsync(db, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var connection = db.Database.GetDbConnection();
        var dbTx = tx.GetDbTransaction();
        var run = await db.Runs.Where(r => r.Id == id).Select(r => new { r.LifecycleStage, r.ExperimentId }).FirstOrDefaultAsync(ct)
            ?? throw NotFound(id);
        EnsureActive(id, run.LifecycleStage);

        if (paramRows.Count > 0)
        {
            await WriteParamsAsync(db, connection, dbTx, id, paramRows, ct);
        }
        if (tagRows.Count > 0)
        {
            await TrackingSql.UpsertTagsAsync(connection, dbTx, db.Provider, id, tagRows.ToList(), ct);
            if (tagRows.TryGetValue(RunNameTag, out var newName))
            {
                await db.Runs.Where(r => r.Id == id).ExecuteUpdateAsync(s => s.SetProperty(r => r.Name, newName), ct);
            }
        }
        if (metricRows.Count > 0)
        {
            await TrackingSql.InsertMetricsAsync(connection, dbTx, db.Provider, id, metricRows, ct);
            await TrackingSql.UpsertLatestMetricsAsync(connection, dbTx, db.Provider, id, LatestPerKey(metricRows), ct);
        }
        if (modelRows is not null)
        {
            await EnsureModelsExistAsync(db, modelRows.Select(r => r.ModelId), ct);
            await TrackingSql.InsertModelMetricsAsync(connection, dbTx, db.Provider, id, run.ExperimentId, modelRows, ct);
        }
        await tx.CommitAsync(ct);
        changes?.Changed(id);
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>Refuses, with 404, a reference to a logged model that does not exist or was deleted.</summary>
    private static async Task EnsureModelsExistAsync(DashboardDbContext db, IEnumerable<string> modelIds, CancellationToken ct)
    {
        var ids = modelIds.Distinct(StringComparer.Ordinal).ToList();
        var found = await db.LoggedModels.Where(m => ids.Contains(m.Id) && m.LifecycleStage == LifecycleStage.Active)
            .Select(m => m.Id).ToListAsync(ct);
        if (ids.FirstOrDefault(i => !found.Contains(i)) is { } missing)
        {
            throw LoggedModelService.NotFound(missing);
        }
    }

    /// <summary>
    /// runs/log-model (MLflow 2 clients): appends the model's entry to the run's <c>mlflow.log-model.history</c>
    /// tag. The tag is read, extended and written back only if nobody changed it meanwhile (else read again), so
    /// concurrent models of one run all land in it.
    /// </summary>
    public async Task LogModelAsync(string? runId, string? modelJson, CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(runId, "run_id");
        var json = TrackingValidation.Required(modelJson, "model_json");
        var entry = ModelHistory.Entry(json, time.GetUtcNow());
        for (var attempt = 0; ; attempt++)
        {
            await using var db = await dbs.CreateDbContextAsync(ct);
            var stage = await db.Runs.Where(r => r.Id == id).Select(r => r.LifecycleStage).FirstOrDefaultAsync(ct)
                ?? throw NotFound(id);
            EnsureActive(id, stage);
            var stored = await db.RunTags.Where(t => t.RunId == id && t.Key == ModelHistory.TagKey).Select(t => t.Value).FirstOrDefaultAsync(ct);
            var value = ModelHistory.Append(stored, (JsonObject)entry.DeepClone(), id);
            if (stored is not null)
            {
                if (await db.RunTags.Where(t => t.RunId == id && t.Key == ModelHistory.TagKey && t.Value == stored)
                    .ExecuteUpdateAsync(s => s.SetProperty(t => t.Value, value), ct) == 1)
                {
                    return;
                }
            }
            else
            {
                db.RunTags.Add(new RunTag { RunId = id, Key = ModelHistory.TagKey, Value = value });
                try
                {
                    await db.SaveChangesAsync(ct);
                    return;
                }
                catch (DbUpdateException)
                {
                    // Another model of the run created the tag first: read it again.
                }
            }
            if (attempt >= 10)
            {
                throw new MlflowException(ErrorCode.TEMPORARILY_UNAVAILABLE, $"The tag '{ModelHistory.TagKey}' of run {id} changed concurrently; try again.");
            }
        }
    }

    /// <summary>
    /// runs/outputs (MLflow 3): the logged models a run produced, each at a step. Logging an output again is
    /// harmless; a model that does not exist is refused.
    /// </summary>
    public async Task LogOutputsAsync(string? runId, IReadOnlyList<ModelOutputSpec>? models, CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(runId, "run_id");
        models ??= [];
        if (models.Count > TrackingValidation.MaxDatasetsPerBatch)
        {
            throw MlflowException.InvalidParameter(
                $"A request can contain at most {TrackingValidation.MaxDatasetsPerBatch} model outputs. Got {models.Count}.");
        }
        var outputs = new List<RunOutput>(models.Count);
        for (var i = 0; i < models.Count; i++)
        {
            var modelId = TrackingValidation.Required(models[i].ModelId, $"models[{i}].model_id");
            outputs.Add(new RunOutput { RunId = id, ModelId = modelId, Step = models[i].Step ?? 0 });
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var stage = await db.Runs.Where(r => r.Id == id).Select(r => r.LifecycleStage).FirstOrDefaultAsync(ct) ?? throw NotFound(id);
        EnsureActive(id, stage);
        if (outputs.Count == 0)
        {
            return;
        }
        await EnsureModelsExistAsync(db, outputs.Select(o => o.ModelId), ct);
        var stored = await db.RunOutputs.AsNoTracking().Where(o => o.RunId == id).Select(o => new { o.ModelId, o.Step }).ToListAsync(ct);
        var fresh = outputs.DistinctBy(o => (o.ModelId, o.Step)).Where(o => !stored.Any(s => s.ModelId == o.ModelId && s.Step == o.Step)).ToList();
        db.RunOutputs.AddRange(fresh);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // A concurrent request logged the same output: what it stored is what was asked for.
            db.ChangeTracker.Clear();
            var now = await db.RunOutputs.AsNoTracking().Where(o => o.RunId == id).Select(o => new { o.ModelId, o.Step }).ToListAsync(ct);
            if (!fresh.All(o => now.Any(s => s.ModelId == o.ModelId && s.Step == o.Step)))
            {
                throw;
            }
        }
        await tx.CommitAsync(ct);
    }

    private static async Task WriteParamsAsync(DashboardDbContext db, DbConnection connection, DbTransaction tx, string runId,
        Dictionary<string, string> rows, CancellationToken ct)
    {
        var keys = rows.Keys.ToList();
        var stored = await db.Params.AsNoTracking().Where(p => p.RunId == runId && keys.Contains(p.Key)).ToListAsync(ct);
        CheckUnchanged(runId, rows, stored);
        var fresh = rows.Where(r => !stored.Any(s => s.Key == r.Key)).ToList();
        if (fresh.Count == 0)
        {
            return;
        }
        var inserted = await TrackingSql.InsertParamsAsync(connection, tx, db.Provider, runId, fresh, ct);
        if (inserted < fresh.Count)
        {
            // A concurrent request stored some of these keys between the read and the insert: compare again.
            var freshKeys = fresh.Select(f => f.Key).ToList();
            CheckUnchanged(runId, rows,
                await db.Params.AsNoTracking().Where(p => p.RunId == runId && freshKeys.Contains(p.Key)).ToListAsync(ct));
        }
    }

    private static void CheckUnchanged(string runId, Dictionary<string, string> rows, List<Param> stored)
    {
        foreach (var p in stored)
        {
            if (rows.TryGetValue(p.Key, out var value) && value != p.Value)
            {
                throw MlflowException.InvalidParameter(
                    $"Changing param values is not allowed. Param with key='{p.Key}' was already logged with value='{p.Value}' " +
                    $"for run ID='{runId}'. Attempted logging new value '{value}'.");
            }
        }
    }

    internal static List<MetricRow> LatestPerKey(List<MetricRow> rows)
    {
        var latest = new Dictionary<string, MetricRow>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (!latest.TryGetValue(row.Key, out var current) || row.IsAfter(current))
            {
                latest[row.Key] = row;
            }
        }
        return [.. latest.Values];
    }

    public async Task DeleteTagAsync(string? runId, string? key, CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(runId, "run_id");
        var k = key ?? throw MlflowException.Missing("key");
        await using var db = await dbs.CreateDbContextAsync(ct);
        var stage = await db.Runs.Where(r => r.Id == id).Select(r => r.LifecycleStage).FirstOrDefaultAsync(ct)
            ?? throw NotFound(id);
        EnsureActive(id, stage);
        if (await db.RunTags.Where(t => t.RunId == id && t.Key == k).ExecuteDeleteAsync(ct) == 0)
        {
            throw MlflowException.NotFound($"No tag with name: {k} in run with id {id}");
        }
        changes?.Changed(id);
    }

    /// <summary>
    /// log-inputs: datasets are unique per experiment by (name, digest) and reused; a run links a dataset once, and a
    /// logged model (MLflow 3's model inputs) once.
    /// </summary>
    public async Task LogInputsAsync(string? runId, IReadOnlyList<DatasetInputSpec>? datasets,
        IReadOnlyList<ModelInputSpec>? models = null, CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(runId, "run_id");
        datasets ??= [];
        models ??= [];
        if (models.Count > TrackingValidation.MaxDatasetsPerBatch)
        {
            throw MlflowException.InvalidParameter(
                $"A request can contain at most {TrackingValidation.MaxDatasetsPerBatch} model inputs. Got {models.Count}.");
        }
        var modelIds = models.Select((m, i) => TrackingValidation.Required(m.ModelId, $"models[{i}].model_id"))
            .Distinct(StringComparer.Ordinal).ToList();
        if (datasets.Count > TrackingValidation.MaxDatasetsPerBatch)
        {
            throw MlflowException.InvalidParameter(
                $"A batch logging request can contain at most {TrackingValidation.MaxDatasetsPerBatch} datasets. Got {datasets.Count} datasets. " +
                "Please split up datasets across multiple requests and try again.");
        }
        for (var i = 0; i < datasets.Count; i++)
        {
            ValidateDatasetInput(datasets[i], $"datasets[{i}]");
        }
        datasets = await GuardDatasetInputsAsync(id, datasets, ct);
        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == id)
            .Select(r => new { r.LifecycleStage, r.ExperimentId }).FirstOrDefaultAsync(ct) ?? throw NotFound(id);
        EnsureActive(id, run.LifecycleStage);
        foreach (var input in datasets)
        {
            var datasetId = await FindOrAddDatasetAsync(db, run.ExperimentId, input.Dataset!, ct);
            await LinkInputAsync(db, id, datasetId, input.Tags ?? [], ct);
        }
        if (modelIds.Count > 0)
        {
            await EnsureModelsExistAsync(db, modelIds, ct);
            await LinkModelInputsAsync(db, id, modelIds, ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// A dataset's source is where the data was read from, and a database URL there may carry a password
    /// (<c>postgresql://user:pw@host/db</c>): sources are scanned as values, input tags as keys and values. Under a
    /// redacting policy the source or tag value is stored as the marker.
    /// </summary>
    private async Task<IReadOnlyList<DatasetInputSpec>> GuardDatasetInputsAsync(string runId, IReadOnlyList<DatasetInputSpec> datasets,
        CancellationToken ct)
    {
        if (datasets.Count == 0)
        {
            return datasets;
        }
        var items = new List<SecretItem>();
        for (var i = 0; i < datasets.Count; i++)
        {
            items.Add(SecretItem.Field(SecretTargets.DatasetSource, SourceField(i), datasets[i].Dataset!.Source));
            items.AddRange(SecretItem.Of(SecretTargets.InputTag, datasets[i].Tags));
        }
        var verdict = await _secrets.CheckAsync(items, new SecretScope(RunId: runId), ct: ct);
        return verdict.IsClean
            ? datasets
            : [.. datasets.Select((d, i) => d with
            {
                Dataset = d.Dataset! with { Source = verdict.Apply(SecretTargets.DatasetSource, SourceField(i), d.Dataset.Source) },
                Tags = verdict.Apply(SecretTargets.InputTag, d.Tags),
            })];

        static string SourceField(int i) => $"datasets[{i}].dataset.source";
    }

    // Parallel runs of one experiment (the trials of a search) log the same dataset at the same moment: the loser
    // of the race for the unique (experiment, name, digest) or (run, dataset) row uses the winner's. EF Core wraps
    // SaveChanges in a savepoint, so the transaction goes on after the unique violation.

    private static async Task<string> FindOrAddDatasetAsync(DashboardDbContext db, long experimentId, DatasetSpec spec, CancellationToken ct)
    {
        Task<string?> FindAsync() => db.Datasets.AsNoTracking()
            .Where(d => d.ExperimentId == experimentId && d.Name == spec.Name && d.Digest == spec.Digest)
            .Select(d => d.Id).FirstOrDefaultAsync(ct);

        if (await FindAsync() is { } existing)
        {
            return existing;
        }
        var dataset = new Dataset
        {
            Id = Guid.NewGuid().ToString("N"),
            ExperimentId = experimentId,
            Name = spec.Name!,
            Digest = spec.Digest!,
            SourceType = spec.SourceType!,
            Source = spec.Source!,
            Schema = spec.Schema,
            Profile = spec.Profile,
        };
        db.Datasets.Add(dataset);
        try
        {
            await db.SaveChangesAsync(ct);
            return dataset.Id;
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            if (await FindAsync() is { } stored)
            {
                return stored;
            }
            throw;
        }
    }

    private static async Task LinkInputAsync(DashboardDbContext db, string runId, string datasetId, IReadOnlyList<KeyValueInput> tags,
        CancellationToken ct)
    {
        Task<bool> LinkedAsync() => db.RunInputs.AnyAsync(i => i.RunId == runId && i.DatasetId == datasetId, ct);

        if (await LinkedAsync())
        {
            return;
        }
        var link = new RunInput { Id = Guid.NewGuid().ToString("N"), DatasetId = datasetId, RunId = runId };
        foreach (var tag in tags.GroupBy(t => t.Key).Select(g => g.Last()))
        {
            link.Tags.Add(new InputTag { InputId = link.Id, Key = tag.Key!, Value = tag.Value! });
        }
        db.RunInputs.Add(link);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            if (!await LinkedAsync())
            {
                throw;
            }
        }
    }

    private static async Task LinkModelInputsAsync(DashboardDbContext db, string runId, List<string> modelIds, CancellationToken ct)
    {
        var stored = await db.RunModelInputs.AsNoTracking().Where(i => i.RunId == runId && modelIds.Contains(i.ModelId))
            .Select(i => i.ModelId).ToListAsync(ct);
        var fresh = modelIds.Where(m => !stored.Contains(m)).ToList();
        if (fresh.Count == 0)
        {
            return;
        }
        db.RunModelInputs.AddRange(fresh.Select(m => new RunModelInput { RunId = runId, ModelId = m }));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            var now = await db.RunModelInputs.AsNoTracking().Where(i => i.RunId == runId && fresh.Contains(i.ModelId)).CountAsync(ct);
            if (now < fresh.Count)
            {
                throw;
            }
        }
    }

    private static void ValidateDatasetInput(DatasetInputSpec input, string path)
    {
        var d = input.Dataset ?? throw MlflowException.Missing(TrackingValidation.Join(path, "dataset"));
        var dp = TrackingValidation.Join(path, "dataset");
        TrackingValidation.Required(d.Name, TrackingValidation.Join(dp, "name"));
        TrackingValidation.Required(d.Digest, TrackingValidation.Join(dp, "digest"));
        TrackingValidation.Required(d.SourceType, TrackingValidation.Join(dp, "source_type"));
        TrackingValidation.Required(d.Source, TrackingValidation.Join(dp, "source"));
        TrackingValidation.Length(d.Name, "Dataset name", TrackingValidation.MaxDatasetNameLength);
        TrackingValidation.Length(d.Digest, "Dataset digest", TrackingValidation.MaxDatasetDigestLength);
        TrackingValidation.Length(d.SourceType, "Dataset source type", TrackingValidation.MaxDatasetSourceTypeLength);
        TrackingValidation.Length(d.Source, "Dataset source", TrackingValidation.MaxDatasetSourceLength);
        TrackingValidation.Length(d.Schema, "Dataset schema", TrackingValidation.MaxDatasetSchemaLength);
        TrackingValidation.Length(d.Profile, "Dataset profile", TrackingValidation.MaxDatasetProfileLength);
        var tags = input.Tags ?? [];
        for (var i = 0; i < tags.Count; i++)
        {
            var tp = TrackingValidation.Join(path, $"tags[{i}]");
            TrackingValidation.Required(tags[i].Key, TrackingValidation.Join(tp, "key"));
            if (tags[i].Value is null)
            {
                throw MlflowException.Missing(TrackingValidation.Join(tp, "value"));
            }
            TrackingValidation.Length(tags[i].Key, "Input tag key", TrackingValidation.MaxInputTagKeyLength);
            TrackingValidation.Length(tags[i].Value, "Input tag value", TrackingValidation.MaxInputTagValueLength);
        }
    }

    internal static void EnsureActive(string runId, string stage)
    {
        if (stage != LifecycleStage.Active)
        {
            throw MlflowException.InvalidParameter($"The run {runId} must be in the 'active' state. Current state is {stage}.");
        }
    }

    public static MlflowException NotFound(string runId) => MlflowException.NotFound($"Run with id={runId} not found");
}
