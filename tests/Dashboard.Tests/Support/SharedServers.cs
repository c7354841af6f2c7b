using System.Collections.Concurrent;
using Dashboard.Data;
using Dashboard.Tests.Support;

[assembly: AssemblyFixture(typeof(SharedServers))]

namespace Dashboard.Tests.Support;

/// <summary>
/// One running server per provider for the whole test assembly. Tests that share it create their own
/// experiments and runs (unique names), so they neither see nor disturb each other; tests that need an empty
/// store (the default experiment, search over everything) start their own <see cref="DashboardServer"/>.
/// </summary>
public sealed class SharedServers : IAsyncDisposable
{
    private readonly ConcurrentDictionary<DatabaseProvider, Lazy<Task<DashboardServer>>> _servers = new();

    public Task<DashboardServer> GetAsync(DatabaseProvider provider) =>
        _servers.GetOrAdd(provider, p => new Lazy<Task<DashboardServer>>(() => DashboardServer.StartAsync(p))).Value;

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers.Values)
        {
            if (server.IsValueCreated)
            {
                await (await server.Value).DisposeAsync();
            }
        }
    }
}
