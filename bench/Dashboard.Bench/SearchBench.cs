using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Dashboard.Bench;

public sealed record SearchQueryMeasure(string Name, string Request, Latencies Latencies, int Returned, string? Check);

public sealed record SearchMeasure(int Runs, TimeSpan SeedTime, string SeedMethod, int ExpectedMatches,
    IReadOnlyList<SearchQueryMeasure> Queries);

/// <summary>
/// runs/search over one experiment of many runs, each with 10 params, 10 metrics and 5 tags. The runs are written
/// straight into the tables (bulk SQL) after the server has created the schema: millions of rows through log-batch
/// would take minutes and measure ingest, which is measured elsewhere. Metrics go to latest_metrics, the table that
/// search reads (MLflow filters and orders on a metric's latest value); no history rows are written for them.
/// </summary>
public static class SearchBench
{
    public const string FilterA = "params.optimizer = 'adam' and metrics.val_acc > 0.8";
    public const string OrderA = "metrics.val_acc DESC";
    public const int PageSize = 100;

    private static readonly string[] ParamKeys =
        ["optimizer", "learning_rate", "batch_size", "epochs", "dropout", "weight_decay", "model", "num_layers", "hidden_size", "seed"];
    private static readonly string[][] ParamChoices =
    [
        ["adam", "sgd", "adamw", "rmsprop"],
        ["0.0001", "0.0003", "0.001", "0.003", "0.01"],
        ["32", "64", "128", "256"],
        ["10", "20", "50", "100"],
        ["0.0", "0.1", "0.2", "0.3", "0.5"],
        ["0", "1e-05", "0.0001", "0.001"],
        ["resnet18", "resnet50", "vit_b16", "efficientnet_b0", "convnext_t"],
        ["2", "4", "6", "8", "12"],
        ["128", "256", "512", "1024"],
    ];
    private static readonly string[] MetricKeys =
        ["val_acc", "val_loss", "train_acc", "train_loss", "f1", "precision", "recall", "auc", "epoch_time_s", "best_epoch"];
    private static readonly string[] Teams = ["vision", "nlp", "speech", "recsys"];

    private sealed record SeedRun(string Id, string Name, string User, long StartTime, string[] Params, double[] Metrics, string Team);

    /// <summary>The server's statistics refresh interval during the bench (Dashboard:Database:StatisticsInterval).</summary>
    public static readonly TimeSpan StatisticsInterval = TimeSpan.FromSeconds(5);

