using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Search;
using Dashboard.Tracking;

namespace Dashboard.Core.Tests.Search;

public class RunComparisonTests
{
    [Fact]
    public void Lines_params_up_by_key_and_marks_the_rows_whose_values_differ_or_are_missing()
    {
        var a = Make.Run(1, "a", 1).Param("lr", "0.1").Param("opt", "adam").Param("seed", "1");
        var b = Make.Run(1, "b", 2).Param("lr", "0.1").Param("opt", "sgd");
        var c = Make.Run(2, "c", 3).Param("lr", "0.1").Param("opt", "adam").Param("seed", "1");

        var rows = RunComparison.Params([a, b, c]);

        rows.Select(r => r.Key).ShouldBe(["lr", "opt", "seed"]);
        rows.Select(r => r.Differs).ShouldBe([false, true, true]);
        rows[2].Values.ShouldBe(["1", null, "1"]);
    }

    [Fact]
    public void Picks_the_best_run_per_metric_in_either_direction_leaving_nan_out()
    {
        var a = Make.Run(1, "a", 1).Metric("loss", 0.5).Metric("acc", double.NaN);
        var b = Make.Run(1, "b", 2).Metric("loss", 0.2).Metric("acc", 0.7);
        var c = Make.Run(1, "c", 3).Metric("loss", 0.2).Metric("acc", 0.9);
        Run[] runs = [a, b, c];

        RunComparison.Best(runs, "loss", MetricGoal.Min).ShouldBe(new BestOfMetric("loss", MetricGoal.Min, b, 0.2, 3));
        RunComparison.Best(runs, "loss", MetricGoal.Max).Best.ShouldBe(a);
        RunComparison.Best(runs, "acc", MetricGoal.Max).ShouldBe(new BestOfMetric("acc", MetricGoal.Max, c, 0.9, 2));
        RunComparison.Best(runs, "acc", MetricGoal.Min).Best.ShouldBe(b);
        RunComparison.Best(runs, "missing", MetricGoal.Min).ShouldBe(new BestOfMetric("missing", MetricGoal.Min, null, null, 0));
        RunComparison.MetricKeys(runs).ShouldBe(["acc", "loss"]);
    }

    [Theory]
    [InlineData("loss", MetricGoal.Min)]
    [InlineData("val_loss", MetricGoal.Min)]
    [InlineData("train/loss", MetricGoal.Min)]
    [InlineData("test.WER", MetricGoal.Min)]
    [InlineData("rmse", MetricGoal.Min)]
    [InlineData("epoch_time_s", MetricGoal.Min)]
    [InlineData("latency_ms", MetricGoal.Min)]
    [InlineData("perplexity", MetricGoal.Min)]
    [InlineData("accuracy", MetricGoal.Max)]
    [InlineData("val_acc", MetricGoal.Max)]
    [InlineData("f1", MetricGoal.Max)]
    [InlineData("auc", MetricGoal.Max)]
    [InlineData("glossary_hits", MetricGoal.Max)]
    [InlineData("items", MetricGoal.Max)]
    public void Guesses_the_direction_of_a_metric_from_its_name(string metric, MetricGoal goal) =>
        RunComparison.DefaultGoal(metric).ShouldBe(goal);

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Loads_runs_of_several_experiments_in_the_order_asked_with_their_data_and_experiment_names(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var one = await database.ExperimentAsync("one");
        var two = await database.ExperimentAsync("two");
        var a = Make.Run(one, "a", 1).Param("lr", "0.1").Metric("loss", 1);
        var b = Make.Run(two, "b", 2).Param("lr", "0.2").Metric("loss", 2).Tag("team", "ocr");
        await database.AddAsync(a, b);

        var (runs, experiments) = await new RunComparison(database.Factory)
            .LoadAsync([b.Id, "0123456789abcdef0123456789abcdef", a.Id, b.Id], TestContext.Current.CancellationToken);

        runs.Select(r => r.Name).ShouldBe(["b", "a"]);
        runs[0].Params.Single().Value.ShouldBe("0.2");
        runs[0].Tags.ShouldContain(t => t.Key == "team");
        runs[1].LatestMetrics.Single().Value.ShouldBe(1);
        experiments.ShouldBe(new Dictionary<long, string> { [one] = "one", [two] = "two" }, ignoreOrder: true);
    }
}
