using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Secrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Dashboard.Tracking;

/// <param name="secrets">Checks tags for credentials before anything is stored; the default policy when absent.</param>
public sealed class ExperimentService(IDbContextFactory<DashboardDbContext> dbs, TimeProvider time, SecretGuard? secrets = null)
{
    private readonly SecretGuard _secrets = secrets ?? new SecretGuard(dbs, time);

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<long> CreateExperimentAsync(string? name, string? artifactLocation, IReadOnlyList<KeyValueInput>? tags,
        CancellationToken ct = default)
    {
        TrackingValidation.ExperimentName(name);
        var location = ArtifactLocations.ValidateExperimentLocation(artifactLocation);
        var tagList = tags ?? [];
        foreach (var t in tagList)
        {
            TrackingValidation.ExperimentTag(t.Key, t.Value);
        }
        tagList = (await _secrets.CheckAsync([.. SecretItem.Of(SecretTargets.ExperimentTag, tagList)], new SecretScope(), ct: ct))
            .Apply(SecretTargets.ExperimentTag, tagList)!;
        await using var db = await dbs.CreateDbContextAsync(ct);
        if (await db.Experiments.AnyAsync(e => e.Name == name, ct))
        {
            throw AlreadyExists(name!);
        }
        var now = Now;
        var experiment = new Experiment
        {
            Name = name!,
            // Filled in once the id is known, in the same transaction.
            ArtifactLocation = location ?? "",
            CreationTime = now,
            LastUpdateTime = now,
        };
        foreach (var t in tagList.GroupBy(t => t.Key).Select(g => g.Last()))
        {
            experiment.Tags.Add(new ExperimentTag { Key = t.Key!, Value = t.Value! });
        }
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.Experiments.Add(experiment);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            if (await db.Experiments.AnyAsync(e => e.Name == name, ct))
            {
                throw AlreadyExists(name!);
            }
            throw;
        }
        if (experiment.ArtifactLocation.Length == 0)
        {
            experiment.ArtifactLocation = ArtifactLocations.ForExperiment(experiment.Id);
            await db.SaveChangesAsync(ct);
        }
        await tx.CommitAsync(ct);
        return experiment.Id;
    }

    public async Task<Experiment> GetExperimentAsync(string? experimentId, CancellationToken ct = default)
    {
        var id = TrackingValidation.ExperimentId(experimentId);
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.Experiments.AsNoTracking().Include(e => e.Tags).FirstOrDefaultAsync(e => e.Id == id, ct)
            ?? throw NotFound(id);
    }

    public async Task<Experiment> GetExperimentByNameAsync(string? name, CancellationToken ct = default)
    {
        var n = TrackingValidation.Required(name, "experiment_name");
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.Experiments.AsNoTracking().Include(e => e.Tags).FirstOrDefaultAsync(e => e.Name == n, ct)
            ?? throw MlflowException.NotFound($"Could not find experiment with name '{n}'");
    }

    public async Task RenameExperimentAsync(string? experimentId, string? newName, CancellationToken ct = default)
    {
        var id = TrackingValidation.ExperimentId(experimentId);
        if (string.IsNullOrEmpty(newName))
        {
            throw MlflowException.Missing("new_name");
        }
        TrackingValidation.ExperimentName(newName, "new_name");
        await using var db = await dbs.CreateDbContextAsync(ct);
        var experiment = await db.Experiments.FirstOrDefaultAsync(e => e.Id == id, ct) ?? throw NotFound(id);
        if (experiment.LifecycleStage != LifecycleStage.Active)
        {
            // MLflow answers INVALID_STATE (a 500); a request that cannot succeed is the caller's to fix, so 400.
            throw MlflowException.InvalidParameter("Cannot rename a non-active experiment.");
        }
        if (experiment.Name == newName)
        {
            return;
        }
        if (await db.Experiments.AnyAsync(e => e.Name == newName, ct))
        {
            throw AlreadyExists(newName);
        }
        experiment.Name = newName;
        experiment.LastUpdateTime = Now;
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            throw AlreadyExists(newName);
        }
    }

    /// <summary>Marks the experiment and its active runs deleted, with one deletion time that restore recognizes.</summary>
    public async Task DeleteExperimentAsync(string? experimentId, CancellationToken ct = default)
    {
        var id = TrackingValidation.ExperimentId(experimentId);
        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var experiment = await db.Experiments.FirstOrDefaultAsync(e => e.Id == id && e.LifecycleStage == LifecycleStage.Active, ct)
            ?? throw NotFound(id);
        var now = Now;
        experiment.LifecycleStage = LifecycleStage.Deleted;
        experiment.LastUpdateTime = now;
        await db.SaveChangesAsync(ct);
        await db.Runs.Where(r => r.ExperimentId == id && r.LifecycleStage == LifecycleStage.Active)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.LifecycleStage, LifecycleStage.Deleted).SetProperty(r => r.DeletedTime, now), ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Restores the experiment and the runs deleted with it; runs deleted on their own before stay deleted.</summary>
    public async Task RestoreExperimentAsync(string? experimentId, CancellationToken ct = default)
    {
        var id = TrackingValidation.ExperimentId(experimentId);
        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var experiment = await db.Experiments.FirstOrDefaultAsync(e => e.Id == id && e.LifecycleStage == LifecycleStage.Deleted, ct)
            ?? throw NotFound(id);
        var deletedAt = experiment.LastUpdateTime;
        experiment.LifecycleStage = LifecycleStage.Active;
        experiment.LastUpdateTime = Now;
        await db.SaveChangesAsync(ct);
        await db.Runs.Where(r => r.ExperimentId == id && r.LifecycleStage == LifecycleStage.Deleted && r.DeletedTime == deletedAt)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.LifecycleStage, LifecycleStage.Active).SetProperty(r => r.DeletedTime, (long?)null), ct);
        await tx.CommitAsync(ct);
    }

    public async Task SetExperimentTagAsync(string? experimentId, string? key, string? value, CancellationToken ct = default)
    {
        var id = TrackingValidation.ExperimentId(experimentId);
        TrackingValidation.ExperimentTag(key, value);
        value = (await _secrets.CheckAsync([new SecretItem(SecretTargets.ExperimentTag, key, value)], new SecretScope(ExperimentId: id), ct: ct))
            .Apply(SecretTargets.ExperimentTag, key, value);
        await using var db = await dbs.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var stage = await db.Experiments.Where(e => e.Id == id).Select(e => e.LifecycleStage).FirstOrDefaultAsync(ct) ?? throw NotFound(id);
        EnsureActive(id, stage);
        // An upsert: clients setting one tag at the same moment must not meet on the table's key.
        await TrackingSql.UpsertExperimentTagsAsync(db.Database.GetDbConnection(), tx.GetDbTransaction(), db.Provider, id,
            [new(key!, value!)], ct);
        await tx.CommitAsync(ct);
    }

    public async Task DeleteExperimentTagAsync(string? experimentId, string? key, CancellationToken ct = default)
    {
        var id = TrackingValidation.ExperimentId(experimentId);
        var k = key ?? throw MlflowException.Missing("key");
        await using var db = await dbs.CreateDbContextAsync(ct);
        var stage = await db.Experiments.Where(e => e.Id == id).Select(e => e.LifecycleStage).FirstOrDefaultAsync(ct) ?? throw NotFound(id);
        EnsureActive(id, stage);
        if (await db.ExperimentTags.Where(t => t.ExperimentId == id && t.Key == k).ExecuteDeleteAsync(ct) == 0)
        {
            throw MlflowException.NotFound($"No tag with name: {k} in experiment with id {id}");
        }
    }

    private static void EnsureActive(long experimentId, string stage)
    {
        if (stage != LifecycleStage.Active)
        {
            throw MlflowException.InvalidParameter(
                $"The experiment {experimentId} must be in the 'active' state. Current state is {stage}.");
        }
    }

    public static MlflowException NotFound(long id) => MlflowException.NotFound($"No Experiment with id={id} exists");

    private static MlflowException AlreadyExists(string name) =>
        MlflowException.AlreadyExists($"Experiment(name={name}) already exists.");
}
