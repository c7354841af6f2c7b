using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Search;
using Dashboard.Tracking;

namespace Dashboard.Core.Tests.Search;

public class RunTableServiceTests
{
    private static async Task<(TestDatabase Database, long Experiment)> SeedAsync(DatabaseProvider provider)
    {
        var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("table");
        var other = await database.ExperimentAsync("other");
        await database.AddAsync(
            Make.Run(exp, "a1", 100).Param("opt", "adam").Metric("acc", 0.9).Metric("loss", 0.3).Tag("team", "vision"),
            Make.Run(exp, "a2", 200).Param("opt", "adam").Metric("acc", 0.7),
            Make.Run(exp, "a3", 300).Param("opt", "adam").Metric("acc", double.NaN),
            Make.Run(exp, "s1", 400).Param("opt", "sgd").Metric("acc", 0.5),
            Make.Run(exp, "none", 500).Metric("acc", 0.1),
            Make.Run(exp, "gone", 600, stage: LifecycleStage.Deleted).Param("opt", "adam").Param("deleted-only", "x").Metric("acc", 1.0),
            Make.Run(other, "elsewhere", 700).Param("opt", "adam").Param("other-only", "x").Metric("acc", 1.0));
        return (database, exp);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Counts_the_active_runs_that_match(DatabaseProvider provider)
    {
        var (database, exp) = await SeedAsync(provider);
        await using var _ = database;
        var table = new RunTableService(database.Factory);
        var ct = TestContext.Current.CancellationToken;

        (await table.CountAsync([exp], ViewType.ActiveOnly, Filter.Empty, ct)).ShouldBe(5);
        (await table.CountAsync([exp], ViewType.ActiveOnly, FilterParser.Parse("params.opt = 'adam' AND metrics.acc > 0.6"), ct)).ShouldBe(2);
        (await table.CountAsync([exp], ViewType.All, FilterParser.Parse("params.opt = 'adam'"), ct)).ShouldBe(4);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Offers_the_keys_of_the_experiments_active_runs_sorted(DatabaseProvider provider)
    {
        var (database, exp) = await SeedAsync(provider);
        await using var _ = database;

        var keys = await new RunTableService(database.Factory).KeysAsync(exp, TestContext.Current.CancellationToken);

        keys.Params.ShouldBe(["opt"]);
        keys.Metrics.ShouldBe(["acc", "loss"]);
        keys.Tags.ShouldBe(["mlflow.runName", "team"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Groups_matching_runs_by_a_params_value_with_count_best_and_mean_leaving_nan_out(DatabaseProvider provider)
    {
        var (database, exp) = await SeedAsync(provider);
        await using var _ = database;
        var table = new RunTableService(database.Factory);
        var ct = TestContext.Current.CancellationToken;

        var highest = await table.GroupAsync(exp, ViewType.ActiveOnly, Filter.Empty, "opt", "acc", higherIsBetter: true, ct);
        highest.Select(g => (g.Value, g.Count)).ShouldBe([("adam", 3L), ("sgd", 1L), (null, 1L)]);
        highest[0].Best.ShouldBe(0.9);
        highest[0].Mean!.Value.ShouldBe(0.8, 1e-9);

        var lowest = await table.GroupAsync(exp, ViewType.ActiveOnly, FilterParser.Parse("metrics.acc >= 0.5"), "opt", "acc", higherIsBetter: false, ct);
        lowest.Select(g => (g.Value, g.Count, g.Best)).ShouldBe([("adam", 2L, (double?)0.7), ("sgd", 1L, (double?)0.5)]);

        var counts = await table.GroupAsync(exp, ViewType.ActiveOnly, Filter.Empty, "opt", null, higherIsBetter: true, ct);
        counts.Select(g => (g.Value, g.Count, g.Best, g.Mean)).ShouldBe([("adam", 3L, (double?)null, (double?)null), ("sgd", 1L, null, null), (null, 1L, null, null)]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Streams_every_matching_run_in_order_with_the_values_of_the_chosen_keys(DatabaseProvider provider)
    {
        var (database, exp) = await SeedAsync(provider);
        await using var _ = database;
        var runs = new List<Run>();

        await foreach (var chunk in new RunTableService(database.Factory).StreamAsync([exp], ViewType.ActiveOnly, FilterParser.Parse("metrics.acc > 0"),
            OrderByParser.Parse(["metrics.acc DESC"]), new RunKeys(["opt"], ["acc", "loss"], ["team"]), TestContext.Current.CancellationToken))
        {
            runs.AddRange(chunk);
        }

        runs.Select(r => r.Name).ShouldBe(["a1", "a2", "s1", "none"]);
        runs[0].Params.Single().Value.ShouldBe("adam");
        runs[0].LatestMetrics.Select(m => m.Key).Order().ShouldBe(["acc", "loss"]);
        runs[0].Tags.Select(t => t.Key).ShouldBe(["team"]);
        runs[1].LatestMetrics.Select(m => m.Key).ShouldBe(["acc"]);
    }
}
