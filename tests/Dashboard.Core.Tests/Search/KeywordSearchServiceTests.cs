using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Registry;
using Dashboard.Search;
using Dashboard.Tracking;

namespace Dashboard.Core.Tests.Search;

public class KeywordSearchServiceTests
{
    private static async Task<TestDatabase> SeedAsync(DatabaseProvider provider)
    {
        var database = await TestDatabase.CreateAsync(provider);
        var ocr = await database.ExperimentAsync("ocr-receipts", lastUpdateTime: 5000);
        var ocrOld = await database.ExperimentAsync("OCR", lastUpdateTime: 1000);
        var gone = await database.ExperimentAsync("ocr-deleted", stage: LifecycleStage.Deleted);
        var speech = await database.ExperimentAsync("speech");
        await database.AddAsync(
            Make.Run(ocr, "ocr", 100).Param("model", "resnet50"),
            Make.Run(ocr, "ocr-large", 300).Param("model", "vit"),
            Make.Run(ocr, "big-ocr-run", 200),
            Make.Run(ocrOld, "tuned", 400).Param("backbone", "OCR").Param("note", "ocr"),
            Make.Run(speech, "plain", 500).Param("model", "resnet50-ocr"),
            Make.Run(speech, "tagged", 600).Tag("task", "ocr-v2"),
            Make.Run(speech, "described", 700).Tag(KeywordSearchService.DescriptionTag,
                new string('x', 300) + " trained for OCR of receipts " + new string('y', 300)),
            Make.Run(speech, "system", 800).Tag("mlflow.source.name", "ocr.py"),
            Make.Run(speech, "100%_done", 850).Param("pattern", "a_b"),
            Make.Run(speech, "removed", 900, stage: LifecycleStage.Deleted).Param("model", "ocr"),
            Make.Run(gone, "in-deleted-experiment", 1000).Param("model", "ocr"));
        await using var db = await database.Factory.CreateDbContextAsync();
        db.RegisteredModels.AddRange(
            new RegisteredModel { Name = "ocr-detector", LastUpdatedTime = 10 },
            new RegisteredModel { Name = "OCR", LastUpdatedTime = 5 },
            new RegisteredModel { Name = "reader", Description = "Reads receipts with <b>OCR</b>", LastUpdatedTime = 20 },
            new RegisteredModel { Name = "unrelated", LastUpdatedTime = 30 });
        await db.SaveChangesAsync();
        return database;
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Ranks_experiments_and_models_exact_then_prefix_then_contains_case_insensitive_recent_first(DatabaseProvider provider)
    {
        await using var database = await SeedAsync(provider);

        var results = await new KeywordSearchService(database.Factory).SearchAsync("  ocr ", 10, TestContext.Current.CancellationToken);

        results.Text.ShouldBe("ocr");
        results.Experiments.Select(e => (e.Name, e.Match)).ShouldBe([("OCR", KeywordMatch.Exact), ("ocr-receipts", KeywordMatch.Prefix)]);
        results.Models.Select(m => (m.Name, m.Match, m.InDescription)).ShouldBe([
            ("OCR", KeywordMatch.Exact, false), ("ocr-detector", KeywordMatch.Prefix, false), ("reader", KeywordMatch.Contains, true)]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Finds_runs_by_name_param_tag_and_description_each_once_by_its_best_match_leaving_deleted_and_system_tags_out(DatabaseProvider provider)
    {
        await using var database = await SeedAsync(provider);

        var runs = (await new KeywordSearchService(database.Factory).SearchAsync("OCR", 20, TestContext.Current.CancellationToken)).Runs;

        runs.Select(r => (r.RunName, r.Field, r.Key, r.Match)).ShouldBe([
            ("ocr", RunField.Name, null, KeywordMatch.Exact),
            ("tuned", RunField.Param, "backbone", KeywordMatch.Exact),
            ("ocr-large", RunField.Name, null, KeywordMatch.Prefix),
            ("tagged", RunField.Tag, "task", KeywordMatch.Prefix),
            ("big-ocr-run", RunField.Name, null, KeywordMatch.Contains),
            ("described", RunField.Description, null, KeywordMatch.Contains),
            ("plain", RunField.Param, "model", KeywordMatch.Contains),
        ]);
        var description = runs.Single(r => r.Field == RunField.Description).Text;
        description.ShouldContain("trained for OCR of receipts");
        description.Length.ShouldBeLessThan(200);
        description.ShouldStartWith("…");
        runs.First(r => r.RunName == "tuned").ExperimentName.ShouldBe("OCR");
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Searches_like_wildcards_as_typed_and_cuts_each_group_to_the_limit(DatabaseProvider provider)
    {
        await using var database = await SeedAsync(provider);
        var search = new KeywordSearchService(database.Factory);
        var ct = TestContext.Current.CancellationToken;

        (await search.SearchAsync("100%", 10, ct)).Runs.Select(r => r.RunName).ShouldBe(["100%_done"]);
        (await search.SearchAsync("a_b", 10, ct)).Runs.Select(r => r.Text).ShouldBe(["a_b"]);
        (await search.SearchAsync("_", 10, ct)).Runs.Select(r => r.RunName).ShouldBe(["100%_done"]);
        (await search.SearchAsync("%", 10, ct)).Runs.Select(r => r.RunName).ShouldBe(["100%_done"]);
        (await search.SearchAsync("ocr", 2, ct)).Runs.Count.ShouldBe(2);
        (await search.SearchAsync("   ", 2, ct)).ShouldBe(KeywordResults.Empty);
        (await search.SearchAsync("nothing-like-this", 2, ct)).IsEmpty.ShouldBeTrue();
    }
}
