using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Dashboard.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dashboard.Governance;

/// <summary>How webhooks are sent (configuration section <c>Dashboard:Webhooks</c>; appsettings.example.json).</summary>
public sealed class WebhookOptions
{
    /// <summary>How long the hardest backoff waits (after jitter too).</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromHours(1);

    /// <summary>false: this server sends nothing (events are still recorded; another replica, or a later start, sends them).</summary>
    public bool Dispatch { get; set; } = true;

    /// <summary>Seconds between looks for due deliveries when the last look found none.</summary>
    public double PollSeconds { get; set; } = 2;

    /// <summary>Seconds a receiver has to answer one POST.</summary>
    public double TimeoutSeconds { get; set; } = 10;

    /// <summary>The first retry's delay in seconds; each next one doubles it (with jitter), up to an hour.</summary>
    public double RetryBaseSeconds { get; set; } = 10;

    /// <summary>Attempts before a delivery is Failed.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Deliveries sent at once by one server.</summary>
    public int Concurrency { get; set; } = 4;

    public TimeSpan PollInterval => TimeSpan.FromSeconds(PollSeconds);

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    public TimeSpan RetryBase => TimeSpan.FromSeconds(RetryBaseSeconds);

    /// <summary>How long a claim holds: the longest attempt and a margin, after which another dispatcher may take the row.</summary>
    public TimeSpan Lease => Timeout + TimeSpan.FromSeconds(30);

    /// <summary>Refuses values that would stop delivery or hammer receivers (checked at start-up).</summary>
    public void Validate()
    {
        static void Check(bool ok, string message)
        {
            if (!ok)
            {
                throw new InvalidOperationException("Dashboard:Webhooks: " + message);
            }
        }
        Check(PollSeconds is > 0 and <= 3600, "PollSeconds must be more than 0 and at most 3600.");
        Check(TimeoutSeconds is > 0 and <= 300, "TimeoutSeconds must be more than 0 and at most 300.");
        Check(RetryBaseSeconds is > 0 and <= 3600, "RetryBaseSeconds must be more than 0 and at most 3600.");
        Check(MaxAttempts is >= 1 and <= 100, "MaxAttempts must be 1 to 100.");
        Check(Concurrency is >= 1 and <= 64, "Concurrency must be 1 to 64.");
    }
}

/// <summary>
/// The outbox's sender (issue 7, item 6; docs/adr/0013): finds Pending deliveries that are due and whose webhook is
/// enabled, claims each with a lease (an UPDATE that only one dispatcher's WHERE matches, so replicas never send a row
/// at once, and a crashed one's claim lapses), POSTs the stored body with its signature, and records the attempt:
/// Delivered on a 2xx; otherwise retried after an exponential backoff with jitter until <see cref="WebhookOptions.MaxAttempts"/>,
/// then Failed. Redirects are not followed (a 3xx is a failed attempt). At least once: a receiver deduplicates by
/// the <c>Dashboard-Delivery</c> header.
/// </summary>
public sealed partial class WebhookDispatch
{
    public const string HttpClientName = "webhooks";
    private const int MaxErrorLength = 1000;

    private readonly IDbContextFactory<DashboardDbContext> _dbs;
    private readonly TimeProvider _time;
    private readonly WebhookOptions _options;
    private readonly Func<HttpClient> _client;
    private readonly ILogger _log;

    /// <param name="client">Makes the client a POST goes through (IHttpClientFactory's, without redirects, in the app).</param>
    /// <param name="owner">The name this dispatcher claims rows under (unique per process and instance by default).</param>
    public WebhookDispatch(IDbContextFactory<DashboardDbContext> dbs, TimeProvider time, WebhookOptions options, Func<HttpClient> client,
        ILogger? log = null, string? owner = null)
    {
        _dbs = dbs;
        _time = time;
        _options = options;
        _client = client;
        _log = log ?? NullLogger.Instance;
        var name = owner ?? $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
        Owner = name.Length <= 100 ? name : name[^100..];
    }

    public string Owner { get; }

