using Dashboard.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Dashboard.Core.Tests.Support;

/// <summary>
/// A fresh, migrated database for one test: a SQLite file in a temporary folder, or a new database on the
/// PostgreSQL server that ./test.sh starts (DASHBOARD_TEST_POSTGRES holds its admin connection string).
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string PostgresVariable = "DASHBOARD_TEST_POSTGRES";

    private readonly ServiceProvider _services;
    private readonly Func<Task> _cleanup;

    private TestDatabase(ServiceProvider services, DatabaseOptions options, Func<Task> cleanup)
    {
        _services = services;
        Options = options;
        _cleanup = cleanup;
        Factory = services.GetRequiredService<IDbContextFactory<DashboardDbContext>>();
    }

    public IDbContextFactory<DashboardDbContext> Factory { get; }

    public DatabaseOptions Options { get; }

    public DatabaseProvider Provider => Options.Provider;

    /// <summary>The providers tests run on here: SQLite always; PostgreSQL when the test script started one.</summary>
    public static TheoryData<DatabaseProvider> Providers
    {
        get
        {
            var data = new TheoryData<DatabaseProvider> { DatabaseProvider.Sqlite };
            if (PostgresAdminConnectionString is not null)
            {
                data.Add(DatabaseProvider.PostgreSql);
            }
            return data;
        }
    }

    public static string? PostgresAdminConnectionString =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } cs ? cs : null;

    public static async Task<TestDatabase> CreateAsync(DatabaseProvider provider, TimeProvider? time = null)
    {
        var (options, cleanup) = provider switch
        {
            DatabaseProvider.Sqlite => CreateSqlite(),
            DatabaseProvider.PostgreSql => await CreatePostgresAsync(),
            _ => throw new NotSupportedException($"No {provider} server in this test run."),
        };
        var services = new ServiceCollection().AddDashboardDatabase(options).BuildServiceProvider();
        var db = new TestDatabase(services, options, cleanup);
        await DashboardDatabase.InitializeAsync(db.Factory, options, time ?? TimeProvider.System);
        return db;
    }

    /// <summary>A new database of the kind the provider names, migrated, for tests that manage the host themselves.</summary>
    public static async Task<(DatabaseOptions Options, Func<Task> Cleanup)> CreateEmptyAsync(DatabaseProvider provider) =>
        provider == DatabaseProvider.Sqlite ? CreateSqlite() : await CreatePostgresAsync();

    private static (DatabaseOptions, Func<Task>) CreateSqlite()
    {
        var folder = Path.Combine(Path.GetTempPath(), "dashboard-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var options = new DatabaseOptions
        {
            Provider = DatabaseProvider.Sqlite,
            ConnectionString = $"Data Source={Path.Combine(folder, "dashboard.db")};Pooling=False",
        };
        return (options, () =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // A file still open by a finalizing connection; the temp folder is cleaned by the OS.
            }
            return Task.CompletedTask;
        });
    }

    private static async Task<(DatabaseOptions, Func<Task>)> CreatePostgresAsync()
    {
        var admin = PostgresAdminConnectionString
            ?? throw new InvalidOperationException($"{PostgresVariable} is not set: run the tests through ./test.sh.");
        var name = "dash_" + Guid.NewGuid().ToString("N");
        await using (var conn = new NpgsqlConnection(admin))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name };
        var options = new DatabaseOptions { Provider = DatabaseProvider.PostgreSql, ConnectionString = builder.ToString() };
        return (options, async () =>
        {
            NpgsqlConnection.ClearAllPools();
            await using var conn = new NpgsqlConnection(admin);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", conn);
            await cmd.ExecuteNonQueryAsync();
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        if (Provider == DatabaseProvider.Sqlite)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
        await _cleanup();
    }
}
