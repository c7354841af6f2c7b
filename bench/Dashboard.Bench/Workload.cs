using System.Buffers;
using System.Text.Json;

namespace Dashboard.Bench;

/// <summary>One metric point as a training script logs it.</summary>
public readonly record struct MetricPoint(string Key, double Value, long Timestamp, long Step);

/// <summary>
/// The data the bench logs: what a training loop reports, deterministic so that every run of the bench
/// sends the same bytes. A batch is 10 keys over 100 consecutive steps: 1000 metrics, MLflow's batch limit.
/// </summary>
public static class Workload
{
    public static readonly string[] IngestKeys =
    [
        "train/loss", "train/acc", "val/loss", "val/acc", "lr",
        "grad_norm", "throughput/samples_per_s", "gpu/mem_gb", "gpu/util", "epoch",
    ];

    public const int StepsPerBatch = 100;
    public const int MetricsPerBatch = StepsPerBatch * 10;

    /// <summary>A fixed origin, so that timestamps do not depend on when the bench runs.</summary>
    public const long Epoch = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    /// <summary>The points of step block <paramref name="block"/>: steps block*100 .. block*100+99, every key.</summary>
    public static MetricPoint[] Batch(long block)
    {
        var points = new MetricPoint[MetricsPerBatch];
        var i = 0;
        for (var s = 0; s < StepsPerBatch; s++)
        {
            var step = block * StepsPerBatch + s;
            var timestamp = Epoch + step * 250;
            for (var k = 0; k < IngestKeys.Length; k++)
            {
                points[i++] = new MetricPoint(IngestKeys[k], Value(k, step), timestamp, step);
            }
        }
        return points;
    }

    /// <summary>Values with full double precision (as float32 tensors turned into Python floats are).</summary>
    public static double Value(int key, long step)
    {
        var noise = Noise((ulong)step * 31 + (ulong)key);
        return key switch
        {
            0 or 2 => 2.5 * Math.Exp(-step / 20000.0) + 0.05 * noise,
            1 or 3 => 1 - 0.9 * Math.Exp(-step / 15000.0) - 0.02 * noise,
            4 => 3e-4 * Math.Cos(step / 50000.0),
            5 => 1.5 + noise,
            6 => 2400 + 100 * noise,
            7 => 14.2 + noise,
            8 => 90 + 5 * noise,
            _ => step / 1000,
        };
    }

    /// <summary>A deterministic number in [0, 1) (SplitMix64).</summary>
    public static double Noise(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return (x >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>The JSON of runs/log-batch as MLflow's Python client sends it.</summary>
    public static byte[] LogBatchBody(string runId, IReadOnlyList<MetricPoint> points)
    {
        var buffer = new ArrayBufferWriter<byte>(points.Count * 96 + 64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("run_id", runId);
            w.WriteStartArray("metrics");
            foreach (var p in points)
            {
                w.WriteStartObject();
                w.WriteString("key", p.Key);
                w.WriteNumber("value", p.Value);
                w.WriteNumber("timestamp", p.Timestamp);
                w.WriteNumber("step", p.Step);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
