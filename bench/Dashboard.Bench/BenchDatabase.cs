using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Dashboard.Bench;

/// <summary>A fresh database for one provider: a new SQLite file, or a new database in the PostgreSQL cluster.</summary>
public sealed class BenchDatabase
{
    private BenchDatabase(Provider provider, string serverConnectionString, string benchConnectionString)
    {
        Provider = provider;
        ServerConnectionString = serverConnectionString;
        BenchConnectionString = benchConnectionString;
    }

    public Provider Provider { get; }

    /// <summary>What the server is given (its defaults otherwise: WAL and a 30 s busy timeout for SQLite).</summary>
    public string ServerConnectionString { get; }

    /// <summary>What the bench's own bulk writes use: the same file or database, no pooling.</summary>
    public string BenchConnectionString { get; }

    public static async Task<BenchDatabase> CreateAsync(Provider provider, BenchOptions options, string workDir)
    {
        if (provider == Provider.Sqlite)
        {
            SQLitePCL.Batteries_V2.Init();
            var path = Path.Combine(workDir, "data", "dashboard.db");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            foreach (var f in new[] { path, path + "-wal", path + "-shm" })
            {
                File.Delete(f);
            }
            return new BenchDatabase(provider, $"Data Source={path}",
                // Foreign keys on, as EF Core turns them on for the server's connections: the ceiling pays the same checks.
                new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, DefaultTimeout = 60, ForeignKeys = true }.ToString());
        }

        var admin = new NpgsqlConnectionStringBuilder(options.PostgresAdmin);
        var name = "dashboard_bench_" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        await using (var conn = new NpgsqlConnection(admin.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var server = new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = name };
        var bench = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Pooling = false, CommandTimeout = 600 };
        return new BenchDatabase(provider, server.ConnectionString, bench.ConnectionString);
    }

    public SqliteConnection OpenSqlite()
    {
        var c = new SqliteConnection(BenchConnectionString);
        c.Open();
        return c;
    }

    public async Task<NpgsqlConnection> OpenPostgresAsync()
    {
        var c = new NpgsqlConnection(BenchConnectionString);
        await c.OpenAsync();
        return c;
    }

    /// <summary>The engine's version and the durability settings that decide the cost of a commit.</summary>
    public async Task<string> DescribeAsync()
    {
        if (Provider == Provider.Sqlite)
        {
            using var c = OpenSqlite();
            return $"SQLite {Scalar(c, "select sqlite_version()")}, journal_mode={Scalar(c, "pragma journal_mode")}, " +
                   $"synchronous={Scalar(c, "pragma synchronous")} (0 off, 1 normal, 2 full)";
        }
        await using var pg = await OpenPostgresAsync();
        async Task<string> Pg(string sql)
        {
            await using var cmd = new NpgsqlCommand(sql, pg);
            return Convert.ToString(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture) ?? "";
        }
        var version = (await Pg("show server_version")).Split(' ')[0];
        return $"PostgreSQL {version}, fsync={await Pg("show fsync")}, synchronous_commit={await Pg("show synchronous_commit")}, " +
               $"shared_buffers={await Pg("show shared_buffers")}";
    }

    private static string Scalar(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToString(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) ?? "";
    }
}
