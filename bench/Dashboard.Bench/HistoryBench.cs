using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Dashboard.Bench;

public sealed record HistoryMeasure(int Points, int Pages, Latencies FullHistory, Latencies BulkInterval, int BulkPoints);

/// <summary>
/// Reading one long metric: the whole history through get-history pages of 25000 (what MLflow's client asks for),
/// and the 320-point chart series through get-history-bulk-interval (what MLflow's UI asks for).
/// </summary>
public static class HistoryBench
{
    public const string Key = "train/loss";
    public const int PageSize = 25_000;
    public const int ChartPoints = 320;

    public static async Task<HistoryMeasure> RunAsync(MlflowClient client, string experimentId, int points,
        int iterations, int bulkIterations)
    {
        // Seeded through log-batch: 1000 points of the one key per request.
        var runId = await client.CreateRunAsync(experimentId, "history");
        for (var start = 0; start < points; start += Workload.MetricsPerBatch)
        {
            var batch = new List<MetricPoint>(Workload.MetricsPerBatch);
            for (long step = start; step < Math.Min(points, start + Workload.MetricsPerBatch); step++)
            {
                batch.Add(new MetricPoint(Key, Workload.Value(0, step), Workload.Epoch + step * 250, step));
            }
            await client.LogBatchAsync(Workload.LogBatchBody(runId, batch));
        }

        var key = Uri.EscapeDataString(Key);
        var full = new Latencies();
        var pages = 0;
        for (var i = 0; i < iterations + 1; i++)
        {
            var clock = Stopwatch.StartNew();
            string? token = null;
            var received = 0;
            pages = 0;
            do
            {
                var query = $"metrics/get-history?run_id={runId}&metric_key={key}&max_results={PageSize.ToString(CultureInfo.InvariantCulture)}";
                if (token is not null)
                {
                    query += "&page_token=" + Uri.EscapeDataString(token);
                }
                var page = await client.GetAsync(query);
                received += (page["metrics"] as JsonArray)?.Count ?? 0;
                token = page["next_page_token"]?.GetValue<string>();
                pages++;
            }
            while (!string.IsNullOrEmpty(token));
            clock.Stop();
            if (received != points)
            {
                throw new InvalidOperationException($"get-history returned {received} points of {points}.");
            }
            if (i > 0)
            {
                full.Add(clock.Elapsed.TotalMilliseconds); // the first pass warms up
            }
        }

        var bulk = new Latencies();
        var bulkPoints = 0;
        for (var i = 0; i < bulkIterations + 2; i++)
        {
            var clock = Stopwatch.StartNew();
            var page = await client.GetAsync(
                $"metrics/get-history-bulk-interval?run_ids={runId}&metric_key={key}&max_results={ChartPoints.ToString(CultureInfo.InvariantCulture)}");
            clock.Stop();
            bulkPoints = (page["metrics"] as JsonArray)?.Count ?? 0;
            if (i >= 2)
            {
                bulk.Add(clock.Elapsed.TotalMilliseconds);
            }
        }
        return new HistoryMeasure(points, pages, full, bulk, bulkPoints);
    }
}
