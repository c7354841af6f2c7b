using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Governance;
using Dashboard.Security;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Core.Tests.Governance;

/// <summary>Webhook subscriptions: validation (nothing stored on bad input), Admins only, the secret shown once, the audit, test events, the log.</summary>
public class WebhookServiceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly Caller Contributor = new("alice", DashboardRole.Contributor);
    private static readonly Caller Approver = new("lead", DashboardRole.Approver);
    private static readonly Caller AdminWithWriteToken = new("ada", DashboardRole.Admin, scope: TokenScope.Write);

    public static TheoryData<string, string> BadInputs => new()
    {
        { "url", "ftp://files.example/hook" },
        { "url", "file:///etc/passwd" },
        { "url", "javascript:alert(1)" },
        { "url", "/relative/hook" },
        { "url", "not a url" },
        { "url", "http://user:password@127.0.0.1/hook" },
        { "url", "http://token@127.0.0.1/hook" },
        { "url", "http://127.0.0.1/hook#part" },
        { "url", "http://127.0.0.1/" + new string('a', 2000) },
        { "url", "" },
        { "name", "" },
        { "name", "   " },
        { "name", new string('n', 101) },
        { "name", "tab\tname" },
        { "event", "model_version.deleted" },
        { "event", "" },
        { "events", "none" },
        { "secret", "short-secret" },
        { "secret", "a secret with spaces in it" },
        { "model", new string('m', 257) },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Refuses_bad_input_and_stores_nothing(string field, string value)
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        var service = new WebhookService(db.Factory, TimeProvider.System);
        var input = new WebhookInput("hook", "http://127.0.0.1:9/hook");
        input = field switch
        {
            "url" => input with { Url = value },
            "name" => input with { Name = value },
            "event" => input with { Events = [WebhookEvents.VersionCreated, value] },
            "events" => input with { Events = [] },
            "secret" => input with { Secret = value },
            _ => input with { ModelName = value },
        };

        var error = await Should.ThrowAsync<MlflowException>(() => service.CreateAsync(input, Caller.Local, Ct));

        error.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        await using var ctx = await db.Factory.CreateDbContextAsync(Ct);
        (await ctx.Webhooks.CountAsync(Ct)).ShouldBe(0);
        (await ctx.AuditEvents.CountAsync(Ct)).ShouldBe(0);
    }

    [Fact]
    public async Task Only_an_admin_with_a_session_or_admin_token_manages_webhooks()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        var service = new WebhookService(db.Factory, TimeProvider.System);
        var made = await service.CreateAsync(new WebhookInput("hook", "http://127.0.0.1:9/hook"), Caller.Local, Ct);

        foreach (var caller in new[] { Contributor, Approver, AdminWithWriteToken })
        {
            (await Should.ThrowAsync<MlflowException>(() => service.ListAsync(caller, Ct))).ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
            (await Should.ThrowAsync<MlflowException>(() => service.CreateAsync(new WebhookInput("x", "http://127.0.0.1:9/x"), caller, Ct)))
                .ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
            (await Should.ThrowAsync<MlflowException>(() => service.SendTestAsync(made.Webhook.Id, caller, Ct)))
                .ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
            (await Should.ThrowAsync<MlflowException>(() => service.DeleteAsync(made.Webhook.Id, caller, Ct)))
                .ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
        }
        (await service.ListAsync(new Caller("ada", DashboardRole.Admin, scope: TokenScope.Admin), Ct)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_generated_secret_is_answered_once_and_lists_show_only_its_first_characters()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        var service = new WebhookService(db.Factory, TimeProvider.System);

        var made = await service.CreateAsync(new WebhookInput(" <b>deploy</b> ", "https://127.0.0.1:8443/hook?team=ml",
            [WebhookEvents.StageChanged, WebhookEvents.StageChanged, WebhookEvents.AliasChanged], "churn"), Caller.Local, Ct);
        var given = await service.CreateAsync(new WebhookInput("given", "http://127.0.0.1:9/given", ["*", WebhookEvents.VersionCreated],
            Secret: "my-own-secret-of-24-chars"), Caller.Local, Ct);

        made.Secret.ShouldStartWith("whsec_");
        made.Secret.Length.ShouldBe(6 + 43);
        made.Webhook.Name.ShouldBe("<b>deploy</b>");
        made.Webhook.Events.ShouldBe([WebhookEvents.StageChanged, WebhookEvents.AliasChanged]);
        made.Webhook.ModelName.ShouldBe("churn");
        made.Webhook.Enabled.ShouldBeTrue();
        given.Secret.ShouldBe("my-own-secret-of-24-chars");
        given.Webhook.Events.ShouldBe(["*"]);
        var listed = await service.ListAsync(Caller.Local, Ct);
        listed.Select(w => w.SecretHint).ShouldBe([made.Secret[..8] + "…", "my-o…"]);
        (await service.GetAsync(made.Webhook.Id, Caller.Local, Ct)).ShouldBe(listed[0] with { Events = listed[0].Events }, new ViewComparer());
        var rotated = await service.RotateSecretAsync(made.Webhook.Id, Caller.Local, Ct);
        rotated.Secret.ShouldNotBe(made.Secret);
        await using var ctx = await db.Factory.CreateDbContextAsync(Ct);
        (await ctx.Webhooks.SingleAsync(w => w.Id == made.Webhook.Id, Ct)).Secret.ShouldBe(rotated.Secret);
    }

    [Fact]
    public async Task Every_change_is_audited_without_the_secret()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        var service = new WebhookService(db.Factory, TimeProvider.System);
        var made = await service.CreateAsync(new WebhookInput("hook", "http://127.0.0.1:9/hook"), Caller.Local, Ct);
        await service.UpdateAsync(made.Webhook.Id, new WebhookInput(Name: "renamed", Enabled: false), Caller.Local, Ct);
        await service.UpdateAsync(made.Webhook.Id, new WebhookInput(Name: "renamed"), Caller.Local, Ct);
        var rotated = await service.RotateSecretAsync(made.Webhook.Id, Caller.Local, Ct);
        await service.DeleteAsync(made.Webhook.Id, Caller.Local, Ct);

        await using var ctx = await db.Factory.CreateDbContextAsync(Ct);
        var events = await ctx.AuditEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync(Ct);
        events.Select(e => e.Action).ShouldBe([AuditActions.WebhookCreated, AuditActions.WebhookUpdated, AuditActions.WebhookUpdated,
            AuditActions.WebhookDeleted]);
        events.ShouldAllBe(e => e.Actor == "local" && e.TargetType == AuditTargets.Webhook && e.Target == made.Webhook.Id.ToString());
        events[1].Before!.ShouldContain("\"name\":\"hook\"");
        events[1].After!.ShouldContain("\"name\":\"renamed\"");
        events[1].After!.ShouldContain("\"enabled\":false");
        events[2].After!.ShouldContain("\"secret_rotated\":true");
        events[3].After.ShouldBeNull();
        foreach (var e in events)
        {
            $"{e.Before}{e.After}{e.Reason}".ShouldNotContain(made.Secret);
            $"{e.Before}{e.After}{e.Reason}".ShouldNotContain(rotated.Secret);
            $"{e.Before}{e.After}".ShouldNotContain("whsec_");
        }
        (await ctx.Webhooks.CountAsync(Ct)).ShouldBe(0);
    }

    [Fact]
    public async Task An_update_changes_only_the_fields_given_and_an_empty_model_means_every_model()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        var service = new WebhookService(db.Factory, TimeProvider.System);
        var made = await service.CreateAsync(new WebhookInput("hook", "http://127.0.0.1:9/hook", [WebhookEvents.VersionCreated], "churn"),
            Caller.Local, Ct);

        var events = await service.UpdateAsync(made.Webhook.Id, new WebhookInput(Events: ["*"]), Caller.Local, Ct);
        var model = await service.UpdateAsync(made.Webhook.Id, new WebhookInput(ModelName: ""), Caller.Local, Ct);

        (events.Name, events.Url, events.ModelName).ShouldBe(("hook", "http://127.0.0.1:9/hook", (string?)"churn"));
        events.Events.ShouldBe(["*"]);
        model.ModelName.ShouldBeNull();
        (await Should.ThrowAsync<MlflowException>(() => service.UpdateAsync(made.Webhook.Id, new WebhookInput(Url: "ftp://x/"), Caller.Local, Ct)))
            .ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        (await Should.ThrowAsync<MlflowException>(() => service.UpdateAsync(made.Webhook.Id, new WebhookInput(Secret: "0123456789abcdefgh"),
            Caller.Local, Ct))).ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        (await Should.ThrowAsync<MlflowException>(() => service.UpdateAsync(999, new WebhookInput(Name: "x"), Caller.Local, Ct)))
            .ErrorCode.ShouldBe(ErrorCode.RESOURCE_DOES_NOT_EXIST);
        (await service.GetAsync(made.Webhook.Id, Caller.Local, Ct)).Url.ShouldBe("http://127.0.0.1:9/hook");
    }

    [Fact]
    public async Task A_test_event_goes_to_that_webhook_alone_even_when_it_subscribes_to_no_test_events()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        var service = new WebhookService(db.Factory, TimeProvider.System);
        var one = await service.CreateAsync(new WebhookInput("one", "http://127.0.0.1:9/one", [WebhookEvents.StageChanged]), Caller.Local, Ct);
        await service.CreateAsync(new WebhookInput("two", "http://127.0.0.1:9/two"), Caller.Local, Ct);

        var test = await service.SendTestAsync(one.Webhook.Id, Caller.Local, Ct);

        test.EventType.ShouldBe(WebhookEvents.Test);
        test.State.ShouldBe(DeliveryState.Pending);
        test.Payload.ShouldContain($"\"type\":\"{WebhookEvents.Test}\"");
        test.Payload.ShouldContain($"\"id\":\"{test.EventId}\"");
        test.Payload.ShouldContain("\"webhook_name\":\"one\"");
        await using var ctx = await db.Factory.CreateDbContextAsync(Ct);
        (await ctx.WebhookDeliveries.Select(d => d.WebhookId).ToListAsync(Ct)).ShouldBe([one.Webhook.Id]);
        (await Should.ThrowAsync<MlflowException>(() => service.SendTestAsync(12345, Caller.Local, Ct)))
            .ErrorCode.ShouldBe(ErrorCode.RESOURCE_DOES_NOT_EXIST);
    }

    [Fact]
    public async Task The_delivery_log_pages_newest_first_and_refuses_a_foreign_page_token()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        var service = new WebhookService(db.Factory, TimeProvider.System);
        var hook = await service.CreateAsync(new WebhookInput("log", "http://127.0.0.1:9/log"), Caller.Local, Ct);
        var other = await service.CreateAsync(new WebhookInput("other", "http://127.0.0.1:9/other"), Caller.Local, Ct);
        var sent = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            sent.Add((await service.SendTestAsync(hook.Webhook.Id, Caller.Local, Ct)).Id);
            await service.SendTestAsync(other.Webhook.Id, Caller.Local, Ct);
        }

        var first = await service.ListDeliveriesAsync(hook.Webhook.Id, 2, null, Caller.Local, Ct);
        var second = await service.ListDeliveriesAsync(hook.Webhook.Id, 2, first.NextPageToken, Caller.Local, Ct);
        var third = await service.ListDeliveriesAsync(hook.Webhook.Id, 2, second.NextPageToken, Caller.Local, Ct);

        first.Items.Select(d => d.Id).Concat(second.Items.Select(d => d.Id)).Concat(third.Items.Select(d => d.Id))
            .ShouldBe(Enumerable.Reverse(sent));
        third.NextPageToken.ShouldBeNull();
        foreach (var token in new[] { "garbage", "ZDotMQ", "ZDox" + new string('A', 100) })
        {
            (await Should.ThrowAsync<MlflowException>(() => service.ListDeliveriesAsync(hook.Webhook.Id, 2, token, Caller.Local, Ct)))
                .ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        }
        foreach (var size in new[] { 0, 201, -1 })
        {
            (await Should.ThrowAsync<MlflowException>(() => service.ListDeliveriesAsync(hook.Webhook.Id, size, null, Caller.Local, Ct)))
                .ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        }
    }

    [Fact]
    public async Task Redelivery_queues_a_finished_delivery_again_and_refuses_a_pending_one()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        var service = new WebhookService(db.Factory, TimeProvider.System);
        var hook = await service.CreateAsync(new WebhookInput("again", "http://127.0.0.1:9/again"), Caller.Local, Ct);
        var test = await service.SendTestAsync(hook.Webhook.Id, Caller.Local, Ct);

        (await Should.ThrowAsync<MlflowException>(() => service.RedeliverAsync(test.Id, Caller.Local, Ct))).ErrorCode.ShouldBe(ErrorCode.INVALID_STATE);
        await using (var ctx = await db.Factory.CreateDbContextAsync(Ct))
        {
            await ctx.WebhookDeliveries.Where(d => d.Id == test.Id).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.State, DeliveryState.Failed).SetProperty(d => d.Attempts, 8).SetProperty(d => d.NextAttemptAt, 0L), Ct);
        }
        var again = await service.RedeliverAsync(test.Id, Caller.Local, Ct);

        (again.State, again.Attempts, again.EventId, again.Payload).ShouldBe((DeliveryState.Pending, 0, test.EventId, test.Payload));
        again.NextAttemptAt.ShouldBeGreaterThan(0);
        (await Should.ThrowAsync<MlflowException>(() => service.RedeliverAsync(999, Caller.Local, Ct))).ErrorCode.ShouldBe(ErrorCode.RESOURCE_DOES_NOT_EXIST);
    }
}

/// <summary>Two views alike field by field (their event lists compared by content).</summary>
internal sealed class ViewComparer : IEqualityComparer<WebhookView>
{
    public bool Equals(WebhookView? x, WebhookView? y) =>
        x is not null && y is not null && x with { Events = [] } == y with { Events = [] } && x.Events.SequenceEqual(y.Events);

    public int GetHashCode(WebhookView obj) => obj.Id.GetHashCode();
}
