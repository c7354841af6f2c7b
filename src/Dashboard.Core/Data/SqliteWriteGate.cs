using System.Collections.Concurrent;

namespace Dashboard.Data;

/// <summary>
/// One writer at a time per SQLite database, served in arrival order. Without it, writers contend for SQLite's
/// single write lock through its busy handler, which sleeps and retries (1, 2, 5 ... 100 ms): unfair, and seconds
/// of tail latency when several clients log at once. One process only, which is what a SQLite store is.
/// </summary>
public static class SqliteWriteGate
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    public static async Task<IDisposable> EnterAsync(string connectionString, CancellationToken ct)
    {
        var gate = Gates.GetOrAdd(connectionString, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        return new Turn(gate);
    }

    private sealed class Turn(SemaphoreSlim gate) : IDisposable
    {
        private SemaphoreSlim? _gate = gate;

        public void Dispose() => Interlocked.Exchange(ref _gate, null)?.Release();
    }
}
