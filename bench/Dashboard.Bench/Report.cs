using System.Globalization;
using System.Text;

namespace Dashboard.Bench;

/// <summary>The figures beside the targets of DESIGN.md ("Performance targets"), as Markdown.</summary>
public static class Report
{
    public const double IngestRatioTarget = 1.0 / 3;
    public const long RssTarget = 300L * 1024 * 1024;

    public static double SearchTargetMs(Provider p) => p == Provider.Sqlite ? 100 : 50;

    public static string Mb(long bytes) => (bytes / 1024.0 / 1024.0).ToString("0", CultureInfo.InvariantCulture) + " MB";

    private static string N(double v) => double.IsNaN(v) ? "n/a" : v.ToString("N0", CultureInfo.InvariantCulture);
    private static string Ms(double v) => double.IsNaN(v) ? "n/a" : v.ToString(v < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " ms";
    private static string Met(bool ok) => ok ? "yes" : "**no**";

    public static string Markdown(ProviderResult r, MachineInfo machine, BenchOptions options)
    {
        var sb = new StringBuilder();
        var ceiling = r.CeilingMetricsPerSecond;
        sb.AppendLine(CultureInfo.InvariantCulture, $"# Dashboard bench: {r.Provider}, {r.Started:yyyy-MM-dd HH:mm zzz}");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {machine.Cores} cores, {machine.Cpu}, {machine.Memory} RAM, {machine.Os}, {machine.Runtime}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Server: {options.Revision}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Database: {r.Database}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Command: `{options.Command}`; {options.Repeats} repeat(s) of each ingest scenario and ceiling, " +
            $"{options.Batches} measured batches of {Workload.MetricsPerBatch} metrics per scenario (or what fits in {options.MaxScenarioSeconds} s) " +
            $"after {options.WarmupBatches} warm-up batches per client");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Load average (1, 5, 15 min) before: {r.LoadBefore}; after: {r.LoadAfter}. Took {r.Duration.TotalSeconds:0} s.");
        sb.AppendLine();

        sb.AppendLine("## Against the targets");
        sb.AppendLine();
        sb.AppendLine("| measure | result | target | met |");
        sb.AppendLine("|---|---|---|---|");
        foreach (var s in r.Ingest)
        {
            var ratio = s.MedianMetricsPerSecond / ceiling;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| log-batch ingest, {s.Scenario.Name}: ingest / ceiling | {N(s.MedianMetricsPerSecond)} / {N(ceiling)} metrics/s = {ratio:0.00} (1/{1 / ratio:0.0}) | ≥ 0.33 (within 3x) | {Met(ratio >= IngestRatioTarget)} |");
        }
        if (r.Search is { } search)
        {
            foreach (var q in search.Queries)
            {
                var p95 = q.Latencies.P(95);
                var note = q.Check is null ? "" : $" ({q.Check})";
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| runs/search {q.Name}, {N(search.Runs)} runs: p95{note} | {Ms(p95)} | < {SearchTargetMs(r.Provider)} ms | {(q.Latencies.Count == 0 ? "n/a" : Met(p95 < SearchTargetMs(r.Provider)))} |");
            }
        }
        var peakIngest = r.IngestRss.Count == 0 ? 0 : r.IngestRss.Max();
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"| server resident set during ingest (VmRSS, peak of {r.IngestRss.Count} samples) | {Mb(peakIngest)} | < 300 MB | {Met(peakIngest < RssTarget)} |");
        sb.AppendLine();

