using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Governance;
using Dashboard.Registry;
using Dashboard.Security;
using static Dashboard.Core.Tests.Governance.AuditTestBed;

namespace Dashboard.Core.Tests.Governance;

/// <summary>
/// A model's promotion timeline (issue 7, item 5: "who made version 7 Production, when, approved by whom, with which gate
/// results"), assembled from the audit events and the promotion_requests and promotion_reviews rows, which the test
/// writes directly as the promotion engine would.
/// </summary>
public class AuditTimelineTests
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    private static readonly GateSpec Accuracy = new() { Kind = GateKind.Metric, Expression = "metrics.acc >= 0.9" };
    private static readonly GateSpec TopThree = new() { Kind = GateKind.TopK, Metric = "acc", K = 3 };
    private static readonly GateSpec Validated = new() { Kind = GateKind.Tag, Expression = "tags.validation_status = 'passed'" };

    private static PromotionRequest Request(long modelId, int version, string target, string state, string by, long created,
        string? comment = null, string kind = PromotionTargetKind.Stage) => new()
    {
        RegisteredModelId = modelId,
        ModelName = "fraud",
        Version = version,
        TargetKind = kind,
        Target = target,
        State = state,
        RequestedBy = by,
        Comment = comment,
        CreatedAt = created,
        UpdatedAt = created,
    };

    /// <summary>Applies a request's stage change the way the engine does: the registry's in-transaction helper, with the request id.</summary>
    private static async Task ApplyAsync(AuditTestBed bed, PromotionRequest request, string actor)
    {
        await bed.Factory.WriteAsync(async db =>
        {
            var key = await RegistryService.LockVersionInAsync(db, "fraud", request.Version, Ct);
            var archived = await bed.Registry.ApplyStageAsync(db, "fraud", key, request.Target, request.ArchiveExisting, new Actor(actor),
                request.Id, Ct);
            var row = await db.PromotionRequests.FindAsync([request.Id], Ct);
            row!.State = PromotionState.Approved;
            row.ClosedBy = actor;
            row.ClosedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            row.PreviousVersion = archived.Count > 0 ? archived[0] : null;
            await db.SaveChangesAsync(Ct);
            return true;
        }, Ct);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task An_approved_request_is_one_entry_with_requester_approvers_gates_and_archived_versions(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        var model = await bed.ModelAsync("fraud", versions: 7);
        await bed.Registry.TransitionStageAsync("fraud", "5", ModelStage.Production, false, new Actor("bob"), Ct);
        var request = Request(model, 7, ModelStage.Production, PromotionState.Pending, "alice", 1000, comment: "better recall");
        request.ArchiveExisting = true;
        request.GateResults = GateResult.Serialize([new(Accuracy, true, "0.95 >= 0.9"), new(TopThree, true, "rank 1"), new(Validated, true, "passed")]);
        await bed.AddEventsAsync(db => db.PromotionRequests.Add(request));
        await bed.AddEventsAsync(db =>
        {
            db.PromotionReviews.Add(new PromotionReview { RequestId = request.Id, Reviewer = "carol", Decision = ReviewDecision.Approve, Time = 2000 });
            db.PromotionReviews.Add(new PromotionReview { RequestId = request.Id, Reviewer = "bob", Decision = ReviewDecision.Approve, Time = 3000 });
        });
        await ApplyAsync(bed, request, "bob");

        var timeline = await bed.Audit.TimelineAsync("fraud", Admin, Ct);

        var promoted = timeline.Entries[0];
        promoted.Kind.ShouldBe(TimelineKinds.Promoted);
        promoted.Version.ShouldBe(7);
        promoted.RequestId.ShouldBe(request.Id);
        promoted.Actor.ShouldBe("bob");
        promoted.ArchivedVersions.ShouldBe([5]);
        promoted.Text.ShouldBe($"Version 7 → Production by bob, requested by alice (#{request.Id}, “better recall”), approved by carol and bob, " +
            "gates 3/3 passed, archived version 5");
        // The request's own stage changes are in its entry, not entries of their own; the earlier direct change is.
        timeline.Entries.Count(e => e.Kind == TimelineKinds.StageChanged).ShouldBe(1);
        var direct = timeline.Entries.Single(e => e.Kind == TimelineKinds.StageChanged);
        direct.Summary.ShouldBe("Version 5 → Production by bob");
        timeline.Entries.Where(e => e.Kind == TimelineKinds.VersionCreated).Select(e => e.Version).ShouldBe([7, 6, 5, 4, 3, 2, 1]);
        timeline.Entries[^1].Kind.ShouldBe(TimelineKinds.ModelCreated);
        timeline.Entries.Select(e => e.Time).ShouldBe(timeline.Entries.Select(e => e.Time).OrderDescending());
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Overridden_gates_rejected_cancelled_expired_and_pending_requests_read_as_sentences(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        var model = await bed.ModelAsync("fraud", versions: 3);
        var overridden = Request(model, 2, ModelStage.Staging, PromotionState.Pending, "alice", 1000);
        overridden.GateResults = GateResult.Serialize([new(Accuracy, false, "0.8 < 0.9"), new(TopThree, true, "rank 2")]);
        overridden.OverriddenBy = "ada";
        overridden.OverrideReason = "known label noise in the test set";
        var rejected = Request(model, 3, ModelStage.Production, PromotionState.Rejected, "alice", 2000, comment: "ship it");
        rejected.ClosedBy = "carol";
        rejected.ClosedAt = 2500;
        var cancelled = Request(model, 3, ModelStage.Staging, PromotionState.Cancelled, "alice", 3000);
        cancelled.ClosedBy = "alice";
        cancelled.ClosedAt = 3500;
        var expired = Request(model, 1, "champion", PromotionState.Expired, "dan", 4000, kind: PromotionTargetKind.Alias);
        expired.ClosedBy = "system";
        expired.ClosedAt = 4500;
        var pending = Request(model, 3, "champion", PromotionState.Pending, "erin", 5000, kind: PromotionTargetKind.Alias);
        await bed.AddEventsAsync(db => db.PromotionRequests.AddRange(overridden, rejected, cancelled, expired, pending));
        await bed.AddEventsAsync(db =>
        {
            db.PromotionReviews.Add(new PromotionReview { RequestId = overridden.Id, Reviewer = "ada", Decision = ReviewDecision.Approve, Time = 1100 });
            db.PromotionReviews.Add(new PromotionReview
            {
                RequestId = rejected.Id, Reviewer = "carol", Decision = ReviewDecision.Reject, Comment = "recall dropped", Time = 2500,
            });
            db.PromotionReviews.Add(new PromotionReview { RequestId = pending.Id, Reviewer = "bob", Decision = ReviewDecision.Approve, Time = 5100 });
        });
        await ApplyAsync(bed, overridden, "ada");
        await bed.Registry.SetAliasAsync("fraud", "champion", "2", new Actor("bob"), Ct);
        await bed.Registry.SetAliasAsync("fraud", "champion", "3", new Actor("bob"), Ct);

        var entries = (await bed.Audit.TimelineAsync("fraud", Admin, Ct)).Entries;

        entries.Single(e => e.RequestId == overridden.Id).Text.ShouldBe(
            $"Version 2 → Staging by ada, requested by alice (#{overridden.Id}), approved by ada, gates 1/2 passed, " +
            "gates overridden by ada: “known label noise in the test set”");
        entries.Single(e => e.RequestId == rejected.Id).Text.ShouldBe(
            $"Request for version 3 → Production rejected by carol, requested by alice (#{rejected.Id}, “ship it”), “recall dropped”");
        entries.Single(e => e.RequestId == cancelled.Id).Text.ShouldBe(
            $"Request for version 3 → Staging cancelled by alice, requested by alice (#{cancelled.Id})");
        var expiredEntry = entries.Single(e => e.RequestId == expired.Id);
        expiredEntry.Kind.ShouldBe(TimelineKinds.RequestExpired);
        expiredEntry.Text.ShouldBe($"Request for @champion → version 1 expired, requested by dan (#{expired.Id})");
        entries.Single(e => e.RequestId == pending.Id).Text.ShouldBe(
            $"Request for @champion → version 3 pending, requested by erin (#{pending.Id}), approved so far by bob");
        var aliasMoves = entries.Where(e => e.Kind == TimelineKinds.AliasSet).ToList();
        aliasMoves.Select(e => e.Text).ShouldBe(["@champion → version 3 by bob, was version 2", "@champion → version 2 by bob"]);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_direct_change_that_archives_the_holder_is_one_entry_and_markup_stays_text(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        await bed.ModelAsync("fraud", versions: 2);
        await bed.Registry.TransitionStageAsync("fraud", "1", ModelStage.Production, false, new Actor("<script>x</script>"), Ct);
        await bed.Registry.TransitionStageAsync("fraud", "2", ModelStage.Production, true, new Actor("bob"), Ct);

        var entries = (await bed.Audit.TimelineAsync("fraud", Admin, Ct)).Entries;

        var latest = entries[0];
        latest.Kind.ShouldBe(TimelineKinds.StageChanged);
        latest.Text.ShouldBe("Version 2 → Production by bob, was None, archived version 1");
        latest.ArchivedVersions.ShouldBe([1]);
        entries[1].Summary.ShouldBe("Version 1 → Production by <script>x</script>");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task The_timeline_of_a_model_one_may_not_read_is_refused_and_of_no_model_not_found(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        var model = await bed.ModelAsync("fraud", versions: 1);
        await bed.Permissions.SetRegisteredModelGrantAsync(model, PrincipalKind.User, "cora", AccessLevel.NoPermissions, Ct);

        (await Should.ThrowAsync<MlflowException>(() => bed.Audit.TimelineAsync("fraud", new Caller("cora", DashboardRole.Contributor), Ct)))
            .ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
        (await Should.ThrowAsync<MlflowException>(() => bed.Audit.TimelineAsync("nope", Admin, Ct)))
            .ErrorCode.ShouldBe(ErrorCode.RESOURCE_DOES_NOT_EXIST);
        (await bed.Audit.TimelineAsync("fraud", new Caller("dan", DashboardRole.Viewer), Ct)).Entries.Count.ShouldBe(2);
    }
}
