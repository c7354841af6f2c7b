using Dashboard.Data;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Workers;

/// <summary>
/// Refreshes the database's planner statistics (see DashboardDatabase.OptimizeAsync) every
/// <c>Dashboard:Database:StatisticsInterval</c>. A no-op while the tables' sizes stay put.
/// </summary>
public sealed class DatabaseMaintenanceWorker(IDbContextFactory<DashboardDbContext> dbs, DatabaseOptions options,
    TimeProvider time, ILogger<DatabaseMaintenanceWorker> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Provider != DatabaseProvider.Sqlite)
        {
            return;
        }
        using var timer = new PeriodicTimer(options.StatisticsInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (await DashboardDatabase.OptimizeAsync(dbs, stoppingToken))
                {
                    log.LogInformation("Refreshed the SQLite planner statistics");
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Refreshing the database statistics failed; the next attempt is in {Interval}", options.StatisticsInterval);
            }
        }
    }
}
