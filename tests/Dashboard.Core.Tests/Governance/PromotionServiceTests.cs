using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Governance;
using Dashboard.Registry;
using Dashboard.Security;
using Microsoft.EntityFrameworkCore;
using static Dashboard.Core.Tests.Governance.PromotionWorld;

namespace Dashboard.Core.Tests.Governance;

/// <summary>
/// The promotion state machine on a real database (issue 7, items 1, 2 and 4): who may request and review, distinct
/// approvals, the change applied in the approving transaction with its audit and outbox rows, and nothing written when
/// a step is refused.
/// </summary>
public class PromotionServiceTests
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    [Theory, MemberData(nameof(Providers))]
    public async Task A_request_is_created_pending_with_its_gates_an_audit_event_and_a_webhook_event(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9));
        await w.PolicyAsync(null, expiryHours: 24, gates: [new GateSpec { Kind = GateKind.Metric, Expression = "metrics.val_accuracy >= 0.8" }]);

        var view = await w.RequestAsync("m", 1, "production", comment: "ready");

        view.Request.State.ShouldBe(PromotionState.Pending);
        view.Request.Target.ShouldBe(ModelStage.Production);
        view.Request.RequestedBy.ShouldBe("alice");
        view.Request.ExpiresAt.ShouldBe(w.Clock.Now.ToUnixTimeMilliseconds() + (24 * 3_600_000L));
        view.Gates.Single().Passed.ShouldBeTrue();
        view.Gates.Single().Detail.ShouldBe("val_accuracy 0.9 ≥ 0.8");
        view.RequiredApprovals.ShouldBe(1);
        view.CanCancel.ShouldBeTrue();
        view.CanApprove.ShouldBeFalse();
        (await w.RowAsync(view.Request.Id)).GateResults.ShouldNotBeNull().ShouldContain("val_accuracy");
        var audit = (await w.AuditAsync(view.Request.Id)).ShouldHaveSingleItem();
        (audit.Action, audit.Actor, audit.Reason, audit.Version).ShouldBe((AuditActions.RequestCreated, "alice", "ready", (int?)1));
        (await w.OutboxAsync()).ShouldContain(WebhookEvents.RequestCreated);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Requests_are_listed_newest_first_in_pages_whose_token_belongs_to_its_query(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9), Metrics(0.91), Metrics(0.92));
        await w.PolicyAsync(null);
        foreach (var version in new[] { 1, 2, 3 })
        {
            await w.RequestAsync("m", version);
        }

        var first = await w.Promotions.SearchRequestsAsync(new PromotionRequestQuery(ModelName: "m", MaxResults: 2), Bob, Ct);
        first.Items.Select(r => r.Request.Version).ShouldBe([3, 2]);
        first.NextPageToken.ShouldNotBeNull();
        var second = await w.Promotions.SearchRequestsAsync(new PromotionRequestQuery(ModelName: "m", MaxResults: 2, PageToken: first.NextPageToken), Bob, Ct);
        second.Items.Select(r => r.Request.Version).ShouldBe([1]);
        second.NextPageToken.ShouldBeNull();

        // The token of one list does not page another, and a made-up one is refused.
        (await Should.ThrowAsync<MlflowException>(() => w.Promotions.SearchRequestsAsync(
            new PromotionRequestQuery(State: PromotionState.Pending, MaxResults: 2, PageToken: first.NextPageToken), Bob, Ct)))
            .Message.ShouldBe("Invalid page token: it was issued for a list with other filters.");
        (await Should.ThrowAsync<MlflowException>(() => w.Promotions.SearchRequestsAsync(
            new PromotionRequestQuery(PageToken: "2"), Bob, Ct))).Message.ShouldStartWith("Invalid page token");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_request_with_bad_input_is_refused_and_nothing_is_stored(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9), Metrics(0.8));
        await w.PolicyAsync(null);
        var outboxBefore = (await w.OutboxAsync()).Count;

        async Task<MlflowException> Refused(Func<Task> act) => await Should.ThrowAsync<MlflowException>(act);
        (await Refused(() => w.RequestAsync("m", 1, "None"))).Message.ShouldContain("Staging, Production or Archived");
        (await Refused(() => w.RequestAsync("m", 1, "Prod"))).ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        (await Refused(() => w.RequestAsync("m", 1, "x", kind: "branch"))).Message.ShouldContain("target_kind must be 'stage' or 'alias'");
        (await Refused(() => w.RequestAsync("m", 1, "latest", kind: PromotionTargetKind.Alias))).Message.ShouldContain("reserved");
        (await Refused(() => w.RequestAsync("m", 9))).ErrorCode.ShouldBe(ErrorCode.RESOURCE_DOES_NOT_EXIST);
        (await Refused(() => w.RequestAsync("nope", 1))).ErrorCode.ShouldBe(ErrorCode.RESOURCE_DOES_NOT_EXIST);
        (await Refused(() => w.RequestAsync("m", 1, comment: new string('x', 5001)))).Message.ShouldContain("5000");
        (await Refused(() => w.RequestAsync("m", 1, ModelStage.Archived, archive: true))).Message.ShouldContain("Staging and Production");
        (await Refused(() => w.RequestAsync("m", 1, by: Vic))).ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
        (await Refused(() => w.RequestAsync("m", 1, by: new Caller("alice", DashboardRole.Contributor, scope: TokenScope.Read))))
            .ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
        var modelId = await w.Permissions.RegisteredModelIdAsync("m", Ct);
        await w.Permissions.SetRegisteredModelGrantAsync(modelId, PrincipalKind.User, "sam", AccessLevel.Read, Ct);
        (await Refused(() => w.RequestAsync("m", 1, by: Sam))).ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);

        await using (var db = await w.Db.Factory.CreateDbContextAsync(Ct))
        {
            (await db.PromotionRequests.CountAsync(Ct)).ShouldBe(0);
        }
        (await w.AuditAsync()).ShouldNotContain(e => e.Action == AuditActions.RequestCreated);
        (await w.OutboxAsync()).Count.ShouldBe(outboxBefore);

        // One Pending request per version and target; another target is another request.
        var first = await w.RequestAsync("m", 1);
        var duplicate = await Refused(() => w.RequestAsync("m", 1, "PRODUCTION", by: Lena));
        duplicate.ErrorCode.ShouldBe(ErrorCode.RESOURCE_ALREADY_EXISTS);
        duplicate.Message.ShouldContain($"#{first.Request.Id}");
        await w.RequestAsync("m", 1, ModelStage.Staging);
        await w.RequestAsync("m", 1, "champion", kind: PromotionTargetKind.Alias);
        // A version already in the target is no request.
        await w.Registry.TransitionStageAsync("m", "2", ModelStage.Staging, false, Actor.Local, Ct);
        (await Refused(() => w.RequestAsync("m", 2, ModelStage.Staging))).Message.ShouldContain("is Staging already");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Nobody_approves_their_own_request_and_only_approvers_under_the_policy_review(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9));
        await w.PolicyAsync(null);
        var asker = new Caller("bob", DashboardRole.Approver);
        var own = await w.RequestAsync("m", 1, by: asker);

        var self = await Should.ThrowAsync<MlflowException>(() => w.ApproveAsync(own.Request.Id, Bob));
        (self.ErrorCode, self.Message).ShouldBe((ErrorCode.PERMISSION_DENIED, "You cannot approve your own request."));
        (await Should.ThrowAsync<MlflowException>(() => w.RejectAsync(own.Request.Id, Bob))).ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
        (await Should.ThrowAsync<MlflowException>(() => w.ApproveAsync(own.Request.Id, Sam))).ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
        (await Should.ThrowAsync<MlflowException>(() => w.ApproveAsync(own.Request.Id, Vic))).ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
        (await Should.ThrowAsync<MlflowException>(() => w.ApproveAsync(own.Request.Id, new Caller("carol", DashboardRole.Approver, scope: TokenScope.Read))))
            .ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
        // An approver who may not read the model may not approve its promotions.
        var modelId = await w.Permissions.RegisteredModelIdAsync("m", Ct);
        await w.Permissions.SetRegisteredModelGrantAsync(modelId, PrincipalKind.User, "carol", AccessLevel.NoPermissions, Ct);
        (await Should.ThrowAsync<MlflowException>(() => w.ApproveAsync(own.Request.Id, Carol))).ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);

        (await w.RowAsync(own.Request.Id)).Reviews.ShouldBeEmpty();
        (await w.StageOfAsync("m", 1)).ShouldBe(ModelStage.None);
        var approved = await w.ApproveAsync(own.Request.Id, Ada);
        approved.Request.State.ShouldBe(PromotionState.Approved);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Two_approvals_from_distinct_people_apply_the_change_and_archive_the_previous_holder_in_one_transaction(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.8), Metrics(0.9));
        await w.Registry.TransitionStageAsync("m", "1", ModelStage.Production, false, Actor.Local, Ct);
        await w.PolicyAsync("m", approvals: 2);
        var request = await w.RequestAsync("m", 2, archive: true);
        var id = request.Request.Id;
        var stageEventsBefore = (await w.OutboxAsync()).Count(e => e == WebhookEvents.StageChanged);

        var once = await w.ApproveAsync(id, Bob);
        once.Request.State.ShouldBe(PromotionState.Pending);
        once.Approvals.ShouldBe(1);
        once.RequiredApprovals.ShouldBe(2);
        (await w.StageOfAsync("m", 2)).ShouldBe(ModelStage.None);
        var twice = await Should.ThrowAsync<MlflowException>(() => w.ApproveAsync(id, Bob));
        twice.ErrorCode.ShouldBe(ErrorCode.INVALID_STATE);
        twice.Message.ShouldContain("one review per person");
        (await w.RowAsync(id)).Reviews.Count.ShouldBe(1);

        var done = await w.ApproveAsync(id, Carol);

        done.Request.State.ShouldBe(PromotionState.Approved);
        done.Request.ClosedBy.ShouldBe("carol");
        done.Request.PreviousVersion.ShouldBe(1);
        done.Approvals.ShouldBe(2);
        (await w.StageOfAsync("m", 2)).ShouldBe(ModelStage.Production);
        (await w.StageOfAsync("m", 1)).ShouldBe(ModelStage.Archived);
        var audit = await w.AuditAsync(id);
        audit.Select(e => e.Action).ShouldBe([AuditActions.RequestCreated, AuditActions.RequestReviewed, AuditActions.StageChanged,
            AuditActions.StageChanged, AuditActions.RequestApplied, AuditActions.RequestApproved], ignoreOrder: true);
        audit.Where(e => e.Action == AuditActions.StageChanged).Select(e => e.Target).ShouldBe(["m/2", "m/1"], ignoreOrder: true);
        audit.Where(e => e.Action != AuditActions.RequestCreated).Select(e => e.Time).Distinct().Count().ShouldBeLessThanOrEqualTo(2);
        var outbox = await w.OutboxAsync();
        outbox.Count(e => e == WebhookEvents.StageChanged).ShouldBe(stageEventsBefore + 2);
        outbox.ShouldContain(WebhookEvents.RequestApproved);
        await using var db = await w.Db.Factory.CreateDbContextAsync(Ct);
        var approvedEvent = await db.WebhookDeliveries.AsNoTracking().SingleAsync(d => d.EventType == WebhookEvents.RequestApproved, Ct);
        approvedEvent.Payload.ShouldContain("\"reviewers\"");
        approvedEvent.Payload.ShouldContain("\"carol\"");
        approvedEvent.Payload.ShouldContain($"\"request_id\":{id}");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Members_of_the_approver_groups_approve_and_the_role_alone_does_not_when_the_policy_says_so(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9));
        await w.PolicyAsync("m", approverRole: false, groups: ["leads"]);
        var id = (await w.RequestAsync("m", 1)).Request.Id;

        (await w.Promotions.MayApproveAsync("m", Bob, Ct)).ShouldBeFalse();
        (await w.Promotions.MayApproveAsync("m", Lena, Ct)).ShouldBeTrue();
        var refused = await Should.ThrowAsync<MlflowException>(() => w.ApproveAsync(id, Bob));
        refused.ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
        refused.Message.ShouldContain("'leads'");
        var inbox = await w.Promotions.SearchRequestsAsync(new PromotionRequestQuery(ReviewableBy: true), Lena, Ct);
        inbox.Items.ShouldHaveSingleItem().Request.Id.ShouldBe(id);
        (await w.Promotions.SearchRequestsAsync(new PromotionRequestQuery(ReviewableBy: true), Bob, Ct)).Items.ShouldBeEmpty();

        (await w.ApproveAsync(id, Lena)).Request.State.ShouldBe(PromotionState.Approved);
        (await w.Promotions.SearchRequestsAsync(new PromotionRequestQuery(ReviewableBy: true), Lena, Ct)).Items.ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task One_rejection_rejects_and_announces_it(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9));
        await w.PolicyAsync(null, approvals: 2);
        var id = (await w.RequestAsync("m", 1)).Request.Id;
        await w.ApproveAsync(id, Bob);

        var rejected = await w.RejectAsync(id, Carol);

        rejected.Request.State.ShouldBe(PromotionState.Rejected);
        rejected.Request.ClosedBy.ShouldBe("carol");
        (await w.StageOfAsync("m", 1)).ShouldBe(ModelStage.None);
        (await w.OutboxAsync()).ShouldContain(WebhookEvents.RequestRejected);
        (await w.AuditAsync(id)).ShouldContain(e => e.Action == AuditActions.RequestRejected && e.Actor == "carol" && e.Reason == "no");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Only_the_requester_or_an_admin_cancels(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9));
        await w.PolicyAsync(null);
        var id = (await w.RequestAsync("m", 1)).Request.Id;
        var other = (await w.RequestAsync("m", 1, ModelStage.Staging)).Request.Id;

        (await Should.ThrowAsync<MlflowException>(() => w.Promotions.CancelAsync(id, null, Sam, Ct))).ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
        (await Should.ThrowAsync<MlflowException>(() => w.Promotions.CancelAsync(id, null, Bob, Ct))).ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
        (await w.RowAsync(id)).State.ShouldBe(PromotionState.Pending);

        var cancelled = await w.Promotions.CancelAsync(id, "not yet", Alice, Ct);
        cancelled.Request.State.ShouldBe(PromotionState.Cancelled);
        cancelled.Request.Comments.ShouldHaveSingleItem().Body.ShouldBe("not yet");
        (await w.Promotions.CancelAsync(other, null, Ada, Ct)).Request.State.ShouldBe(PromotionState.Cancelled);
        (await w.AuditAsync(id)).ShouldContain(e => e.Action == AuditActions.RequestCancelled && e.Actor == "alice");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Every_transition_out_of_a_final_state_is_refused_as_invalid_state(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9), Metrics(0.9), Metrics(0.9), Metrics(0.9));
        await w.PolicyAsync(null, expiryHours: 1);
        var approved = (await w.RequestAsync("m", 1)).Request.Id;
        await w.ApproveAsync(approved, Bob);
        var rejected = (await w.RequestAsync("m", 2)).Request.Id;
        await w.RejectAsync(rejected, Bob);
        var cancelled = (await w.RequestAsync("m", 3)).Request.Id;
        await w.Promotions.CancelAsync(cancelled, null, Alice, Ct);
        var expired = (await w.RequestAsync("m", 4)).Request.Id;
        w.Clock.Advance(TimeSpan.FromHours(2));
        (await w.Promotions.ExpireDueAsync(Ct)).ShouldBe(1);
        var auditBefore = (await w.AuditAsync()).Count;

        foreach (var (id, state) in new[] { (approved, PromotionState.Approved), (rejected, PromotionState.Rejected),
                     (cancelled, PromotionState.Cancelled), (expired, PromotionState.Expired) })
        {
            foreach (var act in new Func<Task>[]
                     {
                         () => w.ApproveAsync(id, Carol), () => w.RejectAsync(id, Carol), () => w.Promotions.CancelAsync(id, null, Alice, Ct),
                         () => w.Promotions.CancelAsync(id, null, Ada, Ct),
                     })
            {
                var e = await Should.ThrowAsync<MlflowException>(act);
                e.ErrorCode.ShouldBe(ErrorCode.INVALID_STATE);
                e.HttpStatus.ShouldBe(409);
                e.Message.ShouldContain($"is {state}");
            }
            (await w.RowAsync(id)).State.ShouldBe(state);
        }
        (await w.AuditAsync()).Count.ShouldBe(auditBefore);
        // Comments stay possible on a closed request (the thread is the record).
        (await w.Promotions.CommentAsync(approved, "shipped", Sam, Ct)).Request.Comments.ShouldHaveSingleItem().Author.ShouldBe("sam");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_pending_request_past_its_expiry_is_expired_by_the_worker_or_by_the_review_that_finds_it(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9), Metrics(0.9));
        await w.PolicyAsync(null, expiryHours: 1);
        var first = (await w.RequestAsync("m", 1)).Request.Id;
        var second = (await w.RequestAsync("m", 2)).Request.Id;
        w.Clock.Advance(TimeSpan.FromMinutes(59));
        (await w.Promotions.ExpireDueAsync(Ct)).ShouldBe(0);
        w.Clock.Advance(TimeSpan.FromMinutes(2));

        var late = await Should.ThrowAsync<MlflowException>(() => w.ApproveAsync(first, Bob));
        late.ErrorCode.ShouldBe(ErrorCode.INVALID_STATE);
        late.Message.ShouldContain("expired");
        var row = await w.RowAsync(first);
        (row.State, row.ClosedBy, row.Reviews.Count).ShouldBe((PromotionState.Expired, AuditLog.SystemActor, 0));
        (await w.StageOfAsync("m", 1)).ShouldBe(ModelStage.None);
        (await w.Promotions.GetRequestAsync(second, Bob, Ct)).Request.State.ShouldBe(PromotionState.Expired);

        (await w.Promotions.ExpireDueAsync(Ct)).ShouldBe(1);
        (await w.RowAsync(second)).State.ShouldBe(PromotionState.Expired);
        (await w.AuditAsync(second)).ShouldContain(e => e.Action == AuditActions.RequestExpired && e.Actor == AuditLog.SystemActor);
        // An expired duplicate does not block a new request.
        (await w.RequestAsync("m", 1)).Request.State.ShouldBe(PromotionState.Pending);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task An_approved_alias_request_moves_the_alias_and_records_the_previous_version(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.8), Metrics(0.9));
        await w.Registry.SetAliasAsync("m", "champion", "1", Actor.Local, Ct);
        await w.PolicyAsync(null);
        var id = (await w.RequestAsync("m", 2, "champion", kind: PromotionTargetKind.Alias)).Request.Id;

        var done = await w.ApproveAsync(id, Bob);

        done.Request.State.ShouldBe(PromotionState.Approved);
        done.Request.PreviousVersion.ShouldBe(1);
        (await w.Registry.GetModelVersionByAliasAsync("m", "champion", Ct)).Version.Version.ShouldBe(2);
        (await w.AuditAsync(id)).ShouldContain(e => e.Action == AuditActions.AliasSet && e.Actor == "bob" && e.Target == "m@champion");
        (await w.OutboxAsync()).ShouldContain(WebhookEvents.AliasChanged);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task An_approval_that_cannot_be_applied_writes_nothing(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9));
        await w.PolicyAsync(null);
        var id = (await w.RequestAsync("m", 1)).Request.Id;
        await w.Registry.DeleteModelVersionAsync("m", "1", Actor.Local, Ct);
        var audit = (await w.AuditAsync()).Count;
        var outbox = (await w.OutboxAsync()).Count;

        var e = await Should.ThrowAsync<MlflowException>(() => w.ApproveAsync(id, Bob));

        e.ErrorCode.ShouldBe(ErrorCode.INVALID_STATE);
        e.Message.ShouldContain("Version 1 of 'm' was deleted");
        var row = await w.RowAsync(id);
        (row.State, row.Reviews.Count).ShouldBe((PromotionState.Pending, 0));
        (await w.AuditAsync()).Count.ShouldBe(audit);
        (await w.OutboxAsync()).Count.ShouldBe(outbox);
        // It can still be closed.
        (await w.RejectAsync(id, Bob)).Request.State.ShouldBe(PromotionState.Rejected);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Approvals_that_arrive_at_once_are_counted_one_after_the_other_and_apply_once(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9));
        await w.PolicyAsync(null, approvals: 2);
        var id = (await w.RequestAsync("m", 1)).Request.Id;

        var results = await Task.WhenAll(w.ApproveAsync(id, Bob), w.ApproveAsync(id, Carol));

        results.Count(r => r.Request.State == PromotionState.Approved).ShouldBe(1);
        (await w.RowAsync(id)).State.ShouldBe(PromotionState.Approved);
        (await w.AuditAsync(id)).Count(e => e.Action == AuditActions.StageChanged).ShouldBe(1);
        (await w.OutboxAsync()).Count(e => e == WebhookEvents.RequestApproved).ShouldBe(1);
    }
}
