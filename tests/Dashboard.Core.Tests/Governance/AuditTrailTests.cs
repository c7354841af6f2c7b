using System.Text.Json;
using Dashboard.Core.Tests.Search;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Governance;
using Dashboard.Secrets;
using Dashboard.Security;
using static Dashboard.Core.Tests.Governance.AuditTestBed;

namespace Dashboard.Core.Tests.Governance;

/// <summary>
/// Permission and token changes write their audit event in the same transaction (issue 7, item 5): a grant created,
/// changed or removed, a creator's grant, a token made or revoked, a service account made; before and after name the
/// principal, the level and the resource, never a token's text or hash; a change that fails writes nothing.
/// </summary>
public class AuditTrailTests
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    private static JsonElement Json(string? text) => JsonDocument.Parse(text!).RootElement;

    [Theory, MemberData(nameof(Providers))]
    public async Task Granting_changing_and_removing_a_model_permission_writes_one_event_each_with_before_and_after(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        var model = await bed.ModelAsync("fraud");
        var before = (await bed.EventsAsync()).Count;

        using (AmbientActor.Use("ada"))
        {
            (await bed.Permissions.SetRegisteredModelGrantAsync(model, PrincipalKind.User, "una", AccessLevel.Read, Ct)).ShouldBeFalse();
            (await bed.Permissions.SetRegisteredModelGrantAsync(model, PrincipalKind.User, "una", AccessLevel.Read, Ct)).ShouldBeTrue();
            await bed.Permissions.SetRegisteredModelGrantAsync(model, PrincipalKind.User, "una", AccessLevel.Manage, Ct);
            (await bed.Permissions.DeleteRegisteredModelGrantAsync(model, PrincipalKind.User, "una", Ct)).ShouldBeTrue();
            (await bed.Permissions.DeleteRegisteredModelGrantAsync(model, PrincipalKind.User, "una", Ct)).ShouldBeFalse();
        }

        var events = (await bed.EventsAsync()).Skip(before).ToList();
        // Setting the level it already has changes nothing and records nothing; removing what is not there neither.
        events.Select(e => e.Action).ShouldBe([AuditActions.PermissionCreated, AuditActions.PermissionUpdated, AuditActions.PermissionDeleted]);
        events.ShouldAllBe(e => e.Actor == "ada" && e.TargetType == AuditTargets.RegisteredModelPermission
            && e.RegisteredModelId == model && e.ModelName == "fraud" && e.Target == "fraud user:una");
        events[0].Before.ShouldBeNull();
        Json(events[0].After).GetProperty("permission").GetString().ShouldBe("READ");
        Json(events[0].After).GetProperty("principal").GetString().ShouldBe("una");
        Json(events[0].After).GetProperty("principal_kind").GetString().ShouldBe("user");
        Json(events[0].After).GetProperty("name").GetString().ShouldBe("fraud");
        Json(events[1].Before).GetProperty("permission").GetString().ShouldBe("READ");
        Json(events[1].After).GetProperty("permission").GetString().ShouldBe("MANAGE");
        Json(events[2].Before).GetProperty("permission").GetString().ShouldBe("MANAGE");
        events[2].After.ShouldBeNull();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task An_experiment_permission_event_names_the_experiment_and_no_model(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        var experiment = await bed.Database.ExperimentAsync("vision");

        using (AmbientActor.Use("ada"))
        {
            await bed.Permissions.SetExperimentGrantAsync(experiment, PrincipalKind.Group, "ml-team", AccessLevel.Edit, Ct);
            await bed.Permissions.DeleteExperimentGrantAsync(experiment, PrincipalKind.Group, "ml-team", Ct);
        }

        var events = await bed.EventsAsync();
        events.Select(e => e.Action).ShouldBe([AuditActions.PermissionCreated, AuditActions.PermissionDeleted]);
        events.ShouldAllBe(e => e.TargetType == AuditTargets.ExperimentPermission && e.RegisteredModelId == null && e.ModelName == null
            && e.Target == $"{experiment} group:ml-team");
        var after = Json(events[0].After);
        after.GetProperty("experiment_id").GetString().ShouldBe(experiment.ToString(System.Globalization.CultureInfo.InvariantCulture));
        after.GetProperty("experiment_name").GetString().ShouldBe("vision");
        after.GetProperty("permission").GetString().ShouldBe("EDIT");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_grant_on_the_default_experiment_0_is_stored_and_audited(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);

        (await bed.Permissions.SetExperimentGrantAsync(0, PrincipalKind.User, "alice", AccessLevel.Edit, Ct)).ShouldBeFalse();

        (await bed.Permissions.GetExperimentGrantAsync(0, PrincipalKind.User, "alice", Ct))!.Permission.ShouldBe(AccessLevel.Edit);
        var created = (await bed.EventsAsync()).ShouldHaveSingleItem();
        created.Target.ShouldBe("0 user:alice");
        Json(created.After).GetProperty("experiment_name").GetString().ShouldBe("Default");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_grant_that_fails_writes_no_event(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        var model = await bed.ModelAsync("fraud");
        var experiment = await bed.Database.ExperimentAsync("vision");
        var before = (await bed.EventsAsync()).Count;

        (await Should.ThrowAsync<MlflowException>(() =>
            bed.Permissions.SetRegisteredModelGrantAsync(model + 1000, PrincipalKind.User, "una", AccessLevel.Read, Ct)))
            .ErrorCode.ShouldBe(ErrorCode.RESOURCE_DOES_NOT_EXIST);
        (await Should.ThrowAsync<MlflowException>(() =>
            bed.Permissions.SetExperimentGrantAsync(experiment + 1000, PrincipalKind.User, "una", AccessLevel.Read, Ct)))
            .ErrorCode.ShouldBe(ErrorCode.RESOURCE_DOES_NOT_EXIST);
        await Should.ThrowAsync<MlflowException>(() =>
            bed.Permissions.SetRegisteredModelGrantAsync(model, "robot", "r2", AccessLevel.Read, Ct));
        await Should.ThrowAsync<MlflowException>(() =>
            bed.Permissions.SetExperimentGrantAsync(experiment, PrincipalKind.User, new string('x', 300), AccessLevel.Read, Ct));

        (await bed.EventsAsync()).Count.ShouldBe(before);
        (await bed.Permissions.ListRegisteredModelGrantsAsync(model, Ct)).ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_creators_grant_is_audited_with_its_reason(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        var model = await bed.ModelAsync("fraud");

        using (AmbientActor.Use("alice"))
        {
            await bed.Permissions.GrantCreatorOfRegisteredModelAsync(new Caller("alice", DashboardRole.Contributor), model, Ct);
        }

        var grant = (await bed.EventsAsync()).Single(e => e.Action == AuditActions.PermissionCreated);
        grant.Actor.ShouldBe("alice");
        grant.Reason.ShouldBe(PermissionService.CreatorReason);
        Json(grant.After).GetProperty("permission").GetString().ShouldBe("MANAGE");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Making_and_revoking_a_token_is_audited_without_its_text_or_hash(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        var users = new UserDirectory(bed.Factory, TimeProvider.System);
        var tokens = new TokenService(bed.Factory, TimeProvider.System);
        var alice = await users.RecordSignInAsync("sub-alice", "alice", null, DashboardRole.Contributor, [], Ct);

        var issued = await tokens.CreateAsync(alice.Id, "ci", TokenScope.Write, null, "alice", Ct);
        using (AmbientActor.Use("ada"))
        {
            (await tokens.RevokeAsync(issued.Token.Id, Ct)).ShouldBeTrue();
            (await tokens.RevokeAsync(issued.Token.Id, Ct)).ShouldBeFalse();
        }

        var events = await bed.EventsAsync();
        events.Select(e => e.Action).ShouldBe([AuditActions.TokenCreated, AuditActions.TokenRevoked]);
        events.Select(e => e.Actor).ShouldBe(["alice", "ada"]);
        events.ShouldAllBe(e => e.TargetType == AuditTargets.AccessToken && e.Target == $"{issued.Token.Id} ci" && e.RegisteredModelId == null);
        var created = Json(events[0].After);
        created.GetProperty("name").GetString().ShouldBe("ci");
        created.GetProperty("prefix").GetString().ShouldBe(issued.Token.Prefix);
        created.GetProperty("scope").GetString().ShouldBe("write");
        created.GetProperty("owner").GetString().ShouldBe("alice");
        Json(events[1].After).GetProperty("revoked_time").GetInt64().ShouldBeGreaterThan(0);
        foreach (var text in events.SelectMany(e => new[] { e.Before, e.After, e.Target }))
        {
            (text ?? "").ShouldNotContain(issued.Secret[12..]);
            (text ?? "").ShouldNotContain(issued.Token.Hash);
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task A_token_that_cannot_be_made_writes_no_event(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        var users = new UserDirectory(bed.Factory, TimeProvider.System);
        var tokens = new TokenService(bed.Factory, TimeProvider.System);
        var alice = await users.RecordSignInAsync("sub-alice", "alice", null, DashboardRole.Contributor, [], Ct);

        await Should.ThrowAsync<ArgumentException>(() => tokens.CreateAsync(alice.Id, "", TokenScope.Write, null, "alice", Ct));
        await Should.ThrowAsync<ArgumentException>(() =>
            tokens.CreateAsync(alice.Id, "old", TokenScope.Write, DateTimeOffset.UtcNow.AddDays(-1), "alice", Ct));
        (await tokens.RevokeAsync(12345, Ct)).ShouldBeFalse();

        (await bed.EventsAsync()).ShouldBeEmpty();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Making_a_service_account_is_audited_once(DatabaseProvider provider)
    {
        await using var bed = await CreateAsync(provider);
        var users = new UserDirectory(bed.Factory, TimeProvider.System);

        using (AmbientActor.Use("ada"))
        {
            await users.EnsureServiceAccountAsync("trainer", DashboardRole.Contributor, Ct);
            await users.EnsureServiceAccountAsync("trainer", DashboardRole.Contributor, Ct);
        }

        var created = (await bed.EventsAsync()).ShouldHaveSingleItem();
        created.Action.ShouldBe(AuditActions.ServiceAccountCreated);
        created.TargetType.ShouldBe(AuditTargets.ServiceAccount);
        created.Target.ShouldBe("trainer");
        created.Actor.ShouldBe("ada");
        Json(created.After).GetProperty("role").GetString().ShouldBe("Contributor");
    }
}
