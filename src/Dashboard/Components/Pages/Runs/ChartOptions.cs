using System.Globalization;
using Dashboard.Tracking;

namespace Dashboard.Components.Pages.Runs;

/// <summary>What the x axis of the run page's charts shows.</summary>
public enum XAxisMode
{
    Step,
    /// <summary>The point's timestamp, as a date.</summary>
    WallTime,
    /// <summary>Seconds since the run started.</summary>
    RelativeTime,
}

/// <summary>The chart options of the run page (in its URL: <c>x</c>, <c>smooth</c>, <c>log</c>).</summary>
/// <param name="Smoothing">The weight of TensorBoard's exponential moving average, 0 (off) to 0.99.</param>
public sealed record ChartOptions(XAxisMode XAxis = XAxisMode.Step, double Smoothing = 0, bool LogScale = false)
{
    public const double MaxSmoothing = 0.99;

    public static string Name(XAxisMode mode) => mode switch
    {
        XAxisMode.WallTime => "time",
        XAxisMode.RelativeTime => "relative",
        _ => "step",
    };

    /// <summary>Reads the URL's values; a value a hand-edited URL gets wrong is the default.</summary>
    public static ChartOptions From(string? x, string? smooth, string? log) => new(
        x switch { "time" => XAxisMode.WallTime, "relative" => XAxisMode.RelativeTime, _ => XAxisMode.Step },
        double.TryParse(smooth, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s is >= 0 and <= MaxSmoothing ? s : 0,
        log == "1");
}

/// <summary>The x and y values Plotly draws for one downsampled series, with the chart options applied.</summary>
public static class ChartTraces
{
    public static string AxisTitle(XAxisMode mode) => mode switch
    {
        XAxisMode.WallTime => "time (UTC)",
        XAxisMode.RelativeTime => "seconds since the run started",
        _ => "step",
    };

    public static List<object> X(IReadOnlyList<MetricPoint> points, XAxisMode mode, long runStartMs) => mode switch
    {
        // Plotly reads this format as a date on a date axis (UTC, no zone: the axis says so).
        XAxisMode.WallTime => points.Select(p => (object)DateTimeOffset.FromUnixTimeMilliseconds(p.Timestamp).UtcDateTime
            .ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)).ToList(),
        XAxisMode.RelativeTime => points.Select(p => (object)((p.Timestamp - runStartMs) / 1000.0)).ToList(),
        _ => points.Select(p => (object)p.Step).ToList(),
    };

    /// <summary>The values; NaN and ±Infinity are null, which Plotly draws as a gap (JSON has no NaN).</summary>
    public static List<object?> Y(IReadOnlyList<MetricPoint> points) =>
        points.Select(p => p.IsNaN || !double.IsFinite(p.Value) ? null : (object?)p.Value).ToList();

    /// <summary>
    /// TensorBoard's smoothing: an exponential moving average of the finite values, debiased so that the curve starts at
    /// the first value instead of at 0. Gaps stay gaps and do not move the average.
    /// </summary>
    public static List<object?> Smoothed(IReadOnlyList<MetricPoint> points, double weight)
    {
        var result = new List<object?>(points.Count);
        var average = 0.0;
        var n = 0;
        foreach (var p in points)
        {
            if (p.IsNaN || !double.IsFinite(p.Value))
            {
                result.Add(null);
                continue;
            }
            average = (average * weight) + ((1 - weight) * p.Value);
            n++;
            result.Add(average / (1 - Math.Pow(weight, n)));
        }
        return result;
    }
}
