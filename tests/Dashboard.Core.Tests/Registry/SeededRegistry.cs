using Dashboard.Artifacts;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Registry;
using Dashboard.Tracking;

namespace Dashboard.Core.Tests.Registry;

/// <summary>
/// The runs, logged models and registered versions the source tests resolve against, written once per provider
/// (the resolver only reads). The first ids are those of the recorded MLflow sessions
/// (/work/shared/mlflow-recordings: real-mlflow-2.17.0 and real-mlflow-3.9.0rc0-nanstep1).
/// </summary>
public sealed class SeededRegistry : IAsyncLifetime
{
    /// <summary>The run of the MLflow 2.17.0 session (model-versions/create #103, #144, #228).</summary>
    public const string Run217 = "cb2792467a294b26bd8c61868cf5d191";
    /// <summary>The run of the MLflow 3.9.0rc0 session, which logged <see cref="Model39"/>.</summary>
    public const string Run39 = "85da055535464083ae3a3c0fe3810007";
    /// <summary>The logged model of the MLflow 3.9.0rc0 session (model-versions/create #124, #192, #297).</summary>
    public const string Model39 = "m-2c0d51e31fcc4e35869cfe99019cd3c4";

    public const string OtherRun = "0123456789abcdef0123456789abcdef";
    public const string DeletedRun = "dddddddddddddddddddddddddddddddd";
    /// <summary>Runs whose artifact locations an older version might have left: a local folder, hosts, a bucket.</summary>
    public const string FileRun = "f11ef11ef11ef11ef11ef11ef11ef11e";
    public const string MetadataRun = "a9fea9fea9fea9fea9fea9fea9fea9fe";
    public const string PublicHttpsRun = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
    public const string BucketRun = "5355355355355355355355355355355e";
    /// <summary>A run whose artifact location is close to the longest a run may have.</summary>
    public const string LongRun = "1010101010101010101010101010101a";

    /// <summary>Logged by <see cref="OtherRun"/>, and listed in the outputs of <see cref="Run39"/> too.</summary>
    public const string SharedModel = "m-11111111111111111111111111111111";
    public const string DeletedModel = "m-22222222222222222222222222222222";

    public const string Registered = "paddle-mnist-model-fixture";
    public const string EmptyRegistered = "empty";

    /// <summary>A proxy location whose path is as long as a path may be (1024 characters).</summary>
    public static readonly string LongRunLocation = "mlflow-artifacts:/" + LongPath();

    private readonly List<TestDatabase> _databases = [];

    public IReadOnlyList<TestDatabase> Databases => _databases;

    /// <summary>The id of <see cref="Registered"/> in each database.</summary>
    public Dictionary<TestDatabase, long> RegisteredIds { get; } = [];

    public static string RunLocation(string runId) => $"mlflow-artifacts:/1/{runId}/artifacts";

    public static string ModelLocation(string modelId) => $"mlflow-artifacts:/1/models/{modelId}/artifacts";

    public async ValueTask InitializeAsync()
    {
        var providers = TestDatabase.PostgresAdminConnectionString is null
            ? new[] { DatabaseProvider.Sqlite }
            : [DatabaseProvider.Sqlite, DatabaseProvider.PostgreSql];
        foreach (var provider in providers)
        {
            var db = await TestDatabase.CreateAsync(provider);
            _databases.Add(db);
            RegisteredIds[db] = await SeedAsync(db);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var db in _databases)
        {
            await db.DisposeAsync();
        }
    }

    private static async Task<long> SeedAsync(TestDatabase database)
    {
        await using var db = await database.Factory.CreateDbContextAsync();
        db.Experiments.Add(new Experiment { Id = 1, Name = "registry-sources", ArtifactLocation = "mlflow-artifacts:/1" });
        db.Runs.AddRange(
            Run(Run217, RunLocation(Run217)),
            Run(Run39, RunLocation(Run39)),
            Run(OtherRun, RunLocation(OtherRun)),
            Run(DeletedRun, RunLocation(DeletedRun), LifecycleStage.Deleted),
            Run(FileRun, $"file:///srv/mlruns/1/{FileRun}/artifacts"),
            Run(MetadataRun, $"http://169.254.169.254/latest/{MetadataRun}/artifacts"),
            Run(PublicHttpsRun, $"https://storage.example.com/mlruns/{PublicHttpsRun}/artifacts"),
            Run(BucketRun, $"s3://bucket/mlruns/1/{BucketRun}/artifacts"),
            Run(LongRun, LongRunLocation));
        db.LoggedModels.AddRange(
            Model(Model39, Run39),
            Model(SharedModel, OtherRun),
            Model(DeletedModel, Run39, LifecycleStage.Deleted));
        db.RunOutputs.Add(new RunOutput { RunId = Run39, ModelId = SharedModel, Step = 0 });
        var registered = new RegisteredModel { Name = Registered, LastVersion = 5 };
        registered.Versions.AddRange(
            Version(1, ModelStage.None, ModelLocation(Model39), Run39, Model39),
            Version(2, ModelStage.Production, RunLocation(Run217) + "/model", Run217, null),
            Version(3, ModelStage.Staging, RunLocation(OtherRun) + "/model", OtherRun, null, deleted: true),
            Version(4, ModelStage.Staging, RunLocation(Run39) + "/model", Run39, null),
            Version(5, ModelStage.None, RunLocation(OtherRun) + "/model", OtherRun, null, deleted: true));
        registered.Aliases.AddRange(
            new RegisteredModelAlias { Alias = "champion", Version = 2 },
            new RegisteredModelAlias { Alias = "ghost", Version = 5 });
        db.RegisteredModels.AddRange(registered, new RegisteredModel { Name = EmptyRegistered });
        await db.SaveChangesAsync();
        return registered.Id;
    }

    private static string LongPath()
    {
        var head = $"long/{new string('a', 240)}/{new string('b', 240)}/{new string('c', 240)}/";
        var tail = $"/{LongRun}/artifacts";
        return head + new string('d', ArtifactPath.MaxLength - head.Length - tail.Length) + tail;
    }

    private static Run Run(string id, string artifactUri, string stage = LifecycleStage.Active) =>
        new() { Id = id, ExperimentId = 1, Name = id[..6], ArtifactUri = artifactUri, LifecycleStage = stage, Status = RunStatus.Finished };

    private static LoggedModel Model(string id, string sourceRunId, string stage = LifecycleStage.Active) =>
        new()
        {
            Id = id, ExperimentId = 1, Name = "model", ArtifactLocation = ModelLocation(id), SourceRunId = sourceRunId,
            Status = LoggedModelStatus.Ready, LifecycleStage = stage,
        };

    private static ModelVersion Version(int version, string stage, string storage, string? runId, string? modelId, bool deleted = false) =>
        new()
        {
            Version = version, CurrentStage = stage, Source = storage, StorageLocation = storage, RunId = runId, ModelId = modelId,
            Deleted = deleted,
        };
}
