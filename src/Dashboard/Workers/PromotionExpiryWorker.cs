using Dashboard.Governance;

namespace Dashboard.Workers;

/// <summary>
/// Marks Pending promotion requests past their policy's expiry as Expired, once a minute (<see cref="PromotionService.ExpireDueAsync"/>).
/// Replicas may all run it: each request is expired under its row's lock, and only while it is still Pending, so it is
/// expired (and audited) once. A review that finds an expired request expires it too, so the minute's delay changes nothing.
/// </summary>
public sealed class PromotionExpiryWorker(PromotionService promotions, TimeProvider time, ILogger<PromotionExpiryWorker> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var expired = await promotions.ExpireDueAsync(stoppingToken);
                if (expired > 0 && log.IsEnabled(LogLevel.Information))
                {
                    log.LogInformation("Expired {Count} promotion requests", expired);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Expiring promotion requests failed; the next attempt is in {Interval}", Interval);
            }
        }
    }
}
