using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Governance;
using Dashboard.Registry;
using Dashboard.Search;
using Dashboard.Security;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Core.Tests.Governance;

/// <summary>A clock the tests move by hand (request expiry).</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; private set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>
/// One database with the registry, the permission checks and the promotion service wired as the app wires them, a
/// webhook that receives every event (so outbox rows are written), and the people of the tests.
/// </summary>
public sealed class PromotionWorld : IAsyncDisposable
{
    public static readonly Caller Alice = new("alice", DashboardRole.Contributor, ["ml-team"]);
    public static readonly Caller Sam = new("sam", DashboardRole.Contributor, ["ml-team"]);
    public static readonly Caller Bob = new("bob", DashboardRole.Approver);
    public static readonly Caller Carol = new("carol", DashboardRole.Approver);
    public static readonly Caller Ada = new("ada", DashboardRole.Admin);
    public static readonly Caller Vic = new("vic", DashboardRole.Viewer);
    public static readonly Caller Lena = new("lena", DashboardRole.Contributor, ["leads"]);
    public static readonly Caller BobReadToken = new("bob", DashboardRole.Approver, scope: TokenScope.Read);

    private PromotionWorld(TestDatabase db, ManualClock clock)
    {
        Db = db;
        Clock = clock;
        Registry = new RegistryService(db.Factory, clock, new ModelSourceResolver(db.Factory), new LoggedModelService(db.Factory, clock),
            new RegistrySearchService(db.Factory));
        Permissions = new PermissionService(db.Factory, new PermissionDefaults(AccessLevel.Edit, GrantCreators: false));
        Promotions = new PromotionService(db.Factory, clock, Registry, Permissions);
        Runs = new RunService(db.Factory, clock);
    }

    public TestDatabase Db { get; }
    public ManualClock Clock { get; }
    public RegistryService Registry { get; }
    public PermissionService Permissions { get; }
    public PromotionService Promotions { get; }
    public RunService Runs { get; }

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<PromotionWorld> CreateAsync(DatabaseProvider provider)
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.Zero));
        var db = await TestDatabase.CreateAsync(provider, clock);
        var world = new PromotionWorld(db, clock);
        await using var context = await db.Factory.CreateDbContextAsync(Ct);
        context.Webhooks.Add(new Webhook { Name = "all", Url = "http://127.0.0.1:9/hook", Secret = "s3cret", CreatedBy = "test" });
        await context.SaveChangesAsync(Ct);
        return world;
    }

    /// <summary>A model with one version per entry, each from a run that logged these metrics (a null entry: a version without run).</summary>
    public async Task ModelAsync(string name, params Dictionary<string, double>?[] versions)
    {
        await Registry.CreateRegisteredModelAsync(name, null, null, Actor.Local, Ct);
        foreach (var metrics in versions)
        {
            var run = await Runs.CreateRunAsync("0", "alice", null, null, null, Ct);
            if (metrics is not null)
            {
                await Runs.LogBatchAsync(run.Id, [.. metrics.Select(m => new MetricInput(m.Key, m.Value, 1, 0))],
                    [new KeyValueInput("lr", "0.01")], null, Ct);
            }
            var version = await Registry.CreateModelVersionAsync(name, $"{run.ArtifactUri}/model", run.Id, null, null, null, null, Actor.Local, Ct);
            if (metrics is null)
            {
                await using var db = await Db.Factory.CreateDbContextAsync(Ct);
                var n = version.Version.Version;
                await db.ModelVersions.Where(v => v.RegisteredModelId == version.Version.RegisteredModelId && v.Version == n)
                    .ExecuteUpdateAsync(s => s.SetProperty(v => v.RunId, (string?)null), Ct);
            }
        }
    }

    public static Dictionary<string, double> Metrics(double accuracy) => new() { ["val_accuracy"] = accuracy };

    public Task<PolicyView> PolicyAsync(string? model, IReadOnlyList<string>? stages = null, IReadOnlyList<string>? aliases = null,
        int approvals = 1, bool approverRole = true, IReadOnlyList<string>? groups = null, int? expiryHours = null,
        string? directChange = null, IReadOnlyList<GateSpec>? gates = null) =>
        Promotions.SetPolicyAsync(model, new PolicyInput(stages ?? [ModelStage.Production], aliases ?? ["champion"], approvals, approverRole,
            groups, expiryHours, directChange, gates), Ada, Ct);

    public Task<PromotionRequestView> RequestAsync(string model, int version, string target = ModelStage.Production, Caller? by = null,
        string kind = PromotionTargetKind.Stage, bool archive = false, string? comment = "please") =>
        Promotions.CreateRequestAsync(new PromotionRequestInput(model, version.ToString(System.Globalization.CultureInfo.InvariantCulture),
            kind, target, archive, comment), by ?? Alice, Ct);

    public Task<PromotionRequestView> ApproveAsync(long id, Caller by, string? reason = null) =>
        Promotions.ReviewAsync(id, ReviewDecision.Approve, "looks good", reason, by, Ct);

    public Task<PromotionRequestView> RejectAsync(long id, Caller by) => Promotions.ReviewAsync(id, ReviewDecision.Reject, "no", null, by, Ct);

    public async Task<string> StageOfAsync(string model, int version) =>
        (await Registry.GetModelVersionAsync(model, version.ToString(System.Globalization.CultureInfo.InvariantCulture), Ct)).Version.CurrentStage;

    public async Task<List<AuditEvent>> AuditAsync(long? requestId = null)
    {
        await using var db = await Db.Factory.CreateDbContextAsync(Ct);
        var q = db.AuditEvents.AsNoTracking();
        if (requestId is { } id)
        {
            q = q.Where(e => e.RequestId == id);
        }
        return await q.OrderBy(e => e.Id).ToListAsync(Ct);
    }

    public async Task<List<string>> OutboxAsync()
    {
        await using var db = await Db.Factory.CreateDbContextAsync(Ct);
        return await db.WebhookDeliveries.AsNoTracking().OrderBy(d => d.Id).Select(d => d.EventType).ToListAsync(Ct);
    }

    public async Task<PromotionRequest> RowAsync(long id)
    {
        await using var db = await Db.Factory.CreateDbContextAsync(Ct);
        return await db.PromotionRequests.AsNoTracking().Include(r => r.Reviews).SingleAsync(r => r.Id == id, Ct);
    }

    public async ValueTask DisposeAsync() => await Db.DisposeAsync();
}
