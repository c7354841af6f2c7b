using System.Data.Common;
using System.Text;

namespace Dashboard.Data;

/// <summary>A point to store; NaN already split into value 0 and <see cref="IsNaN"/>.</summary>
public readonly record struct MetricRow(string Key, double Value, long Timestamp, long Step, bool IsNaN)
{
    public static MetricRow From(string key, double value, long timestamp, long step) =>
        double.IsNaN(value) ? new(key, 0, timestamp, step, true) : new(key, value, timestamp, step, false);

    /// <summary>The order that decides the latest value: step, then timestamp, then value with NaN lowest.</summary>
    public bool IsAfter(MetricRow other) =>
        Step != other.Step ? Step > other.Step
        : Timestamp != other.Timestamp ? Timestamp > other.Timestamp
        : IsNaN != other.IsNaN ? other.IsNaN
        : !IsNaN && Value > other.Value;
}

/// <summary>A point recorded for a logged model, with the dataset it was measured on.</summary>
public readonly record struct ModelMetricRow(string ModelId, MetricRow Metric, string? DatasetName, string? DatasetDigest);

/// <summary>
/// The bulk write path of log-batch: one multi-row statement per kind instead of an INSERT round-trip per
/// metric. The provider differences (upsert syntax, identifier quoting, parameter limits) live here.
/// Every statement lists its rows in one order (<see cref="InLockOrder(IEnumerable{MetricRow})"/>): writers to
/// the same run then lock the rows they share in the same order and queue, where two batches listing the same
/// keys in different orders would deadlock (PostgreSQL 40P01, SQL Server 1205) and one of them fail.
/// </summary>
public static class TrackingSql
{
    public static async Task InsertMetricsAsync(DbConnection connection, DbTransaction? tx, DatabaseProvider provider,
        string runId, IReadOnlyList<MetricRow> rows, CancellationToken ct)
    {
        if (provider == DatabaseProvider.Sqlite)
        {
            // One writer holds the whole database: no lock order to keep.
            await InsertMetricsSqliteAsync(connection, tx, runId, rows, ct);
            return;
        }
        if (provider == DatabaseProvider.PostgreSql)
        {
            await InsertMetricsPostgresAsync(connection, tx, runId, InLockOrder(rows), ct);
            return;
        }
        foreach (var chunk in Chunks(InLockOrder(rows), RowsPerStatement(provider, 6)))
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            var sql = new StringBuilder(64 + chunk.Count * 40);
            if (provider == DatabaseProvider.SqlServer)
            {
                sql.Append("MERGE metrics WITH (HOLDLOCK) AS t USING (VALUES ");
                AppendMetricValues(sql, cmd, provider, runId, chunk);
                sql.Append(") AS s (run_id, [key], value, timestamp, step, is_nan) ON t.run_id = s.run_id AND t.[key] = s.[key] ")
                    .Append("AND t.step = s.step AND t.timestamp = s.timestamp AND t.value = s.value AND t.is_nan = s.is_nan ")
                    .Append("WHEN NOT MATCHED THEN INSERT (run_id, [key], value, timestamp, step, is_nan) ")
                    .Append("VALUES (s.run_id, s.[key], s.value, s.timestamp, s.step, s.is_nan);");
            }
            else
            {
                sql.Append("INSERT INTO metrics (run_id, key, value, timestamp, step, is_nan) VALUES ");
                AppendMetricValues(sql, cmd, provider, runId, chunk);
                sql.Append(" ON CONFLICT DO NOTHING");
            }
            cmd.CommandText = sql.ToString();
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>
    /// SQLite runs in the process: one prepared single-row statement executed per row is its fastest bulk path.
    /// A multi-row statement with thousands of named parameters costs time quadratic in their number, in SQLite's
    /// parser and in the binder (each name is looked up in a list): about 100 ms for 1000 rows against 5 ms.
    /// </summary>
    private static async Task InsertMetricsSqliteAsync(DbConnection connection, DbTransaction? tx, string runId,
        IReadOnlyList<MetricRow> rows, CancellationToken ct)
    {
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO metrics (run_id, key, value, timestamp, step, is_nan) VALUES (@p0, @p1, @p2, @p3, @p4, @p5) " +
            "ON CONFLICT DO NOTHING";
        DbParameter Param(object initial) => cmd.Parameters[Add(cmd, initial)];
        Param(runId);
        var (key, value, timestamp, step, isNaN) = (Param(""), Param(0.0), Param(0L), Param(0L), Param(false));
        // Microsoft.Data.Sqlite keeps the statement prepared while the command text stays the same.
        foreach (var r in rows)
        {
            (key.Value, value.Value, timestamp.Value, step.Value, isNaN.Value) = (r.Key, r.Value, r.Timestamp, r.Step, r.IsNaN);
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>
    /// PostgreSQL: the columns travel as five arrays and are unnested by the server, in the order given (lock order),
    /// so the statement is the same text for every batch: no 6000-parameter VALUES list to parse and plan each time.
    /// </summary>
    private static async Task InsertMetricsPostgresAsync(DbConnection connection, DbTransaction? tx, string runId,
        List<MetricRow> rows, CancellationToken ct)
    {
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO metrics (run_id, key, value, timestamp, step, is_nan) " +
            "SELECT @p0, u.k, u.v, u.t, u.s, u.n FROM unnest(@p1, @p2, @p3, @p4, @p5) WITH ORDINALITY AS u(k, v, t, s, n, i) " +
            "ORDER BY u.i ON CONFLICT DO NOTHING";
        var keys = new string[rows.Count];
        var values = new double[rows.Count];
        var timestamps = new long[rows.Count];
        var steps = new long[rows.Count];
        var nans = new bool[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            (keys[i], values[i], timestamps[i], steps[i], nans[i]) = (rows[i].Key, rows[i].Value, rows[i].Timestamp, rows[i].Step, rows[i].IsNaN);
        }
        foreach (var column in new object[] { runId, keys, values, timestamps, steps, nans })
        {
            Add(cmd, column);
        }
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Moves each key's latest value forward when the new point comes after the stored one.</summary>
    public static async Task UpsertLatestMetricsAsync(DbConnection connection, DbTransaction? tx, DatabaseProvider provider,
        string runId, IReadOnlyList<MetricRow> latest, CancellationToken ct)
    {
        foreach (var chunk in Chunks(InLockOrder(latest), RowsPerStatement(provider, 6)))
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            var sql = new StringBuilder(512 + chunk.Count * 40);
            if (provider == DatabaseProvider.SqlServer)
            {
                sql.Append("MERGE latest_metrics WITH (HOLDLOCK) AS t USING (VALUES ");
                AppendMetricValues(sql, cmd, provider, runId, chunk);
                sql.Append(") AS s (run_id, [key], value, timestamp, step, is_nan) ON t.run_id = s.run_id AND t.[key] = s.[key] ")
                    .Append("WHEN MATCHED AND (s.step > t.step OR (s.step = t.step AND s.timestamp > t.timestamp) ")
                    .Append("OR (s.step = t.step AND s.timestamp = t.timestamp AND ((t.is_nan = 1 AND s.is_nan = 0) OR (t.is_nan = 0 AND s.is_nan = 0 AND s.value > t.value)))) ")
                    .Append("THEN UPDATE SET value = s.value, timestamp = s.timestamp, step = s.step, is_nan = s.is_nan ")
                    .Append("WHEN NOT MATCHED THEN INSERT (run_id, [key], value, timestamp, step, is_nan) ")
                    .Append("VALUES (s.run_id, s.[key], s.value, s.timestamp, s.step, s.is_nan);");
            }
            else
            {
                sql.Append("INSERT INTO latest_metrics AS t (run_id, key, value, timestamp, step, is_nan) VALUES ");
                AppendMetricValues(sql, cmd, provider, runId, chunk);
                sql.Append(" ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, ")
                    .Append("step = excluded.step, is_nan = excluded.is_nan ")
                    .Append("WHERE excluded.step > t.step OR (excluded.step = t.step AND excluded.timestamp > t.timestamp) ")
                    .Append("OR (excluded.step = t.step AND excluded.timestamp = t.timestamp AND ((t.is_nan AND NOT excluded.is_nan) ")
                    .Append("OR (NOT t.is_nan AND NOT excluded.is_nan AND excluded.value > t.value)))");
            }
            cmd.CommandText = sql.ToString();
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>Inserts params that are not stored yet; returns how many rows were inserted.</summary>
    public static async Task<int> InsertParamsAsync(DbConnection connection, DbTransaction? tx, DatabaseProvider provider,
        string runId, IReadOnlyList<KeyValuePair<string, string>> rows, CancellationToken ct) =>
        await WriteKeyValuesAsync(connection, tx, provider, "params", "run_id", runId, rows, update: false, ct);

    /// <summary>Sets run tags, replacing the value of keys that exist.</summary>
    public static async Task UpsertTagsAsync(DbConnection connection, DbTransaction? tx, DatabaseProvider provider,
        string runId, IReadOnlyList<KeyValuePair<string, string>> rows, CancellationToken ct) =>
        await WriteKeyValuesAsync(connection, tx, provider, "tags", "run_id", runId, rows, update: true, ct);

    /// <summary>Sets experiment tags, replacing the value of keys that exist.</summary>
    public static async Task UpsertExperimentTagsAsync(DbConnection connection, DbTransaction? tx, DatabaseProvider provider,
        long experimentId, IReadOnlyList<KeyValuePair<string, string>> rows, CancellationToken ct) =>
        await WriteKeyValuesAsync(connection, tx, provider, "experiment_tags", "experiment_id", experimentId, rows, update: true, ct);

    /// <summary>Sets logged-model tags, replacing the value of keys that exist.</summary>
    public static async Task UpsertLoggedModelTagsAsync(DbConnection connection, DbTransaction? tx, DatabaseProvider provider,
        string modelId, IReadOnlyList<KeyValuePair<string, string>> rows, CancellationToken ct) =>
        await WriteKeyValuesAsync(connection, tx, provider, "logged_model_tags", "model_id", modelId, rows, update: true, ct);

    /// <summary>
    /// Records metric points for logged models (log-batch's metrics that carry a <c>model_id</c>). An exact duplicate
    /// point is ignored, NaN included, as for the run's own metrics.
    /// </summary>
    public static async Task InsertModelMetricsAsync(DbConnection connection, DbTransaction? tx, DatabaseProvider provider,
        string runId, long experimentId, IReadOnlyList<ModelMetricRow> rows, CancellationToken ct)
    {
        // One row per key of the table, in one order for every writer (see InLockOrder).
        List<ModelMetricRow> ordered = [.. rows.GroupBy(r => (r.ModelId, r.Metric)).Select(g => g.First())
            .OrderBy(r => r.ModelId, StringComparer.Ordinal).ThenBy(r => r.Metric.Key, StringComparer.Ordinal)
            .ThenBy(r => r.Metric.Step).ThenBy(r => r.Metric.Timestamp).ThenBy(r => r.Metric.IsNaN).ThenBy(r => r.Metric.Value)];
        const string Columns = "model_id, {0}, value, timestamp, step, is_nan, run_id, experiment_id, dataset_name, dataset_digest";
        foreach (var chunk in Chunks(ordered, RowsPerStatement(provider, 10)))
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            var run = Add(cmd, runId);
            var experiment = Add(cmd, experimentId);
            var values = new StringBuilder(chunk.Count * 80);
            for (var i = 0; i < chunk.Count; i++)
            {
                var r = chunk[i];
                values.Append(i == 0 ? "(" : ",(")
                    .Append(Add(cmd, r.ModelId)).Append(',')
                    .Append(Add(cmd, r.Metric.Key)).Append(',')
                    .Append(Add(cmd, provider == DatabaseProvider.SqlServer ? SqlServerDashboardContext.Finite(r.Metric.Value) : r.Metric.Value)).Append(',')
                    .Append(Add(cmd, r.Metric.Timestamp)).Append(',')
                    .Append(Add(cmd, r.Metric.Step)).Append(',')
                    .Append(Add(cmd, r.Metric.IsNaN)).Append(',')
                    .Append(run).Append(',')
                    .Append(experiment).Append(',')
                    .Append(AddText(cmd, r.DatasetName)).Append(',')
                    .Append(AddText(cmd, r.DatasetDigest)).Append(')');
            }
            var sql = new StringBuilder();
            if (provider == DatabaseProvider.SqlServer)
            {
                var columns = string.Format(System.Globalization.CultureInfo.InvariantCulture, Columns, "[key]");
                sql.Append("MERGE logged_model_metrics WITH (HOLDLOCK) AS t USING (VALUES ").Append(values)
                    .Append(") AS s (").Append(columns).Append(") ON t.model_id = s.model_id AND t.[key] = s.[key] AND t.step = s.step ")
                    .Append("AND t.timestamp = s.timestamp AND t.run_id = s.run_id AND t.value = s.value AND t.is_nan = s.is_nan ")
                    .Append("WHEN NOT MATCHED THEN INSERT (").Append(columns).Append(") VALUES (")
                    .Append(string.Join(", ", columns.Split(", ").Select(c => "s." + c))).Append(");");
            }
            else
            {
                sql.Append("INSERT INTO logged_model_metrics (")
                    .Append(string.Format(System.Globalization.CultureInfo.InvariantCulture, Columns, "key"))
                    .Append(") VALUES ").Append(values).Append(" ON CONFLICT DO NOTHING");
            }
            cmd.CommandText = sql.ToString();
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }

    /// <param name="owner">The value of <paramref name="ownerColumn"/>, the first column of the table's key (the run or experiment).</param>
    private static async Task<int> WriteKeyValuesAsync(DbConnection connection, DbTransaction? tx, DatabaseProvider provider,
        string table, string ownerColumn, object owner, IReadOnlyList<KeyValuePair<string, string>> rows, bool update, CancellationToken ct)
    {
        var written = 0;
        foreach (var chunk in Chunks(InLockOrder(rows), RowsPerStatement(provider, 3)))
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            var sql = new StringBuilder();
            var values = new StringBuilder();
            var ownerParameter = Add(cmd, owner);
            for (var i = 0; i < chunk.Count; i++)
            {
                values.Append(i == 0 ? "(" : ",(")
                    .Append(ownerParameter).Append(',')
                    .Append(Add(cmd, chunk[i].Key)).Append(',')
                    .Append(Add(cmd, chunk[i].Value)).Append(')');
            }
            if (provider == DatabaseProvider.SqlServer)
            {
                sql.Append("MERGE ").Append(table).Append(" WITH (HOLDLOCK) AS t USING (VALUES ").Append(values)
                    .Append(") AS s (").Append(ownerColumn).Append(", [key], value) ON t.").Append(ownerColumn).Append(" = s.").Append(ownerColumn)
                    .Append(" AND t.[key] = s.[key] ");
                if (update)
                {
                    sql.Append("WHEN MATCHED THEN UPDATE SET value = s.value ");
                }
                sql.Append("WHEN NOT MATCHED THEN INSERT (").Append(ownerColumn).Append(", [key], value) VALUES (s.")
                    .Append(ownerColumn).Append(", s.[key], s.value);");
            }
            else
            {
                sql.Append("INSERT INTO ").Append(table).Append(" (").Append(ownerColumn).Append(", key, value) VALUES ").Append(values)
                    .Append(update ? $" ON CONFLICT ({ownerColumn}, key) DO UPDATE SET value = excluded.value" : " ON CONFLICT DO NOTHING");
            }
            cmd.CommandText = sql.ToString();
            written += await cmd.ExecuteNonQueryAsync(ct);
        }
        return written;
    }

    /// <summary>Metric rows by key (ordinal), then the rest of the row; an exact duplicate is listed once.</summary>
    internal static List<MetricRow> InLockOrder(IEnumerable<MetricRow> rows) =>
        [.. rows.Distinct().OrderBy(r => r.Key, StringComparer.Ordinal).ThenBy(r => r.Step).ThenBy(r => r.Timestamp)
            .ThenBy(r => r.IsNaN).ThenBy(r => r.Value)];

    /// <summary>Key/value rows by key (ordinal).</summary>
    internal static List<KeyValuePair<string, string>> InLockOrder(IEnumerable<KeyValuePair<string, string>> rows) =>
        [.. rows.OrderBy(r => r.Key, StringComparer.Ordinal)];

    private static void AppendMetricValues(StringBuilder sql, DbCommand cmd, DatabaseProvider provider, string runId,
        IReadOnlyList<MetricRow> rows)
    {
        var run = Add(cmd, runId);
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            sql.Append(i == 0 ? "(" : ",(")
                .Append(run).Append(',')
                .Append(Add(cmd, r.Key)).Append(',')
                .Append(Add(cmd, provider == DatabaseProvider.SqlServer ? SqlServerDashboardContext.Finite(r.Value) : r.Value)).Append(',')
                .Append(Add(cmd, r.Timestamp)).Append(',')
                .Append(Add(cmd, r.Step)).Append(',')
                .Append(Add(cmd, r.IsNaN)).Append(')');
        }
    }

    /// <summary>A text parameter that may be NULL (typed, so that every provider knows what the NULL is).</summary>
    private static string AddText(DbCommand cmd, string? value)
    {
        var name = Add(cmd, (object?)value ?? DBNull.Value);
        cmd.Parameters[name].DbType = System.Data.DbType.String;
        return name;
    }

    private static string Add(DbCommand cmd, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = "@p" + cmd.Parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        p.Value = value;
        cmd.Parameters.Add(p);
        return p.ParameterName;
    }

    // SQL Server takes at most 2100 parameters a statement; SQLite 32766; PostgreSQL 65535.
    private static int RowsPerStatement(DatabaseProvider provider, int columns) =>
        (provider == DatabaseProvider.SqlServer ? 2000 : 30000) / columns;

    private static IEnumerable<IReadOnlyList<T>> Chunks<T>(IReadOnlyList<T> rows, int size)
    {
        if (rows.Count <= size)
        {
            yield return rows;
            yield break;
        }
        for (var i = 0; i < rows.Count; i += size)
        {
            yield return rows.Skip(i).Take(size).ToList();
        }
    }
}
