using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Governance;
using Dashboard.Registry;
using Dashboard.Secrets;
using Dashboard.Security;
using static Dashboard.Core.Tests.Governance.AuditTestBed;

namespace Dashboard.Core.Tests.Governance;

/// <summary>
/// The audit search (issue 7, item 5): each filter in SQL, keyset pages newest first with validated tokens, and what each
/// caller may see: Admins and Approvers everything, anyone else the events of models they may read only.
/// </summary>
public class AuditSearchTests
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    /// <summary>Two models with registry events, a promotion request's events, a webhook and a token event.</summary>
    private static async Task<(long Fraud, long Churn)> SeedAsync(AuditTestBed bed)
    {
        var fraud = await bed.ModelAsync("fraud", versions: 2, actor: "alice");
        var churn = await bed.ModelAsync("churn", versions: 1, actor: "carol");
        await bed.Registry.TransitionStageAsync("fraud", "2", ModelStage.Production, false, new Actor("bob"), Ct);
        await bed.AddEventsAsync(db =>
        {
            AuditLog.Add(db, 5000, "alice", AuditActions.RequestCreated, AuditTargets.PromotionRequest, "7", after: new { state = "Pending" },
                modelId: fraud, modelName: "fraud", version: 1, requestId: 7, reason: "better recall");
            AuditLog.Add(db, 6000, "bob", AuditActions.RequestApproved, AuditTargets.PromotionRequest, "7", new { state = "Pending" },
                new { state = "Approved" }, fraud, "fraud", 1, 7);
            AuditLog.Add(db, 7000, "ada", AuditActions.WebhookCreated, AuditTargets.Webhook, "deploy-hook");
        });
        return (fraud, churn);
    }

    private static async Task<List<AuditEvent>> AllAsync(AuditTestBed bed, AuditQuery query, Caller? caller = null) =>
        [.. (await bed.Audit.SearchAsync(query with { MaxResults = 1000 }, caller ?? Admin, Ct)).Items];

    [Theory, MemberData(nameof(Providers))]
    public async Task Each_filter_selects_its_events_newest_first(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        var (fraud, _) = await SeedAsync(bed);
        var all = await AllAsync(bed, new AuditQuery());

        all.Select(e => e.Id).ShouldBe(all.Select(e => e.Id).OrderDescending());
        all.Count.ShouldBe((await bed.EventsAsync()).Count);
        (await AllAsync(bed, new AuditQuery(Actor: "carol"))).ShouldAllBe(e => e.Actor == "carol");
        (await AllAsync(bed, new AuditQuery(Actor: "carol"))).Count.ShouldBe(2);
        (await AllAsync(bed, new AuditQuery(Action: AuditActions.StageChanged))).ShouldHaveSingleItem().Version.ShouldBe(2);
        (await AllAsync(bed, new AuditQuery(Action: "promotion_request."))).Select(e => e.Action)
            .ShouldBe([AuditActions.RequestApproved, AuditActions.RequestCreated]);
        // A prefix is a prefix of the action: "promotion" without its dot is no action at all.
        (await AllAsync(bed, new AuditQuery(Action: "promotion"))).ShouldBeEmpty();
        (await AllAsync(bed, new AuditQuery(TargetType: AuditTargets.Webhook))).ShouldHaveSingleItem().Target.ShouldBe("deploy-hook");
        (await AllAsync(bed, new AuditQuery(ModelName: "churn"))).ShouldAllBe(e => e.ModelName == "churn");
        (await AllAsync(bed, new AuditQuery(ModelName: "fraud", Version: 1))).Select(e => e.Action)
            .ShouldBe([AuditActions.RequestApproved, AuditActions.RequestCreated, AuditActions.VersionCreated]);
        (await AllAsync(bed, new AuditQuery(RequestId: 7))).Count.ShouldBe(2);
        (await AllAsync(bed, new AuditQuery(From: 5000, To: 7000))).Select(e => e.Time).ShouldBe([6000L, 5000]);
        (await AllAsync(bed, new AuditQuery(Text: "FRAUD/2"))).ShouldAllBe(e => e.Target == "fraud/2");
        (await AllAsync(bed, new AuditQuery(Text: "FRAUD/2"))).Count.ShouldBe(2);
        (await AllAsync(bed, new AuditQuery(Text: "%"))).ShouldBeEmpty();
        (await AllAsync(bed, new AuditQuery(Actor: "alice", Action: "model_version.", ModelName: "fraud"))).Count.ShouldBe(2);

        // A renamed model's events are found by its new name, those recorded under the old name included.
        using (AmbientActor.Use("alice"))
        {
            await bed.Registry.RenameRegisteredModelAsync("fraud", "fraud-v2", Ct);
        }
        var renamed = await AllAsync(bed, new AuditQuery(ModelName: "fraud-v2"));
        renamed.ShouldAllBe(e => e.RegisteredModelId == fraud);
        renamed.ShouldContain(e => e.ModelName == "fraud");
        renamed.ShouldContain(e => e.Action == AuditActions.ModelRenamed);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Pages_follow_each_other_without_repeats_or_gaps_even_as_events_arrive(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        await bed.AddEventsAsync(db =>
        {
            for (var i = 0; i < 25; i++)
            {
                AuditLog.Add(db, 1000 + i, "sam", AuditActions.ModelTagSet, AuditTargets.RegisteredModel, $"m{i}");
            }
        });

        var seen = new List<long>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await bed.Audit.SearchAsync(new AuditQuery(Actor: "sam", MaxResults: 10, PageToken: token), Admin, Ct);
            seen.AddRange(page.Items.Select(e => e.Id));
            token = page.NextPageToken;
            pages++;
            if (pages == 1)
            {
                // A newer event written between pages does not shift the next page.
                await bed.AddEventsAsync(db => AuditLog.Add(db, 9999, "sam", AuditActions.ModelTagSet, AuditTargets.RegisteredModel, "late"));
            }
        }
        while (token is not null);

        pages.ShouldBe(3);
        seen.Count.ShouldBe(25);
        seen.ShouldBeUnique();
        seen.ShouldBe(seen.OrderDescending());
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_page_token_of_other_filters_or_of_nothing_and_a_page_size_out_of_bounds_are_refused(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        await SeedAsync(bed);
        var first = await bed.Audit.SearchAsync(new AuditQuery(MaxResults: 2), Admin, Ct);
        first.NextPageToken.ShouldNotBeNull();

        async Task<string> Refused(AuditQuery q)
        {
            var refusal = await Should.ThrowAsync<MlflowException>(() => bed.Audit.SearchAsync(q, Admin, Ct));
            refusal.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
            return refusal.Message;
        }

        (await Refused(new AuditQuery(Actor: "bob", MaxResults: 2, PageToken: first.NextPageToken))).ShouldContain("other filters");
        (await Refused(new AuditQuery(PageToken: "not-a-token"))).ShouldContain("Invalid page token");
        (await Refused(new AuditQuery(PageToken: new string('A', 300)))).ShouldContain("Invalid page token");
        (await Refused(new AuditQuery(MaxResults: 0))).ShouldContain("max_results");
        (await Refused(new AuditQuery(MaxResults: 1001))).ShouldContain("max_results");
        (await Refused(new AuditQuery(Action: "Robert'); DROP TABLE"))).ShouldContain("'action'");
        (await Refused(new AuditQuery(TargetType: "a b"))).ShouldContain("'target_type'");
        (await Refused(new AuditQuery(Version: 0))).ShouldContain("'version'");
        (await Refused(new AuditQuery(From: 10, To: 10))).ShouldContain("'from'");
        (await Refused(new AuditQuery(Text: new string('q', 501)))).ShouldContain("'q'");
        (await bed.Audit.SearchAsync(new AuditQuery(MaxResults: 2, PageToken: first.NextPageToken), Admin, Ct)).Items.Count.ShouldBe(2);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Admins_and_approvers_see_every_event_and_anyone_else_only_those_of_models_they_may_read(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        var (fraud, churn) = await SeedAsync(bed);
        await bed.Permissions.SetRegisteredModelGrantAsync(churn, PrincipalKind.User, "cora", AccessLevel.NoPermissions, Ct);
        var total = (await bed.EventsAsync()).Count;

        (await AllAsync(bed, new AuditQuery(), Admin)).Count.ShouldBe(total);
        (await AllAsync(bed, new AuditQuery(), Approver)).Count.ShouldBe(total);
        var cora = await AllAsync(bed, new AuditQuery(), new Caller("cora", DashboardRole.Contributor));
        cora.ShouldNotBeEmpty();
        cora.ShouldAllBe(e => e.RegisteredModelId == fraud);
        // Events without a model (tokens, webhooks, experiment grants) are not theirs to see, whatever they name.
        (await AllAsync(bed, new AuditQuery(TargetType: AuditTargets.Webhook), new Caller("cora", DashboardRole.Contributor))).ShouldBeEmpty();
        (await AllAsync(bed, new AuditQuery(ModelName: "churn"), new Caller("cora", DashboardRole.Contributor))).ShouldBeEmpty();
        (await AllAsync(bed, new AuditQuery(ModelName: "churn"), new Caller("dan", DashboardRole.Viewer))).ShouldNotBeEmpty();

        // Where nobody reads by default, a Viewer without a grant sees nothing; a group's grant opens one model.
        await using var closed = await CreateAsync(provider, AccessLevel.NoPermissions);
        var (closedFraud, _) = await SeedAsync(closed);
        (await AllAsync(closed, new AuditQuery(), new Caller("victor", DashboardRole.Viewer, ["readers"]))).ShouldBeEmpty();
        await closed.Permissions.SetRegisteredModelGrantAsync(closedFraud, PrincipalKind.Group, "readers", AccessLevel.Read, Ct);
        (await AllAsync(closed, new AuditQuery(), new Caller("victor", DashboardRole.Viewer, ["readers"])))
            .ShouldAllBe(e => e.RegisteredModelId == closedFraud);
    }

    [Fact]
    public void Times_are_epoch_milliseconds_or_iso_8601_and_anything_else_is_refused()
    {
        AuditService.ParseTime(null, "from").ShouldBeNull();
        AuditService.ParseTime(" ", "from").ShouldBeNull();
        AuditService.ParseTime("1700000000000", "from").ShouldBe(1700000000000);
        AuditService.ParseTime("2026-11-28", "from").ShouldBe(new DateTimeOffset(2026, 11, 28, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds());
        AuditService.ParseTime("2026-11-28T09:30:00Z", "to").ShouldBe(new DateTimeOffset(2026, 11, 28, 9, 30, 0, TimeSpan.Zero).ToUnixTimeMilliseconds());
        AuditService.ParseTime("2026-11-28T09:30:00+01:00", "to").ShouldBe(new DateTimeOffset(2026, 11, 28, 8, 30, 0, TimeSpan.Zero).ToUnixTimeMilliseconds());
        foreach (var bad in new[] { "yesterday", "-5", "2026-13-01", "1e9", "99999999999999999999", "Nov 28 2026" })
        {
            Should.Throw<MlflowException>(() => AuditService.ParseTime(bad, "from")).Message.ShouldContain("'from'");
        }
    }
}
