using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Governance;
using Dashboard.Registry;
using Microsoft.EntityFrameworkCore;
using static Dashboard.Core.Tests.Governance.PromotionWorld;

namespace Dashboard.Core.Tests.Governance;

/// <summary>
/// Gates (issue 7, item 3), policies and the guard of direct changes (item 4) on a real database: each gate passing and
/// failing with the numbers in its words, the Admin's override, every bad policy refused with nothing stored, and the
/// guard's refusal (or request) for a protected stage or alias.
/// </summary>
public class GateAndPolicyTests
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    private static Task<IReadOnlyList<GateResult>> GatesAsync(PromotionWorld w, int version, string target = ModelStage.Production,
        string kind = PromotionTargetKind.Stage) =>
        w.Promotions.EvaluateGatesAsync("m", version.ToString(System.Globalization.CultureInfo.InvariantCulture), kind, target, Alice, Ct);

    [Theory, MemberData(nameof(Providers))]
    public async Task A_metric_gate_is_the_run_search_over_the_source_run_and_says_its_numbers(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.962), Metrics(0.91), new() { ["loss"] = 0.1 }, null);
        await w.PolicyAsync(null, gates: [new GateSpec { Kind = GateKind.Metric, Expression = "metrics.val_accuracy >= 0.95" }]);

        var pass = (await GatesAsync(w, 1)).ShouldHaveSingleItem();
        (pass.Passed, pass.Detail).ShouldBe((true, "val_accuracy 0.962 ≥ 0.95"));
        var fail = (await GatesAsync(w, 2)).ShouldHaveSingleItem();
        (fail.Passed, fail.Detail).ShouldBe((false, "val_accuracy 0.91 < 0.95"));
        var missing = (await GatesAsync(w, 3)).ShouldHaveSingleItem();
        (missing.Passed, missing.Detail).ShouldBe((false, "val_accuracy not logged (wants ≥ 0.95)"));
        var noRun = (await GatesAsync(w, 4)).ShouldHaveSingleItem();
        noRun.Passed.ShouldBeFalse();
        noRun.Detail.ShouldBe("Version 4 has no source run: there is no metric to check.");

        await w.PolicyAsync(null, gates: [new GateSpec { Kind = GateKind.Metric, Expression = "metrics.val_accuracy > 0.9 and params.lr = '0.01'" }]);
        var two = (await GatesAsync(w, 2)).ShouldHaveSingleItem();
        (two.Passed, two.Detail).ShouldBe((true, "val_accuracy 0.91 > 0.9; params.lr is '0.01' (wants = '0.01')"));
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_tag_gate_reads_the_versions_tags(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9), Metrics(0.9), Metrics(0.9));
        await w.Registry.SetModelVersionTagAsync("m", "1", "validation_status", "passed", Ct);
        await w.Registry.SetModelVersionTagAsync("m", "2", "validation_status", "failed", Ct);
        await w.PolicyAsync(null, gates: [new GateSpec { Kind = GateKind.Tag, Name = "validated", Expression = "tags.validation_status = 'passed'" }]);

        var pass = (await GatesAsync(w, 1)).ShouldHaveSingleItem();
        (pass.Passed, pass.Detail).ShouldBe((true, "validation_status is 'passed' (wants = 'passed')"));
        GateEvaluator.Label(pass.Gate).ShouldBe("validated");
        var fail = (await GatesAsync(w, 2)).ShouldHaveSingleItem();
        (fail.Passed, fail.Detail).ShouldBe((false, "validation_status is 'failed' (wants = 'passed')"));
        var unset = (await GatesAsync(w, 3)).ShouldHaveSingleItem();
        (unset.Passed, unset.Detail).ShouldBe((false, "validation_status is not set (wants = 'passed')"));
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_top_k_gate_ranks_the_version_among_the_models_live_versions_with_ties_sharing_a_rank(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9), Metrics(0.95), Metrics(0.95), Metrics(0.8), Metrics(0.7), Metrics(0.99), null);
        await w.Registry.DeleteModelVersionAsync("m", "6", Actor.Local, Ct);
        await w.PolicyAsync(null, gates: [new GateSpec { Kind = GateKind.TopK, Metric = "val_accuracy", K = 2 }]);

        var best = (await GatesAsync(w, 2)).ShouldHaveSingleItem();
        (best.Passed, best.Detail).ShouldBe((true, "val_accuracy 0.95: rank 1 of 5 (top 2)"));
        (await GatesAsync(w, 3)).ShouldHaveSingleItem().Passed.ShouldBeTrue();
        var third = (await GatesAsync(w, 1)).ShouldHaveSingleItem();
        (third.Passed, third.Detail).ShouldBe((false, "val_accuracy 0.9: rank 3 of 5 (top 2)"));
        var noRun = (await GatesAsync(w, 7)).ShouldHaveSingleItem();
        noRun.Passed.ShouldBeFalse();

        await w.PolicyAsync(null, gates: [new GateSpec { Kind = GateKind.TopK, Metric = "val_accuracy", K = 1, HigherIsBetter = false }]);
        var lowest = (await GatesAsync(w, 5)).ShouldHaveSingleItem();
        (lowest.Passed, lowest.Detail).ShouldBe((true, "val_accuracy 0.7: rank 1 of 5 (top 1, lower is better)"));
        (await GatesAsync(w, 4)).ShouldHaveSingleItem().Passed.ShouldBeFalse();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_compare_gate_measures_the_version_against_the_current_holder_of_the_target(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9), Metrics(0.95), Metrics(0.895), Metrics(0.8));
        await w.Registry.TransitionStageAsync("m", "1", ModelStage.Production, false, Actor.Local, Ct);
        await w.Registry.SetAliasAsync("m", "champion", "4", Actor.Local, Ct);
        await w.PolicyAsync(null, stages: [ModelStage.Production, ModelStage.Staging],
            gates: [new GateSpec { Kind = GateKind.Compare, Metric = "val_accuracy", Margin = 0.01 }]);

        var better = (await GatesAsync(w, 2)).ShouldHaveSingleItem();
        (better.Passed, better.Detail).ShouldBe((true, "val_accuracy 0.95 vs 0.9 of version 1 (Production): not worse"));
        var within = (await GatesAsync(w, 3)).ShouldHaveSingleItem();
        (within.Passed, within.Detail).ShouldBe((true, "val_accuracy 0.895 vs 0.9 of version 1 (Production): worse by 0.005, within the margin 0.01"));
        var worse = (await GatesAsync(w, 4)).ShouldHaveSingleItem();
        (worse.Passed, worse.Detail).ShouldBe((false, "val_accuracy 0.8 vs 0.9 of version 1 (Production): worse by 0.1, more than the margin 0.01"));
        var nobody = (await GatesAsync(w, 4, ModelStage.Staging)).ShouldHaveSingleItem();
        (nobody.Passed, nobody.Detail).ShouldBe((true, "No version holds Staging now: nothing to compare with."));
        var alias = (await GatesAsync(w, 3, "champion", PromotionTargetKind.Alias)).ShouldHaveSingleItem();
        (alias.Passed, alias.Detail).ShouldBe((true, "val_accuracy 0.895 vs 0.8 of version 4 (@champion): not worse"));
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_gate_applies_only_to_the_targets_it_names(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.5));
        await w.PolicyAsync(null, gates:
        [
            new GateSpec { Kind = GateKind.Metric, Expression = "metrics.val_accuracy > 0.9", Targets = ["production"] },
            new GateSpec { Kind = GateKind.Metric, Expression = "metrics.val_accuracy > 0.1", Targets = ["champion"] },
        ]);

        (await GatesAsync(w, 1)).ShouldHaveSingleItem().Passed.ShouldBeFalse();
        (await GatesAsync(w, 1, ModelStage.Staging)).ShouldBeEmpty();
        (await GatesAsync(w, 1, "champion", PromotionTargetKind.Alias)).ShouldHaveSingleItem().Passed.ShouldBeTrue();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_gate_that_names_no_target_applies_to_every_protected_target_and_to_no_other(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.5));
        // Production and the champion alias are protected (the world's default policy); Staging and "candidate" are not.
        await w.PolicyAsync(null, gates: [new GateSpec { Kind = GateKind.Metric, Expression = "metrics.val_accuracy > 0.9" }]);

        (await GatesAsync(w, 1)).ShouldHaveSingleItem().Passed.ShouldBeFalse();
        (await GatesAsync(w, 1, "champion", PromotionTargetKind.Alias)).ShouldHaveSingleItem().Passed.ShouldBeFalse();
        (await GatesAsync(w, 1, ModelStage.Staging)).ShouldBeEmpty();
        (await GatesAsync(w, 1, "candidate", PromotionTargetKind.Alias)).ShouldBeEmpty();
        // So a request for the unprotected Staging is not held back by the Production gate.
        var request = await w.RequestAsync("m", 1, ModelStage.Staging);
        request.Gates.ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_failing_gate_blocks_approval_unless_an_admin_overrides_it_with_a_recorded_reason(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.91));
        await w.PolicyAsync(null, gates: [new GateSpec { Kind = GateKind.Metric, Name = "accuracy", Expression = "metrics.val_accuracy >= 0.95" }]);
        var id = (await w.RequestAsync("m", 1)).Request.Id;
        var audit = (await w.AuditAsync()).Count;

        var blocked = await Should.ThrowAsync<MlflowException>(() => w.ApproveAsync(id, Bob));
        blocked.ErrorCode.ShouldBe(ErrorCode.BAD_REQUEST);
        blocked.HttpStatus.ShouldBe(400);
        blocked.Message.ShouldContain("accuracy (val_accuracy 0.91 < 0.95)");
        (await Should.ThrowAsync<MlflowException>(() => w.ApproveAsync(id, Bob, "ship it"))).ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
        (await Should.ThrowAsync<MlflowException>(() => w.ApproveAsync(id, Ada))).ErrorCode.ShouldBe(ErrorCode.BAD_REQUEST);
        (await w.AuditAsync()).Count.ShouldBe(audit);
        (await w.RowAsync(id)).Reviews.ShouldBeEmpty();
        (await w.StageOfAsync("m", 1)).ShouldBe(ModelStage.None);

        var done = await w.ApproveAsync(id, Ada, "the benchmark set changed; 0.91 is the best on it");

        done.Request.State.ShouldBe(PromotionState.Approved);
        done.Request.OverrideReason.ShouldBe("the benchmark set changed; 0.91 is the best on it");
        done.Request.OverriddenBy.ShouldBe("ada");
        done.GatesPassed.ShouldBeFalse();
        (await w.StageOfAsync("m", 1)).ShouldBe(ModelStage.Production);
        (await w.AuditAsync(id)).ShouldContain(e => e.Action == AuditActions.GateOverridden && e.Actor == "ada"
            && e.Reason == "the benchmark set changed; 0.91 is the best on it");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Gates_are_evaluated_again_at_each_approval(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9));
        await w.PolicyAsync(null, gates: [new GateSpec { Kind = GateKind.Tag, Expression = "tags.validation_status = 'passed'" }]);
        var id = (await w.RequestAsync("m", 1)).Request.Id;
        (await w.Promotions.GetRequestAsync(id, Bob, Ct)).GatesPassed.ShouldBeFalse();

        await w.Registry.SetModelVersionTagAsync("m", "1", "validation_status", "passed", Ct);
        var done = await w.ApproveAsync(id, Bob);

        done.Request.State.ShouldBe(PromotionState.Approved);
        done.GatesPassed.ShouldBeTrue();
        done.Request.OverrideReason.ShouldBeNull();
    }

    public static TheoryData<string, PolicyInput> BadPolicies => new()
    {
        { "'None' is not a stage", new PolicyInput(["None"], null, null, null, null, null, null, null) },
        { "'Prod' is not a stage", new PolicyInput(["Prod"], null, null, null, null, null, null, null) },
        { "reserved", new PolicyInput(null, ["latest"], null, null, null, null, null, null) },
        { "Invalid alias name", new PolicyInput(null, ["a b"], null, null, null, null, null, null) },
        { "required_approvals must be 1 to 10, got 0", new PolicyInput(null, null, 0, null, null, null, null, null) },
        { "required_approvals must be 1 to 10, got 11", new PolicyInput(null, null, 11, null, null, null, null, null) },
        { "expiry_hours must be 1 to 8760", new PolicyInput(null, null, null, null, null, 0, null, null) },
        { "expiry_hours must be 1 to 8760", new PolicyInput(null, null, null, null, null, 8761, null, null) },
        { "direct_change must be Refuse or Request", new PolicyInput(null, null, null, null, null, null, "Maybe", null) },
        { "Nobody could approve", new PolicyInput(null, null, null, false, [], null, null, null) },
        { "approver_groups", new PolicyInput(null, null, null, null, ["  "], null, null, null) },
        { "unknown kind 'vibes'", new PolicyInput(null, null, null, null, null, null, null, [new GateSpec { Kind = "vibes" }]) },
        { "expression is required", new PolicyInput(null, null, null, null, null, null, null, [new GateSpec { Kind = "metric" }]) },
        { "Gate 1 (metric)", new PolicyInput(null, null, null, null, null, null, null, [new GateSpec { Kind = "metric", Expression = "metrics.acc >>> 1" }]) },
        { "compares tags only", new PolicyInput(null, null, null, null, null, null, null, [new GateSpec { Kind = "tag", Expression = "name = 'm'" }]) },
        { "Invalid entity type 'metrics'", new PolicyInput(null, null, null, null, null, null, null, [new GateSpec { Kind = "tag", Expression = "metrics.acc > 1" }]) },
        { "metric is required", new PolicyInput(null, null, null, null, null, null, null, [new GateSpec { Kind = "top_k", K = 3 }]) },
        { "k must be 1 to 100, got 0", new PolicyInput(null, null, null, null, null, null, null, [new GateSpec { Kind = "top_k", Metric = "acc", K = 0 }]) },
        { "k must be 1 to 100, got 101", new PolicyInput(null, null, null, null, null, null, null, [new GateSpec { Kind = "top_k", Metric = "acc", K = 101 }]) },
        { "k must be 1 to 100, got none", new PolicyInput(null, null, null, null, null, null, null, [new GateSpec { Kind = "top_k", Metric = "acc" }]) },
        { "margin must be a number of 0 or more", new PolicyInput(null, null, null, null, null, null, null, [new GateSpec { Kind = "compare", Metric = "acc", Margin = -0.1 }]) },
        { "metric is required", new PolicyInput(null, null, null, null, null, null, null, [new GateSpec { Kind = "compare" }]) },
        { "None is not a target", new PolicyInput(null, null, null, null, null, null, null, [new GateSpec { Kind = "top_k", Metric = "a", K = 1, Targets = ["none"] }]) },
    };

    [Theory, MemberData(nameof(BadPolicies))]
    public async Task A_bad_policy_is_refused_with_what_is_wrong_and_nothing_is_stored(string message, PolicyInput input)
    {
        await using var w = await CreateAsync(DatabaseProvider.Sqlite);
        await w.ModelAsync("m", Metrics(0.9));

        var global = await Should.ThrowAsync<MlflowException>(() => w.Promotions.SetPolicyAsync(null, input, Ada, Ct));
        var model = await Should.ThrowAsync<MlflowException>(() => w.Promotions.SetPolicyAsync("m", input, Ada, Ct));

        global.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        global.Message.ShouldContain(message);
        model.Message.ShouldBe(global.Message);
        await using var db = await w.Db.Factory.CreateDbContextAsync(Ct);
        (await db.PromotionPolicies.CountAsync(Ct)).ShouldBe(0);
        (await db.AuditEvents.CountAsync(e => e.TargetType == AuditTargets.PromotionPolicy, Ct)).ShouldBe(0);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_model_follows_its_own_policy_else_the_one_default_else_nothing_is_protected(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9));

        var none = await w.Promotions.GetPolicyAsync("m", Alice, Ct);
        (none.Inherited, none.ProtectedStages.Count, none.RequiredApprovals, none.ApproverRole, none.UpdatedAt).ShouldBe((true, 0, 1, true, (long?)null));

        (await Should.ThrowAsync<MlflowException>(() => w.Promotions.SetPolicyAsync(null, new PolicyInput(["Production"], null, null, null,
            null, null, null, null), Bob, Ct))).ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
        (await Should.ThrowAsync<MlflowException>(() => w.Promotions.SetPolicyAsync("m", new PolicyInput(["Production"], null, null, null,
            null, null, null, null), Alice, Ct))).ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);

        await w.Promotions.SetPolicyAsync(null, new PolicyInput(["production"], null, 2, null, null, null, "request", null), Ada, Ct);
        await w.Promotions.SetPolicyAsync(null, new PolicyInput(["staging", "Production"], null, 3, null, null, null, null, null), Ada, Ct);
        var inherited = await w.Promotions.GetPolicyAsync("m", Alice, Ct);
        (inherited.Inherited, inherited.RequiredApprovals).ShouldBe((true, 3));
        inherited.ProtectedStages.ShouldBe([ModelStage.Staging, ModelStage.Production]);

        var modelId = await w.Permissions.RegisteredModelIdAsync("m", Ct);
        await w.Permissions.SetRegisteredModelGrantAsync(modelId, Dashboard.Security.PrincipalKind.User, "alice", Dashboard.Security.AccessLevel.Manage, Ct);
        var own = await w.Promotions.SetPolicyAsync("m", new PolicyInput(null, ["champion"], 1, false, ["leads"], 48, "Request", null), Alice, Ct);
        (own.Inherited, own.DirectChange, own.ExpiryHours, own.UpdatedBy).ShouldBe((false, DirectChangeMode.Request, (int?)48, "alice"));
        (await w.Promotions.GetPolicyAsync("m", Vic, Ct)).ProtectedAliases.ShouldBe(["champion"]);
        (await w.Promotions.GetPolicyAsync(null, Vic, Ct)).RequiredApprovals.ShouldBe(3);

        await w.Promotions.DeletePolicyAsync("m", Alice, Ct);
        (await w.Promotions.GetPolicyAsync("m", Alice, Ct)).Inherited.ShouldBeTrue();

        await using var db = await w.Db.Factory.CreateDbContextAsync(Ct);
        (await db.PromotionPolicies.CountAsync(p => p.RegisteredModelId == null, Ct)).ShouldBe(1);
        (await db.PromotionPolicies.CountAsync(Ct)).ShouldBe(1);
        var actions = await db.AuditEvents.Where(e => e.TargetType == AuditTargets.PromotionPolicy).OrderBy(e => e.Id).Select(e => e.Action).ToListAsync(Ct);
        actions.ShouldBe([AuditActions.PolicySet, AuditActions.PolicySet, AuditActions.PolicySet, AuditActions.PolicyDeleted]);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task The_guard_refuses_a_direct_change_of_a_protected_target_to_those_who_may_not_approve(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9), Metrics(0.9));
        // Without a policy nothing is protected.
        await w.Promotions.GuardDirectChangeAsync("m", "1", PromotionTargetKind.Stage, "Production", Alice, Ct);
        await w.Registry.TransitionStageAsync("m", "1", ModelStage.Production, false, Actor.Local, Ct);
        await w.PolicyAsync(null, stages: [ModelStage.Production], aliases: ["champion"]);

        async Task<string> Refused(string? version, string kind, string target)
        {
            var e = await Should.ThrowAsync<MlflowException>(() => w.Promotions.GuardDirectChangeAsync("m", version, kind, target, Alice, Ct));
            e.ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
            return e.Message;
        }
        (await Refused("2", PromotionTargetKind.Stage, "production")).ShouldBe(
            "Stage 'Production' of model 'm' is protected: open a promotion request (POST /api/v1/promotion-requests or the version's page in Dashboard).");
        (await Refused("1", PromotionTargetKind.Stage, "Archived")).ShouldStartWith("Version 1 of model 'm' is in protected stage 'Production'");
        (await Refused("1", PromotionTargetKind.Stage, "None")).ShouldStartWith("Version 1 of model 'm' is in protected stage 'Production'");
        (await Refused("2", PromotionTargetKind.Alias, "champion")).ShouldStartWith("Alias 'champion' of model 'm' is protected");
        (await Refused(null, PromotionTargetKind.Alias, "champion")).ShouldStartWith("Alias 'champion' of model 'm' is protected");
        var refusals = (await w.AuditAsync()).Where(e => e.Action == AuditActions.DirectChangeRefused).ToList();
        refusals.Count.ShouldBe(5);
        refusals.ShouldAllBe(e => e.Actor == "alice" && e.ModelName == "m");

        // Unprotected targets, input the registry refuses itself, and people who may approve pass.
        await w.Promotions.GuardDirectChangeAsync("m", "2", PromotionTargetKind.Stage, "Staging", Alice, Ct);
        await w.Promotions.GuardDirectChangeAsync("m", "2", PromotionTargetKind.Alias, "challenger", Alice, Ct);
        await w.Promotions.GuardDirectChangeAsync("m", "2", PromotionTargetKind.Stage, "bogus", Alice, Ct);
        await w.Promotions.GuardDirectChangeAsync("nope", "2", PromotionTargetKind.Stage, "Production", Alice, Ct);
        await w.Promotions.GuardDirectChangeAsync("m", "2", PromotionTargetKind.Stage, "Production", Bob, Ct);
        await w.Promotions.GuardDirectChangeAsync("m", null, PromotionTargetKind.Alias, "champion", Ada, Ct);
        (await w.AuditAsync()).Count(e => e.Action == AuditActions.DirectChangeRefused).ShouldBe(5);
        (await Should.ThrowAsync<MlflowException>(() =>
            w.Promotions.GuardDirectChangeAsync("m", "2", PromotionTargetKind.Stage, "Production", BobReadToken, Ct))).ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Under_direct_change_request_the_guard_opens_a_request_and_names_it(DatabaseProvider provider)
    {
        await using var w = await CreateAsync(provider);
        await w.ModelAsync("m", Metrics(0.9));
        await w.PolicyAsync(null, directChange: DirectChangeMode.Request);

        var first = await Should.ThrowAsync<MlflowException>(() =>
            w.Promotions.GuardDirectChangeAsync("m", "1", PromotionTargetKind.Stage, "Production", Alice, Ct));
        var again = await Should.ThrowAsync<MlflowException>(() =>
            w.Promotions.GuardDirectChangeAsync("m", "1", PromotionTargetKind.Stage, "Production", Alice, Ct));

        await using var db = await w.Db.Factory.CreateDbContextAsync(Ct);
        var request = await db.PromotionRequests.SingleAsync(Ct);
        (request.State, request.RequestedBy, request.Comment, request.Target).ShouldBe(
            (PromotionState.Pending, "alice", PromotionService.DirectChangeComment, ModelStage.Production));
        first.ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
        first.Message.ShouldBe($"Stage 'Production' of model 'm' is protected: promotion request #{request.Id} was opened for this change " +
            $"and waits for approval (GET /api/v1/promotion-requests/{request.Id}).");
        again.Message.ShouldBe(first.Message);
        (await w.AuditAsync(request.Id)).Count(e => e.Action == AuditActions.DirectChangeRefused).ShouldBe(2);
        // Someone who may not request (a Viewer) is refused plainly.
        var viewer = await Should.ThrowAsync<MlflowException>(() =>
            w.Promotions.GuardDirectChangeAsync("m", "1", PromotionTargetKind.Alias, "champion", Vic, Ct));
        viewer.ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
        viewer.Message.ShouldBe("Alias 'champion' of model 'm' is protected: open a promotion request " +
            "(POST /api/v1/promotion-requests or the version's page in Dashboard).");
    }
}
