using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Core.Tests.Tracking;

public class LatestMetricTests
{
    [Fact]
    public void The_latest_point_is_the_max_by_step_then_timestamp_then_value_with_NaN_lowest()
    {
        var rows = new List<MetricRow>
        {
            MetricRow.From("loss", 0.5, timestamp: 10, step: 2),
            MetricRow.From("loss", 0.9, timestamp: 5, step: 3),
            MetricRow.From("loss", 0.1, timestamp: 9, step: 3),
            MetricRow.From("loss", double.NaN, timestamp: 9, step: 3),
            MetricRow.From("acc", double.NaN, timestamp: 1, step: 0),
        };
        var latest = RunService.LatestPerKey(rows).ToDictionary(r => r.Key);
        latest["loss"].ShouldBe(MetricRow.From("loss", 0.1, 9, 3));
        latest["acc"].IsNaN.ShouldBeTrue();
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_later_batch_with_an_earlier_step_does_not_move_the_latest_value(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var runs = new RunService(db.Factory, TimeProvider.System);
        var run = await runs.CreateRunAsync("0", "me", "r", 1, null, ct);
        await runs.LogBatchAsync(run.Id, [new MetricInput("loss", 0.2, 100, 5)], null, null, ct);
        await runs.LogBatchAsync(run.Id, [new MetricInput("loss", 0.9, 200, 4), new MetricInput("loss", double.NaN, 100, 5)], null, null, ct);
        var got = await runs.GetRunAsync(run.Id, ct);
        var loss = got.LatestMetrics.Single(m => m.Key == "loss");
        (loss.Value, loss.Step, loss.Timestamp, loss.IsNaN).ShouldBe((0.2, 5L, 100L, false));

        await runs.LogBatchAsync(run.Id, [new MetricInput("loss", double.PositiveInfinity, 100, 5)], null, null, ct);
        (await runs.GetRunAsync(run.Id, ct)).LatestMetrics.Single().Value.ShouldBe(double.PositiveInfinity);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Exact_duplicate_points_NaN_included_are_stored_once(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var runs = new RunService(db.Factory, TimeProvider.System);
        var run = await runs.CreateRunAsync("0", "me", "r", 1, null, ct);
        MetricInput[] batch = [new("loss", double.NaN, 7, 0), new("loss", 1.5, 7, 1), new("loss", 1.5, 7, 1)];
        await runs.LogBatchAsync(run.Id, batch, null, null, ct);
        await runs.LogBatchAsync(run.Id, batch, null, null, ct);
        await using var ctx = await db.Factory.CreateDbContextAsync(ct);
        (await ctx.Metrics.CountAsync(m => m.RunId == run.Id, ct)).ShouldBe(2);
    }
}
