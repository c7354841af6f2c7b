using Dashboard.Data;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Workers;

/// <summary>Refreshes the database's planner statistics every few minutes (see DashboardDatabase.OptimizeAsync).</summary>
public sealed class DatabaseMaintenanceWorker(IDbContextFactory<DashboardDbContext> dbs, TimeProvider time,
    ILogger<DatabaseMaintenanceWorker> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await DashboardDatabase.OptimizeAsync(dbs, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Refreshing the database statistics failed; the next attempt is in {Interval}", Interval);
            }
        }
    }
}
