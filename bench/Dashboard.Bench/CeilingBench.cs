using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Dashboard.Bench;

public sealed record CeilingMeasure(string Method, long Rows, TimeSpan Elapsed)
{
    public double MetricsPerSecond => Rows / Elapsed.TotalSeconds;
}

/// <summary>
/// The ceiling of ingest: the same metric rows written straight into the same metrics table (same schema, indexes
/// and durability) from the bench process, with the provider's fastest bulk path and no HTTP, JSON or validation.
/// The rows go to a run created through the API (the table's foreign key), while the server is idle.
/// </summary>
public static class CeilingBench
{
    /// <param name="runIds">One stream (connection) per run, in parallel; the batches are split between them.</param>
    /// <param name="commitEvery">0: each stream writes its rows in one transaction (the ceiling); n: a commit every
    /// n rows, which isolates what a commit per log-batch costs.</param>
    public static async Task<CeilingMeasure> RunAsync(BenchDatabase db, IReadOnlyList<string> runIds, long batches, int commitEvery)
    {
        var perStream = batches / runIds.Count;
        var rows = new List<MetricPoint>((int)perStream * Workload.MetricsPerBatch);
        for (var b = 0L; b < perStream; b++)
        {
            rows.AddRange(Workload.Batch(b));
        }
        string method;
        TimeSpan elapsed;
        if (db.Provider == Provider.Sqlite)
        {
            var connections = runIds.Select(_ => db.OpenSqlite()).ToList();
            try
            {
                var clock = Stopwatch.StartNew();
                await Task.WhenAll(runIds.Select((id, i) => Task.Run(() => Sqlite(connections[i], id, rows, commitEvery))));
                elapsed = clock.Elapsed;
            }
            finally
            {
                connections.ForEach(c => c.Dispose());
            }
            method = commitEvery == 0 ? "one transaction of prepared single-row INSERTs" : $"prepared single-row INSERTs, commit every {commitEvery} rows";
        }
        else
        {
            var connections = new List<NpgsqlConnection>();
            foreach (var _ in runIds)
            {
                connections.Add(await db.OpenPostgresAsync());
            }
            try
            {
                var clock = Stopwatch.StartNew();
                await Task.WhenAll(runIds.Select((id, i) => Task.Run(() => PostgresAsync(connections[i], id, rows, commitEvery))));
                elapsed = clock.Elapsed;
            }
            finally
            {
                foreach (var c in connections)
                {
                    await c.DisposeAsync();
                }
            }
            method = commitEvery == 0 ? "one binary COPY" : $"binary COPY of {commitEvery} rows each";
        }
        if (runIds.Count > 1)
        {
            method = $"{runIds.Count} parallel streams (one run each): {method}";
        }
        return new CeilingMeasure(method, (long)rows.Count * runIds.Count, elapsed);
    }

    private static void Sqlite(SqliteConnection conn, string runId, List<MetricPoint> rows, int commitEvery)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "INSERT INTO metrics (run_id, key, value, timestamp, step, is_nan) VALUES ($r, $k, $v, $t, $s, 0)";
        var r = cmd.Parameters.Add("$r", SqliteType.Text);
        var k = cmd.Parameters.Add("$k", SqliteType.Text);
        var v = cmd.Parameters.Add("$v", SqliteType.Real);
        var t = cmd.Parameters.Add("$t", SqliteType.Integer);
        var s = cmd.Parameters.Add("$s", SqliteType.Integer);
        r.Value = runId;
        var size = commitEvery == 0 ? rows.Count : commitEvery;
        for (var start = 0; start < rows.Count; start += size)
        {
            using var tx = conn.BeginTransaction();
            cmd.Transaction = tx;
            cmd.Prepare();
            var end = Math.Min(rows.Count, start + size);
            for (var i = start; i < end; i++)
            {
                var p = rows[i];
                k.Value = p.Key;
                v.Value = p.Value;
                t.Value = p.Timestamp;
                s.Value = p.Step;
                cmd.ExecuteNonQuery();
            }
            tx.Commit();
        }
    }

    private static async Task PostgresAsync(NpgsqlConnection conn, string runId, List<MetricPoint> rows, int commitEvery)
    {
        var size = commitEvery == 0 ? rows.Count : commitEvery;
        for (var start = 0; start < rows.Count; start += size)
        {
            // Each COPY is its own transaction: one commit for the ceiling, one per chunk otherwise.
            await using var copy = await conn.BeginBinaryImportAsync(
                "COPY metrics (run_id, key, value, timestamp, step, is_nan) FROM STDIN (FORMAT BINARY)");
            var end = Math.Min(rows.Count, start + size);
            for (var i = start; i < end; i++)
            {
                var p = rows[i];
                copy.StartRow();
                copy.Write(runId, NpgsqlDbType.Varchar);
                copy.Write(p.Key, NpgsqlDbType.Varchar);
                copy.Write(p.Value, NpgsqlDbType.Double);
                copy.Write(p.Timestamp, NpgsqlDbType.Bigint);
                copy.Write(p.Step, NpgsqlDbType.Bigint);
                copy.Write(false, NpgsqlDbType.Boolean);
            }
            await copy.CompleteAsync();
        }
    }

    /// <summary>Keeps the planner's statistics current after a bulk load, as autovacuum would within a minute.</summary>
    public static async Task AnalyzeAsync(BenchDatabase db)
    {
        if (db.Provider == Provider.PostgreSql)
        {
            await using var conn = await db.OpenPostgresAsync();
            await using var cmd = new NpgsqlCommand("ANALYZE", conn);
            await cmd.ExecuteNonQueryAsync();
        }
    }
}
