using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Dashboard.Data;

public sealed class SqliteDashboardContext(DbContextOptions<SqliteDashboardContext> options) : DashboardDbContext(options)
{
    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        // SQLite has no limit on index entries, so param and tag values can be indexed: search reads the run ids of
        // a filter, and walks an order on a param or tag, from the index alone.
        modelBuilder.Entity<Param>().HasIndex(x => new { x.Key, x.Value, x.RunId });
        modelBuilder.Entity<RunTag>().HasIndex(x => new { x.Key, x.Value, x.RunId });
    }
}

public sealed class PostgresDashboardContext(DbContextOptions<PostgresDashboardContext> options) : DashboardDbContext(options)
{
    public override DatabaseProvider Provider => DatabaseProvider.PostgreSql;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        // A btree entry is limited to about 2.7 kB and values reach 6000/8000 characters, so values get hash
        // indexes (equality only, any length) and keys a btree.
        modelBuilder.Entity<Param>().HasIndex(x => x.Key);
        modelBuilder.Entity<Param>().HasIndex(x => x.Value).HasMethod("hash");
        modelBuilder.Entity<RunTag>().HasIndex(x => x.Key);
        modelBuilder.Entity<RunTag>().HasIndex(x => x.Value).HasMethod("hash");
    }
}

public sealed class SqlServerDashboardContext(DbContextOptions<SqlServerDashboardContext> options) : DashboardDbContext(options)
{
    public override DatabaseProvider Provider => DatabaseProvider.SqlServer;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        // SQL Server's float has no infinities: they are stored as the largest finite doubles (what MLflow 3
        // clients send for them anyway). NaN never reaches the column (is_nan).
        modelBuilder.Entity<Metric>().Property(x => x.Value).HasConversion(v => Finite(v), v => v);
        modelBuilder.Entity<LatestMetric>().Property(x => x.Value).HasConversion(v => Finite(v), v => v);
        modelBuilder.Entity<LoggedModelMetric>().Property(x => x.Value).HasConversion(v => Finite(v), v => v);
        // nvarchar(max) cannot be an index key; keys are indexed and values compared after the seek.
        modelBuilder.Entity<Param>().HasIndex(x => x.Key);
        modelBuilder.Entity<RunTag>().HasIndex(x => x.Key);
    }

    internal static double Finite(double v) =>
        double.IsPositiveInfinity(v) ? double.MaxValue : double.IsNegativeInfinity(v) ? double.MinValue : v;
}

// Design-time factories: `dotnet ef migrations add X --context <Provider>DashboardContext` needs no host.
// The connection strings are placeholders for the tool; migrations are never applied through them.
public sealed class SqliteDesignFactory : IDesignTimeDbContextFactory<SqliteDashboardContext>
{
    public SqliteDashboardContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteDashboardContext>().UseSqlite("Data Source=design.db").Options);
}

public sealed class PostgresDesignFactory : IDesignTimeDbContextFactory<PostgresDashboardContext>
{
    public PostgresDashboardContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresDashboardContext>().UseNpgsql("Host=127.0.0.1;Database=design").Options);
}

public sealed class SqlServerDesignFactory : IDesignTimeDbContextFactory<SqlServerDashboardContext>
{
    public SqlServerDashboardContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqlServerDashboardContext>().UseSqlServer("Server=127.0.0.1;Database=design").Options);
}
