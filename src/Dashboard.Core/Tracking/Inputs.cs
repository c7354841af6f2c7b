namespace Dashboard.Tracking;

// What callers hand to the tracking services. Fields are nullable because the wire allows them to be absent;
// the services validate presence with MLflow's messages.

/// <param name="ModelId">The logged model the point is also recorded for (MLflow 3), measured on the dataset named
/// by <paramref name="DatasetName"/> and <paramref name="DatasetDigest"/>.</param>
public sealed record MetricInput(string? Key, double? Value, long? Timestamp, long? Step,
    string? ModelId = null, string? DatasetName = null, string? DatasetDigest = null);

public sealed record KeyValueInput(string? Key, string? Value);

public sealed record DatasetSpec(string? Name, string? Digest, string? SourceType, string? Source, string? Schema, string? Profile);

public sealed record DatasetInputSpec(DatasetSpec? Dataset, IReadOnlyList<KeyValueInput>? Tags);

/// <summary>A logged model a run produced, at a step (runs/outputs).</summary>
public sealed record ModelOutputSpec(string? ModelId, long? Step);

/// <summary>A logged model a run used (log-inputs' models).</summary>
public sealed record ModelInputSpec(string? ModelId);
