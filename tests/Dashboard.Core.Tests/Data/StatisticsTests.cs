using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Core.Tests.Data;

public class StatisticsTests
{
    [Fact]
    public async Task Optimize_gives_SQLite_statistics_of_the_tables_search_reads()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        var runs = new RunService(db.Factory, TimeProvider.System);
        for (var i = 0; i < 300; i++)
        {
            var run = await runs.CreateRunAsync("0", "me", $"r{i}", i, null, ct);
            await runs.LogBatchAsync(run.Id, [new MetricInput("acc", i / 300.0, 1, 0)], [new KeyValueInput("lr", $"{i % 7}")], null, ct);
        }

        (await DashboardDatabase.OptimizeAsync(db.Factory, ct)).ShouldBeTrue();
        (await DashboardDatabase.OptimizeAsync(db.Factory, ct)).ShouldBeFalse("nothing changed since the last analysis");

        await using var ctx = await db.Factory.CreateDbContextAsync(ct);
        var analyzed = await ctx.Database.SqlQueryRaw<string>("SELECT DISTINCT tbl AS Value FROM sqlite_stat1").ToListAsync(ct);
        analyzed.ShouldContain("runs");
        analyzed.ShouldContain("params");
        analyzed.ShouldContain("latest_metrics");
    }
}
