using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;

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

    /// <summary>The writer's turn for a context on SQLite; null (no waiting) on the other providers, which lock rows.</summary>
    public static async Task<IDisposable?> EnterAsync(DashboardDbContext db, CancellationToken ct) =>
        db.Provider == DatabaseProvider.Sqlite ? await EnterAsync(db.Database.GetConnectionString()!, ct) : null;

    /// <summary>One transaction of writes on a new context, after the writer's turn on SQLite.</summary>
    public static async Task<T> WriteAsync<T>(this IDbContextFactory<DashboardDbContext> dbs, Func<DashboardDbContext, Task<T>> work,
        CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        using var turn = await EnterAsync(db, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var result = await work(db);
        await tx.CommitAsync(ct);
        return result;
    }

    private sealed class Turn(SemaphoreSlim gate) : IDisposable
    {
        private SemaphoreSlim? _gate = gate;

        public void Dispose() => Interlocked.Exchange(ref _gate, null)?.Release();
    }
}
