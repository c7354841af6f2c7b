using Dashboard.Data;
using Dashboard.Governance;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Workers;

/// <summary>
/// Runs <see cref="WebhookDispatch"/>: sends due webhook deliveries every <c>Dashboard:Webhooks:PollSeconds</c>, at once
/// again while a look finds a full batch. Every replica runs one; the leases keep them from sending a row twice.
/// On stop, a POST in flight is abandoned unrecorded and its row released for the next start.
/// </summary>
public sealed partial class WebhookDispatcher(WebhookDispatch dispatch, WebhookOptions options, TimeProvider time,
    ILogger<WebhookDispatcher> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Dispatch)
        {
            LogOff(log);
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            var busy = false;
            try
            {
                busy = await dispatch.RunOnceAsync(stoppingToken) >= options.Concurrency * 4;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogCycleFailed(log, e, options.PollInterval);
            }
            if (!busy)
            {
                try
                {
                    await Task.Delay(options.PollInterval, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook dispatch is off on this server (Dashboard:Webhooks:Dispatch = false)")]
    private static partial void LogOff(ILogger log);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending webhooks failed; the next look is in {Interval}")]
    private static partial void LogCycleFailed(ILogger log, Exception e, TimeSpan interval);
}

public static class WebhookSetup
{
    /// <summary>
    /// Webhooks: <see cref="WebhookService"/>, the options of <c>Dashboard:Webhooks</c> (checked now), an HTTP client
    /// that follows no redirects and keeps no cookies, and the dispatcher.
    /// </summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection("Dashboard:Webhooks").Get<WebhookOptions>() ?? new WebhookOptions();
        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton<WebhookService>();
        services.AddHttpClient(WebhookDispatch.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        services.AddSingleton(s => new WebhookDispatch(s.GetRequiredService<IDbContextFactory<DashboardDbContext>>(),
            s.GetRequiredService<TimeProvider>(), options,
            () => s.GetRequiredService<IHttpClientFactory>().CreateClient(WebhookDispatch.HttpClientName),
            s.GetRequiredService<ILogger<WebhookDispatch>>()));
        services.AddHostedService<WebhookDispatcher>();
        return services;
    }
}
