using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Governance;
using Dashboard.Registry;
using Dashboard.Search;
using Dashboard.Security;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Core.Tests.Governance;

/// <summary>A migrated database with the registry, the permission service and the audit service on it.</summary>
public sealed class AuditTestBed : IAsyncDisposable
{
    private AuditTestBed(TestDatabase database, PermissionDefaults defaults)
    {
        Database = database;
        Permissions = new PermissionService(database.Factory, defaults);
        Registry = new RegistryService(database.Factory, TimeProvider.System, new ModelSourceResolver(database.Factory),
            new LoggedModelService(database.Factory, TimeProvider.System), new RegistrySearchService(database.Factory));
        Audit = new AuditService(database.Factory, Permissions);
        Runs = new RunService(database.Factory, TimeProvider.System);
    }

    public TestDatabase Database { get; }
    public IDbContextFactory<DashboardDbContext> Factory => Database.Factory;
    public PermissionService Permissions { get; }
    public RegistryService Registry { get; }
    public AuditService Audit { get; }
    public RunService Runs { get; }

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static readonly Caller Admin = new("ada", DashboardRole.Admin);
    public static readonly Caller Approver = new("bob", DashboardRole.Approver);

    public static async Task<AuditTestBed> CreateAsync(DatabaseProvider provider, AccessLevel defaultPermission = AccessLevel.Read) =>
        new(await TestDatabase.CreateAsync(provider), new PermissionDefaults(defaultPermission, GrantCreators: true));

    /// <summary>A registered model with <paramref name="versions"/> versions of one run; answers its id.</summary>
    public async Task<long> ModelAsync(string name, int versions = 0, string actor = "alice")
    {
        await Registry.CreateRegisteredModelAsync(name, [], null, new Actor(actor), Ct);
        if (versions > 0)
        {
            var run = await Runs.CreateRunAsync("0", null, null, null, null, Ct);
            for (var i = 0; i < versions; i++)
            {
                await Registry.CreateModelVersionAsync(name, $"{run.ArtifactUri}/model", run.Id, [], null, null, null, new Actor(actor), Ct);
            }
        }
        return await Permissions.RegisteredModelIdAsync(name, Ct);
    }

    /// <summary>Every stored event, oldest first.</summary>
    public async Task<List<AuditEvent>> EventsAsync()
    {
        await using var db = await Factory.CreateDbContextAsync(Ct);
        return await db.AuditEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync(Ct);
    }

    /// <summary>Adds events as another part of the app would (the promotion engine, the webhooks).</summary>
    public async Task AddEventsAsync(Action<DashboardDbContext> add)
    {
        await using var db = await Factory.CreateDbContextAsync(Ct);
        add(db);
        await db.SaveChangesAsync(Ct);
    }

    public ValueTask DisposeAsync() => Database.DisposeAsync();
}
