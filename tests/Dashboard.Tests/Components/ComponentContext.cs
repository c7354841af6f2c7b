using Bunit;
using Dashboard.Components.Shared;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Search;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Dashboard.Tests.Components;

/// <summary>
/// A bUnit context with MudBlazor's services, JS interop in loose mode (local storage answers null), and, when asked,
/// the Core services over a fresh migrated SQLite database: components are tested against the real queries.
/// </summary>
public abstract class ComponentContext : BunitContext, IAsyncLifetime
{
    private TestDatabase? _database;

    protected ComponentContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddScoped<BrowserStorage>();
        Services.AddSingleton(TimeProvider.System);
        // Nobody signed in and no Dashboard:Auth: the circuit's caller is Caller.Local (an Admin), as in Local mode.
        Authorization = AddAuthorization();
        Services.AddSingleton(Dashboard.Security.PermissionDefaults.Local);
        Services.AddSingleton<Dashboard.Security.PermissionService>();
        Services.AddScoped<Dashboard.Auth.CircuitActor>();
        Services.AddScoped<Dashboard.Auth.PageAccess>();
    }

    /// <summary>Who the circuit is signed in as: nobody (so the local Admin) until a test says otherwise.</summary>
    protected Bunit.TestDoubles.BunitAuthorizationContext Authorization { get; }

    protected TestDatabase Database => _database ?? throw new InvalidOperationException("Call UseDatabaseAsync first.");

    /// <summary>Registers the Core services over a fresh SQLite database.</summary>
    protected async Task UseDatabaseAsync()
    {
        _database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        Services.AddSingleton<IDbContextFactory<DashboardDbContext>>(_database.Factory);
        Services.AddSingleton<ExperimentService>();
        Services.AddSingleton<RunService>();
        Services.AddSingleton<MetricService>();
        Services.AddSingleton<RunSearchService>();
        Services.AddSingleton<ExperimentListService>();
        Services.AddSingleton<RunTableService>();
        Services.AddSingleton<RunComparison>();
        Services.AddSingleton<KeywordSearchService>();
        Services.AddSingleton<BestRunsService>();
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        await base.DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }
}
