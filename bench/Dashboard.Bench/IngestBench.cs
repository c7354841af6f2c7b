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
    /// Where a batch's time goes, from outside: (1) the fixed cost of a request, log-batch of one metric; (2) reading
    /// and validating 1000 metrics without SQL, a batch whose last key is invalid (the server validates everything
    /// before it writes, so it answers 400 having parsed and checked all of them). A full batch costs (2) plus its SQL.
    /// </summary>
    public static async Task<(Latencies Floor, Latencies ParseValidate)> OverheadAsync(MlflowClient client, string experimentId, int requests)
    {
        var runId = await client.CreateRunAsync(experimentId, "floor");
        var floor = await TimeAsync(Enumerable.Range(0, requests + 20)
            .Select(i => Workload.LogBatchBody(runId, [new MetricPoint("train/loss", Workload.Value(0, i), Workload.Epoch + i * 250L, i)]))
            .ToArray(), expectOk: true);
        var rejected = Enumerable.Range(0, requests / 3 + 20).Select(i =>
        {
            var points = Workload.Batch(1_000_000 + i);
            points[^1] = points[^1] with { Key = "invalid key!" };
            return Workload.LogBatchBody(runId, points);
        }).ToArray();
        return (floor, await TimeAsync(rejected, expectOk: false));

        async Task<Latencies> TimeAsync(byte[][] bodies, bool expectOk)
        {
            var latencies = new Latencies();
            for (var i = 0; i < bodies.Length; i++)
            {
                var start = Stopwatch.GetTimestamp();
                var status = await client.PostRawAsync("runs/log-batch", bodies[i]);
                if ((status == 200) != expectOk)
                {
                    throw new InvalidOperationException($"log-batch answered {status}.");
                }
                if (i >= 20)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            }
            return latencies;
        }
    }
}
