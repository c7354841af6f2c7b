using Dashboard.Search;
using Dashboard.Tracking;

namespace Dashboard.Components.Pages.Experiments;

/// <summary>A run of the table with its values indexed by key, so that a cell is one lookup.</summary>
public sealed class RunRow
{
    public RunRow(Run run)
    {
        Run = run;
        // (run, key) is the primary key of each of the three tables: keys are unique per run.
        Metrics = run.LatestMetrics.ToDictionary(m => m.Key, StringComparer.Ordinal);
        Params = run.Params.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        Tags = run.Tags.ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
    }

    public Run Run { get; }

    public IReadOnlyDictionary<string, LatestMetric> Metrics { get; }

    public IReadOnlyDictionary<string, string> Params { get; }

    public IReadOnlyDictionary<string, string> Tags { get; }

    /// <summary>The cell's text, or null when the run has no value for the column.</summary>
    public string? Text(RunColumn column) => column.Kind switch
    {
        SearchEntity.Metric => Metrics.TryGetValue(column.Key, out var m) ? Shared.Format.Number(m.Value, m.IsNaN) : null,
        SearchEntity.Param => Params.GetValueOrDefault(column.Key),
        _ => Tags.GetValueOrDefault(column.Key),
    };
}
