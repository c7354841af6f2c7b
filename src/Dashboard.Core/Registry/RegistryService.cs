using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Governance;
using Dashboard.Search;
using Dashboard.Secrets;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Registry;

/// <summary>A version as the registry answers it: with its model's name and the aliases that point to it (sorted).</summary>
public sealed record ModelVersionDetails(string ModelName, ModelVersion Version, IReadOnlyList<string> Aliases);

/// <summary>
/// A registered model as the registry answers it: the model with its tags and aliases (sorted), and the latest
/// version of each stage in MLflow's order (<see cref="RegistryService"/>).
/// </summary>
public sealed record RegisteredModelDetails(RegisteredModel Model, IReadOnlyList<ModelVersionDetails> LatestVersions);

/// <summary>
/// The model registry of model_registry.proto with MLflow's rules and messages, and the history of every stage change
/// and alias move (docs/adr/0009-model-registry.md).
/// <para>
/// Every change to a registered model or its versions is one transaction that first writes the model's row, so
/// changes of one model queue behind each other on every provider (a row lock on PostgreSQL and SQL Server, the one
/// writer of SQLite): version numbers come from the row's counter, and an alias move or an archiving reads the state
/// it changes without a concurrent change slipping in between.
/// </para>
/// </summary>
public sealed class RegistryService(
    IDbContextFactory<DashboardDbContext> dbs,
    TimeProvider time,
    ModelSourceResolver sources,
    LoggedModelService loggedModels,
    RegistrySearchService search,
    SecretGuard? secrets = null)
{
    // Tags and descriptions are checked for credentials before anything is stored (the default policy when absent).
    private readonly SecretGuard _secrets = secrets ?? new SecretGuard(dbs, time);

    /// <summary>The most events one page of a history holds, and the default.</summary>
    public const int MaxHistoryPage = 1000;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    // ---- Registered models -------------------------------------------------------------------------------------

    public async Task<RegisteredModelDetails> CreateRegisteredModelAsync(string? name, IReadOnlyList<KeyValueInput>? tags,
        string? description, Actor actor, CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(name);
        var tagRows = RegistryValidation.Tags(tags);
        RegistryValidation.Description(description);
        var verdict = await _secrets.CheckAsync(
            [.. SecretItem.Of(SecretTargets.RegisteredModelTag, tagRows),
                SecretItem.Field(SecretTargets.RegisteredModelDescription, "description", description)],
            new SecretScope(ModelName: n), actor.Name, ct);
        tagRows = verdict.Apply(SecretTargets.RegisteredModelTag, tagRows);
        description = verdict.Apply(SecretTargets.RegisteredModelDescription, "description", description);
        return await WriteAsync(async db =>
        {
            if (await db.RegisteredModels.AnyAsync(m => m.Name == n, ct))
            {
                throw ModelExists(n);
            }
            var now = Now;
            var model = new RegisteredModel
            {
                Name = n,
                CreationTime = now,
                LastUpdatedTime = now,
                Description = description,
                UserId = actor.Name,
            };
            model.Tags.AddRange(tagRows.Select(t => new RegisteredModelTag { Key = t.Key, Value = t.Value }));
            db.RegisteredModels.Add(model);
            try
            {
                await db.SaveChangesAsync(ct);
                AuditLog.Add(db, now, actor.Name, AuditActions.ModelCreated, AuditTargets.RegisteredModel, n,
                    after: new { name = n, description, tags = tagRows.ToDictionary(t => t.Key, t => t.Value) }, modelId: model.Id, modelName: n);
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException)
            {
                // A client that raced for the same name won; EF rolled back to its savepoint, so the transaction still answers.
                db.ChangeTracker.Clear();
                if (await db.RegisteredModels.AnyAsync(m => m.Name == n, ct))
                {
                    throw ModelExists(n);
                }
                throw;
            }
            return (await LoadModelsAsync(db, [model.Id], ct))[0];
        }, ct);
    }

    public async Task<RegisteredModelDetails> GetRegisteredModelAsync(string? name, CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(name);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var id = await ModelIdAsync(db, n, ct) ?? throw ModelNotFound(n);
        return (await LoadModelsAsync(db, [id], ct)).FirstOrDefault() ?? throw ModelNotFound(n);
    }

    /// <summary>Sets the description; an absent one clears it, as MLflow's update does.</summary>
    public async Task<RegisteredModelDetails> UpdateRegisteredModelAsync(string? name, string? description, CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(name);
        RegistryValidation.Description(description);
        description = (await _secrets.CheckAsync(
                [SecretItem.Field(SecretTargets.RegisteredModelDescription, "description", description)], new SecretScope(ModelName: n), ct: ct))
            .Apply(SecretTargets.RegisteredModelDescription, "description", description);
        return await WriteAsync(async db =>
        {
            var id = await LockModelAsync(db, n, ct) ?? throw ModelNotFound(n);
            var now = Now;
            var before = await db.RegisteredModels.Where(m => m.Id == id).Select(m => m.Description).FirstAsync(ct);
            await db.RegisteredModels.Where(m => m.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Description, description)
                .SetProperty(m => m.LastUpdatedTime, now), ct);
            AuditLog.Add(db, now, null, AuditActions.ModelUpdated, AuditTargets.RegisteredModel, n,
                new { description = before }, new { description }, modelId: id, modelName: n);
            await db.SaveChangesAsync(ct);
            return (await LoadModelsAsync(db, [id], ct))[0];
        }, ct);
    }

    /// <summary>Renames a model; its versions, tags, aliases and history follow (they hold the model's id, not its name).</summary>
    public async Task<RegisteredModelDetails> RenameRegisteredModelAsync(string? name, string? newName, CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(name);
        var target = RegistryValidation.Name(newName, "new_name");
        return await WriteAsync(async db =>
        {
            var id = await LockModelAsync(db, n, ct) ?? throw ModelNotFound(n);
            var now = Now;
            await TouchModelAsync(db, id, now, ct);
            if (target != n)
            {
                if (await db.RegisteredModels.AnyAsync(m => m.Name == target, ct))
                {
                    throw ModelExists(target);
                }
                var model = await db.RegisteredModels.FirstAsync(m => m.Id == id, ct);
                model.Name = target;
                try
                {
                    await db.SaveChangesAsync(ct);
                }
                catch (DbUpdateException)
                {
                    throw ModelExists(target);
                }
                // MLflow stamps the versions of a renamed model as updated.
                await db.ModelVersions.Where(v => v.RegisteredModelId == id)
                    .ExecuteUpdateAsync(s => s.SetProperty(v => v.LastUpdatedTime, now), ct);
                AuditLog.Add(db, now, null, AuditActions.ModelRenamed, AuditTargets.RegisteredModel, target,
                    new { name = n }, new { name = target }, modelId: id, modelName: target);
                await db.SaveChangesAsync(ct);
            }
            return (await LoadModelsAsync(db, [id], ct))[0];
        }, ct);
    }

    /// <summary>
    /// Deletes a model with its versions, tags and aliases. The history stays: the removal of each alias is recorded,
    /// and the events keep the model's id and name.
    /// </summary>
    public async Task DeleteRegisteredModelAsync(string? name, Actor actor, CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(name);
        await WriteAsync(async db =>
        {
            var id = await LockModelAsync(db, n, ct) ?? throw ModelNotFound(n);
            var now = Now;
            var aliases = await db.RegisteredModelAliases.AsNoTracking().Where(a => a.RegisteredModelId == id).ToListAsync(ct);
            foreach (var alias in aliases.OrderBy(a => a.Alias, StringComparer.Ordinal))
            {
                db.RegistryEvents.Add(AliasEvent(RegistryEventKind.AliasDeleted, id, n, alias.Alias, alias.Version, null, actor, now));
            }
            var versions = await db.ModelVersions.Where(v => v.RegisteredModelId == id && !v.Deleted).CountAsync(ct);
            AuditLog.Add(db, now, actor.Name, AuditActions.ModelDeleted, AuditTargets.RegisteredModel, n,
                before: new { name = n, versions, aliases = aliases.ToDictionary(a => a.Alias, a => a.Version) }, modelId: id, modelName: n);
            await db.SaveChangesAsync(ct);
            // The database cascades to versions, their tags, the model's tags and aliases.
            await db.RegisteredModels.Where(m => m.Id == id).ExecuteDeleteAsync(ct);
            return true;
        }, ct);
    }

    /// <summary>
    /// The latest version of each stage (all stages when none are named), in MLflow's order: stages in the order their
    /// lowest version appears, each with its highest non-deleted version. Answers carry each version's aliases.
    /// </summary>
    public async Task<IReadOnlyList<ModelVersionDetails>> GetLatestVersionsAsync(string? name, IReadOnlyList<string>? stages,
        CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(name);
        var wanted = (stages ?? []).Select(RegistryValidation.Stage).ToHashSet(StringComparer.Ordinal);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var id = await ModelIdAsync(db, n, ct) ?? throw ModelNotFound(n);
        var latest = await LatestVersionKeysAsync(db, [id], ct);
        var keys = latest.Where(l => wanted.Count == 0 || wanted.Contains(l.Stage)).Select(l => new ModelVersionKey(id, l.Version)).ToList();
        return await LoadVersionsAsync(db, keys, withAliases: true, ct);
    }

    public async Task SetRegisteredModelTagAsync(string? name, string? key, string? value, CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(name);
        var v = RegistryValidation.Tag(key, value);
        v = (await _secrets.CheckAsync([new SecretItem(SecretTargets.RegisteredModelTag, key, v)], new SecretScope(ModelName: n), ct: ct))
            .Apply(SecretTargets.RegisteredModelTag, key, v)!;
        await WriteAsync(async db =>
        {
            var id = await LockModelAsync(db, n, ct) ?? throw ModelNotFound(n);
            var tag = await db.RegisteredModelTags.FirstOrDefaultAsync(t => t.RegisteredModelId == id && t.Key == key, ct);
            AuditLog.Add(db, Now, null, AuditActions.ModelTagSet, AuditTargets.RegisteredModel, n,
                tag is null ? null : new { key, value = tag.Value }, new { key, value = v }, modelId: id, modelName: n);
            if (tag is null)
            {
                db.RegisteredModelTags.Add(new RegisteredModelTag { RegisteredModelId = id, Key = key!, Value = v });
            }
            else
            {
                tag.Value = v;
            }
            await db.SaveChangesAsync(ct);
            return true;
        }, ct);
    }

    /// <summary>Deletes a tag of a model; a tag that is not there is no error, as in MLflow.</summary>
    public async Task DeleteRegisteredModelTagAsync(string? name, string? key, CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(name);
        var k = RegistryValidation.TagKey(key);
        await WriteAsync(async db =>
        {
            var id = await LockModelAsync(db, n, ct) ?? throw ModelNotFound(n);
            var old = await db.RegisteredModelTags.Where(t => t.RegisteredModelId == id && t.Key == k).Select(t => t.Value).FirstOrDefaultAsync(ct);
            if (old is not null)
            {
                await db.RegisteredModelTags.Where(t => t.RegisteredModelId == id && t.Key == k).ExecuteDeleteAsync(ct);
                AuditLog.Add(db, Now, null, AuditActions.ModelTagDeleted, AuditTargets.RegisteredModel, n,
                    before: new { key = k, value = old }, modelId: id, modelName: n);
                await db.SaveChangesAsync(ct);
            }
            return true;
        }, ct);
    }

    // ---- Model versions ----------------------------------------------------------------------------------------

    /// <summary>
    /// Registers a version, READY at once. The source is checked and resolved by <see cref="ModelSourceResolver"/>
    /// (stored as sent; its artifact location is what get-download-uri answers). The number is the model's counter
    /// plus one, taken under the model row's lock in the creating transaction: numbers grow and are never reused.
    /// A <paramref name="modelId"/> lists the version in the logged model's <c>mlflow.modelVersions</c> tag, as MLflow does.
    /// </summary>
    public async Task<ModelVersionDetails> CreateModelVersionAsync(string? name, string? source, string? runId,
        IReadOnlyList<KeyValueInput>? tags, string? runLink, string? description, string? modelId, Actor actor,
        CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(name);
        if (string.IsNullOrEmpty(source))
        {
            throw MlflowException.Missing("source");
        }
        var tagRows = RegistryValidation.Tags(tags);
        RegistryValidation.Description(description);
        RegistryValidation.RunLink(runLink);
        var verdict = await _secrets.CheckAsync(
            [.. SecretItem.Of(SecretTargets.ModelVersionTag, tagRows),
                SecretItem.Field(SecretTargets.ModelVersionDescription, "description", description)],
            new SecretScope(RunId: string.IsNullOrEmpty(runId) ? null : runId, ModelName: n), actor.Name, ct);
        tagRows = verdict.Apply(SecretTargets.ModelVersionTag, tagRows);
        description = verdict.Apply(SecretTargets.ModelVersionDescription, "description", description);
        // Checks the source (and its length, and that of what it resolves to) before anything is stored.
        var resolved = await sources.ResolveAsync(source, runId, modelId, ct);

        var version = await WriteAsync(async db =>
        {
            // The lock and the number in one statement: a concurrent creation waits here until this one commits.
            var changed = await db.RegisteredModels.Where(m => m.Name == n)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.LastVersion, m => m.LastVersion + 1), ct);
            if (changed == 0)
            {
                throw ModelNotFound(n);
            }
            var model = await db.RegisteredModels.Where(m => m.Name == n).Select(m => new { m.Id, m.LastVersion }).FirstAsync(ct);
            // Taken under the lock, so a later number never has an earlier time.
            var now = Now;
            await TouchModelAsync(db, model.Id, now, ct);
            var row = new ModelVersion
            {
                RegisteredModelId = model.Id,
                Version = model.LastVersion,
                CreationTime = now,
                LastUpdatedTime = now,
                UserId = actor.Name,
                CurrentStage = ModelStage.None,
                Description = description,
                Source = source,
                StorageLocation = resolved.StorageLocation,
                RunId = resolved.RunId,
                RunLink = runLink,
                ModelId = resolved.ModelId,
                Status = ModelVersionStatus.Ready,
            };
            row.Tags.AddRange(tagRows.Select(t => new ModelVersionTag
            {
                RegisteredModelId = model.Id,
                Version = model.LastVersion,
                Key = t.Key,
                Value = t.Value,
            }));
            db.ModelVersions.Add(row);
            var target = $"{n}/{model.LastVersion}";
            var state = new { name = n, version = model.LastVersion, source, run_id = resolved.RunId, model_id = resolved.ModelId,
                tags = tagRows.ToDictionary(t => t.Key, t => t.Value) };
            AuditLog.Add(db, now, actor.Name, AuditActions.VersionCreated, AuditTargets.ModelVersion, target, after: state,
                modelId: model.Id, modelName: n, version: model.LastVersion);
            await WebhookOutbox.EnqueueAsync(db, WebhookEvents.VersionCreated, n,
                new { name = n, version = model.LastVersion, source, run_id = resolved.RunId, model_id = resolved.ModelId, user_id = actor.Name },
                now, ct);
            await db.SaveChangesAsync(ct);
            return (await LoadVersionsAsync(db, [new ModelVersionKey(model.Id, model.LastVersion)], withAliases: true, ct))[0];
        }, ct);

        if (!string.IsNullOrEmpty(modelId))
        {
            await loggedModels.RecordModelVersionAsync(modelId, n, version.Version.Version, ct);
        }
        return version;
    }

    public async Task<ModelVersionDetails> GetModelVersionAsync(string? name, string? version, CancellationToken ct = default)
    {
        var (n, number) = (RegistryValidation.Name(name), RegistryValidation.Version(version));
        await using var db = await dbs.CreateDbContextAsync(ct);
        var key = await LiveVersionKeyAsync(db, n, number, ct) ?? throw VersionNotFound(n, version);
        return (await LoadVersionsAsync(db, [key], withAliases: true, ct))[0];
    }

    /// <summary>Where the version's files are: the artifact location its source resolved to when it was registered.</summary>
    public async Task<string> GetDownloadUriAsync(string? name, string? version, CancellationToken ct = default)
    {
        var (n, number) = (RegistryValidation.Name(name), RegistryValidation.Version(version));
        await using var db = await dbs.CreateDbContextAsync(ct);
        var key = await LiveVersionKeyAsync(db, n, number, ct) ?? throw VersionNotFound(n, version);
        return await db.ModelVersions.Where(v => v.RegisteredModelId == key.RegisteredModelId && v.Version == key.Version)
            .Select(v => v.StorageLocation).FirstAsync(ct);
    }

    /// <summary>Sets the description; an absent one clears it, as MLflow's update does.</summary>
    public async Task<ModelVersionDetails> UpdateModelVersionAsync(string? name, string? version, string? description,
        CancellationToken ct = default)
    {
        var (n, number) = (RegistryValidation.Name(name), RegistryValidation.Version(version));
        RegistryValidation.Description(description);
        description = (await _secrets.CheckAsync(
                [SecretItem.Field(SecretTargets.ModelVersionDescription, "description", description)], new SecretScope(ModelName: n), ct: ct))
            .Apply(SecretTargets.ModelVersionDescription, "description", description);
        return await WriteAsync(async db =>
        {
            var key = await LockVersionAsync(db, n, number, version, ct);
            var now = Now;
            var before = await db.ModelVersions.Where(v => v.RegisteredModelId == key.RegisteredModelId && v.Version == key.Version)
                .Select(v => v.Description).FirstAsync(ct);
            await db.ModelVersions.Where(v => v.RegisteredModelId == key.RegisteredModelId && v.Version == key.Version)
                .ExecuteUpdateAsync(s => s.SetProperty(v => v.Description, description).SetProperty(v => v.LastUpdatedTime, now), ct);
            AuditLog.Add(db, now, null, AuditActions.VersionUpdated, AuditTargets.ModelVersion, $"{n}/{key.Version}",
                new { description = before }, new { description }, modelId: key.RegisteredModelId, modelName: n, version: key.Version);
            await db.SaveChangesAsync(ct);
            return (await LoadVersionsAsync(db, [key], withAliases: true, ct))[0];
        }, ct);
    }

    /// <summary>
    /// Moves a version to a stage. With <paramref name="archiveExistingVersions"/> (only for Staging and Production, as
    /// MLflow) the model's other versions in that stage move to Archived in the same transaction. Each change of stage is
    /// recorded in the history; a transition to the stage a version already has records nothing.
    /// </summary>
    public async Task<ModelVersionDetails> TransitionStageAsync(string? name, string? version, string? stage,
        bool archiveExistingVersions, Actor actor, CancellationToken ct = default)
    {
        var (n, number) = (RegistryValidation.Name(name), RegistryValidation.Version(version));
        var target = RegistryValidation.Stage(stage);
        if (archiveExistingVersions && !RegistryValidation.ActiveStages.Contains(target))
        {
            // MLflow answers this with INTERNAL_ERROR (a 500): it is the caller's request that cannot be done.
            throw MlflowException.InvalidParameter(
                $"Model version transition cannot archive existing model versions because '{stage}' is not an Active stage. " +
                $"Valid stages are ['{string.Join("', '", RegistryValidation.ActiveStages)}']");
        }
        return await WriteAsync(async db =>
        {
            var key = await LockVersionAsync(db, n, number, version, ct);
            await ApplyStageAsync(db, n, key, target, archiveExistingVersions, actor, null, ct);
            return (await LoadVersionsAsync(db, [key], withAliases: true, ct))[0];
        }, ct);
    }

    /// <summary>
    /// The stage change inside a caller's transaction, the model's row already locked (<see cref="LockVersionInAsync"/>):
    /// the version moves, the holders are archived when asked, each change goes to the history, the audit trail (with
    /// <paramref name="requestId"/> when a promotion request applies it) and the webhook outbox. Answers the versions
    /// archived. PromotionService applies approved requests through it, so the change and the request's state commit together.
    /// </summary>
    internal async Task<IReadOnlyList<int>> ApplyStageAsync(DashboardDbContext db, string n, ModelVersionKey key, string target,
        bool archiveExistingVersions, Actor actor, long? requestId, CancellationToken ct)
    {
        var now = Now;
        await TouchModelAsync(db, key.RegisteredModelId, now, ct);
        var row = await db.ModelVersions.FirstAsync(v => v.RegisteredModelId == key.RegisteredModelId && v.Version == key.Version, ct);
        if (row.CurrentStage != target)
        {
            await RecordStageAsync(db, key, n, row.CurrentStage, target, actor, requestId, now, ct);
            row.CurrentStage = target;
        }
        row.LastUpdatedTime = now;
        var archived = new List<int>();
        if (archiveExistingVersions)
        {
            var others = await db.ModelVersions
                .Where(v => v.RegisteredModelId == key.RegisteredModelId && !v.Deleted && v.Version != key.Version && v.CurrentStage == target)
                .OrderBy(v => v.Version).ToListAsync(ct);
            foreach (var other in others)
            {
                await RecordStageAsync(db, new ModelVersionKey(key.RegisteredModelId, other.Version), n, other.CurrentStage,
                    ModelStage.Archived, actor, requestId, now, ct);
                other.CurrentStage = ModelStage.Archived;
                other.LastUpdatedTime = now;
                archived.Add(other.Version);
            }
        }
        await db.SaveChangesAsync(ct);
        return archived;
    }

    private static async Task RecordStageAsync(DashboardDbContext db, ModelVersionKey key, string n, string from, string to, Actor actor,
        long? requestId, long now, CancellationToken ct)
    {
        db.RegistryEvents.Add(StageEvent(key, n, from, to, actor, now));
        AuditLog.Add(db, now, actor.Name, AuditActions.StageChanged, AuditTargets.ModelVersion, $"{n}/{key.Version}",
            new { stage = from }, new { stage = to }, key.RegisteredModelId, n, key.Version, requestId);
        await WebhookOutbox.EnqueueAsync(db, WebhookEvents.StageChanged, n,
            new { name = n, version = key.Version, from_stage = from, to_stage = to, actor = actor.Name, request_id = requestId }, now, ct);
    }

    /// <summary>
    /// Deletes a version softly: the row stays (its number is never given again, its history stays readable) but the
    /// version is hidden from every RPC. Its aliases are removed, and their removal recorded.
    /// </summary>
    public async Task DeleteModelVersionAsync(string? name, string? version, Actor actor, CancellationToken ct = default)
    {
        var (n, number) = (RegistryValidation.Name(name), RegistryValidation.Version(version));
        await WriteAsync(async db =>
        {
            var key = await LockVersionAsync(db, n, number, version, ct);
            var now = Now;
            await TouchModelAsync(db, key.RegisteredModelId, now, ct);
            var aliases = await db.RegisteredModelAliases
                .Where(a => a.RegisteredModelId == key.RegisteredModelId && a.Version == key.Version).ToListAsync(ct);
            foreach (var alias in aliases.OrderBy(a => a.Alias, StringComparer.Ordinal))
            {
                db.RegistryEvents.Add(AliasEvent(RegistryEventKind.AliasDeleted, key.RegisteredModelId, n, alias.Alias, key.Version, null,
                    actor, now));
                db.RegisteredModelAliases.Remove(alias);
            }
            var row = await db.ModelVersions.FirstAsync(v => v.RegisteredModelId == key.RegisteredModelId && v.Version == key.Version, ct);
            row.Deleted = true;
            row.LastUpdatedTime = now;
            AuditLog.Add(db, now, actor.Name, AuditActions.VersionDeleted, AuditTargets.ModelVersion, $"{n}/{key.Version}",
                before: new { stage = row.CurrentStage, aliases = aliases.Select(a => a.Alias).Order(StringComparer.Ordinal).ToList(), row.Source },
                modelId: key.RegisteredModelId, modelName: n, version: key.Version);
            await db.SaveChangesAsync(ct);
            return true;
        }, ct);
    }

    public async Task SetModelVersionTagAsync(string? name, string? version, string? key, string? value,
        CancellationToken ct = default)
    {
        var (n, number) = (RegistryValidation.Name(name), RegistryValidation.Version(version));
        var v = RegistryValidation.Tag(key, value);
        v = (await _secrets.CheckAsync([new SecretItem(SecretTargets.ModelVersionTag, key, v)], new SecretScope(ModelName: n), ct: ct))
            .Apply(SecretTargets.ModelVersionTag, key, v)!;
        await WriteAsync(async db =>
        {
            var at = await LockVersionAsync(db, n, number, version, ct);
            var tag = await db.ModelVersionTags.FirstOrDefaultAsync(
                t => t.RegisteredModelId == at.RegisteredModelId && t.Version == at.Version && t.Key == key, ct);
            AuditLog.Add(db, Now, null, AuditActions.VersionTagSet, AuditTargets.ModelVersion, $"{n}/{at.Version}",
                tag is null ? null : new { key, value = tag.Value }, new { key, value = v }, at.RegisteredModelId, n, at.Version);
            if (tag is null)
            {
                db.ModelVersionTags.Add(new ModelVersionTag { RegisteredModelId = at.RegisteredModelId, Version = at.Version, Key = key!, Value = v });
            }
            else
            {
                tag.Value = v;
            }
            await db.SaveChangesAsync(ct);
            return true;
        }, ct);
    }

    /// <summary>Deletes a tag of a version; a tag that is not there is no error, as in MLflow.</summary>
    public async Task DeleteModelVersionTagAsync(string? name, string? version, string? key, CancellationToken ct = default)
    {
        var (n, number) = (RegistryValidation.Name(name), RegistryValidation.Version(version));
        var k = RegistryValidation.TagKey(key);
        await WriteAsync(async db =>
        {
            var at = await LockVersionAsync(db, n, number, version, ct);
            var old = await db.ModelVersionTags.Where(t => t.RegisteredModelId == at.RegisteredModelId && t.Version == at.Version && t.Key == k)
                .Select(t => t.Value).FirstOrDefaultAsync(ct);
            if (old is not null)
            {
                await db.ModelVersionTags.Where(t => t.RegisteredModelId == at.RegisteredModelId && t.Version == at.Version && t.Key == k)
                    .ExecuteDeleteAsync(ct);
                AuditLog.Add(db, Now, null, AuditActions.VersionTagDeleted, AuditTargets.ModelVersion, $"{n}/{at.Version}",
                    before: new { key = k, value = old }, modelId: at.RegisteredModelId, modelName: n, version: at.Version);
                await db.SaveChangesAsync(ct);
            }
            return true;
        }, ct);
    }

    // ---- Aliases -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Points an alias at a version, creating or moving it, and records the move with the version it pointed to
    /// before (none for a new alias). Setting an alias to the version it already names changes and records nothing.
    /// </summary>
    public async Task SetAliasAsync(string? name, string? alias, string? version, Actor actor, CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(name);
        var a = RegistryValidation.Alias(alias);
        var number = RegistryValidation.Version(version);
        await WriteAsync(async db =>
        {
            var key = await LockVersionAsync(db, n, number, version, ct);
            await ApplyAliasAsync(db, n, key, a, actor, null, ct);
            return true;
        }, ct);
    }

    /// <summary>
    /// The alias move inside a caller's transaction, the model's row already locked: recorded in the history, the audit
    /// trail and the outbox. Answers the version it pointed to before (null when new or unchanged).
    /// </summary>
    internal async Task<int?> ApplyAliasAsync(DashboardDbContext db, string n, ModelVersionKey key, string a, Actor actor, long? requestId,
        CancellationToken ct)
    {
        var row = await db.RegisteredModelAliases.FirstOrDefaultAsync(x => x.RegisteredModelId == key.RegisteredModelId && x.Alias == a, ct);
        if (row?.Version == key.Version)
        {
            return null;
        }
        var previous = row?.Version;
        var now = Now;
        db.RegistryEvents.Add(AliasEvent(RegistryEventKind.AliasSet, key.RegisteredModelId, n, a, previous, key.Version, actor, now));
        AuditLog.Add(db, now, actor.Name, AuditActions.AliasSet, AuditTargets.Alias, $"{n}@{a}",
            previous is null ? null : new { alias = a, version = previous }, new { alias = a, version = key.Version },
            key.RegisteredModelId, n, key.Version, requestId);
        await WebhookOutbox.EnqueueAsync(db, WebhookEvents.AliasChanged, n,
            new { name = n, alias = a, version = key.Version, previous_version = previous, actor = actor.Name, request_id = requestId }, now, ct);
        if (row is null)
        {
            db.RegisteredModelAliases.Add(new RegisteredModelAlias { RegisteredModelId = key.RegisteredModelId, Alias = a, Version = key.Version });
        }
        else
        {
            row.Version = key.Version;
        }
        await db.SaveChangesAsync(ct);
        return previous;
    }

    /// <summary>Locks the model and finds a live version in a caller's transaction (PromotionService's apply), or answers 404.</summary>
    internal static Task<ModelVersionKey> LockVersionInAsync(DashboardDbContext db, string name, int version, CancellationToken ct) =>
        LockVersionAsync(db, name, version, version.ToString(System.Globalization.CultureInfo.InvariantCulture), ct);

    /// <summary>Removes an alias and records it; an alias that is not there is no error, as in MLflow.</summary>
    public async Task DeleteAliasAsync(string? name, string? alias, Actor actor, CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(name);
        var a = RegistryValidation.Alias(alias);
        await WriteAsync(async db =>
        {
            var id = await LockModelAsync(db, n, ct) ?? throw ModelNotFound(n);
            var row = await db.RegisteredModelAliases.FirstOrDefaultAsync(x => x.RegisteredModelId == id && x.Alias == a, ct);
            if (row is not null)
            {
                var now = Now;
                db.RegistryEvents.Add(AliasEvent(RegistryEventKind.AliasDeleted, id, n, a, row.Version, null, actor, now));
                AuditLog.Add(db, now, actor.Name, AuditActions.AliasDeleted, AuditTargets.Alias, $"{n}@{a}",
                    before: new { alias = a, version = row.Version }, modelId: id, modelName: n, version: row.Version);
                await WebhookOutbox.EnqueueAsync(db, WebhookEvents.AliasChanged, n,
                    new { name = n, alias = a, version = (int?)null, previous_version = row.Version, actor = actor.Name }, now, ct);
                db.RegisteredModelAliases.Remove(row);
                await db.SaveChangesAsync(ct);
            }
            return true;
        }, ct);
    }

    /// <summary>The version an alias points to. An unknown alias (or model) is 400, MLflow's answer.</summary>
    public async Task<ModelVersionDetails> GetModelVersionByAliasAsync(string? name, string? alias, CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(name);
        var a = RegistryValidation.Alias(alias);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var found = await db.RegisteredModelAliases.AsNoTracking()
            .Where(x => x.Alias == a && db.RegisteredModels.Any(m => m.Id == x.RegisteredModelId && m.Name == n))
            .Select(x => new { x.RegisteredModelId, x.Version }).FirstOrDefaultAsync(ct)
            ?? throw MlflowException.InvalidParameter($"Registered model alias {a} not found.");
        var versions = await LoadVersionsAsync(db, [new ModelVersionKey(found.RegisteredModelId, found.Version)], withAliases: true, ct);
        return versions.Count > 0 ? versions[0] : throw VersionNotFound(n, found.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    // ---- Search ------------------------------------------------------------------------------------------------

    /// <summary>registered-models/search: <see cref="RegistrySearchService"/> finds the page, this loads it in its order.</summary>
    public async Task<SearchPage<RegisteredModelDetails>> SearchRegisteredModelsAsync(RegisteredModelSearchRequest request,
        CancellationToken ct = default)
    {
        var page = await search.SearchRegisteredModelsAsync(request, ct);
        await using var db = await dbs.CreateDbContextAsync(ct);
        return new SearchPage<RegisteredModelDetails>(await LoadModelsAsync(db, page.Items, ct), page.NextPageToken);
    }

    /// <summary>model-versions/search: the page's versions in its order, without aliases (as MLflow answers them).</summary>
    public async Task<SearchPage<ModelVersionDetails>> SearchModelVersionsAsync(ModelVersionSearchRequest request,
        CancellationToken ct = default)
    {
        var page = await search.SearchModelVersionsAsync(request, ct);
        await using var db = await dbs.CreateDbContextAsync(ct);
        return new SearchPage<ModelVersionDetails>(await LoadVersionsAsync(db, page.Items, withAliases: false, ct), page.NextPageToken);
    }

    // ---- History -----------------------------------------------------------------------------------------------

    /// <summary>
    /// The history of a model (every version), or of one version when <paramref name="version"/> is given (a deleted
    /// version's history stays readable): newest first, <paramref name="maxResults"/> at a time (at most
    /// <see cref="MaxHistoryPage"/>), with an opaque token for the next page.
    /// </summary>
    public async Task<SearchPage<RegistryEvent>> GetHistoryAsync(string? name, string? version, int? maxResults, string? pageToken,
        CancellationToken ct = default)
    {
        var n = RegistryValidation.Name(name);
        var number = version is null ? null : RegistryValidation.Version(version);
        var size = maxResults ?? MaxHistoryPage;
        if (size is < 1 or > MaxHistoryPage)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid value {size} for parameter 'max_results' supplied: it must be between 1 and {MaxHistoryPage}.");
        }
        long? before = null;
        if (!string.IsNullOrEmpty(pageToken))
        {
            before = long.TryParse(pageToken, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)
                ? id
                : throw MlflowException.InvalidParameter("Invalid page token.");
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        var modelId = await ModelIdAsync(db, n, ct) ?? throw ModelNotFound(n);
        var events = db.RegistryEvents.AsNoTracking().Where(e => e.RegisteredModelId == modelId);
        if (version is not null)
        {
            if (number is not { } v || !await db.ModelVersions.AnyAsync(x => x.RegisteredModelId == modelId && x.Version == v, ct))
            {
                throw VersionNotFound(n, version);
            }
            // The version's own events, and the moves of aliases away from it (recorded with the version moved to).
            var text = v.ToString(System.Globalization.CultureInfo.InvariantCulture);
            events = events.Where(e => e.Version == v || (e.Kind == RegistryEventKind.AliasSet && e.Before == text));
        }
        if (before is { } b)
        {
            events = events.Where(e => e.Id < b);
        }
        var rows = await events.OrderByDescending(e => e.Id).Take(size + 1).ToListAsync(ct);
        var next = rows.Count > size ? rows[size - 1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        return new SearchPage<RegistryEvent>([.. rows.Take(size)], next);
    }

    /// <summary>
    /// The latest metrics of the source runs of versions (the model page's metric columns): run id → key → value, NaN
    /// values left out. One query per 500 runs. The caller has checked READ on the model; a version makes its run's
    /// results readable to the model's readers (see CreateModelVersion).
    /// </summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>> LatestRunMetricsAsync(IEnumerable<string?> runIds,
        CancellationToken ct = default)
    {
        var ids = runIds.OfType<string>().Where(id => id.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        var result = new Dictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);
        if (ids.Count == 0)
        {
            return result;
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        var byRun = new Dictionary<string, Dictionary<string, double>>(StringComparer.Ordinal);
        foreach (var chunk in ids.Chunk(500))
        {
            foreach (var m in await db.LatestMetrics.AsNoTracking().Where(m => chunk.Contains(m.RunId) && !m.IsNaN)
                .Select(m => new { m.RunId, m.Key, m.Value }).ToListAsync(ct))
            {
                if (!byRun.TryGetValue(m.RunId, out var metrics))
                {
                    byRun[m.RunId] = metrics = new Dictionary<string, double>(StringComparer.Ordinal);
                }
                metrics[m.Key] = m.Value;
            }
        }
        foreach (var (runId, metrics) in byRun)
        {
            result[runId] = metrics;
        }
        return result;
    }

    // ---- Loading -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Registered models with their tags, aliases and latest versions, in the order of <paramref name="ids"/> (ids not
    /// found are left out): six queries whatever the number of models.
    /// </summary>
    private static async Task<List<RegisteredModelDetails>> LoadModelsAsync(DashboardDbContext db, IReadOnlyList<long> ids,
        CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return [];
        }
        var models = new Dictionary<long, RegisteredModel>();
        foreach (var chunk in ids.Distinct().Chunk(500))
        {
            foreach (var m in await db.RegisteredModels.AsNoTracking().Where(m => chunk.Contains(m.Id)).ToListAsync(ct))
            {
                models[m.Id] = m;
            }
            foreach (var t in await db.RegisteredModelTags.AsNoTracking().Where(t => chunk.Contains(t.RegisteredModelId)).ToListAsync(ct))
            {
                models[t.RegisteredModelId].Tags.Add(t);
            }
            foreach (var a in await db.RegisteredModelAliases.AsNoTracking().Where(a => chunk.Contains(a.RegisteredModelId)).ToListAsync(ct))
            {
                models[a.RegisteredModelId].Aliases.Add(a);
            }
        }
        var latest = await LatestVersionKeysAsync(db, [.. models.Keys], ct);
        var versions = (await LoadVersionsAsync(db, [.. latest.Select(l => new ModelVersionKey(l.ModelId, l.Version))], withAliases: false, ct))
            .GroupBy(v => v.Version.RegisteredModelId).ToDictionary(g => g.Key, g => g.ToList());
        var result = new List<RegisteredModelDetails>(ids.Count);
        foreach (var id in ids)
        {
            if (!models.TryGetValue(id, out var model))
            {
                continue;
            }
            model.Tags.Sort((x, y) => string.CompareOrdinal(x.Key, y.Key));
            model.Aliases.Sort((x, y) => string.CompareOrdinal(x.Alias, y.Alias));
            result.Add(new RegisteredModelDetails(model, versions.GetValueOrDefault(id) ?? []));
        }
        return result;
    }

    private readonly record struct LatestKey(long ModelId, string Stage, int Version, int FirstVersion);

    /// <summary>
    /// The latest non-deleted version of each stage of each model, in MLflow's order: MLflow walks a model's versions
    /// by number and keeps, per stage, the highest, so stages come in the order of their lowest version.
    /// (Versions are created READY, so no status rule applies.)
    /// </summary>
    private static async Task<List<LatestKey>> LatestVersionKeysAsync(DashboardDbContext db, IReadOnlyList<long> modelIds,
        CancellationToken ct)
    {
        var keys = new List<LatestKey>();
        foreach (var chunk in modelIds.Chunk(500))
        {
            var groups = await db.ModelVersions.AsNoTracking()
                .Where(v => chunk.Contains(v.RegisteredModelId) && !v.Deleted)
                .GroupBy(v => new { v.RegisteredModelId, v.CurrentStage })
                .Select(g => new { g.Key.RegisteredModelId, g.Key.CurrentStage, Latest = g.Max(v => v.Version), First = g.Min(v => v.Version) })
                .ToListAsync(ct);
            keys.AddRange(groups.Select(g => new LatestKey(g.RegisteredModelId, g.CurrentStage, g.Latest, g.First)));
        }
        return [.. keys.OrderBy(k => k.ModelId).ThenBy(k => k.FirstVersion)];
    }

    /// <summary>
    /// Non-deleted versions with their model's name, tags and (when asked) aliases, in the order of
    /// <paramref name="keys"/>: four queries whatever the number of versions.
    /// </summary>
    private static async Task<List<ModelVersionDetails>> LoadVersionsAsync(DashboardDbContext db, IReadOnlyList<ModelVersionKey> keys,
        bool withAliases, CancellationToken ct)
    {
        if (keys.Count == 0)
        {
            return [];
        }
        var wanted = keys.ToHashSet();
        var modelIds = keys.Select(k => k.RegisteredModelId).Distinct().ToList();
        var numbers = keys.Select(k => k.Version).Distinct().ToList();
        // Filtered by model and by number, then to the exact pairs: one query, at worst a few versions more than asked.
        var versions = new Dictionary<ModelVersionKey, ModelVersion>();
        var names = new Dictionary<long, string>();
        var aliases = new Dictionary<ModelVersionKey, List<string>>();
        foreach (var ids in modelIds.Chunk(500))
        {
            foreach (var numberChunk in numbers.Chunk(500))
            {
                foreach (var v in await db.ModelVersions.AsNoTracking()
                    .Where(v => ids.Contains(v.RegisteredModelId) && numberChunk.Contains(v.Version) && !v.Deleted).ToListAsync(ct))
                {
                    var key = new ModelVersionKey(v.RegisteredModelId, v.Version);
                    if (wanted.Contains(key))
                    {
                        versions[key] = v;
                    }
                }
                foreach (var t in await db.ModelVersionTags.AsNoTracking()
                    .Where(t => ids.Contains(t.RegisteredModelId) && numberChunk.Contains(t.Version)).ToListAsync(ct))
                {
                    if (versions.TryGetValue(new ModelVersionKey(t.RegisteredModelId, t.Version), out var v))
                    {
                        v.Tags.Add(t);
                    }
                }
                if (withAliases)
                {
                    foreach (var a in await db.RegisteredModelAliases.AsNoTracking()
                        .Where(a => ids.Contains(a.RegisteredModelId) && numberChunk.Contains(a.Version)).ToListAsync(ct))
                    {
                        var key = new ModelVersionKey(a.RegisteredModelId, a.Version);
                        if (!aliases.TryGetValue(key, out var list))
                        {
                            aliases[key] = list = [];
                        }
                        list.Add(a.Alias);
                    }
                }
            }
            foreach (var m in await db.RegisteredModels.AsNoTracking().Where(m => ids.Contains(m.Id)).Select(m => new { m.Id, m.Name }).ToListAsync(ct))
            {
                names[m.Id] = m.Name;
            }
        }
        var result = new List<ModelVersionDetails>(keys.Count);
        foreach (var key in keys)
        {
            if (versions.TryGetValue(key, out var v) && names.TryGetValue(key.RegisteredModelId, out var name))
            {
                v.Tags.Sort((x, y) => string.CompareOrdinal(x.Key, y.Key));
                var list = aliases.GetValueOrDefault(key) ?? [];
                list.Sort(StringComparer.Ordinal);
                result.Add(new ModelVersionDetails(name, v, list));
            }
        }
        return result;
    }

    // ---- Transactions and locks --------------------------------------------------------------------------------

    /// <summary>
    /// One transaction of registry writes. On SQLite the process's writers take turns first (<see cref="SqliteWriteGate"/>),
    /// as the tracking writes do, instead of meeting in SQLite's busy handler.
    /// </summary>
    private Task<T> WriteAsync<T>(Func<DashboardDbContext, Task<T>> work, CancellationToken ct) => dbs.WriteAsync(work, ct);

    /// <summary>
    /// Writes the model's row (unchanged), which holds it until the transaction ends: the serialization point of every
    /// change to a model. Times are read after it, so they grow with the order of the changes. Answers the model's id,
    /// or null when there is no model of that name.
    /// </summary>
    internal static async Task<long?> LockModelAsync(DashboardDbContext db, string name, CancellationToken ct)
    {
        var changed = await db.RegisteredModels.Where(m => m.Name == name)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.LastVersion, m => m.LastVersion), ct);
        return changed == 0 ? null : await ModelIdAsync(db, name, ct);
    }

    /// <summary>Sets a model's last update, for MLflow's RPCs that change it.</summary>
    private static Task<int> TouchModelAsync(DashboardDbContext db, long id, long now, CancellationToken ct) =>
        db.RegisteredModels.Where(m => m.Id == id).ExecuteUpdateAsync(s => s.SetProperty(m => m.LastUpdatedTime, now), ct);

    /// <summary>Locks the model and finds a non-deleted version of it, or answers MLflow's 404 for the version.</summary>
    private static async Task<ModelVersionKey> LockVersionAsync(DashboardDbContext db, string name, int? number, string? version,
        CancellationToken ct)
    {
        // MLflow names the version, not the model, when either is missing.
        var id = await LockModelAsync(db, name, ct) ?? throw VersionNotFound(name, version);
        if (number is not { } v || !await db.ModelVersions.AnyAsync(x => x.RegisteredModelId == id && x.Version == v && !x.Deleted, ct))
        {
            throw VersionNotFound(name, version);
        }
        return new ModelVersionKey(id, v);
    }

    internal static Task<long?> ModelIdAsync(DashboardDbContext db, string name, CancellationToken ct) =>
        db.RegisteredModels.Where(m => m.Name == name).Select(m => (long?)m.Id).FirstOrDefaultAsync(ct);

    private static async Task<ModelVersionKey?> LiveVersionKeyAsync(DashboardDbContext db, string name, int? number, CancellationToken ct)
    {
        if (number is not { } v)
        {
            return null;
        }
        var id = await db.ModelVersions
            .Where(x => x.Version == v && !x.Deleted && db.RegisteredModels.Any(m => m.Id == x.RegisteredModelId && m.Name == name))
            .Select(x => (long?)x.RegisteredModelId).FirstOrDefaultAsync(ct);
        return id is { } modelId ? new ModelVersionKey(modelId, v) : null;
    }

    // ---- Events and errors -------------------------------------------------------------------------------------

    private static RegistryEvent StageEvent(ModelVersionKey key, string name, string from, string to, Actor actor, long now) => new()
    {
        RegisteredModelId = key.RegisteredModelId,
        ModelName = name,
        Version = key.Version,
        Kind = RegistryEventKind.StageChanged,
        Before = from,
        After = to,
        Actor = actor.Name,
        Timestamp = now,
    };

    private static RegistryEvent AliasEvent(string kind, long modelId, string name, string alias, int? before, int? after, Actor actor,
        long now) => new()
    {
        RegisteredModelId = modelId,
        ModelName = name,
        // The version the event is about: the one the alias points to now, or pointed to when it was removed.
        Version = after ?? before,
        Kind = kind,
        Alias = alias,
        Before = before?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        After = after?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Actor = actor.Name,
        Timestamp = now,
    };

    public static MlflowException ModelNotFound(string name) =>
        MlflowException.NotFound($"Registered Model with name={name} not found");

    public static MlflowException VersionNotFound(string name, string? version) =>
        MlflowException.NotFound($"Model Version (name={name}, version={version}) not found");

    // MLflow 2.x appends SQLAlchemy's error text; MLflow 3 answers this sentence alone.
    private static MlflowException ModelExists(string name) =>
        MlflowException.AlreadyExists($"Registered Model (name={name}) already exists.");
}
