using Dashboard.Data;

namespace Dashboard.Core.Tests.Support;

public class EnvironmentTests
{
    /// <summary>./test.sh starts PostgreSQL and requires it; without it the provider theories would quietly shrink.</summary>
    [Fact]
    public async Task PostgreSQL_is_reachable_when_the_test_script_requires_it()
    {
        if (Environment.GetEnvironmentVariable("DASHBOARD_REQUIRE_POSTGRES") != "1")
        {
            return;
        }
        TestDatabase.PostgresAdminConnectionString.ShouldNotBeNull();
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.PostgreSql);
        await using var ctx = await db.Factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
        ctx.Provider.ShouldBe(DatabaseProvider.PostgreSql);
    }
}
