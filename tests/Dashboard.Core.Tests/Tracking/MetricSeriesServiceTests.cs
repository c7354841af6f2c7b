using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tracking;

namespace Dashboard.Core.Tests.Tracking;

public class MetricSeriesServiceTests
{
    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Reads_a_long_history_downsampled_with_the_spike_NaN_and_infinity_kept(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var runs = new RunService(db.Factory, TimeProvider.System);
        var run = await runs.CreateRunAsync("0", "me", "r", 1, null, ct);
        for (var batch = 0; batch < 5; batch++)
        {
            var metrics = Enumerable.Range(batch * 1000, 1000).Select(i => new MetricInput("loss",
                i == 2345 ? 50 : i == 3000 ? double.NaN : i == 4000 ? double.NegativeInfinity : 1.0 / (i + 1), 1000 + i, i)).ToList();
            await runs.LogBatchAsync(run.Id, metrics, null, null, ct);
        }
        var service = new MetricSeriesService(db.Factory);
        var series = await service.GetAsync(run.Id, "loss", 100, ct);

        series.Total.ShouldBe(5000);
        series.Points.Count.ShouldBeLessThanOrEqualTo(100);
        series.Points[0].ShouldBe(new MetricPoint(0, 1000, 1, false));
        series.Points[^1].Step.ShouldBe(4999);
        series.Last!.Value.Step.ShouldBe(4999);
        series.Points.ShouldContain(p => p.Step == 2345 && p.Value == 50);
        series.Points.ShouldContain(p => p.Step == 4000 && double.IsNegativeInfinity(p.Value));
        // The NaN shares its bucket with finite values: it is not an extreme.
        series.Points.ShouldNotContain(p => p.IsNaN);

        (await service.GetAsync(run.Id, "missing", 100, ct)).ShouldSatisfyAllConditions(
            s => s.Points.ShouldBeEmpty(), s => s.Total.ShouldBe(0), s => s.Last.ShouldBeNull());
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Reads_only_the_points_after_the_last_seen_and_says_when_there_are_too_many(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var runs = new RunService(db.Factory, TimeProvider.System);
        var run = await runs.CreateRunAsync("0", "me", "r", 1, null, ct);
        await runs.LogBatchAsync(run.Id, [new("acc", 0.1, 10, 1), new("acc", 0.2, 20, 2)], null, null, ct);
        var service = new MetricSeriesService(db.Factory);
        var seen = (await service.GetAsync(run.Id, "acc", ct: ct)).Last!.Value;

        // Same step, later timestamps (a NaN among them); a later step. A point that sorts before the last one seen
        // (an earlier step logged late) is not read: live pages show it after a reload.
        await runs.LogBatchAsync(run.Id, [new("acc", 0.3, 30, 2), new("acc", double.NaN, 25, 2), new("acc", 0.5, 40, 3), new("acc", 9, 5, 0)],
            null, null, ct);
        var added = await service.GetAfterAsync(run.Id, "acc", seen, ct: ct);
        added.ShouldNotBeNull();
        added.Select(p => (p.Step, p.Timestamp, p.IsNaN)).ShouldBe([(2L, 25L, true), (2L, 30L, false), (3L, 40L, false)]);
        (await service.GetAfterAsync(run.Id, "acc", added[^1], ct: ct)).ShouldBe([]);
        (await service.GetAfterAsync(run.Id, "acc", seen, limit: 2, ct: ct)).ShouldBeNull();

        var pulse = await service.PulseAsync(run.Id, ct);
        pulse!.Status.ShouldBe(RunStatus.Running);
        pulse.Latest.Single().ShouldBe(new KeyValuePair<string, MetricPoint>("acc", new MetricPoint(3, 40, 0.5, false)));
        (await service.PulseAsync("nope", ct)).ShouldBeNull();
    }

    [Fact]
    public async Task Watchers_hear_of_committed_writes_to_their_run_only_until_they_stop_watching()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        var changes = new RunChanges();
        var runs = new RunService(db.Factory, TimeProvider.System, changes);
        var run = await runs.CreateRunAsync("0", "me", "r", 1, null, ct);
        var other = await runs.CreateRunAsync("0", "me", "o", 1, null, ct);
        var heard = 0;
        var watch = changes.Watch(run.Id, () => Interlocked.Increment(ref heard));
        await runs.LogBatchAsync(run.Id, [new("loss", 1, 1, 0)], null, null, ct);
        await runs.SetTagAsync(run.Id, new KeyValueInput("team", "x"), ct);
        await runs.UpdateRunAsync(run.Id, RunStatus.Finished, 5, null, ct);
        await runs.LogBatchAsync(other.Id, [new("loss", 1, 1, 0)], null, null, ct);
        // A refused write stores nothing and signals nothing.
        await Should.ThrowAsync<Dashboard.Errors.MlflowException>(() => runs.SetTagAsync(run.Id, new KeyValueInput("", "x"), ct));
        heard.ShouldBe(3);
        watch.Dispose();
        watch.Dispose();
        changes.Watchers(run.Id).ShouldBe(0);
        await runs.LogBatchAsync(run.Id, [new("loss", 2, 2, 1)], null, null, ct);
        heard.ShouldBe(3);
    }
}
