using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Security;

namespace Dashboard.Core.Tests.Security;

/// <summary>Names are what permissions are granted to: no two accounts share one, whichever way they came.</summary>
public class UserDirectoryNameTests
{
    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_new_person_may_not_take_a_service_accounts_name(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var users = new UserDirectory(db.Factory, TimeProvider.System);
        await users.EnsureServiceAccountAsync("sam", DashboardRole.Viewer, ct);

        var refused = await Should.ThrowAsync<InvalidOperationException>(
            () => users.RecordSignInAsync("sub-sam", "sam", null, DashboardRole.Contributor, [], ct));
        refused.Message.ShouldContain("already called 'sam'");
        (await users.FindBySubjectAsync("sub-sam", ct)).ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_person_signing_in_again_keeps_their_row_and_takes_the_new_role_and_groups(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var users = new UserDirectory(db.Factory, TimeProvider.System);
        var first = await users.RecordSignInAsync("sub-alice", "alice", "alice@example.org", DashboardRole.Viewer, ["readers"], ct);
        var again = await users.RecordSignInAsync("sub-alice", "alice", "alice@example.org", DashboardRole.Contributor, ["ml-team", "readers"], ct);
        again.Id.ShouldBe(first.Id);
        again.Role.ShouldBe(DashboardRole.Contributor);
        again.GroupList.ShouldBe(["ml-team", "readers"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_local_user_is_made_once_as_an_admin(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var users = new UserDirectory(db.Factory, TimeProvider.System);
        var first = await users.EnsureLocalUserAsync(ct);
        var second = await users.EnsureLocalUserAsync(ct);
        second.Id.ShouldBe(first.Id);
        first.Name.ShouldBe("local");
        first.Role.ShouldBe(DashboardRole.Admin);
        first.Subject.ShouldBe(UserDirectory.LocalSubject);
    }
}
