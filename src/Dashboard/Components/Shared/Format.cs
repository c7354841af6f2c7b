using System.Globalization;

namespace Dashboard.Components.Shared;

/// <summary>How the dashboard writes times and numbers: UTC, sortable, culture-free (the server's culture is invariant).</summary>
public static class Format
{
    /// <summary>A file size in B, KB, MB or GB (1024-based, one decimal); empty when unknown.</summary>
    public static string Size(long? bytes) => bytes switch
    {
        null => "",
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.#} KB",
        < 1024L * 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.#} MB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):0.#} GB",
    };

    public static string Time(long epochMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(epochMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    public static string Ago(long epochMs, DateTimeOffset now)
    {
        var span = now - DateTimeOffset.FromUnixTimeMilliseconds(epochMs);
        return span.TotalSeconds switch
        {
            < 60 => "just now",
            < 3600 => $"{(int)span.TotalMinutes} min ago",
            < 86400 => $"{(int)span.TotalHours} h ago",
            < 86400 * 60 => $"{(int)span.TotalDays} days ago",
            _ => Time(epochMs),
        };
    }

    public static string Duration(long startMs, long? endMs)
    {
        if (endMs is not { } end || end < startMs)
        {
            return "";
        }
        var span = TimeSpan.FromMilliseconds(end - startMs);
        return span.TotalSeconds < 60 ? $"{span.TotalSeconds:0.#} s"
            : span.TotalMinutes < 60 ? $"{span.TotalMinutes:0.#} min"
            : $"{span.TotalHours:0.#} h";
    }

    /// <summary>A metric as MLflow's UI shows it: up to 6 significant digits, NaN and infinities by name.</summary>
    public static string Number(double value, bool isNaN = false) =>
        isNaN || double.IsNaN(value) ? "NaN"
        : double.IsPositiveInfinity(value) ? "Infinity"
        : double.IsNegativeInfinity(value) ? "-Infinity"
        : value.ToString("G6", CultureInfo.InvariantCulture);
}
