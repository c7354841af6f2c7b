using System.Globalization;

namespace Dashboard.Bench;

public enum Provider
{
    Sqlite,
    PostgreSql,
}

/// <summary>What to measure and how much. Every size has a flag so a quick run and a full run are the same code.</summary>
public sealed class BenchOptions
{
    public List<Provider> Providers { get; } = [];
    public required string ServerDll { get; init; }
    public required string ContentRoot { get; init; }
    public required string WorkDir { get; init; }
    public required string ResultsDir { get; init; }
    public string? PostgresAdmin { get; init; }
    public string Command { get; init; } = "bench/run.sh";
    public string Revision { get; init; } = "unknown";

    /// <summary>Measured log-batch requests per ingest scenario (split over its clients), 1000 metrics each.</summary>
    public int Batches { get; set; } = 100;
    public int WarmupBatches { get; set; } = 10;

    /// <summary>Seconds of ingest into the fresh server before anything is measured.</summary>
    public int WarmupSeconds { get; set; } = 8;

    /// <summary>The most seconds one ingest scenario may take; keeps a run short when the server is slow.</summary>
    public int MaxScenarioSeconds { get; set; } = 10;
    public int Repeats { get; set; } = 3;
    public int SearchRuns { get; set; } = 100_000;
    public int SearchIterations { get; set; } = 30;
    public int DeepPage { get; set; } = 100;
    public int HistoryPoints { get; set; } = 100_000;
    public int HistoryIterations { get; set; } = 5;
    public int BulkIntervalIterations { get; set; } = 30;
    public bool SkipSearch { get; set; }
    public bool Quick { get; set; }

    /// <summary>A size was set by a flag: the results file gets its own name, so it never replaces a full run's.</summary>
    public bool CustomSizes { get; private set; }

    /// <summary>What the results file name carries after the date and provider.</summary>
    public string ResultSuffix => Quick ? "-quick" : CustomSizes || SkipSearch ? "-custom" : "";

    public static BenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unexpected argument '{a}'.");
            }
            if (a is "--quick" or "--skip-search")
            {
                flags.Add(a);
            }
            else if (i + 1 < args.Length)
            {
                values[a] = args[++i];
            }
            else
            {
                throw new ArgumentException($"{a} needs a value.");
            }
        }
        string Need(string name) => values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"{name} is required.");

        var o = new BenchOptions
        {
            ServerDll = Path.GetFullPath(Need("--server-dll")),
            ContentRoot = Path.GetFullPath(values.GetValueOrDefault("--content-root") ?? Path.GetDirectoryName(Path.GetFullPath(Need("--server-dll")))!),
            WorkDir = Path.GetFullPath(Need("--work")),
            ResultsDir = Path.GetFullPath(values.GetValueOrDefault("--results") ?? "bench/results"),
            PostgresAdmin = values.GetValueOrDefault("--pg-admin"),
            Command = values.GetValueOrDefault("--command") ?? "bench/run.sh",
            Revision = values.GetValueOrDefault("--revision") ?? "unknown",
            Quick = flags.Contains("--quick"),
            SkipSearch = flags.Contains("--skip-search"),
        };
        if (o.Quick)
        {
            o.Batches = 40;
            o.WarmupBatches = 4;
            o.MaxScenarioSeconds = 5;
            o.WarmupSeconds = 3;
            o.Repeats = 1;
            o.SearchRuns = 10_000;
            o.SearchIterations = 10;
            o.DeepPage = 20;
            o.HistoryPoints = 30_000;
            o.HistoryIterations = 3;
            o.BulkIntervalIterations = 10;
        }
        int Int(string name, int current)
        {
            if (!values.TryGetValue(name, out var v))
            {
                return current;
            }
            o.CustomSizes = true;
            return int.Parse(v, NumberStyles.None, CultureInfo.InvariantCulture);
        }
        o.Batches = Int("--batches", o.Batches);
        o.WarmupBatches = Int("--warmup", o.WarmupBatches);
        o.Repeats = Int("--repeats", o.Repeats);
        o.MaxScenarioSeconds = Int("--max-scenario-seconds", o.MaxScenarioSeconds);
        o.WarmupSeconds = Int("--warmup-seconds", o.WarmupSeconds);
        o.SearchRuns = Int("--search-runs", o.SearchRuns);
        o.SearchIterations = Int("--search-iterations", o.SearchIterations);
        o.DeepPage = Int("--deep-page", o.DeepPage);
        o.HistoryPoints = Int("--history-points", o.HistoryPoints);
        o.HistoryIterations = Int("--history-iterations", o.HistoryIterations);
        o.BulkIntervalIterations = Int("--bulk-interval-iterations", o.BulkIntervalIterations);

        foreach (var p in (values.GetValueOrDefault("--providers") ?? "sqlite,postgresql").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            o.Providers.Add(p.Trim().ToUpperInvariant() switch
            {
                "SQLITE" => Provider.Sqlite,
                "POSTGRESQL" or "POSTGRES" or "PG" => Provider.PostgreSql,
                _ => throw new ArgumentException($"Unknown provider '{p}'."),
            });
        }
        if (o.Providers.Contains(Provider.PostgreSql) && string.IsNullOrEmpty(o.PostgresAdmin))
        {
            throw new ArgumentException("--pg-admin (an admin connection string) is required for PostgreSQL.");
        }
        if (o.Batches < 4 || o.Repeats < 1 || o.SearchRuns < 1 || o.HistoryPoints < 1000)
        {
            throw new ArgumentException("--batches must be at least 4, --repeats and --search-runs at least 1, --history-points at least 1000.");
        }
        return o;
    }
}
