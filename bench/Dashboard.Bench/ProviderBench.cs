using System.Diagnostics;

namespace Dashboard.Bench;

public sealed record IngestSummary(IngestScenario Scenario, IReadOnlyList<IngestMeasure> Repeats)
{
    public double MedianMetricsPerSecond => Stats.Median(Repeats.Select(r => r.MetricsPerSecond).ToArray());

    public Latencies Latencies
    {
        get
        {
            var all = new Latencies();
            foreach (var r in Repeats)
            {
                all.AddRange(r.Latencies);
            }
            return all;
        }
    }
}

public sealed class ProviderResult
{
    public required Provider Provider { get; init; }
    public required string Database { get; init; }
    public required DateTimeOffset Started { get; init; }
    public string LoadBefore { get; init; } = "";
    public string LoadAfter { get; set; } = "";
    public TimeSpan Duration { get; set; }
    public long IdleRss { get; set; }
    public List<IngestSummary> Ingest { get; } = [];
    public List<CeilingMeasure> Ceiling { get; } = [];
    public List<CeilingMeasure> CeilingParallel { get; } = [];
    public List<CeilingMeasure> CeilingPerBatch { get; } = [];
    public Latencies? Floor { get; set; }
    public Latencies? ParseValidate { get; set; }
    public IReadOnlyList<ShapeMeasure> Shapes { get; set; } = [];
    public IReadOnlyList<long> IngestRss { get; set; } = [];

    /// <summary>The highest resident set sampled in the phases after ingest (history, search).</summary>
    public Dictionary<string, long> PhasePeakRss { get; } = [];
    public long PeakRss { get; set; }
    public HistoryMeasure? History { get; set; }
    public SearchMeasure? Search { get; set; }
    public string ServerLog { get; set; } = "";

    public double CeilingMetricsPerSecond => Stats.Median(Ceiling.Select(c => c.MetricsPerSecond).ToArray());
    public double CeilingParallelMetricsPerSecond => Stats.Median(CeilingParallel.Select(c => c.MetricsPerSecond).ToArray());
}

