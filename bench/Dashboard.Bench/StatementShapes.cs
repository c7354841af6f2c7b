using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Dashboard.Bench;

public sealed record ShapeMeasure(string Shape, Latencies PerBatch);

/// <summary>
/// Diagnosis, not a target: the same 1000-metric batch written by the bench process in the SQL shapes a server could
/// use, each batch in its own transaction as a log-batch request is. It separates the cost of the statement's shape
/// from everything else a request does.
/// </summary>
public static class StatementShapes
{
    private const string Columns = "metrics (run_id, key, value, timestamp, step, is_nan)";

    public static async Task<IReadOnlyList<ShapeMeasure>> RunAsync(BenchDatabase db, MlflowClient client, string experimentId, int batches)
    {
        var shapes = new List<(string Name, Func<DbConnection, string, MetricPoint[], Task> Write)>();
        if (db.Provider == Provider.Sqlite)
        {
            shapes.Add(("multi-row INSERT of 1000 rows, 6,001 named parameters (the server's shape until 91cf219)", (c, r, p) => MultiRowAsync(c, r, p, 1000)));
            shapes.Add(("10 multi-row INSERTs of 100 rows, 601 parameters each", (c, r, p) => MultiRowAsync(c, r, p, 100)));
            shapes.Add(("one prepared single-row INSERT, executed 1000 times (the server's shape)", SingleRowAsync));
        }
        else
        {
            shapes.Add(("multi-row INSERT of 1000 rows, 6,001 named parameters (the server's shape until 91cf219)", (c, r, p) => MultiRowAsync(c, r, p, 1000)));
            shapes.Add(("INSERT ... SELECT FROM unnest() of 5 arrays (the server's shape)", UnnestAsync));
            shapes.Add(("binary COPY (no ON CONFLICT: the lower bound)", CopyAsync));
        }

        var results = new List<ShapeMeasure>();
        foreach (var (name, write) in shapes)
        {
            var runId = await client.CreateRunAsync(experimentId, "shape");
            await using DbConnection conn = db.Provider == Provider.Sqlite ? db.OpenSqlite() : await db.OpenPostgresAsync();
            var latencies = new Latencies();
            for (var b = -3; b < batches; b++)
            {
                var points = Workload.Batch(b + 3);
                var start = Stopwatch.GetTimestamp();
                await write(conn, runId, points);
                if (b >= 0)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            }
            results.Add(new ShapeMeasure(name, latencies));
        }
        return results;
    }

    private static async Task MultiRowAsync(DbConnection conn, string runId, MetricPoint[] points, int rowsPerStatement)
    {
        await using var tx = await conn.BeginTransactionAsync();
        for (var start = 0; start < points.Length; start += rowsPerStatement)
        {
            await using var cmd = conn.CreateCommand();
            cmd.Transaction = tx;
            var sql = new StringBuilder("INSERT INTO ").Append(Columns).Append(" VALUES ");
            var run = Add(cmd, runId);
            for (var i = start; i < Math.Min(points.Length, start + rowsPerStatement); i++)
            {
                var p = points[i];
                sql.Append(i == start ? "(" : ",(").Append(run).Append(',').Append(Add(cmd, p.Key)).Append(',').Append(Add(cmd, p.Value))
                    .Append(',').Append(Add(cmd, p.Timestamp)).Append(',').Append(Add(cmd, p.Step)).Append(',').Append(Add(cmd, false)).Append(')');
            }
            cmd.CommandText = sql.Append(" ON CONFLICT DO NOTHING").ToString();
            await cmd.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
    }

    private static string Add(DbCommand cmd, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = "@p" + cmd.Parameters.Count.ToString(CultureInfo.InvariantCulture);
        p.Value = value;
        cmd.Parameters.Add(p);
        return p.ParameterName;
    }

    private static async Task SingleRowAsync(DbConnection conn, string runId, MetricPoint[] points)
    {
        await using var tx = await conn.BeginTransactionAsync();
        await using var cmd = (SqliteCommand)conn.CreateCommand();
        cmd.Transaction = (SqliteTransaction)tx;
        cmd.CommandText = $"INSERT INTO {Columns} VALUES ($r, $k, $v, $t, $s, 0) ON CONFLICT DO NOTHING";
        cmd.Parameters.AddWithValue("$r", runId);
        var k = cmd.Parameters.Add("$k", SqliteType.Text);
        var v = cmd.Parameters.Add("$v", SqliteType.Real);
        var t = cmd.Parameters.Add("$t", SqliteType.Integer);
        var s = cmd.Parameters.Add("$s", SqliteType.Integer);
        foreach (var p in points)
        {
            (k.Value, v.Value, t.Value, s.Value) = (p.Key, p.Value, p.Timestamp, p.Step);
            await cmd.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
    }

    private static async Task UnnestAsync(DbConnection conn, string runId, MetricPoint[] points)
    {
        await using var tx = await conn.BeginTransactionAsync();
        await using var cmd = new NpgsqlCommand(
            $"INSERT INTO {Columns} SELECT @r, u.k, u.v, u.t, u.s, u.n FROM unnest(@k, @v, @t, @s, @n) AS u(k, v, t, s, n) ON CONFLICT DO NOTHING",
            (NpgsqlConnection)conn, (NpgsqlTransaction)tx);
        cmd.Parameters.AddWithValue("r", runId);
        cmd.Parameters.AddWithValue("k", points.Select(p => p.Key).ToArray());
        cmd.Parameters.AddWithValue("v", points.Select(p => p.Value).ToArray());
        cmd.Parameters.AddWithValue("t", points.Select(p => p.Timestamp).ToArray());
        cmd.Parameters.AddWithValue("s", points.Select(p => p.Step).ToArray());
        cmd.Parameters.AddWithValue("n", new bool[points.Length]);
        await cmd.ExecuteNonQueryAsync();
        await tx.CommitAsync();
    }

    private static async Task CopyAsync(DbConnection conn, string runId, MetricPoint[] points)
    {
        await using var copy = await ((NpgsqlConnection)conn).BeginBinaryImportAsync($"COPY {Columns} FROM STDIN (FORMAT BINARY)");
        foreach (var p in points)
        {
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
