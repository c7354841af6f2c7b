using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Core.Tests.Search;
using Dashboard.Search;
using Dashboard.Security;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Core.Tests.Security;

/// <summary>
/// The resolution rules of <see cref="PermissionService"/> on a real database: the user's own grant over their groups'
/// (the highest of those) over the default, capped by role and token scope, Admin above all; and the read filter the
/// searches compose into their SQL gives the same answer.
/// </summary>
public class PermissionServiceTests
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Caller Person(string name, DashboardRole role = DashboardRole.Contributor, string[]? groups = null, TokenScope? scope = null) =>
        new(name, role, groups, scope);

    [Theory, MemberData(nameof(Providers))]
    public async Task A_users_grant_outranks_their_groups_and_the_highest_group_grant_outranks_the_default(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var experiment = await database.ExperimentAsync("perm");
        var permissions = new PermissionService(database.Factory, new PermissionDefaults(AccessLevel.Read, GrantCreators: true));
        await permissions.SetExperimentGrantAsync(experiment, PrincipalKind.Group, "vision", AccessLevel.Edit, Ct);
        await permissions.SetExperimentGrantAsync(experiment, PrincipalKind.Group, "ops", AccessLevel.Manage, Ct);
        await permissions.SetExperimentGrantAsync(experiment, PrincipalKind.User, "una", AccessLevel.NoPermissions, Ct);

        (await permissions.ExperimentLevelAsync(Person("gus", groups: ["vision"]), experiment, Ct)).ShouldBe(AccessLevel.Edit);
        (await permissions.ExperimentLevelAsync(Person("gus", groups: ["vision", "ops"]), experiment, Ct)).ShouldBe(AccessLevel.Manage);
        (await permissions.ExperimentLevelAsync(Person("una", groups: ["ops"]), experiment, Ct)).ShouldBe(AccessLevel.NoPermissions);
        (await permissions.ExperimentLevelAsync(Person("dan"), experiment, Ct)).ShouldBe(AccessLevel.Read);
        // The ceiling: a Viewer reads at most, a write token edits at most, a read token reads.
        (await permissions.ExperimentLevelAsync(Person("gus", DashboardRole.Viewer, ["ops"]), experiment, Ct)).ShouldBe(AccessLevel.Read);
        (await permissions.ExperimentLevelAsync(Person("gus", groups: ["ops"], scope: TokenScope.Write), experiment, Ct)).ShouldBe(AccessLevel.Edit);
        (await permissions.ExperimentLevelAsync(Person("gus", groups: ["ops"], scope: TokenScope.Read), experiment, Ct)).ShouldBe(AccessLevel.Read);
        // An Admin manages whatever the grants say (MLflow: even with NO_PERMISSIONS set for them).
        await permissions.SetExperimentGrantAsync(experiment, PrincipalKind.User, "ada", AccessLevel.NoPermissions, Ct);
        (await permissions.ExperimentLevelAsync(Person("ada", DashboardRole.Admin), experiment, Ct)).ShouldBe(AccessLevel.Manage);

        await Should.ThrowAsync<MlflowException>(() =>
            permissions.RequireExperimentAsync(Person("una"), experiment, AccessLevel.Read, Ct));
        await permissions.RequireExperimentAsync(Person("gus", groups: ["vision"]), experiment, AccessLevel.Edit, Ct);
        Should.Throw<MlflowException>(() => PermissionService.RequireCreate(Person("vic", DashboardRole.Viewer)))
            .ErrorCode.ShouldBe(ErrorCode.PERMISSION_DENIED);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task The_levels_of_a_lists_rows_in_one_query_agree_with_each_resources_level(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var permissions = new PermissionService(database.Factory, new PermissionDefaults(AccessLevel.Read, GrantCreators: true));
        var experiments = new List<long>();
        var models = new List<long>();
        await using (var db = await database.Factory.CreateDbContextAsync(Ct))
        {
            for (var i = 0; i < 4; i++)
            {
                experiments.Add(await database.ExperimentAsync($"levels-{i}"));
                var model = new Dashboard.Registry.RegisteredModel { Name = $"levels-model-{i}" };
                db.RegisteredModels.Add(model);
                await db.SaveChangesAsync(Ct);
                models.Add(model.Id);
            }
        }
        var grants = new (string Kind, string Name, AccessLevel Level)?[]
        {
            null,
            (PrincipalKind.User, "gus", AccessLevel.Edit),
            (PrincipalKind.Group, "ops", AccessLevel.Manage),
            (PrincipalKind.User, "gus", AccessLevel.NoPermissions),
        };
        for (var i = 0; i < grants.Length; i++)
        {
            if (grants[i] is { } g)
            {
                await permissions.SetExperimentGrantAsync(experiments[i], g.Kind, g.Name, g.Level, Ct);
                await permissions.SetRegisteredModelGrantAsync(models[i], g.Kind, g.Name, g.Level, Ct);
            }
        }

        foreach (var caller in new[] { Person("gus", groups: ["ops"]), Person("dan"), Person("olga", groups: ["ops"], scope: TokenScope.Write),
                     Person("vic", DashboardRole.Viewer, ["ops"]), Person("ada", DashboardRole.Admin) })
        {
            var experimentLevels = await permissions.ExperimentLevelsAsync(caller, experiments, Ct);
            var modelLevels = await permissions.RegisteredModelLevelsAsync(caller, models, Ct);
            experimentLevels.Keys.ShouldBe(experiments, ignoreOrder: true);
            modelLevels.Keys.ShouldBe(models, ignoreOrder: true);
            for (var i = 0; i < experiments.Count; i++)
            {
                experimentLevels[experiments[i]].ShouldBe(await permissions.ExperimentLevelAsync(caller, experiments[i], Ct), $"{caller.Name} on experiment {i}");
                modelLevels[models[i]].ShouldBe(await permissions.RegisteredModelLevelAsync(caller, models[i], Ct), $"{caller.Name} on model {i}");
            }
        }
        // gus: the default, his EDIT, his group's MANAGE, his own NO_PERMISSIONS over the group's.
        var gus = await permissions.ExperimentLevelsAsync(Person("gus", groups: ["ops"]), experiments, Ct);
        experiments.Select(id => gus[id]).ShouldBe([AccessLevel.Read, AccessLevel.Edit, AccessLevel.Manage, AccessLevel.NoPermissions]);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task The_read_filter_of_the_searches_agrees_with_the_rules_and_pages_in_sql(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await database.ExperimentAsync($"scope-{i}"));
        }
        var closed = new PermissionService(database.Factory, new PermissionDefaults(AccessLevel.NoPermissions, GrantCreators: true));
        await closed.SetExperimentGrantAsync(ids[0], PrincipalKind.User, "rita", AccessLevel.Read, Ct);
        await closed.SetExperimentGrantAsync(ids[1], PrincipalKind.Group, "vision", AccessLevel.Edit, Ct);
        await closed.SetExperimentGrantAsync(ids[2], PrincipalKind.Group, "vision", AccessLevel.Read, Ct);
        await closed.SetExperimentGrantAsync(ids[2], PrincipalKind.User, "rita", AccessLevel.NoPermissions, Ct);
        await closed.SetExperimentGrantAsync(ids[3], PrincipalKind.Group, "vision", AccessLevel.NoPermissions, Ct);
        var rita = Person("rita", DashboardRole.Viewer, ["vision"]);
        var search = new ExperimentSearchService(database.Factory);

        async Task<List<long>> FoundAsync(PermissionService permissions, Caller caller)
        {
            var found = new List<long>();
            string? token = null;
            do
            {
                var page = await search.SearchAsync(new ExperimentSearchRequest("name LIKE 'scope-%'", ViewType.ActiveOnly, 1, ["name ASC"],
                    token, permissions.ScopeOf(caller)), Ct);
                found.AddRange(page.Items.Select(e => e.Id));
                token = page.NextPageToken;
            }
            while (token is not null);
            return found;
        }

        (await FoundAsync(closed, rita)).ShouldBe([ids[0], ids[1]]);
        foreach (var id in ids)
        {
            (await closed.ExperimentLevelAsync(rita, id, Ct) >= AccessLevel.Read).ShouldBe(id == ids[0] || id == ids[1], $"experiment {id}");
        }
        var open = new PermissionService(database.Factory, new PermissionDefaults(AccessLevel.Read, GrantCreators: true));
        (await FoundAsync(open, rita)).ShouldBe([ids[0], ids[1], ids[4]]);
        (await FoundAsync(open, Person("nobody"))).ShouldBe(ids);
        (await FoundAsync(closed, Person("ada", DashboardRole.Admin))).ShouldBe(ids);
        (await closed.ReadableExperimentsAsync(rita, [ids[4], ids[1], ids[0]], Ct)).ShouldBe([ids[1], ids[0]]);

        var list = new ExperimentListService(database.Factory);
        var (items, total) = await list.PageAsync("name LIKE 'scope-%'", ViewType.ActiveOnly, ["name ASC"], 0, 1, closed.ScopeOf(rita), Ct);
        total.ShouldBe(2);
        items.Single().Experiment.Id.ShouldBe(ids[0]);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Grants_are_listed_replaced_and_removed_and_deleting_the_model_removes_its_grants(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var permissions = new PermissionService(database.Factory, new PermissionDefaults(AccessLevel.Read, GrantCreators: true));
        long modelId;
        await using (var db = await database.Factory.CreateDbContextAsync(Ct))
        {
            var model = new Dashboard.Registry.RegisteredModel { Name = "grants-model" };
            db.RegisteredModels.Add(model);
            await db.SaveChangesAsync(Ct);
            modelId = model.Id;
        }
        (await permissions.SetRegisteredModelGrantAsync(modelId, PrincipalKind.User, "una", AccessLevel.Read, Ct)).ShouldBeFalse();
        (await permissions.SetRegisteredModelGrantAsync(modelId, PrincipalKind.User, "una", AccessLevel.Manage, Ct)).ShouldBeTrue();
        await permissions.SetRegisteredModelGrantAsync(modelId, PrincipalKind.Group, "ops", AccessLevel.Edit, Ct);
        (await permissions.ListRegisteredModelGrantsAsync(modelId, Ct)).ShouldBe([
            new Grant(PrincipalKind.Group, "ops", AccessLevel.Edit), new Grant(PrincipalKind.User, "una", AccessLevel.Manage)]);
        (await permissions.RegisteredModelLevelAsync(Person("una"), "grants-model", Ct)).ShouldBe(AccessLevel.Manage);
        (await permissions.RegisteredModelLevelAsync(Person("una"), "no-such-model", Ct)).ShouldBeNull();
        (await permissions.DeleteRegisteredModelGrantAsync(modelId, PrincipalKind.User, "una", Ct)).ShouldBeTrue();
        (await permissions.DeleteRegisteredModelGrantAsync(modelId, PrincipalKind.User, "una", Ct)).ShouldBeFalse();
        await Should.ThrowAsync<MlflowException>(() =>
            permissions.SetRegisteredModelGrantAsync(modelId, "robot", "r2", AccessLevel.Read, Ct));

        await using (var db = await database.Factory.CreateDbContextAsync(Ct))
        {
            await db.RegisteredModels.Where(m => m.Id == modelId).ExecuteDeleteAsync(Ct);
        }
        (await permissions.ListRegisteredModelGrantsAsync(modelId, Ct)).ShouldBeEmpty();
    }
}