/// <summary>Everything measured on one provider: a fresh database, a fresh server, then each measure in turn.</summary>
public static class ProviderBench
{
    public static async Task<ProviderResult> RunAsync(Provider provider, BenchOptions options)
    {
        var clock = Stopwatch.StartNew();
        var workDir = Path.Combine(options.WorkDir, provider.ToString().ToLowerInvariant());
        Directory.CreateDirectory(workDir);
        var db = await BenchDatabase.CreateAsync(provider, options, workDir);
        var load = MachineInfo.LoadAverage();
        Log($"{provider}: starting the server");
        await using var server = await ServerProcess.StartAsync(options, workDir, provider, db.ServerConnectionString);
        var result = new ProviderResult
        {
            Provider = provider,
            Database = await db.DescribeAsync(),
            Started = DateTimeOffset.Now,
            LoadBefore = load,
            IdleRss = server.ReadStatus("VmRSS") ?? 0,
            ServerLog = server.LogPath,
        };
        Log($"{provider}: {result.Database}; server pid {server.Pid}, {Report.Mb(result.IdleRss)} resident at start");
        using var client = new MlflowClient(server.BaseUri);

        var experiment = await client.CreateExperimentAsync("bench-ingest");
        // The server is measured warm, as it runs for weeks: JIT tiers (compiled in the background, late on a busy
        // machine), connection pools, caches and the GC's budget. A first repeat after a shorter warm-up came out
        // at half the speed of the next ones.
        var warm = Stopwatch.StartNew();
        var warmBatches = 0;
        while (warm.Elapsed < TimeSpan.FromSeconds(options.WarmupSeconds))
        {
            var w = await IngestBench.RunAsync(client, experiment, new IngestScenario("server warm-up", 2, SharedRun: false),
                20, 0, "warm-up", TimeSpan.FromSeconds(options.MaxScenarioSeconds));
            warmBatches += w.Latencies.Count;
        }
        Log($"{provider}: warmed up with {warmBatches} batches in {warm.Elapsed.TotalSeconds:0.0} s");
        // Warms up the bench's own bulk path (JIT, driver) so the first measured ceiling is not the slowest.
        await CeilingBench.RunAsync(db, [await client.CreateRunAsync(experiment, "ceiling-warmup")], Math.Max(4, options.Batches / 10), 0);
        var perScenario = IngestBench.Scenarios.ToDictionary(s => s, _ => new List<IngestMeasure>());
        await using (var sampler = new RssSampler(server))
        {
            for (var r = 0; r < options.Repeats; r++)
            {
                foreach (var scenario in IngestBench.Scenarios)
                {
                    sampler.On = true;
                    var m = await IngestBench.RunAsync(client, experiment, scenario, options.Batches, options.WarmupBatches, $"ingest-{r}",
                        TimeSpan.FromSeconds(options.MaxScenarioSeconds));
                    sampler.On = false;
                    perScenario[scenario].Add(m);
                    Log($"{provider}: ingest {scenario.Name}, repeat {r + 1}: {m.MetricsPerSecond:N0} metrics/s, p50 {m.Latencies.P(50):0.0} ms" +
                        (m.Capped ? $" ({m.Latencies.Count} batches before the {options.MaxScenarioSeconds} s cap)" : ""));
                }
                var batches = options.Batches;
                var one = await CeilingBench.RunAsync(db, [await client.CreateRunAsync(experiment, $"ceiling-{r}")], batches, 0);
                result.Ceiling.Add(one);
                // SQLite has one writer: parallel streams only queue for its lock, so one stream is its ceiling for any number
                // of clients. PostgreSQL writes in parallel, so 4 clients are also compared with 4 streams.
                CeilingMeasure? parallel = null;
                if (provider == Provider.PostgreSql)
                {
                    var parallelRuns = new List<string>();
                    for (var c = 0; c < 4; c++)
                    {
                        parallelRuns.Add(await client.CreateRunAsync(experiment, $"ceiling-parallel-{r}-{c}"));
                    }
                    parallel = await CeilingBench.RunAsync(db, parallelRuns, batches, 0);
                    result.CeilingParallel.Add(parallel);
                }
                var each = await CeilingBench.RunAsync(db, [await client.CreateRunAsync(experiment, $"ceiling-per-batch-{r}")], batches,
                    Workload.MetricsPerBatch);
                result.CeilingPerBatch.Add(each);
                Log($"{provider}: ceiling {one.MetricsPerSecond:N0} metrics/s ({one.Method}); " +
                    (parallel is null ? "" : $"{parallel.MetricsPerSecond:N0} ({parallel.Method}); ") +
                    $"{each.MetricsPerSecond:N0} ({each.Method})");
            }
            result.IngestRss = sampler.Samples;
        }
        (result.Floor, result.ParseValidate) = await IngestBench.OverheadAsync(client, experiment, options.Quick ? 90 : 300);
        Log($"{provider}: log-batch of 1 metric: p50 {result.Floor.P(50):0.00} ms; 1000 metrics parsed and validated, no SQL: p50 {result.ParseValidate.P(50):0.00} ms");
        foreach (var s in IngestBench.Scenarios)
        {
            result.Ingest.Add(new IngestSummary(s, perScenario[s]));
        }
        result.Shapes = await StatementShapes.RunAsync(db, client, experiment, options.Quick ? 8 : 20);
        Log($"{provider}: statement shapes, ms per 1000-metric batch (p50): " +
            string.Join("; ", result.Shapes.Select(x => $"{x.Shape}: {x.PerBatch.P(50):0.0}")));

        Log($"{provider}: get-history of {options.HistoryPoints:N0} points");
        await using (var sampler = new RssSampler(server) { On = true })
        {
            result.History = await HistoryBench.RunAsync(client, experiment, options.HistoryPoints, options.HistoryIterations,
                options.BulkIntervalIterations);
            result.PhasePeakRss["metric history"] = sampler.Samples.DefaultIfEmpty().Max();
        }

        if (!options.SkipSearch)
        {
            Log($"{provider}: seeding {options.SearchRuns:N0} runs for runs/search");
            await using var sampler = new RssSampler(server) { On = true };
            result.Search = await SearchBench.RunAsync(client, db, options.SearchRuns, options.SearchIterations, options.DeepPage);
            result.PhasePeakRss["runs/search"] = sampler.Samples.DefaultIfEmpty().Max();
        }
        result.PeakRss = server.ReadStatus("VmHWM") ?? 0;
        result.LoadAfter = MachineInfo.LoadAverage();
        result.Duration = clock.Elapsed;
        return result;
    }

    public static void Log(string message) =>
        Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");
}