    public static async Task<SearchMeasure> RunAsync(MlflowClient client, BenchDatabase db, int runs, int iterations, int deepPage)
    {
        var experimentId = await client.CreateExperimentAsync("bench-search");
        var seed = Generate(runs);
        var expected = seed.Count(r => r.Params[0] == "adam" && r.Metrics[0] > 0.8);
        var clock = Stopwatch.StartNew();
        string method;
        if (db.Provider == Provider.Sqlite)
        {
            SeedSqlite(db, long.Parse(experimentId, CultureInfo.InvariantCulture), seed);
            // The server refreshes SQLite's planner statistics every StatisticsInterval (a minute by default); wait for it,
            // as PostgreSQL gets its ANALYZE below.
            await Task.Delay(StatisticsInterval * 2);
            method = "one SQLite transaction of prepared single-row INSERTs (256 MB page cache for the load), then a wait of " +
                $"{(StatisticsInterval * 2).TotalSeconds:0} s for the server's statistics refresh (Dashboard:Database:StatisticsInterval, " +
                $"set to {StatisticsInterval.TotalSeconds:0} s for the bench; one minute by default)";
        }
        else
        {
            await SeedPostgresAsync(db, long.Parse(experimentId, CultureInfo.InvariantCulture), seed);
            await CeilingBench.AnalyzeAsync(db);
            method = "binary COPY per table (the child tables in parallel, without foreign-key triggers), then ANALYZE (what autovacuum does after a bulk load)";
        }
        clock.Stop();

        var a = new JsonObject
        {
            ["experiment_ids"] = new JsonArray(experimentId),
            ["filter"] = FilterA,
            ["order_by"] = new JsonArray(OrderA),
            ["max_results"] = PageSize,
        };
        var b = new JsonObject { ["experiment_ids"] = new JsonArray(experimentId), ["max_results"] = PageSize };

        // (c) a page deep in the default listing, reached through the page tokens the server hands out.
        var token = (string?)null;
        var walked = 1;
        for (; walked < deepPage; walked++)
        {
            var page = await client.SearchRunsAsync(With(b, token));
            token = page["next_page_token"]?.GetValue<string>();
            if (string.IsNullOrEmpty(token))
            {
                break;
            }
        }
        var deepName = $"(c) page {deepPage.ToString(CultureInfo.InvariantCulture)} (offset {((deepPage - 1) * PageSize).ToString(CultureInfo.InvariantCulture)}) by page token";

        var plan = new List<(string Name, JsonObject Request, Func<JsonNode, string?> Check)>
        {
            ("(a) filter + order_by", a, page => CheckFilter(page, expected)),
            ("(b) first page, no filter", b, page => Runs(page).Count == Math.Min(PageSize, runs) ? null : $"expected {Math.Min(PageSize, runs)} runs"),
        };
        if (!string.IsNullOrEmpty(token))
        {
            plan.Add((deepName, With(b, token), page => Runs(page).Count == PageSize ? null : $"expected {PageSize} runs"));
        }

        // Warm every query first (the server's pooled connections each fill their own page cache), then take turns,
        // so that a burst of load on the machine falls on all of them alike.
        var latencies = plan.Select(_ => new Latencies()).ToArray();
        var last = new JsonNode?[plan.Count];
        for (var i = -5; i < iterations; i++)
        {
            for (var q = 0; q < plan.Count; q++)
            {
                var start = Stopwatch.GetTimestamp();
                last[q] = await client.SearchRunsAsync(plan[q].Request);
                if (i >= 0)
                {
                    latencies[q].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            }
        }
        var queries = plan.Select((p, q) => new SearchQueryMeasure(p.Name, MlflowClient.Serialize(p.Request), latencies[q],
            Runs(last[q]!).Count, p.Check(last[q]!))).ToList();
        if (string.IsNullOrEmpty(token))
        {
            queries.Add(new SearchQueryMeasure(deepName, "", new Latencies(), 0,
                $"not measured: the server returned no next_page_token after page {walked.ToString(CultureInfo.InvariantCulture)}"));
        }
        return new SearchMeasure(runs, clock.Elapsed, method, expected, queries);
    }

    private static JsonObject With(JsonObject request, string? token)
    {
        var copy = (JsonObject)request.DeepClone();
        if (token is not null)
        {
            copy["page_token"] = token;
        }
        return copy;
    }

    private static JsonArray Runs(JsonNode page) => page["runs"] as JsonArray ?? [];

    /// <summary>Null when the page is what the filter and the order ask for; otherwise what is wrong with it.</summary>
    private static string? CheckFilter(JsonNode page, int expected)
    {
        var runs = Runs(page);
        var want = Math.Min(PageSize, expected);
        var previous = double.MaxValue;
        var bad = 0;
        var unordered = false;
        foreach (var run in runs)
        {
            var data = run!["data"]!;
            var optimizer = (data["params"] as JsonArray ?? []).FirstOrDefault(p => p!["key"]!.GetValue<string>() == "optimizer")?["value"]?.GetValue<string>();
            var acc = (data["metrics"] as JsonArray ?? []).FirstOrDefault(m => m!["key"]!.GetValue<string>() == "val_acc")?["value"]?.GetValue<double>();
            if (optimizer != "adam" || acc is not > 0.8)
            {
                bad++;
            }
            if (acc is { } v)
            {
                unordered |= v > previous;
                previous = v;
            }
        }
        if (bad == 0 && !unordered && runs.Count == want)
        {
            return null;
        }
        return $"filter/order not applied: {bad.ToString(CultureInfo.InvariantCulture)} of {runs.Count.ToString(CultureInfo.InvariantCulture)} runs " +
               $"do not match{(unordered ? ", not ordered by val_acc" : "")} (expected {want.ToString(CultureInfo.InvariantCulture)} matching runs)";
    }

    private static List<SeedRun> Generate(int count)
    {
        var rng = new Random(20260101);
        var list = new List<SeedRun>(count);
        Span<byte> id = stackalloc byte[16];
        for (var i = 0; i < count; i++)
        {
            rng.NextBytes(id);
            var p = new string[ParamKeys.Length];
            for (var k = 0; k < ParamChoices.Length; k++)
            {
                p[k] = ParamChoices[k][rng.Next(ParamChoices[k].Length)];
            }
            p[9] = i.ToString(CultureInfo.InvariantCulture);
            var valAcc = 0.5 + 0.49 * rng.NextDouble();
            var m = new[]
            {
                valAcc, 1.5 * (1 - valAcc) + 0.1 * rng.NextDouble(), Math.Min(1, valAcc + 0.05 * rng.NextDouble()),
                1.2 * (1 - valAcc) + 0.1 * rng.NextDouble(), valAcc - 0.03 * rng.NextDouble(), valAcc - 0.02 * rng.NextDouble(),
                valAcc - 0.04 * rng.NextDouble(), Math.Min(1, valAcc + 0.08 * rng.NextDouble()), 30 + 300 * rng.NextDouble(),
                rng.Next(1, 100),
            };
            list.Add(new SeedRun(Convert.ToHexStringLower(id), $"run-{i.ToString(CultureInfo.InvariantCulture)}",
                $"user{(i % 25).ToString(CultureInfo.InvariantCulture)}",
                Workload.Epoch - (long)(count - i) * 60_000, p, m, Teams[rng.Next(Teams.Length)]));
        }
        return list;
    }

    private static IEnumerable<(string Key, string Value)> Tags(SeedRun r) =>
    [
        ("mlflow.runName", r.Name), ("mlflow.user", r.User), ("mlflow.source.type", "LOCAL"),
        ("mlflow.source.name", "train.py"), ("team", r.Team),
    ];

    private static void SeedSqlite(BenchDatabase db, long experimentId, List<SeedRun> seed)
    {
        using var conn = db.OpenSqlite();
        // A bulk load into indexes in random key order: a page cache that holds them saves rewriting pages (default 2 MB).
        using (var pragma = conn.CreateCommand())
        {
            pragma.CommandText = "PRAGMA cache_size = -262144";
            pragma.ExecuteNonQuery();
        }
        using var tx = conn.BeginTransaction();
        SqliteCommand Prepare(string sql, params string[] names)
        {
            var c = conn.CreateCommand();
            c.Transaction = tx;
            c.CommandText = sql;
            foreach (var n in names)
            {
                c.Parameters.Add(new SqliteParameter(n, null));
            }
            c.Prepare();
            return c;
        }
        using var run = Prepare(
            "INSERT INTO runs (id, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri) " +
            "VALUES ($id, $exp, $name, $user, 'FINISHED', $start, $end, 'active', $uri)", "$id", "$exp", "$name", "$user", "$start", "$end", "$uri");
        using var param = Prepare("INSERT INTO params (run_id, key, value) VALUES ($r, $k, $v)", "$r", "$k", "$v");
        using var tag = Prepare("INSERT INTO tags (run_id, key, value) VALUES ($r, $k, $v)", "$r", "$k", "$v");
        using var latest = Prepare("INSERT INTO latest_metrics (run_id, key, value, timestamp, step, is_nan) VALUES ($r, $k, $v, $t, $s, 0)",
            "$r", "$k", "$v", "$t", "$s");
        foreach (var r in seed)
        {
            var end = r.StartTime + 3_000_000;
            Set(run, r.Id, experimentId, r.Name, r.User, r.StartTime, end, $"mlflow-artifacts:/{experimentId.ToString(CultureInfo.InvariantCulture)}/{r.Id}/artifacts");
            for (var k = 0; k < ParamKeys.Length; k++)
            {
                Set(param, r.Id, ParamKeys[k], r.Params[k]);
            }
            foreach (var (key, value) in Tags(r))
            {
                Set(tag, r.Id, key, value);
            }
            for (var k = 0; k < MetricKeys.Length; k++)
            {
                Set(latest, r.Id, MetricKeys[k], r.Metrics[k], end, 99L);
            }
        }
        tx.Commit();
    }

    private static void Set(SqliteCommand cmd, params object[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            cmd.Parameters[i].Value = values[i];
        }
        cmd.ExecuteNonQuery();
    }

    private static async Task SeedPostgresAsync(BenchDatabase db, long experimentId, List<SeedRun> seed)
    {
        await using (var conn = await db.OpenPostgresAsync())
        await using (var w = await conn.BeginBinaryImportAsync(
            "COPY runs (id, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var r in seed)
            {
                w.StartRow();
                w.Write(r.Id, NpgsqlDbType.Varchar);
                w.Write(experimentId, NpgsqlDbType.Bigint);
                w.Write(r.Name, NpgsqlDbType.Varchar);
                w.Write(r.User, NpgsqlDbType.Varchar);
                w.Write("FINISHED", NpgsqlDbType.Varchar);
                w.Write(r.StartTime, NpgsqlDbType.Bigint);
                w.Write(r.StartTime + 3_000_000, NpgsqlDbType.Bigint);
                w.Write("active", NpgsqlDbType.Varchar);
                w.Write($"mlflow-artifacts:/{experimentId.ToString(CultureInfo.InvariantCulture)}/{r.Id}/artifacts", NpgsqlDbType.Varchar);
            }
            await w.CompleteAsync();
        }
        // The child tables load in parallel, each on its own connection: index upkeep is the cost, and it spreads over cores.
        await Task.WhenAll(
            CopyAsync(db, conn => CopyKeyValuesAsync(conn, "params", seed, r => ParamKeys.Select((k, i) => (k, r.Params[i])))),
            CopyAsync(db, conn => CopyKeyValuesAsync(conn, "tags", seed, Tags)),
            CopyAsync(db, conn => CopyMetricsAsync(conn, "latest_metrics", seed)));
    }

    private static async Task CopyAsync(BenchDatabase db, Func<NpgsqlConnection, Task> copy)
    {
        await using var conn = await db.OpenPostgresAsync();
        // The rows are consistent by construction: skip the per-row foreign-key triggers (a third of the load time).
        await using (var replica = new NpgsqlCommand("SET session_replication_role = replica", conn))
        {
            await replica.ExecuteNonQueryAsync();
        }
        await copy(conn);
    }

    private static async Task CopyMetricsAsync(NpgsqlConnection conn, string table, List<SeedRun> seed)
    {
        await using var w = await conn.BeginBinaryImportAsync(
            $"COPY {table} (run_id, key, value, timestamp, step, is_nan) FROM STDIN (FORMAT BINARY)");
        foreach (var r in seed)
        {
            for (var k = 0; k < MetricKeys.Length; k++)
            {
                w.StartRow();
                w.Write(r.Id, NpgsqlDbType.Varchar);
                w.Write(MetricKeys[k], NpgsqlDbType.Varchar);
                w.Write(r.Metrics[k], NpgsqlDbType.Double);
                w.Write(r.StartTime + 3_000_000, NpgsqlDbType.Bigint);
                w.Write(99L, NpgsqlDbType.Bigint);
                w.Write(false, NpgsqlDbType.Boolean);
            }
        }
        await w.CompleteAsync();
    }

    private static async Task CopyKeyValuesAsync(NpgsqlConnection conn, string table, List<SeedRun> seed,
        Func<SeedRun, IEnumerable<(string Key, string Value)>> rows)
    {
        await using var w = await conn.BeginBinaryImportAsync($"COPY {table} (run_id, key, value) FROM STDIN (FORMAT BINARY)");
        foreach (var r in seed)
        {
            foreach (var (key, value) in rows(r))
            {
                w.StartRow();
                w.Write(r.Id, NpgsqlDbType.Varchar);
                w.Write(key, NpgsqlDbType.Varchar);
                w.Write(value, NpgsqlDbType.Varchar);
            }
        }
        await w.CompleteAsync();
    }
}
