using System.Diagnostics;
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
    /// <param name="commitEvery">0: all rows in one transaction (the ceiling); n: a commit every n rows, which
    /// isolates what a commit per log-batch costs.</param>
    public static async Task<CeilingMeasure> RunAsync(BenchDatabase db, string runId, long batches, int commitEvery)
    {
        var rows = new List<MetricPoint>((int)batches * Workload.MetricsPerBatch);
        for (var b = 0L; b < batches; b++)
        {
            rows.AddRange(Workload.Batch(b));
        }
        return db.Provider == Provider.Sqlite
            ? Sqlite(db, runId, rows, commitEvery)
            : await PostgresAsync(db, runId, rows, commitEvery);
    }

    private static CeilingMeasure Sqlite(BenchDatabase db, string runId, List<MetricPoint> rows, int commitEvery)
    {
        using var conn = db.OpenSqlite();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "INSERT INTO metrics (run_id, key, value, timestamp, step, is_nan) VALUES ($r, $k, $v, $t, $s, 0)";
        var r = cmd.Parameters.Add("$r", Microsoft.Data.Sqlite.SqliteType.Text);
        var k = cmd.Parameters.Add("$k", Microsoft.Data.Sqlite.SqliteType.Text);
        var v = cmd.Parameters.Add("$v", Microsoft.Data.Sqlite.SqliteType.Real);
        var t = cmd.Parameters.Add("$t", Microsoft.Data.Sqlite.SqliteType.Integer);
        var s = cmd.Parameters.Add("$s", Microsoft.Data.Sqlite.SqliteType.Integer);
        r.Value = runId;

        var clock = Stopwatch.StartNew();
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
        clock.Stop();
        return new CeilingMeasure(
            commitEvery == 0 ? "one transaction, prepared single-row INSERT" : $"prepared INSERT, commit every {commitEvery} rows",
            rows.Count, clock.Elapsed);
    }

    private static async Task<CeilingMeasure> PostgresAsync(BenchDatabase db, string runId, List<MetricPoint> rows, int commitEvery)
    {
        await using var conn = await db.OpenPostgresAsync();
        var clock = Stopwatch.StartNew();
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
        clock.Stop();
        return new CeilingMeasure(
            commitEvery == 0 ? "one binary COPY" : $"binary COPY of {commitEvery} rows each",
            rows.Count, clock.Elapsed);
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
