using System.Collections.Concurrent;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;

[assembly: AssemblyFixture(typeof(SharedServers))]

namespace Dashboard.Tests.Support;

/// <summary>
/// One running server per provider and artifact backend for the whole test assembly. Tests that share it create their own
/// experiments and runs (unique names), so they neither see nor disturb each other; tests that need an empty
/// store (the default experiment, search over everything) start their own <see cref="DashboardServer"/>.
/// </summary>
public sealed class SharedServers : IAsyncDisposable
{
    private readonly ConcurrentDictionary<(DatabaseProvider, ArtifactBackend), Lazy<Task<DashboardServer>>> _servers = new();

    public Task<DashboardServer> GetAsync(DatabaseProvider provider, ArtifactBackend artifacts = ArtifactBackend.Local)
    {
        if (artifacts == ArtifactBackend.S3)
        {
            // Without the emulator: a skip, or under ./test.sh a failure, for each test that asks (not a cached fault).
            TestS3.RequireEndpoint();
        }
        return _servers.GetOrAdd((provider, artifacts), key => new Lazy<Task<DashboardServer>>(() => DashboardServer.StartAsync(key.Item1, key.Item2))).Value;
    }

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
