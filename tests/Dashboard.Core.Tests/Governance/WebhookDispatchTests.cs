using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Governance;
using Dashboard.Security;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Core.Tests.Governance;

/// <summary>A clock a test moves by hand.</summary>
public sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>
/// The outbox's sender against a real database and a real HTTP receiver on loopback: signing, retries with backoff,
/// giving up, paused webhooks, redirects and timeouts, and the lease that keeps two dispatchers from sending one row twice.
/// </summary>
public class WebhookDispatchTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 20)]
    [InlineData(3, 40)]
    [InlineData(4, 80)]
    [InlineData(7, 640)]
    [InlineData(9, 2560)]
    [InlineData(10, 3600)]
    [InlineData(50, 3600)]
    public void Backoff_doubles_from_the_base_per_attempt_up_to_an_hour(int attempts, double seconds)
    {
        // random 0.5 is the middle of the jitter: the nominal delay.
        WebhookDispatch.Backoff(attempts, TimeSpan.FromSeconds(10), 0.5).TotalSeconds.ShouldBe(seconds, 0.001);
    }

    [Fact]
    public void Backoff_jitters_by_a_fifth_either_way_and_never_passes_an_hour()
    {
        WebhookDispatch.Backoff(3, TimeSpan.FromSeconds(10), 0).TotalSeconds.ShouldBe(32, 0.001);
        WebhookDispatch.Backoff(3, TimeSpan.FromSeconds(10), 1).TotalSeconds.ShouldBe(48, 0.001);
        WebhookDispatch.Backoff(12, TimeSpan.FromSeconds(10), 0).TotalSeconds.ShouldBe(2880, 0.001);
        WebhookDispatch.Backoff(12, TimeSpan.FromSeconds(10), 1).ShouldBe(TimeSpan.FromHours(1));
        var delays = Enumerable.Range(0, 200).Select(_ => WebhookDispatch.Backoff(2, TimeSpan.FromSeconds(10), Random.Shared.NextDouble())).ToList();
        delays.ShouldAllBe(d => d >= TimeSpan.FromSeconds(16) && d <= TimeSpan.FromSeconds(24));
        delays.Distinct().Count().ShouldBeGreaterThan(1);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Posts_the_stored_body_signed_with_the_webhooks_secret_and_marks_it_delivered(DatabaseProvider provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        await using var receiver = TestReceiver.Start();
        var time = new ManualTime(DateTimeOffset.UtcNow);
        var hook = await Service(db, time).CreateAsync(new WebhookInput("ci", receiver.Url), Caller.Local, Ct);
        await EnqueueAsync(db, time);

        (await Dispatch(db, time).RunOnceAsync(Ct)).ShouldBe(1);

        var request = receiver.Requests.ShouldHaveSingleItem();
        var delivery = await SingleDeliveryAsync(db);
        request.Method.ShouldBe("POST");
        request.Path.ShouldBe("/hooks");
        request.Text.ShouldBe(delivery.Payload);
        request.Header("Content-Type").ShouldBe("application/json; charset=utf-8");
        request.Header("Dashboard-Event").ShouldBe(WebhookEvents.VersionCreated);
        request.Header("Dashboard-Delivery").ShouldBe(delivery.EventId);
        request.Header("Dashboard-Timestamp").ShouldBe(time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        WebhookSignature.Verify(hook.Secret, request.Header("Dashboard-Signature"), request.Body, time.GetUtcNow()).ShouldBeTrue();
        delivery.State.ShouldBe(DeliveryState.Delivered);
        delivery.Attempts.ShouldBe(1);
        delivery.LastStatus.ShouldBe(200);
        delivery.LockedBy.ShouldBeNull();
        var attempt = (await AttemptsAsync(db)).ShouldHaveSingleItem();
        (attempt.Number, attempt.Status, attempt.Error).ShouldBe((1, (int?)200, (string?)null));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Retries_a_failing_receiver_after_the_backoff_and_gives_up_after_the_last_attempt(DatabaseProvider provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        await using var receiver = TestReceiver.Start();
        receiver.Respond = _ => 503;
        var time = new ManualTime(DateTimeOffset.UtcNow);
        await Service(db, time).CreateAsync(new WebhookInput("flaky", receiver.Url), Caller.Local, Ct);
        await EnqueueAsync(db, time);
        var dispatch = Dispatch(db, time, new WebhookOptions { MaxAttempts = 3, RetryBaseSeconds = 10 });

        (await dispatch.RunOnceAsync(Ct)).ShouldBe(1);
        var first = await SingleDeliveryAsync(db);
        first.State.ShouldBe(DeliveryState.Pending);
        first.Attempts.ShouldBe(1);
        first.LastStatus.ShouldBe(503);
        first.LastError.ShouldBe("HTTP 503 Test");
        (first.NextAttemptAt - time.GetUtcNow().ToUnixTimeMilliseconds()).ShouldBeInRange(8000, 12000);

        // Not due yet: nothing is sent.
        time.Advance(TimeSpan.FromSeconds(7));
        (await dispatch.RunOnceAsync(Ct)).ShouldBe(0);
        receiver.Requests.Count.ShouldBe(1);

        time.Advance(TimeSpan.FromSeconds(6));
        (await dispatch.RunOnceAsync(Ct)).ShouldBe(1);
        var second = await SingleDeliveryAsync(db);
        (second.State, second.Attempts).ShouldBe((DeliveryState.Pending, 2));
        (second.NextAttemptAt - time.GetUtcNow().ToUnixTimeMilliseconds()).ShouldBeInRange(16000, 24000);

        time.Advance(TimeSpan.FromSeconds(25));
        (await dispatch.RunOnceAsync(Ct)).ShouldBe(1);
        var last = await SingleDeliveryAsync(db);
        (last.State, last.Attempts, last.DeliveredAt).ShouldBe((DeliveryState.Failed, 3, (long?)null));

        time.Advance(TimeSpan.FromHours(2));
        (await dispatch.RunOnceAsync(Ct)).ShouldBe(0);
        receiver.Requests.Count.ShouldBe(3);
        (await AttemptsAsync(db)).Select(a => (a.Number, a.Status)).ShouldBe([(1, 503), (2, 503), (3, 503)]);
        // Each attempt is signed anew with its own timestamp.
        receiver.Requests.Select(r => r.Header("Dashboard-Timestamp")).Distinct().Count().ShouldBe(3);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Two_dispatchers_never_send_one_delivery_twice(DatabaseProvider provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        await using var receiver = TestReceiver.Start();
        receiver.Delay = TimeSpan.FromMilliseconds(20);
        var time = TimeProvider.System;
        await Service(db, time).CreateAsync(new WebhookInput("both", receiver.Url), Caller.Local, Ct);
        for (var i = 0; i < 30; i++)
        {
            await EnqueueAsync(db, time);
        }
        var options = new WebhookOptions { Concurrency = 4 };
        var a = Dispatch(db, time, options, "a");
        var b = Dispatch(db, time, options, "b");

        async Task<int> DrainAsync(WebhookDispatch dispatch)
        {
            var total = 0;
            for (var round = 0; round < 10; round++)
            {
                total += await dispatch.RunOnceAsync(Ct);
            }
            return total;
        }
        var counts = await Task.WhenAll(DrainAsync(a), DrainAsync(b));

        counts.Sum().ShouldBe(30);
        receiver.Requests.Count.ShouldBe(30);
        receiver.Requests.Select(r => r.Header("Dashboard-Delivery")).Distinct().Count().ShouldBe(30);
        (await AttemptsAsync(db)).Count.ShouldBe(30);
        await using var ctx = await db.Factory.CreateDbContextAsync(Ct);
        (await ctx.WebhookDeliveries.CountAsync(d => d.State == DeliveryState.Delivered, Ct)).ShouldBe(30);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_claim_holds_off_other_dispatchers_until_its_lease_lapses(DatabaseProvider provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider);
        await using var receiver = TestReceiver.Start();
        var time = new ManualTime(DateTimeOffset.UtcNow);
        await Service(db, time).CreateAsync(new WebhookInput("lease", receiver.Url), Caller.Local, Ct);
        await EnqueueAsync(db, time);
        var options = new WebhookOptions { TimeoutSeconds = 10 };
        var crashed = Dispatch(db, time, options, "crashed");
        var other = Dispatch(db, time, options, "other");
        var id = (await SingleDeliveryAsync(db)).Id;

        (await crashed.TryClaimAsync(id, Ct)).ShouldBeTrue();
        (await other.TryClaimAsync(id, Ct)).ShouldBeFalse();
        (await other.RunOnceAsync(Ct)).ShouldBe(0);
        time.Advance(options.Lease - TimeSpan.FromSeconds(1));
        (await other.RunOnceAsync(Ct)).ShouldBe(0);
        receiver.Requests.ShouldBeEmpty();

        // The claimant died without a word: once its lease lapses, the row is taken again and sent once.
        time.Advance(TimeSpan.FromSeconds(2));
        (await other.RunOnceAsync(Ct)).ShouldBe(1);
        receiver.Requests.Count.ShouldBe(1);
        (await SingleDeliveryAsync(db)).State.ShouldBe(DeliveryState.Delivered);
    }

    [Fact]
    public async Task Deliveries_of_a_paused_webhook_wait_and_go_out_once_it_is_enabled()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var receiver = TestReceiver.Start();
        var time = TimeProvider.System;
        var service = Service(db, time);
        var hook = await service.CreateAsync(new WebhookInput("paused", receiver.Url), Caller.Local, Ct);
        await EnqueueAsync(db, time);
        await service.UpdateAsync(hook.Webhook.Id, new WebhookInput(Enabled: false), Caller.Local, Ct);
        var dispatch = Dispatch(db, time);

        (await dispatch.RunOnceAsync(Ct)).ShouldBe(0);
        receiver.Requests.ShouldBeEmpty();
        (await SingleDeliveryAsync(db)).State.ShouldBe(DeliveryState.Pending);

        await service.UpdateAsync(hook.Webhook.Id, new WebhookInput(Enabled: true), Caller.Local, Ct);
        (await dispatch.RunOnceAsync(Ct)).ShouldBe(1);
        receiver.Requests.Count.ShouldBe(1);
        (await SingleDeliveryAsync(db)).State.ShouldBe(DeliveryState.Delivered);
    }

    [Fact]
    public async Task A_redirect_is_not_followed_and_counts_as_a_failed_attempt()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var receiver = TestReceiver.Start();
        await using var elsewhere = TestReceiver.Start();
        receiver.Respond = _ => 302;
        receiver.ResponseHeaders = new Dictionary<string, string> { ["Location"] = elsewhere.Url };
        var time = TimeProvider.System;
        await Service(db, time).CreateAsync(new WebhookInput("moved", receiver.Url), Caller.Local, Ct);
        await EnqueueAsync(db, time);

        await Dispatch(db, time).RunOnceAsync(Ct);

        elsewhere.Requests.ShouldBeEmpty();
        var delivery = await SingleDeliveryAsync(db);
        (delivery.State, delivery.LastStatus).ShouldBe((DeliveryState.Pending, (int?)302));
        delivery.LastError!.ShouldContain("redirects are not followed");
    }

    [Fact]
    public async Task A_receiver_that_does_not_answer_in_time_is_a_failed_attempt()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var receiver = TestReceiver.Start();
        receiver.Delay = TimeSpan.FromSeconds(5);
        var time = TimeProvider.System;
        await Service(db, time).CreateAsync(new WebhookInput("slow", receiver.Url), Caller.Local, Ct);
        await EnqueueAsync(db, time);

        await Dispatch(db, time, new WebhookOptions { TimeoutSeconds = 0.3 }).RunOnceAsync(Ct);

        var delivery = await SingleDeliveryAsync(db);
        (delivery.State, delivery.Attempts, delivery.LastStatus).ShouldBe((DeliveryState.Pending, 1, (int?)null));
        delivery.LastError.ShouldBe("No answer within 0.3 s.");
        (await AttemptsAsync(db)).ShouldHaveSingleItem().DurationMs.ShouldBeInRange(250, 4000);
    }

    [Fact]
    public async Task A_receiver_that_is_down_is_a_failed_attempt_that_says_so_without_the_secret()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        var receiver = TestReceiver.Start();
        var url = receiver.Url;
        await receiver.DisposeAsync();
        var time = TimeProvider.System;
        var hook = await Service(db, time).CreateAsync(new WebhookInput("down", url), Caller.Local, Ct);
        await EnqueueAsync(db, time);

        await Dispatch(db, time).RunOnceAsync(Ct);

        var delivery = await SingleDeliveryAsync(db);
        (delivery.State, delivery.LastStatus).ShouldBe((DeliveryState.Pending, (int?)null));
        delivery.LastError!.ShouldStartWith("Could not connect");
        delivery.LastError.ShouldNotContain(hook.Secret);
    }

    [Fact]
    public void Options_that_would_stop_delivery_are_refused()
    {
        Should.Throw<InvalidOperationException>(() => new WebhookOptions { PollSeconds = 0 }.Validate());
        Should.Throw<InvalidOperationException>(() => new WebhookOptions { MaxAttempts = 0 }.Validate());
        Should.Throw<InvalidOperationException>(() => new WebhookOptions { Concurrency = 0 }.Validate());
        Should.Throw<InvalidOperationException>(() => new WebhookOptions { TimeoutSeconds = -1 }.Validate());
        Should.Throw<InvalidOperationException>(() => new WebhookOptions { RetryBaseSeconds = 0 }.Validate());
        new WebhookOptions().Validate();
    }

    internal static WebhookService Service(TestDatabase db, TimeProvider time) => new(db.Factory, time);

    private static WebhookDispatch Dispatch(TestDatabase db, TimeProvider time, WebhookOptions? options = null, string? owner = null) =>
        new(db.Factory, time, options ?? new WebhookOptions(), () => Client, owner: owner);

    private static readonly HttpClient Client = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    internal static Task EnqueueAsync(TestDatabase db, TimeProvider time, string type = WebhookEvents.VersionCreated, string model = "m") =>
        db.Factory.WriteAsync(async ctx =>
        {
            var n = await WebhookOutbox.EnqueueAsync(ctx, type, model, new { Name = model, Version = "1" },
                time.GetUtcNow().ToUnixTimeMilliseconds(), Ct);
            await ctx.SaveChangesAsync(Ct);
            return n;
        }, Ct);

    private static async Task<WebhookDelivery> SingleDeliveryAsync(TestDatabase db)
    {
        await using var ctx = await db.Factory.CreateDbContextAsync(Ct);
        return (await ctx.WebhookDeliveries.AsNoTracking().ToListAsync(Ct)).ShouldHaveSingleItem();
    }

    private static async Task<List<WebhookAttempt>> AttemptsAsync(TestDatabase db)
    {
        await using var ctx = await db.Factory.CreateDbContextAsync(Ct);
        return await ctx.WebhookAttempts.AsNoTracking().OrderBy(a => a.DeliveryId).ThenBy(a => a.Number).ToListAsync(Ct);
    }
}
