using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Core.Tests.Data;

public class MigrationTests
{
    public static TheoryData<string> Contexts => ["sqlite", "postgres", "sqlserver"];

    [Theory]
    [MemberData(nameof(Contexts))]
    public void Each_provider_has_migrations_for_the_whole_model(string provider)
    {
        using DashboardDbContext db = provider switch
        {
            "sqlite" => new SqliteDesignFactory().CreateDbContext([]),
            "postgres" => new PostgresDesignFactory().CreateDbContext([]),
            _ => new SqlServerDesignFactory().CreateDbContext([]),
        };
        db.Database.GetMigrations().ShouldNotBeEmpty();
        db.Database.HasPendingModelChanges().ShouldBeFalse(
            $"the {provider} model changed without a migration: run scripts/add-migration.sh <Name>");
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_new_database_is_migrated_and_has_the_default_experiment(DatabaseProvider provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        await using var ctx = await db.Factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
        (await ctx.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken)).ShouldBeEmpty();
        var experiment = await ctx.Experiments.SingleAsync(e => e.Id == 0, TestContext.Current.CancellationToken);
        experiment.Name.ShouldBe("Default");
        experiment.LifecycleStage.ShouldBe(LifecycleStage.Active);
        experiment.ArtifactLocation.ShouldBe("mlflow-artifacts:/0");
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Starting_again_keeps_the_data_and_the_next_experiment_is_1(DatabaseProvider provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        var ct = TestContext.Current.CancellationToken;
        await DashboardDatabase.InitializeAsync(db.Factory, db.Options, TimeProvider.System, ct);
        var experiments = new ExperimentService(db.Factory, TimeProvider.System);
        (await experiments.CreateExperimentAsync("first", null, null, ct)).ShouldBe(1);
        await DashboardDatabase.InitializeAsync(db.Factory, db.Options, TimeProvider.System, ct);
        await using var ctx = await db.Factory.CreateDbContextAsync(ct);
        (await ctx.Experiments.CountAsync(ct)).ShouldBe(2);
    }

    [Fact]
    public async Task SQLite_runs_in_write_ahead_log_mode()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var ctx = await db.Factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
        var mode = await ctx.Database.SqlQueryRaw<string>("SELECT journal_mode AS Value FROM pragma_journal_mode")
            .SingleAsync(TestContext.Current.CancellationToken);
        mode.ShouldBe("wal");
    }
}
