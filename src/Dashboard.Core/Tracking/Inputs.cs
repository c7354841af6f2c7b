namespace Dashboard.Tracking;

// What callers hand to the tracking services. Fields are nullable because the wire allows them to be absent;
// the services validate presence with MLflow's messages.

public sealed record MetricInput(string? Key, double? Value, long? Timestamp, long? Step);

public sealed record KeyValueInput(string? Key, string? Value);

public sealed record DatasetSpec(string? Name, string? Digest, string? SourceType, string? Source, string? Schema, string? Profile);

public sealed record DatasetInputSpec(DatasetSpec? Dataset, IReadOnlyList<KeyValueInput>? Tags);
