using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Search;
using Dashboard.Tracking;

namespace Dashboard.Core.Tests.Search;

public class BestRunsServiceTests
{
    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Finds_the_top_runs_of_a_tag_across_experiments_by_a_metric_in_either_direction(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var one = await database.ExperimentAsync("one");
        var two = await database.ExperimentAsync("two");
        var gone = await database.ExperimentAsync("gone", stage: LifecycleStage.Deleted);
        await database.AddAsync(
            Make.Run(one, "a", 1).Tag("task", "ocr").Metric("loss", 0.3).Param("lr", "0.1"),
            Make.Run(two, "b", 2).Tag("task", "ocr").Metric("loss", 0.1).Param("lr", "0.01"),
            Make.Run(two, "c", 3).Tag("task", "ocr").Metric("loss", 0.2),
            Make.Run(two, "nan", 4).Tag("task", "ocr").Metric("loss", double.NaN),
            Make.Run(two, "none", 5).Tag("task", "ocr"),
            Make.Run(two, "other", 6).Tag("task", "asr").Metric("loss", 0.01),
            Make.Run(two, "deleted", 7, stage: LifecycleStage.Deleted).Tag("task", "ocr").Metric("loss", 0.0),
            Make.Run(gone, "in-deleted", 8).Tag("task", "ocr").Metric("loss", 0.0));
        var service = new BestRunsService(database.Factory, new RunSearchService(database.Factory));
        var ct = TestContext.Current.CancellationToken;

        var best = await service.TopAsync(BestScope.Tag("task", "ocr"), "loss", MetricGoal.Min, 2, ct);
        best.Runs.Select(r => r.Name).ShouldBe(["b", "c"]);
        best.Runs[0].Params.Single().Value.ShouldBe("0.01");
        best.Experiments[two].ShouldBe("two");

        (await service.TopAsync(BestScope.Tag("task", "ocr"), "loss", MetricGoal.Max, 10, ct)).Runs.Select(r => r.Name).ShouldBe(["a", "c", "b"]);
        (await service.TopAsync(BestScope.Experiment(one), "loss", MetricGoal.Min, 10, ct)).Runs.Select(r => r.Name).ShouldBe(["a"]);
        (await service.TopAsync(BestScope.Tag("task", "it's"), "loss", MetricGoal.Min, 10, ct)).Runs.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("task:ocr", "task", "ocr")]
    [InlineData("task=ocr", "task", "ocr")]
    [InlineData("stage:a=b", "stage:a", "b")]
    [InlineData("url=http://x", "url", "http://x")]
    [InlineData("task:", "task", "")]
    public void Reads_a_tag_scope_as_key_and_value(string text, string key, string value) =>
        BestScope.ParseTag(text).ShouldBe(BestScope.Tag(key, value));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ocr")]
    [InlineData(":ocr")]
    public void Refuses_a_tag_scope_without_a_key_or_separator(string? text) => BestScope.ParseTag(text).ShouldBeNull();
}
