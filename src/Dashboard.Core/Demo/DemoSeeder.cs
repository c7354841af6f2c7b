using System.Globalization;
using System.Text;
using Dashboard.Artifacts;
using Dashboard.Data;
using Dashboard.Registry;
using Dashboard.Search;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Demo;

/// <summary>What <see cref="DemoSeeder"/> made.</summary>
public sealed record DemoSeedSummary(
    int Experiments,
    int Runs,
    int FailedRuns,
    int KilledRuns,
    long MetricPoints,
    int ArtifactFiles,
    int RegisteredModels,
    int ModelVersions,
    int Aliases,
    TimeSpan Elapsed)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Experiments} experiments, {Runs} runs ({FailedRuns} failed, {KilledRuns} killed), {MetricPoints:N0} metric points, " +
        $"{ArtifactFiles} artifact files, {RegisteredModels} registered models with {ModelVersions} versions and {Aliases} aliases " +
        $"in {Elapsed.TotalSeconds:0.0} s");
}

/// <summary>The database already holds data: the demo never mixes with real runs.</summary>
public sealed class DemoDatabaseNotEmptyException(string message) : Exception(message);

/// <summary>
/// Fills an empty database with a realistic PaddlePaddle history (docs/adr/0010-dashboard-ui.md, "Demo data"): the
/// experiments, grids and curves of <see cref="DemoPlan"/>, artifacts written through the configured
/// <see cref="IArtifactStore"/>, and registered models with versions in every stage and champion/challenger aliases.
/// <para>
/// Everything goes through the Core services, so the demo data passes the same validation as a client's and lands in
/// the same tables. The services get the seeder's own clock, which walks through the last six weeks: runs, registry
/// changes and their history have believable times instead of all sharing the second of seeding.
/// </para>
/// </summary>
public sealed class DemoSeeder(IDbContextFactory<DashboardDbContext> dbs, IArtifactStore store)
{
    /// <summary>The seed of every random choice; the same seed plans the same demo.</summary>
    public const int DefaultSeed = 20261128;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Why a database is not empty, or null when it is (only the Default experiment, no runs, no models).</summary>
    public async Task<string?> NotEmptyReasonAsync(CancellationToken ct = default)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var experiments = await db.Experiments.CountAsync(e => e.Id != Experiment.DefaultId, ct);
        var runs = await db.Runs.CountAsync(ct);
        var models = await db.RegisteredModels.CountAsync(ct);
        return experiments + runs + models == 0
            ? null
            : string.Create(Inv, $"the database is not empty ({experiments} experiments besides Default, {runs} runs, {models} registered models). ") +
              "The demo fills only an empty database, so that it never mixes with real runs: point it at a new database " +
              "(for example ConnectionStrings__Dashboard=\"Data Source=data/demo.db\" and Dashboard__Artifacts__Root=data/demo-artifacts) " +
              "or delete data/dashboard.db and data/artifacts first.";
    }

    /// <summary>
    /// Seeds the demo; <paramref name="largeSweepRuns"/> adds an experiment of that many runs (params and curves, no
    /// artifacts) for performance trials. Refuses a database that is not empty (<see cref="DemoDatabaseNotEmptyException"/>).
    /// </summary>
    public async Task<DemoSeedSummary> SeedAsync(int largeSweepRuns = 0, int seed = DefaultSeed, IProgress<string>? progress = null,
        CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(largeSweepRuns);
        if (await NotEmptyReasonAsync(ct) is { } reason)
        {
            throw new DemoDatabaseNotEmptyException("Not seeding: " + reason);
        }
        var started = System.Diagnostics.Stopwatch.StartNew();
        // Training fills the first five weeks of the last two months, the registry's story the last three weeks
        // (about ten days of it): every time is in the past, and recent enough for "last 30 days" to find it.
        var today = new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date, TimeSpan.Zero);
        var clock = new DemoClock(today.AddDays(-60).AddHours(8));
        var run = new Seeding(dbs, store, clock, new Random(seed));

        var planned = new List<(DemoExperimentSpec Spec, List<(DemoRunPlan Plan, string Id)> Runs)>();
        foreach (var spec in DemoPlan.Experiments)
        {
            progress?.Report($"experiment {spec.Name}");
            planned.Add((spec, await run.ExperimentAsync(spec, ct)));
            clock.Advance(TimeSpan.FromDays(3.5));
        }
        clock.Set(today.AddDays(-20).AddHours(9));
        await run.RegistryAsync(planned, ct);
        if (largeSweepRuns > 0)
        {
            await run.LargeSweepAsync(largeSweepRuns, progress, ct);
        }
        return run.Summary(started.Elapsed);
    }

    /// <summary>The demo's time: set and advanced by the seeder, read by the services it made.</summary>
    private sealed class DemoClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; private set; } = start;

        public void Advance(TimeSpan by) => Now += by;

        public void Set(DateTimeOffset at) => Now = at > Now ? at : Now + TimeSpan.FromMilliseconds(1);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>One seeding: the services over the demo's clock, the random source, and the counts.</summary>
    private sealed class Seeding
    {
        private readonly IArtifactStore _store;
        private readonly DemoClock _clock;
        private readonly Random _rng;
        private readonly ExperimentService _experiments;
        private readonly RunService _runs;
        private readonly RegistryService _registry;
        private int _experimentCount, _runCount, _failed, _killed, _files, _models, _versions, _aliases;
        private long _points;

        public Seeding(IDbContextFactory<DashboardDbContext> dbs, IArtifactStore store, DemoClock clock, Random rng)
        {
            _store = store;
            _clock = clock;
            _rng = rng;
            _experiments = new ExperimentService(dbs, clock);
            _runs = new RunService(dbs, clock);
            var loggedModels = new LoggedModelService(dbs, clock);
            _registry = new RegistryService(dbs, clock, new ModelSourceResolver(dbs), loggedModels, new RegistrySearchService(dbs));
        }

        public DemoSeedSummary Summary(TimeSpan elapsed) =>
            new(_experimentCount, _runCount, _failed, _killed, _points, _files, _models, _versions, _aliases, elapsed);

        public async Task<List<(DemoRunPlan Plan, string Id)>> ExperimentAsync(DemoExperimentSpec spec, CancellationToken ct)
        {
            var id = (await _experiments.CreateExperimentAsync(spec.Name, null,
            [
                new("task", spec.Task), new("team", spec.Team), new("framework", DemoPlan.Framework), new("mlflow.note.content", spec.Note),
            ], ct)).ToString(Inv);
            _experimentCount++;
            var start = _clock.Now.ToUnixTimeMilliseconds() + 60_000;

            string? parentId = null;
            if (spec.ParentRunName is { } parentName)
            {
                var parent = await _runs.CreateRunAsync(id, spec.Users[0], parentName, start, SystemTags(spec, spec.Users[0], Commit(), null,
                    $"Search over {string.Join(", ", spec.Grid.Select(g => g.Key))}: {DemoPlan.Configurations(spec).Count} trials, nested below."), ct);
                parentId = parent.Id;
                _runCount++;
            }

            var made = new List<(DemoRunPlan, string)>();
            foreach (var config in DemoPlan.Configurations(spec))
            {
                var plan = DemoPlan.Run(spec, config, DemoPlan.RunName(spec, config), start, _rng);
                var runId = await StoreRunAsync(id, plan, parentId, withArtifacts: true, ct);
                made.Add((plan, runId));
                start = plan.EndTime + (60_000L * (1 + _rng.Next(10)));
            }

            if (parentId is not null)
            {
                var best = made.Where(m => m.Item1.Status == "FINISHED").MaxBy(m => m.Item1.Primary);
                await _runs.LogBatchAsync(parentId, [new MetricInput("best_" + spec.PrimaryMetric, best.Item1.Primary, start, 0)],
                    [new("trials", made.Count.ToString(Inv)), new("search", "grid")], [new("best_run_id", best.Item2)], ct);
                _points++;
                await _runs.UpdateRunAsync(parentId, "FINISHED", start, null, ct);
            }

            // The three best finished runs saved their model, as a script does at the end of a good run.
            foreach (var (plan, runId) in made.Where(m => m.Item1.Status == "FINISHED").OrderByDescending(m => m.Item1.Primary).Take(3))
            {
                await LogModelAsync(plan, runId, ct);
            }
            _clock.Set(DateTimeOffset.FromUnixTimeMilliseconds(start));
            return made;
        }

        private async Task<string> StoreRunAsync(string experimentId, DemoRunPlan plan, string? parentId, bool withArtifacts, CancellationToken ct)
        {
            var spec = plan.Experiment;
            var run = await _runs.CreateRunAsync(experimentId, plan.User, plan.Name, plan.StartTime,
                SystemTags(spec, plan.User, plan.GitCommit, parentId, plan.Note), ct);
            _runCount++;

            var metrics = new List<MetricInput>();
            var epochMs = (plan.EndTime - plan.StartTime - 15_000) / Math.Max(1, plan.EpochsLogged);
            foreach (var (key, values) in plan.Curves)
            {
                for (var e = 0; e < values.Length; e++)
                {
                    metrics.Add(new MetricInput(key, values[e], plan.StartTime + 10_000 + (epochMs * (e + 1)), e));
                }
            }
            var @params = plan.Params.Select(p => new KeyValueInput(p.Key, p.Value)).ToList();
            foreach (var chunk in metrics.Chunk(1000).DefaultIfEmpty([]))
            {
                await _runs.LogBatchAsync(run.Id, chunk, @params, null, ct);
                @params = [];
            }
            _points += metrics.Count;

            await _runs.LogInputsAsync(run.Id,
            [
                Dataset(spec.Dataset, "train"),
                Dataset(spec.Dataset with { Name = spec.Dataset.Name.Replace("-train", "", StringComparison.Ordinal) + "-eval", Rows = spec.Dataset.Rows / 6 }, "eval"),
            ], null, ct);

            if (withArtifacts && ArtifactLocations.StorePath(run.ArtifactUri) is { } root)
            {
                await WriteAsync(root, "metrics.csv", Encoding.UTF8.GetBytes(DemoArtifacts.MetricsCsv(plan)), ct);
                await WriteAsync(root, "plots/loss_curve.png", DemoArtifacts.LossPlot(plan), ct);
            }
            await _runs.UpdateRunAsync(run.Id, plan.Status, plan.EndTime, null, ct);
            if (plan.Status == "FAILED")
            {
                _failed++;
            }
            else if (plan.Status == "KILLED")
            {
                _killed++;
            }
            return run.Id;
        }

        private async Task LogModelAsync(DemoRunPlan plan, string runId, CancellationToken ct)
        {
            var run = await _runs.GetRunAsync(runId, ct);
            var root = ArtifactLocations.StorePath(run.ArtifactUri) ?? throw new InvalidOperationException("Demo runs live in the store.");
            var uuid = Convert.ToHexStringLower(BitConverter.GetBytes(_rng.NextInt64())) + Convert.ToHexStringLower(BitConverter.GetBytes(_rng.NextInt64()));
            var created = DateTimeOffset.FromUnixTimeMilliseconds(plan.EndTime - 5_000).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", Inv);
            await WriteAsync(root, "model/MLmodel", Encoding.UTF8.GetBytes(DemoArtifacts.Mlmodel(plan, runId, uuid, created)), ct);
            await WriteAsync(root, "model/requirements.txt", Encoding.UTF8.GetBytes(DemoArtifacts.Requirements(plan)), ct);
            await WriteAsync(root, "model/conda.yaml", Encoding.UTF8.GetBytes(DemoArtifacts.Conda(plan)), ct);
            await WriteAsync(root, "model/python_env.yaml", Encoding.UTF8.GetBytes(DemoArtifacts.PythonEnv), ct);
            await WriteAsync(root, "model/model.pdmodel", Encoding.UTF8.GetBytes(DemoArtifacts.Program(plan)), ct);
            // Stand-ins for the weights (a real file is megabytes): a few seeded bytes, as the recorded sessions' stub.
            var weights = new byte[64];
            _rng.NextBytes(weights);
            await WriteAsync(root, "model/model.pdiparams", weights, ct);
            await _runs.LogModelAsync(runId, DemoArtifacts.ModelJson(runId, uuid, created), ct);
        }

        private async Task WriteAsync(ArtifactPath root, string relative, byte[] content, CancellationToken ct)
        {
            using var stream = new MemoryStream(content, writable: false);
            await _store.WriteAsync(root.Append(ArtifactPath.Parse(relative, "path")), stream, ct);
            _files++;
        }

        private static DatasetInputSpec Dataset(DemoDataset d, string context) => new(
            new DatasetSpec(d.Name, Digest(d.Name), d.SourceType, $$"""{"uri": "{{d.Source}}"}""", d.Schema,
                string.Create(Inv, $$"""{"num_rows": {{d.Rows}}}""")),
            [new("mlflow.data.context", context)]);

        /// <summary>MLflow's dataset digests are 8 hex characters of a hash of the content; here, of the name.</summary>
        private static string Digest(string name) =>
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..8];

        private static List<KeyValueInput> SystemTags(DemoExperimentSpec spec, string user, string commit, string? parentId, string? note)
        {
            var tags = new List<KeyValueInput>
            {
                new(RunService.UserTag, user),
                new("mlflow.source.name", spec.Script),
                new("mlflow.source.type", "LOCAL"),
                new("mlflow.source.git.commit", commit),
                new("task", spec.Task),
                new("framework", DemoPlan.Framework),
            };
            if (parentId is not null)
            {
                tags.Add(new("mlflow.parentRunId", parentId));
            }
            if (note is not null)
            {
                tags.Add(new("mlflow.note.content", note));
            }
            return tags;
        }

        private string Commit() =>
            Convert.ToHexStringLower(BitConverter.GetBytes(_rng.NextInt64())) + Convert.ToHexStringLower(BitConverter.GetBytes(_rng.NextInt64()))
            + Convert.ToHexStringLower(BitConverter.GetBytes(_rng.Next()));

        // ---- Registry ----------------------------------------------------------------------------------------------

        private static readonly Actor Li = new("li.wei"), Maria = new("maria.garcia"), Zhang = new("zhang.min"), Sam = new("sam.okafor");

        /// <summary>
        /// Six registered models from the experiments' best runs, each with a small story told through the registry's
        /// own operations (so the history timeline has it): versions promoted to Production with the older ones
        /// archived, a challenger in Staging, and a champion alias moved from one version to the next.
        /// </summary>
        public async Task RegistryAsync(List<(DemoExperimentSpec Spec, List<(DemoRunPlan Plan, string Id)> Runs)> planned, CancellationToken ct)
        {
            List<string> Best(string experiment, int count) =>
                [.. planned.Single(p => p.Spec.Name == experiment).Runs.Where(r => r.Plan.Status == "FINISHED")
                    .OrderByDescending(r => r.Plan.Primary).Take(count).Select(r => r.Id).Reverse()];

            // Versions in the order they were registered: the weakest of the three first, the best last.
            await ModelAsync("mnist-simplecnn", "mnist", "Digit classifier for the form-scanning service (28×28 grayscale, 10 classes).",
                Best("mnist-simplecnn", 3), Li, async (name, v) =>
                {
                    await StageAsync(name, v[0], ModelStage.Production, false, Li);
                    await AliasAsync(name, "champion", v[0], Li);
                    await StageAsync(name, v[1], ModelStage.Production, true, Maria);
                    await AliasAsync(name, "champion", v[1], Maria);
                    await StageAsync(name, v[2], ModelStage.Staging, false, Li);
                    await AliasAsync(name, "challenger", v[2], Li);
                }, ct);
            await ModelAsync("mnist-resnet18", "mnist", "ResNet18 on MNIST: more accurate, four times the latency of SimpleCNN.",
                Best("mnist-resnet18", 2), Maria, async (name, v) =>
                {
                    await StageAsync(name, v[0], ModelStage.Staging, false, Maria);
                    await StageAsync(name, v[0], ModelStage.Production, false, Maria);
                    await AliasAsync(name, "champion", v[0], Maria);
                }, ct);
            await ModelAsync("OCR CRNN recognizer", "ocr", "Text-line recognition for invoices (Chinese and English), CRNN with CTC.",
                Best("ocr-crnn-recognition", 3), Zhang, async (name, v) =>
                {
                    await StageAsync(name, v[0], ModelStage.Production, false, Zhang);
                    await AliasAsync(name, "champion", v[0], Zhang);
                    await StageAsync(name, v[1], ModelStage.Staging, false, Sam);
                    await StageAsync(name, v[1], ModelStage.Production, true, Zhang);
                    await AliasAsync(name, "champion", v[1], Zhang);
                    await StageAsync(name, v[2], ModelStage.Staging, false, Sam);
                    await AliasAsync(name, "challenger", v[2], Sam);
                }, ct);
            await ModelAsync("ocr-dbnet-detector", "ocr", "Text detection (DBNet) in front of the recognizer.",
                Best("ocr-dbnet-detection", 1), Zhang, async (name, v) =>
                {
                    await StageAsync(name, v[0], ModelStage.Staging, false, Zhang);
                    await AliasAsync(name, "challenger", v[0], Zhang);
                }, ct);
            await ModelAsync("ernie-3.0 sentiment", "text-classification", "Review sentiment (ChnSentiCorp), ERNIE 3.0 medium.",
                Best("text-classification-ernie", 2), Sam, async (name, v) =>
                {
                    await StageAsync(name, v[0], ModelStage.Production, false, Sam);
                    await AliasAsync(name, "champion", v[0], Sam);
                    await StageAsync(name, v[1], ModelStage.Staging, false, Li);
                    await AliasAsync(name, "challenger", v[1], Li);
                }, ct);
            await ModelAsync("bilstm-sentiment", "text-classification", "Superseded by \"ernie-3.0 sentiment\"; kept for comparison.",
                Best("text-classification-bilstm", 1), Sam, async (name, v) =>
                {
                    await StageAsync(name, v[0], ModelStage.Production, false, Sam);
                    await StageAsync(name, v[0], ModelStage.Archived, false, Sam);
                }, ct);
        }

        private async Task ModelAsync(string name, string task, string description, List<string> runIds, Actor owner,
            Func<string, List<string>, Task> story, CancellationToken ct)
        {
            await _registry.CreateRegisteredModelAsync(name, [new("task", task), new("framework", DemoPlan.Framework), new("owner", owner.Name)],
                description, owner, ct);
            _models++;
            var versions = new List<string>();
            foreach (var runId in runIds)
            {
                _clock.Advance(TimeSpan.FromHours(2 + _rng.Next(6)));
                var v = await _registry.CreateModelVersionAsync(name, $"runs:/{runId}/model", runId,
                    [new("validation_status", "passed"), new("paddle_version", DemoPlan.PaddleVersion)], null,
                    $"Trained by run {runId[..8]}; see its curves and params.", null, owner, ct);
                versions.Add(v.Version.Version.ToString(Inv));
                _versions++;
            }
            await story(name, versions);
        }

        private async Task StageAsync(string name, string version, string stage, bool archive, Actor actor)
        {
            _clock.Advance(TimeSpan.FromHours(2 + _rng.Next(12)));
            await _registry.TransitionStageAsync(name, version, stage, archive, actor);
        }

        private async Task AliasAsync(string name, string alias, string version, Actor actor)
        {
            _clock.Advance(TimeSpan.FromMinutes(10 + _rng.Next(120)));
            await _registry.SetAliasAsync(name, alias, version, actor);
            _aliases++;
        }

        // ---- The large sweep -----------------------------------------------------------------------------------

        public async Task LargeSweepAsync(int count, IProgress<string>? progress, CancellationToken ct)
        {
            var spec = DemoPlan.LargeSweep;
            var id = (await _experiments.CreateExperimentAsync(spec.Name, null,
                [new("task", spec.Task), new("framework", DemoPlan.Framework), new("mlflow.note.content", spec.Note)], ct)).ToString(Inv);
            _experimentCount++;
            // Spread over the last 30 days whatever the count, so that no run starts in the future.
            var start = DateTimeOffset.UtcNow.AddDays(-30).ToUnixTimeMilliseconds();
            var step = 30L * 86_400_000 / count;
            string[] optimizers = ["sgd", "momentum", "adam"];
            string[] batches = ["16", "32", "64", "128", "256"];
            for (var i = 0; i < count; i++)
            {
                // A random search: learning rates log-uniform over four decades.
                var config = new Dictionary<string, string>(spec.FixedParams, StringComparer.Ordinal)
                {
                    ["learning_rate"] = Math.Pow(10, -4 + (3 * _rng.NextDouble())).ToString("G3", Inv),
                    ["batch_size"] = batches[_rng.Next(batches.Length)],
                    ["optimizer"] = optimizers[_rng.Next(optimizers.Length)],
                };
                var plan = DemoPlan.Run(spec, config, string.Create(Inv, $"trial-{i:D6}"), start, _rng);
                await StoreRunAsync(id, plan, null, withArtifacts: false, ct);
                start += step;
                if ((i + 1) % 1000 == 0)
                {
                    progress?.Report(string.Create(Inv, $"large sweep: {i + 1:N0} of {count:N0} runs"));
                }
            }
        }
    }
}