        sb.AppendLine("## log-batch ingest (1000 metrics a request, over HTTP)");
        sb.AppendLine();
        var parallelCeiling = r.CeilingParallel.Count > 0;
        sb.AppendLine($"| scenario | metrics/s (median; min-max) | batches measured | latency p50 | p95 | p99 | of ceiling |{(parallelCeiling ? " of 4-stream ceiling |" : "")}");
        sb.AppendLine($"|---|---|---|---|---|---|---|{(parallelCeiling ? "---|" : "")}");
        foreach (var s in r.Ingest)
        {
            var rates = s.Repeats.Select(x => x.MetricsPerSecond).ToArray();
            var l = s.Latencies;
            var ofParallel = !parallelCeiling ? "" : s.Scenario.Clients > 1
                ? $" {(s.MedianMetricsPerSecond / r.CeilingParallelMetricsPerSecond).ToString("0.00", CultureInfo.InvariantCulture)} |" : " |";
            var measured = string.Join(" + ", s.Repeats.Select(x => x.Latencies.Count)) +
                (s.Repeats.Any(x => x.Capped) ? $" (time cap {options.MaxScenarioSeconds} s)" : "");
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {s.Scenario.Name} | {N(s.MedianMetricsPerSecond)}; {N(rates.Min())}-{N(rates.Max())} | {measured} | " +
                $"{Ms(l.P(50))} | {Ms(l.P(95))} | {Ms(l.P(99))} | {s.MedianMetricsPerSecond / ceiling:0.00} |{ofParallel}");
        }
        foreach (var (name, l) in new[] { ("floor: log-batch of 1 metric, 1 client", r.Floor), ("1000 metrics read and validated, no SQL (rejected at the last key), 1 client", r.ParseValidate) })
        {
            if (l is not null)
            {
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| {name} | | {l.Count} | {Ms(l.P(50))} | {Ms(l.P(95))} | {Ms(l.P(99))} | |{(parallelCeiling ? " |" : "")}");
            }
        }
        sb.AppendLine();
        sb.AppendLine("## Ceiling: the same rows written directly by the bench process");
        sb.AppendLine();
        sb.AppendLine("| method | metrics/s (median; min-max) | rows each |");
        sb.AppendLine("|---|---|---|");
        foreach (var set in new[] { r.Ceiling, r.CeilingParallel, r.CeilingPerBatch }.Where(x => x.Count > 0))
        {
            var rates = set.Select(c => c.MetricsPerSecond).ToArray();
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {set[0].Method} | {N(Stats.Median(rates))}; {N(rates.Min())}-{N(rates.Max())} | {N(set[0].Rows)} |");
        }
        sb.AppendLine();
        sb.AppendLine("The first line is the ceiling of the target (one stream, as one client). " + (parallelCeiling
            ? "The second splits the same rows over 4 connections at once, the bulk counterpart of 4 clients. "
            : "SQLite has one writer, so parallel streams would only queue for its lock: one stream is its ceiling for any number of clients. ") +
            "The last commits every 1000 rows, as a log-batch request must (a batch is acknowledged once durable): " +
            "its gap to the first is the price of a commit per batch.");
        sb.AppendLine();

        if (r.Shapes.Count > 0)
        {
            sb.AppendLine("## Diagnosis: SQL shapes of one 1000-metric batch");
            sb.AppendLine();
            sb.AppendLine("The same batch written by the bench process, a transaction per batch as a request has, in the shapes a server " +
                          "could use. The difference between the first line and the others is what the statement's shape costs each log-batch.");
            sb.AppendLine();
            sb.AppendLine("| shape | p50 per batch | p95 | batches |");
            sb.AppendLine("|---|---|---|---|");
            foreach (var shape in r.Shapes)
            {
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| {shape.Shape} | {Ms(shape.PerBatch.P(50))} | {Ms(shape.PerBatch.P(95))} | {shape.PerBatch.Count} |");
            }
            sb.AppendLine();
        }

        if (r.History is { } h)
        {
            sb.AppendLine("## Metric history");
            sb.AppendLine();
            sb.AppendLine("| request | median | p95 | notes |");
            sb.AppendLine("|---|---|---|---|");
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| get-history, all {N(h.Points)} points of one metric in pages of {HistoryBench.PageSize} | {Ms(h.FullHistory.P(50))} | {Ms(h.FullHistory.P(95))} | {h.Pages} requests, {h.FullHistory.Count} passes |");
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| get-history-bulk-interval, max_results {HistoryBench.ChartPoints} | {Ms(h.BulkInterval.P(50))} | {Ms(h.BulkInterval.P(95))} | {h.BulkPoints} points returned, {h.BulkInterval.Count} requests |");
            sb.AppendLine();
        }

        if (r.Search is { } sr)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"## runs/search over {N(sr.Runs)} runs (10 params, 10 metrics, 5 tags each)");
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"Seeded in {sr.SeedTime.TotalSeconds:0.0} s: {sr.SeedMethod}. {N(sr.ExpectedMatches)} runs match the filter of (a).");
            sb.AppendLine();
            sb.AppendLine("| query | p50 | p95 | runs returned | check |");
            sb.AppendLine("|---|---|---|---|---|");
            foreach (var q in sr.Queries)
            {
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| {q.Name} | {Ms(q.Latencies.P(50))} | {Ms(q.Latencies.P(95))} | {q.Returned} | {q.Check ?? "ok"} |");
            }
            sb.AppendLine();
            foreach (var q in sr.Queries.Where(q => q.Request.Length > 0))
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"- {q.Name}: `{Shorten(q.Request)}`");
            }
            sb.AppendLine();
        }

        sb.AppendLine("## Server memory");
        sb.AppendLine();
        var samples = r.IngestRss.Select(x => (double)x).ToArray();
        var phases = string.Concat(r.PhasePeakRss.Select(p => $"; sampled peak during {p.Key} {Mb(p.Value)}"));
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"Resident set after start {Mb(r.IdleRss)}; during ingest median {Mb((long)Stats.Median(samples))}, peak {Mb(peakIngest)}; " +
            $"peak over the whole bench (VmHWM, search and history included) {Mb(r.PeakRss)}{phases}.");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Server log: {r.ServerLog}");
        return sb.ToString();
    }

    private static string Shorten(string json) => json.Length <= 300 ? json : json[..300] + "…";

    /// <summary>One line per provider, the figures beside their targets, printed last.</summary>
    public static string Summary(IReadOnlyList<ProviderResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| provider | ingest metrics/s: 1 client / 4 clients, 4 runs / 4 clients, 1 run | ceiling | ingest/ceiling (≥ 0.33) | " +
                      "search p95 (a) / (b) / (c) | get-history, all points | bulk-interval p50 | RSS peak in ingest (< 300 MB) |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            var ingest = string.Join(" / ", r.Ingest.Select(i => N(i.MedianMetricsPerSecond)));
            var ratios = string.Join(" / ", r.Ingest.Select(i => (i.MedianMetricsPerSecond / r.CeilingMetricsPerSecond).ToString("0.00", CultureInfo.InvariantCulture)));
            var search = r.Search is null ? "skipped" : string.Join(" / ", r.Search.Queries.Select(q => Ms(q.Latencies.P(95)))) +
                (r.Search.Queries.Any(q => q.Check is not null) ? " (see checks)" : "");
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Provider} | {ingest} | {N(r.CeilingMetricsPerSecond)} | {ratios} | {search} | " +
                $"{(r.History is null ? "" : Ms(r.History.FullHistory.P(50)))} | {(r.History is null ? "" : Ms(r.History.BulkInterval.P(50)))} | " +
                $"{Mb(r.IngestRss.Count == 0 ? 0 : r.IngestRss.Max())} |");
        }
        return sb.ToString();
    }
}
