using System.Diagnostics;

namespace Dashboard.Bench;

/// <param name="SharedRun">All clients log to one run (steps interleaved, same keys), as ranks of one job would.</param>
public sealed record IngestScenario(string Name, int Clients, bool SharedRun);

/// <param name="Capped">The time cap stopped the clients before all batches were sent.</param>
public sealed record IngestMeasure(IngestScenario Scenario, long Metrics, TimeSpan Elapsed, Latencies Latencies, bool Capped = false)
{
    public double MetricsPerSecond => Metrics / Elapsed.TotalSeconds;
}

/// <summary>
/// log-batch ingest over HTTP: each client posts batches of 1000 metrics back to back (a training script waits
/// for each answer), first a warm-up, then a fixed number of measured batches. A time cap bounds the run when the
/// server is slow: clients then stop starting batches, and what they completed is what is counted.
/// </summary>
public static class IngestBench
{
    public static readonly IngestScenario[] Scenarios =
    [
        new("1 client, 1 run", 1, SharedRun: false),
        new("4 clients, 4 runs", 4, SharedRun: false),
        new("4 clients, 1 run", 4, SharedRun: true),
    ];

    public static async Task<IngestMeasure> RunAsync(MlflowClient client, string experimentId, IngestScenario scenario,
        int batches, int warmupPerClient, string runPrefix, TimeSpan? cap = null)
    {
        var limit = cap ?? Timeout.InfiniteTimeSpan;
        var perClient = batches / scenario.Clients;
        var runIds = new string[scenario.Clients];
        for (var c = 0; c < scenario.Clients; c++)
        {
            runIds[c] = scenario.SharedRun && c > 0 ? runIds[0] : await client.CreateRunAsync(experimentId, $"{runPrefix}-{c}");
        }

        // All request bodies exist before the clock starts: the bench process measures the server, not its own JSON.
        var bodies = new byte[scenario.Clients][][];
        for (var c = 0; c < scenario.Clients; c++)
        {
            bodies[c] = new byte[warmupPerClient + perClient][];
            for (var b = 0; b < bodies[c].Length; b++)
            {
                var block = scenario.SharedRun ? (long)b * scenario.Clients + c : b;
                bodies[c][b] = Workload.LogBatchBody(runIds[c], Workload.Batch(block));
            }
        }

        await Task.WhenAll(Enumerable.Range(0, scenario.Clients).Select(async c =>
        {
            for (var b = 0; b < warmupPerClient; b++)
            {
                await client.LogBatchAsync(bodies[c][b]);
            }
        }));

        var latencies = new Latencies();
        var completed = 0;
        var capped = false;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, scenario.Clients).Select(c => Task.Run(async () =>
        {
            for (var b = warmupPerClient; b < bodies[c].Length; b++)
            {
                if (limit != Timeout.InfiniteTimeSpan && clock.Elapsed > limit)
                {
                    capped = true;
                    break;
                }
                var start = Stopwatch.GetTimestamp();
                await client.LogBatchAsync(bodies[c][b]);
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                Interlocked.Increment(ref completed);
            }
        })));
        clock.Stop();
        return new IngestMeasure(scenario, (long)completed * Workload.MetricsPerBatch, clock.Elapsed, latencies, capped);
    }

    /// <summary>
    /// The fixed cost of a request: log-batch of one metric, one client, back to back. What a batch costs above this
    /// floor is per-metric work (JSON, validation, SQL).
    /// </summary>
    public static async Task<Latencies> FloorAsync(MlflowClient client, string experimentId, int requests)
    {
        var runId = await client.CreateRunAsync(experimentId, "floor");
        var bodies = Enumerable.Range(0, requests + 20)
            .Select(i => Workload.LogBatchBody(runId, [new MetricPoint("train/loss", Workload.Value(0, i), Workload.Epoch + i * 250L, i)]))
            .ToArray();
        var latencies = new Latencies();
        for (var i = 0; i < bodies.Length; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await client.LogBatchAsync(bodies[i]);
            if (i >= 20)
            {
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }
        return latencies;
    }
}
