using System.Text.Json;
using System.Text.Json.Nodes;
using Dashboard.Artifacts;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.ModelCards;

/// <summary>The cards of the models a run logged; <see cref="Truncated"/> when the run has more than the server lists.</summary>
public sealed record RunModelCards(IReadOnlyList<ModelCard> Cards, bool Truncated);

/// <summary>
/// Model cards of the models the server stores: found through a run (MLflow 2's <c>mlflow.log-model.history</c> tag,
/// an explicit artifact path, MLflow 3 logged models the run produced) or a logged model's id. Read-only.
/// </summary>
public sealed class ModelCardService(IDbContextFactory<DashboardDbContext> dbs, IArtifactStore store)
{
    /// <summary>The most cards one run lists (each reads a few small files and lists the model's folder).</summary>
    public const int MaxCardsPerRun = 100;

    private readonly ModelCardReader _reader = new(store);

    /// <summary>
    /// Every model the run logged: the entries of its history tag (MLflow 2; the latest entry for a path logged twice),
    /// then the logged models whose source run it is or that it output (MLflow 3), oldest first. A model whose folder
    /// has no MLmodel file (an upload that failed, files deleted) is listed with a problem saying so.
    /// </summary>
    public async Task<RunModelCards> ListForRunAsync(string? runId, CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(runId, "run_id");
        await using var db = await dbs.CreateDbContextAsync(ct);
        var run = await FindRunAsync(db, id, ct);
        var runRoot = ArtifactLocations.StorePath(run.ArtifactUri);

        var found = new List<(ArtifactPath Folder, ModelCardOrigin Origin)>();
        if (runRoot is { } root)
        {
            var history = await db.RunTags.AsNoTracking().Where(t => t.RunId == id && t.Key == ModelHistory.TagKey)
                .Select(t => t.Value).FirstOrDefaultAsync(ct);
            foreach (var path in HistoryPaths(history))
            {
                var folder = root.Append(path);
                found.Add((folder, new ModelCardOrigin(Uri(folder), path.Value, id)));
            }
        }

        var outputs = db.RunOutputs.Where(o => o.RunId == id).Select(o => o.ModelId);
        var models = await db.LoggedModels.AsNoTracking()
            .Where(m => m.ExperimentId == run.ExperimentId && m.LifecycleStage == LifecycleStage.Active
                && (m.SourceRunId == id || outputs.Contains(m.Id)))
            .OrderBy(m => m.CreationTime).ThenBy(m => m.Id)
            .Take(MaxCardsPerRun + 1)
            .Select(m => new { m.Id, m.ArtifactLocation })
            .ToListAsync(ct);
        foreach (var model in models)
        {
            if (ArtifactLocations.StorePath(model.ArtifactLocation) is { } folder)
            {
                found.Add((folder, new ModelCardOrigin(Uri(folder), RunId: id, ModelId: model.Id)));
            }
        }

        var cards = new List<ModelCard>();
        foreach (var (folder, origin) in found.Take(MaxCardsPerRun))
        {
            cards.Add(await _reader.ReadAsync(folder, origin, ct) ?? WithoutMlmodel(origin));
        }
        return new RunModelCards(cards, found.Count > MaxCardsPerRun);
    }

    /// <summary>The card of the model at <paramref name="path"/>, relative to the run's artifact root (<c>model</c>).</summary>
    public async Task<ModelCard> GetForRunAsync(string? runId, string? path, CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(runId, "run_id");
        var relative = ArtifactPath.Parse(TrackingValidation.Required(path, "path"), "path");
        if (relative.IsRoot)
        {
            throw MlflowException.Missing("path");
        }
        await using var db = await dbs.CreateDbContextAsync(ct);
        var run = await FindRunAsync(db, id, ct);
        var root = ArtifactLocations.StorePath(run.ArtifactUri) ?? throw MlflowException.InvalidParameter(
            $"The artifacts of run '{id}' are not stored behind this server's proxy, so it cannot read them.");
        var folder = root.Append(relative);
        return await _reader.ReadAsync(folder, new ModelCardOrigin(Uri(folder), relative.Value, id), ct)
            ?? throw MlflowException.NotFound($"No MLmodel file at '{relative.Value}' in the artifacts of run '{id}'.");
    }

