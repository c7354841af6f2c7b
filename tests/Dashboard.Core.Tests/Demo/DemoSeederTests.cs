using Dashboard.Artifacts;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Demo;
using Dashboard.ModelCards;
using Dashboard.Registry;
using Dashboard.Search;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Core.Tests.Demo;

/// <summary>
/// The demo (--seed-demo) seeded into a fresh database of each provider, looked at as a newcomer would: experiments
/// with grids and nested searches, curves that decay and saturate, failed and killed runs, models in every stage with
/// champion and challenger, history, and artifacts a model card can be read from.
/// </summary>
public sealed class DemoSeederTests : IDisposable
{
    private readonly string _artifacts = Directory.CreateDirectory(Path.Join(Path.GetTempPath(), $"dashboard-demo-{Guid.NewGuid():N}")).FullName;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Seeds_experiments_runs_curves_registered_models_and_readable_artifacts_into_an_empty_database(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var database = await TestDatabase.CreateAsync(provider);
        var store = new LocalArtifactStore(_artifacts);

        var summary = await new DemoSeeder(database.Factory, store).SeedAsync(ct: ct);

        await using var db = await database.Factory.CreateDbContextAsync(ct);
        summary.Experiments.ShouldBe(DemoPlan.Experiments.Count);
        (await db.Experiments.Select(e => e.Name).ToListAsync(ct)).ShouldBe(
            ["Default", "mnist-simplecnn", "mnist-resnet18", "ocr-crnn-recognition", "ocr-dbnet-detection", "text-classification-ernie",
                "text-classification-bilstm"], ignoreOrder: true);
        (await db.ExperimentTags.CountAsync(t => t.Key == "task" && t.Value == "ocr", ct)).ShouldBe(2);

        // A few hundred runs: finished, some failed (diverged), some killed; searches nested under a parent.
        var runs = await db.Runs.CountAsync(ct);
        runs.ShouldBe(summary.Runs);
        runs.ShouldBeInRange(200, 400);
        (await db.Runs.CountAsync(r => r.Status == RunStatus.Failed, ct)).ShouldBe(summary.FailedRuns);
        summary.FailedRuns.ShouldBeGreaterThan(0);
        summary.KilledRuns.ShouldBeGreaterThan(0);
        (await db.RunTags.CountAsync(t => t.Key == "mlflow.parentRunId", ct)).ShouldBeGreaterThan(50);
        foreach (var key in new[] { "mlflow.user", "mlflow.source.name", "mlflow.source.git.commit", "mlflow.runName", "task" })
        {
            (await db.RunTags.CountAsync(t => t.Key == key, ct)).ShouldBe(runs, key);
        }
        (await db.RunTags.CountAsync(t => t.Key == "mlflow.note.content", ct)).ShouldBeGreaterThan(summary.FailedRuns);
        (await db.RunInputs.CountAsync(ct)).ShouldBe(2 * (runs - 3));
        (await db.Metrics.LongCountAsync(ct)).ShouldBe(summary.MetricPoints);

        // The best SimpleCNN run: loss decays, accuracy saturates near 99 %, one point per epoch.
        var search = new RunSearchService(database.Factory);
        var mnist = await db.Experiments.Where(e => e.Name == "mnist-simplecnn").Select(e => e.Id).FirstAsync(ct);
        var best = (await search.SearchAsync(new RunSearchRequest([mnist],
            "attributes.status = 'FINISHED' AND params.optimizer = 'adam'", ViewType.ActiveOnly, 1, ["metrics.val_accuracy DESC"], null), ct)).Items[0];
        var loss = await db.Metrics.Where(m => m.RunId == best.Id && m.Key == "train_loss").OrderBy(m => m.Step).Select(m => m.Value).ToListAsync(ct);
        loss.Count.ShouldBe(10);
        loss[^1].ShouldBeLessThan(loss[0] / 5);
        var accuracy = await db.Metrics.Where(m => m.RunId == best.Id && m.Key == "val_accuracy").OrderBy(m => m.Step).Select(m => m.Value).ToListAsync(ct);
        accuracy[^1].ShouldBeInRange(0.97, 1.0);
        accuracy[0].ShouldBeLessThan(accuracy[^1]);

        // Registered models with versions in every stage (one of mnist-resnet18 left in None), champion and challenger, and a history with an alias move.
        var registry = new RegistryService(database.Factory, TimeProvider.System, new ModelSourceResolver(database.Factory),
            new LoggedModelService(database.Factory, TimeProvider.System), new RegistrySearchService(database.Factory));
        (await db.RegisteredModels.CountAsync(ct)).ShouldBe(6);
        (await db.ModelVersions.Select(v => v.CurrentStage).Distinct().ToListAsync(ct)).ShouldBe(
            [.. ModelStage.All], ignoreOrder: true);
        var ocr = await registry.SearchRegisteredModelsAsync(new RegisteredModelSearchRequest("tags.task = 'ocr'", null, [], null), ct);
        ocr.Items.Select(m => m.Model.Name).ShouldBe(["OCR CRNN recognizer", "ocr-dbnet-detector"]);
        var crnn = await registry.GetModelVersionByAliasAsync("OCR CRNN recognizer", "champion", ct);
        crnn.Version.CurrentStage.ShouldBe(ModelStage.Production);
        (await registry.GetModelVersionByAliasAsync("OCR CRNN recognizer", "challenger", ct)).Version.CurrentStage.ShouldBe(ModelStage.Staging);
        var history = (await registry.GetHistoryAsync("OCR CRNN recognizer", null, null, null, ct)).Items;
        history.ShouldContain(e => e.Kind == RegistryEventKind.AliasSet && e.Alias == "champion" && e.Before == "1" && e.After == "2");
        history.ShouldContain(e => e.Kind == RegistryEventKind.StageChanged && e.Before == ModelStage.Production && e.After == ModelStage.Archived);
        history.Select(e => e.Actor).Distinct().Count().ShouldBeGreaterThan(1);
        history.ShouldAllBe(e => e.Timestamp < DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        // The champion's files are in the store: a model card with the paddle flavor, its signature and requirements.
        var card = await new ModelCardService(database.Factory, store).GetForStorageLocationAsync(crnn.Version.StorageLocation, crnn.Version.RunId,
            null, ct);
        card.ShouldNotBeNull();
        card.Problems.ShouldBeEmpty();
        card.Paddle!.PaddleVersion.ShouldBe("2.6.1");
        card.Versions.Python!.Value.ShouldBe(DemoPlan.PythonVersion);
        card.Signature!.Inputs!.Single().Shape.ShouldBe([-1, 3, 48, 320]);
        card.Requirements!.Packages.Select(p => p.Package).ShouldContain("paddleocr");
        (await new ModelCardService(database.Factory, store).ListForRunAsync(crnn.Version.RunId, ct)).Cards.Count.ShouldBe(1);

        // A plot and a metrics CSV beside every run of the grid.
        var root = ArtifactLocations.StorePath((await db.Runs.FirstAsync(r => r.Id == crnn.Version.RunId, ct)).ArtifactUri)!.Value;
        await using (var png = await store.OpenReadAsync(root.Append(ArtifactPath.Parse("plots/loss_curve.png", "p")), ct))
        {
            var head = new byte[8];
            await png!.Stream.ReadExactlyAsync(head, ct);
            head.ShouldBe(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
        }
        await using (var csv = await store.OpenReadAsync(root.Append(ArtifactPath.Parse("metrics.csv", "p")), ct))
        {
            using var reader = new StreamReader(csv!.Stream);
            (await reader.ReadLineAsync(ct)).ShouldBe("epoch,learning_rate,train_loss,val_loss,val_norm_edit_dis,val_word_acc");
        }
    }

    [Fact]
    public async Task Refuses_a_database_that_is_not_empty_and_writes_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await new RunService(database.Factory, TimeProvider.System).CreateRunAsync("0", "someone", "real work", null, null, ct);

        var e = await Should.ThrowAsync<DemoDatabaseNotEmptyException>(
            () => new DemoSeeder(database.Factory, new LocalArtifactStore(_artifacts)).SeedAsync(ct: ct));

        e.Message.ShouldContain("not empty (0 experiments besides Default, 1 runs, 0 registered models)");
        await using var db = await database.Factory.CreateDbContextAsync(ct);
        (await db.Experiments.CountAsync(ct)).ShouldBe(1);
        (await db.Runs.CountAsync(ct)).ShouldBe(1);
        Directory.EnumerateFileSystemEntries(_artifacts).ShouldBeEmpty();
    }

    [Fact]
    public void Plans_the_same_runs_and_curves_from_the_same_seed()
    {
        static List<string> Plan(int seed)
        {
            var rng = new Random(seed);
            return [.. DemoPlan.Experiments.SelectMany(spec => DemoPlan.Configurations(spec)
                .Select(p => DemoPlan.Run(spec, p, DemoPlan.RunName(spec, p), 0, rng))
                .Select(r => $"{r.Name} {r.Status} {string.Join(",", r.Curves.SelectMany(c => c.Value))}"))];
        }

        Plan(DemoSeeder.DefaultSeed).ShouldBe(Plan(DemoSeeder.DefaultSeed));
        Plan(DemoSeeder.DefaultSeed).ShouldNotBe(Plan(DemoSeeder.DefaultSeed + 1));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_artifacts, recursive: true);
        }
        catch (IOException)
        {
            // In the temporary folder; the OS cleans it.
        }
    }
}
