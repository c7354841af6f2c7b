namespace Dashboard.Bench;

/// <summary>Percentiles by nearest rank, on milliseconds.</summary>
public sealed class Latencies
{
    private readonly List<double> _ms = [];

    public int Count => _ms.Count;

    public void Add(double ms)
    {
        lock (_ms)
        {
            _ms.Add(ms);
        }
    }

    public void AddRange(Latencies other)
    {
        lock (_ms)
        {
            _ms.AddRange(other._ms);
        }
    }

    public double P(double percentile)
    {
        lock (_ms)
        {
            return Stats.Percentile(_ms, percentile);
        }
    }
}

public static class Stats
{
    public static double Percentile(IReadOnlyCollection<double> values, double percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IReadOnlyCollection<double> values) => Percentile(values, 50);
}