    /// <summary>The card of an MLflow 3 logged model (its files under <c>&lt;experiment&gt;/models/&lt;id&gt;/artifacts</c>).</summary>
    public async Task<ModelCard> GetForLoggedModelAsync(string? modelId, CancellationToken ct = default)
    {
        var id = TrackingValidation.Required(modelId, "model_id");
        await using var db = await dbs.CreateDbContextAsync(ct);
        var model = await db.LoggedModels.AsNoTracking()
            .Where(m => m.Id == id && m.LifecycleStage == LifecycleStage.Active)
            .Select(m => new { m.ArtifactLocation, m.SourceRunId })
            .FirstOrDefaultAsync(ct) ?? throw LoggedModelService.NotFound(id);
        var folder = ArtifactLocations.StorePath(model.ArtifactLocation) ?? throw MlflowException.InvalidParameter(
            $"The artifacts of logged model '{id}' are not stored behind this server's proxy, so it cannot read them.");
        var origin = new ModelCardOrigin(Uri(folder), RunId: string.IsNullOrEmpty(model.SourceRunId) ? null : model.SourceRunId, ModelId: id);
        return await _reader.ReadAsync(folder, origin, ct)
            ?? throw MlflowException.NotFound($"Logged model '{id}' has no MLmodel file among its artifacts.");
    }

    /// <summary>
    /// The card of a registered model version, read from its storage location (what its source resolved to). Null
    /// when the location is not in this server's store (a legacy <c>s3://</c> or <c>https://</c> source): the server
    /// never fetches from elsewhere. A location in the store without an MLmodel file gets a card saying so.
    /// </summary>
    public async Task<ModelCard?> GetForStorageLocationAsync(string storageLocation, string? runId, string? modelId,
        CancellationToken ct = default)
    {
        if (ArtifactLocations.StorePath(storageLocation) is not { IsRoot: false } folder)
        {
            return null;
        }
        var origin = new ModelCardOrigin(Uri(folder), RunId: runId, ModelId: modelId);
        return await _reader.ReadAsync(folder, origin, ct) ?? WithoutMlmodel(origin);
    }

    private static async Task<(string ArtifactUri, long ExperimentId)> FindRunAsync(DashboardDbContext db, string id, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == id).Select(r => new { r.ArtifactUri, r.ExperimentId })
            .FirstOrDefaultAsync(ct) ?? throw RunService.NotFound(id);
        return (run.ArtifactUri, run.ExperimentId);
    }

    /// <summary>
    /// The model folders the history tag names, relative to the run's artifacts, each once, in the order they were
    /// last logged. Entries that are no valid artifact path are skipped: they point nowhere the server could read.
    /// </summary>
    internal static List<ArtifactPath> HistoryPaths(string? history)
    {
        if (string.IsNullOrEmpty(history))
        {
            return [];
        }
        JsonArray? entries;
        try
        {
            entries = JsonNode.Parse(history) as JsonArray;
        }
        catch (JsonException)
        {
            return [];
        }
        var paths = new List<ArtifactPath>();
        foreach (var entry in entries ?? [])
        {
            if (entry is JsonObject obj && obj["artifact_path"] is JsonValue v && v.GetValueKind() == JsonValueKind.String
                && ArtifactPath.TryParse(v.GetValue<string>(), out var path, out _) && !path.IsRoot)
            {
                paths.Remove(path);
                paths.Add(path);
            }
        }
        return paths;
    }

    private static string Uri(ArtifactPath folder) => $"{ArtifactLocations.ProxyScheme}/{folder.Value}";

    private static ModelCard WithoutMlmodel(ModelCardOrigin origin) => new()
    {
        ArtifactUri = origin.ArtifactUri,
        ArtifactPath = origin.ArtifactPath,
        RunId = origin.RunId,
        ModelId = origin.ModelId,
        Versions = new ModelVersions(null, null, null),
        Problems = [new CardProblem(ModelCardReader.MlmodelFile,
            "no MLmodel file in the model's folder: its upload failed or has not finished, or the files were deleted.")],
    };
}
