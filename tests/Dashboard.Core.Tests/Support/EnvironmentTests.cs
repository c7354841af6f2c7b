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

    /// <summary>./test.sh starts the S3 emulator and requires it; without it the S3 store's tests would only skip.</summary>
    [Fact]
    public async Task The_S3_emulator_is_reachable_when_the_test_script_requires_it()
    {
        if (!TestS3.Required)
        {
            return;
        }
        TestS3.Endpoint.ShouldNotBeNull($"{TestS3.RequireVariable}=1 but {TestS3.Variable} is not set");
        using var client = TestS3.CreateClient(TestS3.Endpoint);
        var bucket = await TestS3.CreateBucketAsync(client);
        await TestS3.DeleteBucketAsync(client, bucket);
    }
}