    /// <summary>
    /// The delay before the retry that follows attempt number <paramref name="attempts"/> (1 = the first attempt failed):
    /// <paramref name="baseDelay"/> doubled per attempt, capped at an hour, times a jitter factor of 0.8 to 1.2 drawn from
    /// <paramref name="random"/> (0 to 1), so receivers that come back are not hit by every delivery at the same moment.
    /// </summary>
    public static TimeSpan Backoff(int attempts, TimeSpan baseDelay, double random)
    {
        var exponent = Math.Clamp(attempts - 1, 0, 30);
        var nominal = Math.Min(baseDelay.TotalSeconds * Math.Pow(2, exponent), WebhookOptions.MaxBackoff.TotalSeconds);
        var jittered = nominal * (0.8 + (0.4 * Math.Clamp(random, 0, 1)));
        return TimeSpan.FromSeconds(Math.Min(jittered, WebhookOptions.MaxBackoff.TotalSeconds));
    }

    /// <summary>
    /// Sends what is due now, at most <see cref="WebhookOptions.Concurrency"/> at a time; answers how many deliveries this
    /// dispatcher claimed (0: nothing due, or all of it claimed by others).
    /// </summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var due = await FindDueAsync(_options.Concurrency * 4, ct);
        var claimed = 0;
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = ct },
            async (id, token) =>
            {
                if (await DeliverAsync(id, token))
                {
                    Interlocked.Increment(ref claimed);
                }
            });
        return claimed;
    }

    /// <summary>Ids of Pending deliveries due now, of enabled webhooks, not claimed by anyone, oldest due first.</summary>
    internal async Task<IReadOnlyList<long>> FindDueAsync(int max, CancellationToken ct)
    {
        var now = Now();
        await using var db = await _dbs.CreateDbContextAsync(ct);
        return await db.WebhookDeliveries.AsNoTracking()
            .Where(d => d.State == DeliveryState.Pending && d.NextAttemptAt <= now && (d.LockedUntil == null || d.LockedUntil < now))
            .Where(d => db.Webhooks.Any(w => w.Id == d.WebhookId && w.Enabled))
            .OrderBy(d => d.NextAttemptAt).ThenBy(d => d.Id)
            .Select(d => d.Id)
            .Take(max)
            .ToListAsync(ct);
    }

    /// <summary>
    /// Claims a Pending delivery for <see cref="WebhookOptions.Lease"/>: one UPDATE whose WHERE holds only while nobody's
    /// lease runs; one row changed means this dispatcher has it. A lapsed lease (a crash, a stop mid-send) is taken again.
    /// </summary>
    internal async Task<bool> TryClaimAsync(long id, CancellationToken ct)
    {
        var now = Now();
        var until = now + (long)_options.Lease.TotalMilliseconds;
        var owner = Owner;
        await using var db = await _dbs.CreateDbContextAsync(ct);
        using var turn = await SqliteWriteGate.EnterAsync(db, ct);
        var changed = await db.WebhookDeliveries
            .Where(d => d.Id == id && d.State == DeliveryState.Pending && (d.LockedUntil == null || d.LockedUntil < now))
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.LockedUntil, until).SetProperty(d => d.LockedBy, owner), ct);
        return changed == 1;
    }

    /// <summary>Claims, sends and records one delivery. Answers whether it was claimed (and so attempted or released).</summary>
    internal async Task<bool> DeliverAsync(long id, CancellationToken ct)
    {
        if (!await TryClaimAsync(id, ct))
        {
            return false;
        }
        Target? target;
        await using (var db = await _dbs.CreateDbContextAsync(ct))
        {
            target = await (from d in db.WebhookDeliveries.AsNoTracking()
                            join w in db.Webhooks.AsNoTracking() on d.WebhookId equals w.Id
                            where d.Id == id
                            select new Target(d.EventId, d.EventType, d.Payload, d.State, w.Url, w.Secret, w.Enabled)).FirstOrDefaultAsync(ct);
        }
        if (target is not { State: DeliveryState.Pending, Enabled: true })
        {
            // Paused (or delivered by a redelivery race) since it was found: leave it for later.
            await ReleaseAsync(id);
            return true;
        }

        Outcome outcome;
        try
        {
            outcome = await SendAsync(target, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping mid-send: no attempt is recorded, and the row is free for the next start (or another replica) at once.
            await ReleaseAsync(id);
            throw;
        }
        await RecordAsync(id, outcome, ct);
        return true;
    }

    private async Task<Outcome> SendAsync(Target target, CancellationToken ct)
    {
        var body = Encoding.UTF8.GetBytes(target.Payload);
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.UserAgent.ParseAdd("Dashboard-Webhooks/1");
        foreach (var (name, value) in WebhookSignature.Headers(target.Secret, target.EventType, target.EventId, timestamp, body))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.Timeout);
        var watch = Stopwatch.StartNew();
        try
        {
            using var response = await _client().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            var error = status switch
            {
                >= 200 and <= 299 => null,
                >= 300 and <= 399 => $"HTTP {status}: redirects are not followed; point the webhook at the final URL.",
                _ => $"HTTP {status} {response.ReasonPhrase}".TrimEnd(),
            };
            return new Outcome(status, error, Elapsed(watch));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new Outcome(null, $"No answer within {_options.TimeoutSeconds:0.###} s.", Elapsed(watch));
        }
        catch (HttpRequestException e)
        {
            return new Outcome(null, Describe(e), Elapsed(watch));
        }
    }

    private async Task RecordAsync(long id, Outcome outcome, CancellationToken ct)
    {
        var now = Now();
        var delivered = outcome.Error is null;
        var state = await _dbs.WriteAsync(async db =>
        {
            var d = await db.WebhookDeliveries.FirstOrDefaultAsync(d => d.Id == id, ct);
            if (d is null)
            {
                return "deleted";
            }
            var number = (await db.WebhookAttempts.Where(a => a.DeliveryId == id).MaxAsync(a => (int?)a.Number, ct) ?? 0) + 1;
            db.WebhookAttempts.Add(new WebhookAttempt
            {
                DeliveryId = id,
                Number = number,
                Time = now,
                Status = outcome.Status,
                Error = outcome.Error,
                DurationMs = outcome.DurationMs,
            });
            d.Attempts++;
            d.LastStatus = outcome.Status;
            d.LastError = outcome.Error;
            d.LockedUntil = null;
            d.LockedBy = null;
            if (delivered)
            {
                d.State = DeliveryState.Delivered;
                d.DeliveredAt = now;
            }
            else if (d.Attempts >= _options.MaxAttempts)
            {
                d.State = DeliveryState.Failed;
            }
            else
            {
                d.NextAttemptAt = now + (long)Backoff(d.Attempts, _options.RetryBase, Random.Shared.NextDouble()).TotalMilliseconds;
            }
            await db.SaveChangesAsync(ct);
            return d.State;
        }, ct);
        if (!delivered)
        {
            LogFailedAttempt(_log, id, outcome.Error, state);
        }
    }

    private async Task ReleaseAsync(long id)
    {
        // Not the stopping token: the release is what lets the next start send at once.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            var owner = Owner;
            await using var db = await _dbs.CreateDbContextAsync(cts.Token);
            using var turn = await SqliteWriteGate.EnterAsync(db, cts.Token);
            await db.WebhookDeliveries.Where(d => d.Id == id && d.LockedBy == owner)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.LockedUntil, (long?)null).SetProperty(d => d.LockedBy, (string?)null), cts.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or DbUpdateException or InvalidOperationException)
        {
            // The lease lapses by itself.
            LogReleaseFailed(_log, e, id);
        }
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static int Elapsed(Stopwatch watch) => (int)Math.Min(int.MaxValue, watch.ElapsedMilliseconds);

    /// <summary>The failure as a short sentence (what kind of failure, then the message), cut to fit the column.</summary>
    private static string Describe(HttpRequestException e)
    {
        var message = e.HttpRequestError switch
        {
            HttpRequestError.ConnectionError => "Could not connect: " + e.Message,
            HttpRequestError.NameResolutionError => "Name not resolved: " + e.Message,
            HttpRequestError.SecureConnectionError => "TLS failed: " + e.Message,
            _ => e.Message,
        };
        return message.Length <= MaxErrorLength ? message : message[..MaxErrorLength];
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook delivery {Id} failed ({Error}); now {State}")]
    private static partial void LogFailedAttempt(ILogger log, long id, string? error, string state);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not release webhook delivery {Id}; its lease lapses by itself")]
    private static partial void LogReleaseFailed(ILogger log, Exception e, long id);

    private sealed record Target(string EventId, string EventType, string Payload, string State, string Url, string Secret, bool Enabled);

    private sealed record Outcome(int? Status, string? Error, int DurationMs);
}
