// The dashboard's keyword search and best-configuration query at 100,000 runs (docs/performance.md), in process
// through the Core services, so the figures are the queries' own (a Blazor circuit adds its render on top):
//   dotnet run -c Release --project bench/KeywordSearchBench -- --work /tmp/kw [--runs 100000] [--iterations 30] [--reuse] [--pg-admin "Host=..."]
// Seeds one database per provider straight into the tables (like bench/'s search seed): 20 experiments, the runs with
// 10 params and 5 tags each (mlflow.runName, mlflow.user, team, task and a description in mlflow.note.content),
// two latest metrics, and 200 registered models.
using System.Diagnostics;
using System.Globalization;
using Dashboard.Data;
using Dashboard.Search;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

var work = Arg("--work") ?? Path.Combine(Path.GetTempPath(), "keyword-bench");
var runs = int.Parse(Arg("--runs") ?? "100000", CultureInfo.InvariantCulture);
var iterations = int.Parse(Arg("--iterations") ?? "30", CultureInfo.InvariantCulture);
var pgAdmin = Arg("--pg-admin");
// --reuse keeps an already seeded SQLite file (seeding takes half a minute); PostgreSQL is always seeded afresh.
var reuse = args.Contains("--reuse");

string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

Directory.CreateDirectory(work);
var targets = new List<DatabaseOptions>
{
    new() { Provider = DatabaseProvider.Sqlite, ConnectionString = $"Data Source={Path.Combine(work, "keyword.db")}" },
};
if (pgAdmin is not null)
{
    var name = "keyword_bench_" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
    await using (var conn = new NpgsqlConnection(pgAdmin))
    {
        await conn.OpenAsync();
        await new NpgsqlCommand($"CREATE DATABASE {name}", conn).ExecuteNonQueryAsync();
    }
    targets.Add(new() { Provider = DatabaseProvider.PostgreSql, ConnectionString = new NpgsqlConnectionStringBuilder(pgAdmin) { Database = name }.ToString() });
}

