using Dashboard.Tracking;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Data;

/// <summary>Options of the store: <c>Dashboard:Database:*</c> and <c>ConnectionStrings:Dashboard</c>.</summary>
public sealed class DatabaseOptions
{
    public const string DefaultSqliteConnectionString = "Data Source=data/dashboard.db";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;
    public string ConnectionString { get; set; } = DefaultSqliteConnectionString;

    /// <summary>Apply pending migrations when the server starts (<c>Dashboard:Database:MigrateOnStartup</c>).</summary>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>How often the planner's statistics are refreshed on SQLite (<c>Dashboard:Database:StatisticsInterval</c>).</summary>
    public TimeSpan StatisticsInterval { get; set; } = TimeSpan.FromMinutes(1);
}

public static class DashboardDatabase
{
    /// <summary>
    /// Registers a pooled context factory for the configured provider, exposed to services as
    /// <c>IDbContextFactory&lt;DashboardDbContext&gt;</c>.
    /// </summary>
    public static IServiceCollection AddDashboardDatabase(this IServiceCollection services, DatabaseOptions options)
    {
        services.AddSingleton(options);
        switch (options.Provider)
        {
            case DatabaseProvider.Sqlite:
                var sqlite = PrepareSqlite(options.ConnectionString);
                services.AddPooledDbContextFactory<SqliteDashboardContext>(o => o.UseSqlite(sqlite));
                services.AddSingleton<IDbContextFactory<DashboardDbContext>, Factory<SqliteDashboardContext>>();
                break;
            case DatabaseProvider.PostgreSql:
                services.AddPooledDbContextFactory<PostgresDashboardContext>(o => o.UseNpgsql(options.ConnectionString));
                services.AddSingleton<IDbContextFactory<DashboardDbContext>, Factory<PostgresDashboardContext>>();
                break;
            case DatabaseProvider.SqlServer:
                services.AddPooledDbContextFactory<SqlServerDashboardContext>(o => o.UseSqlServer(options.ConnectionString));
                services.AddSingleton<IDbContextFactory<DashboardDbContext>, Factory<SqlServerDashboardContext>>();
                break;
            default:
                throw new InvalidOperationException($"Unknown database provider '{options.Provider}'.");
        }
        return services;
    }

    /// <summary>Creates the folder of a SQLite file so that the first start needs no set-up.</summary>
    private static string PrepareSqlite(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (!string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:" && builder.Mode != SqliteOpenMode.Memory)
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }
        }
        // Writers wait for each other instead of failing with "database is locked".
        if (builder.DefaultTimeout < 30)
        {
            builder.DefaultTimeout = 30;
        }
        return builder.ToString();
    }

    /// <summary>
    /// Migrates (when configured), switches SQLite to WAL and guarantees experiment "0" named "Default".
    /// Safe to run on every start and from several replicas at once.
    /// </summary>
    public static async Task InitializeAsync(IDbContextFactory<DashboardDbContext> factory, DatabaseOptions options,
        TimeProvider time, CancellationToken ct = default)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        if (db.Provider == DatabaseProvider.Sqlite)
        {
            // WAL lets readers run beside the one writer; the mode is stored in the file.
            await db.Database.OpenConnectionAsync(ct);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }
        if (options.MigrateOnStartup)
        {
            await db.Database.MigrateAsync(ct);
        }
        await EnsureDefaultExperimentAsync(db, time.GetUtcNow().ToUnixTimeMilliseconds(), ct);
        await OptimizeAsync(db, ct);
    }

    /// <summary>
    /// Keeps the query planner's statistics current. SQLite gathers none by itself, and without them it can pick a
    /// plan that reads every run for a search that needs a few hundred (measured: 2 s instead of 3 ms at 100,000 runs).
    /// <c>PRAGMA optimize</c> analyzes only tables whose size changed a lot since their last analysis, sampling at
    /// most <c>analysis_limit</c> rows an index, so it is cheap to run often. A SQLite connection reads the statistics
    /// when it opens, so when they changed, the pooled connections are replaced. PostgreSQL's autovacuum and SQL
    /// Server's automatic statistics do this on their own. Returns whether the statistics changed.
    /// </summary>
    public static async Task<bool> OptimizeAsync(IDbContextFactory<DashboardDbContext> factory, CancellationToken ct = default)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        return await OptimizeAsync(db, ct);
    }

    private static async Task<bool> OptimizeAsync(DashboardDbContext db, CancellationToken ct)
    {
        if (db.Provider != DatabaseProvider.Sqlite)
        {
            return false;
        }
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var before = await StatisticsAsync(db, ct);
            // 0x10002: consider every table, not only those this connection has queried.
            await db.Database.ExecuteSqlRawAsync("PRAGMA analysis_limit=1000; PRAGMA optimize=0x10002;", ct);
            if (await StatisticsAsync(db, ct) == before)
            {
                return false;
            }
            SqliteConnection.ClearPool((SqliteConnection)db.Database.GetDbConnection());
            return true;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task<string> StatisticsAsync(DashboardDbContext db, CancellationToken ct)
    {
        await using var cmd = db.Database.GetDbConnection().CreateCommand();
        // sqlite_stat1 exists once something was analyzed; a statement naming it fails to prepare before that.
        cmd.CommandText = "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'";
        if (Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            return "";
        }
        cmd.CommandText = "SELECT group_concat(tbl || '/' || coalesce(idx, '') || '=' || stat, ';') FROM sqlite_stat1";
        return await cmd.ExecuteScalarAsync(ct) as string ?? "";
    }

    private static async Task EnsureDefaultExperimentAsync(DashboardDbContext db, long now, CancellationToken ct)
    {
        if (await db.Experiments.AnyAsync(e => e.Id == Experiment.DefaultId, ct))
        {
            return;
        }
        var location = ArtifactLocations.ForExperiment(Experiment.DefaultId);
        // Identity columns skip 0, so the row is inserted with an explicit id; a concurrent replica may win the race.
        var sql = db.Provider switch
        {
            DatabaseProvider.Sqlite =>
                "INSERT OR IGNORE INTO experiments (id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (0, {0}, {1}, 'active', {2}, {2})",
            DatabaseProvider.PostgreSql =>
                "INSERT INTO experiments (id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) OVERRIDING SYSTEM VALUE VALUES (0, {0}, {1}, 'active', {2}, {2}) ON CONFLICT DO NOTHING",
            _ =>
                "SET IDENTITY_INSERT experiments ON; IF NOT EXISTS (SELECT 1 FROM experiments WHERE id = 0) INSERT INTO experiments (id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (0, {0}, {1}, 'active', {2}, {2}); SET IDENTITY_INSERT experiments OFF;",
        };
        await db.Database.ExecuteSqlRawAsync(sql, [Experiment.DefaultName, location, now], ct);
    }

    private sealed class Factory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<DashboardDbContext>
        where TContext : DashboardDbContext
    {
        public DashboardDbContext CreateDbContext() => inner.CreateDbContext();

        public async Task<DashboardDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
            await inner.CreateDbContextAsync(cancellationToken);
    }
}