foreach (var options in targets)
{
    var services = new ServiceCollection().AddDashboardDatabase(options).BuildServiceProvider();
    var factory = services.GetRequiredService<IDbContextFactory<DashboardDbContext>>();
    var clock = Stopwatch.StartNew();
    var seed = !(reuse && options.Provider == DatabaseProvider.Sqlite && File.Exists(Path.Combine(work, "keyword.db")));
    if (seed && options.Provider == DatabaseProvider.Sqlite)
    {
        foreach (var f in Directory.GetFiles(work, "keyword.db*"))
        {
            File.Delete(f);
        }
    }
    await DashboardDatabase.InitializeAsync(factory, options, TimeProvider.System);
    if (seed)
    {
        await Seed.RunAsync(options, runs);
    }
    Console.WriteLine($"## {options.Provider}: {runs:N0} runs {(seed ? $"seeded in {clock.Elapsed.TotalSeconds:0} s" : "(reused)")}; load average {File.ReadAllText("/proc/loadavg")[..14]}");
    Console.WriteLine();

    var keyword = new KeywordSearchService(factory);
    var best = new BestRunsService(factory, new RunSearchService(factory));
    var cases = new List<(string Name, Func<Task<string>> Query)>();
    foreach (var (text, what) in new[]
             {
                 ("adam", "a param value of half the runs (adam exact, adamw prefix)"),
                 ("resnet", "a param value's prefix (two fifths of the runs)"),
                 ("run-99123", "one run's exact name"),
                 ("receipts", "words in a fifth of the descriptions"),
                 ("ocr", "experiments, models, a tag value and descriptions"),
                 ("7", "one character: most rows match"),
                 ("no-such-thing", "nothing matches: every scan runs to the end"),
             })
    {
        cases.Add(($"`{text}` dropdown (5 a group): {what}", async () => Describe(await keyword.SearchAsync(text, 5))));
        cases.Add(($"`{text}` results page (50 a group)", async () => Describe(await keyword.SearchAsync(text, 50))));
    }
    cases.Add(("best configuration: tag task=ocr, top 10 by val_loss ASC", async () =>
        $"{(await best.TopAsync(BestScope.Tag("task", "ocr"), "val_loss", MetricGoal.Min, 10)).Runs.Count} runs"));
    cases.Add(("best configuration: one experiment, top 10 by val_acc DESC", async () =>
        $"{(await best.TopAsync(BestScope.Experiment(1), "val_acc", MetricGoal.Max, 10)).Runs.Count} runs"));

    Console.WriteLine("| query | p50 ms | p95 ms | found |");
    Console.WriteLine("|---|---|---|---|");
    foreach (var (name, query) in cases)
    {
        var times = new List<double>();
        var found = "";
        for (var i = -3; i < iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            found = await query();
            if (i >= 0)
            {
                times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }
        times.Sort();
        Console.WriteLine($"| {name} | {Pct(times, 0.5):0} | {Pct(times, 0.95):0} | {found} |");
    }
    Console.WriteLine();
    await services.DisposeAsync();
}

static double Pct(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

static string Describe(KeywordResults r) => $"{r.Experiments.Count} exp, {r.Runs.Count} runs, {r.Models.Count} models";

internal static class Seed
{
    private static readonly string[] ParamKeys =
        ["optimizer", "learning_rate", "batch_size", "epochs", "dropout", "weight_decay", "model", "num_layers", "hidden_size", "seed"];
    private static readonly string[][] Choices =
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
    private static readonly string[] Teams = ["vision", "nlp", "speech", "recsys"];
    private static readonly string[] Tasks = ["ocr", "asr", "detection", "ranking", "translation"];
    private static readonly string[] Notes =
    [
        "Baseline with the default augmentation; compare against the sweep of last week.",
        "Fine-tuned on scanned receipts, longer warm-up, label smoothing 0.1.",
        "Sweep over the learning rate with cosine decay and early stopping on validation loss.",
        "Re-run of the best configuration with five seeds to measure the variance.",
        "Mixed precision, gradient clipping at 1.0, batch size doubled with the learning rate.",
    ];

    public static async Task RunAsync(DatabaseOptions options, int count)
    {
        var rng = new Random(20261128);
        var experiments = Enumerable.Range(1, 20).Select(i => (Id: (long)i, Name: i % 5 == 0 ? $"ocr-{i}" : $"project-{i}")).ToList();
        var models = Enumerable.Range(1, 200).Select(i => (Name: i % 10 == 0 ? $"ocr-model-{i}" : $"model-{i}",
            Description: i % 7 == 0 ? "Reads receipts (OCR), exported from the best run" : "A classifier")).ToList();
        var rows = new List<object?[]>[6];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = [];
        }
        var id = new byte[16];
        for (var i = 0; i < count; i++)
        {
            rng.NextBytes(id);
            var runId = Convert.ToHexStringLower(id);
            var experiment = experiments[i % experiments.Count];
            var start = 1_767_225_600_000L + (i * 60_000L);
            rows[0].Add([runId, experiment.Id, $"run-{i}", $"user{i % 25}", "FINISHED", start, start + 3_600_000, "active",
                $"mlflow-artifacts:/{experiment.Id}/{runId}/artifacts"]);
            for (var k = 0; k < ParamKeys.Length; k++)
            {
                rows[1].Add([runId, ParamKeys[k], k < Choices.Length ? Choices[k][rng.Next(Choices[k].Length)] : i.ToString(CultureInfo.InvariantCulture)]);
            }
            rows[2].Add([runId, "mlflow.runName", $"run-{i}"]);
            rows[2].Add([runId, "mlflow.user", $"user{i % 25}"]);
            rows[2].Add([runId, "team", Teams[i % Teams.Length]]);
            rows[2].Add([runId, "task", Tasks[(i / 7) % Tasks.Length]]);
            rows[2].Add([runId, "mlflow.note.content", Notes[rng.Next(Notes.Length)]]);
            var acc = 0.5 + (0.49 * rng.NextDouble());
            rows[3].Add([runId, "val_acc", acc, start, 10L, false]);
            rows[3].Add([runId, "val_loss", 1.5 * (1 - acc), start, 10L, false]);
        }
        foreach (var e in experiments)
        {
            rows[4].Add([e.Id, e.Name, $"mlflow-artifacts:/{e.Id}", "active", 1L, 1L]);
        }
        foreach (var (m, i) in models.Select((m, i) => (m, i)))
        {
            rows[5].Add([(long)(i + 1), m.Name, 1L, (long)i, m.Description, 0]);
        }
        var tables = new (string Sql, string[] Columns)[]
        {
            ("runs", ["id", "experiment_id", "name", "user_id", "status", "start_time", "end_time", "lifecycle_stage", "artifact_uri"]),
            ("params", ["run_id", "key", "value"]),
            ("tags", ["run_id", "key", "value"]),
            ("latest_metrics", ["run_id", "key", "value", "timestamp", "step", "is_nan"]),
            ("experiments", ["id", "name", "artifact_location", "lifecycle_stage", "creation_time", "last_update_time"]),
            ("registered_models", ["id", "name", "creation_time", "last_updated_time", "description", "last_version"]),
        };
        int[] order = [4, 0, 1, 2, 3, 5];
        if (options.Provider == DatabaseProvider.Sqlite)
        {
            SQLitePCL.Batteries_V2.Init();
            await using var conn = new SqliteConnection(options.ConnectionString);
            await conn.OpenAsync();
            await using (var pragma = conn.CreateCommand())
            {
                pragma.CommandText = "PRAGMA cache_size = -262144; DELETE FROM experiments WHERE id <> 0;";
                await pragma.ExecuteNonQueryAsync();
            }
            await using var tx = conn.BeginTransaction();
            foreach (var t in order)
            {
                var (table, columns) = Columns(tables[t]);
                await using var cmd = conn.CreateCommand();
                cmd.Transaction = tx;
                cmd.CommandText = $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "$p" + i))})";
                var ps = columns.Select((_, i) => cmd.Parameters.Add(new SqliteParameter("$p" + i, null))).ToArray();
                foreach (var row in rows[t])
                {
                    for (var i = 0; i < row.Length; i++)
                    {
                        ps[i].Value = row[i] ?? DBNull.Value;
                    }
                    await cmd.ExecuteNonQueryAsync();
                }
            }
            await tx.CommitAsync();
            await using var analyze = conn.CreateCommand();
            analyze.CommandText = "ANALYZE";
            await analyze.ExecuteNonQueryAsync();
        }
        else
        {
            await using var conn = new NpgsqlConnection(options.ConnectionString);
            await conn.OpenAsync();
            await new NpgsqlCommand("DELETE FROM experiments WHERE id <> 0", conn).ExecuteNonQueryAsync();
            foreach (var t in order)
            {
                var (table, columns) = Columns(tables[t]);
                await using var copy = await conn.BeginBinaryImportAsync($"COPY {table} ({string.Join(", ", columns)}) FROM STDIN (FORMAT BINARY)");
                foreach (var row in rows[t])
                {
                    await copy.StartRowAsync();
                    foreach (var value in row)
                    {
                        await (value switch
                        {
                            null => copy.WriteNullAsync(),
                            string s => copy.WriteAsync(s, NpgsqlDbType.Text),
                            long l => copy.WriteAsync(l, NpgsqlDbType.Bigint),
                            int n => copy.WriteAsync(n, NpgsqlDbType.Integer),
                            double d => copy.WriteAsync(d, NpgsqlDbType.Double),
                            bool b => copy.WriteAsync(b, NpgsqlDbType.Boolean),
                            _ => throw new InvalidOperationException(value.GetType().Name),
                        });
                    }
                }
                await copy.CompleteAsync();
            }
            await new NpgsqlCommand("SELECT setval(pg_get_serial_sequence('experiments', 'id'), 100); " +
                "SELECT setval(pg_get_serial_sequence('registered_models', 'id'), 1000); ANALYZE", conn).ExecuteNonQueryAsync();
        }
    }

    private static (string Table, string[] Columns) Columns((string Table, string[] Columns) t) => t;
}
