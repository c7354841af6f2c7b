namespace Dashboard.Tracking;

/// <summary>MLflow's lifecycle stages, stored and sent as these lower-case words.</summary>
public static class LifecycleStage
{
    public const string Active = "active";
    public const string Deleted = "deleted";
}

/// <summary>Run statuses of service.proto's RunStatus, stored and sent by name.</summary>
public static class RunStatus
{
    public const string Running = "RUNNING";
    public const string Scheduled = "SCHEDULED";
    public const string Finished = "FINISHED";
    public const string Failed = "FAILED";
    public const string Killed = "KILLED";

    public static readonly IReadOnlyList<string> All = [Running, Scheduled, Finished, Failed, Killed];

    public static bool IsTerminal(string status) => status is Finished or Failed or Killed;
}

public sealed class Experiment
{
    public const long DefaultId = 0;
    public const string DefaultName = "Default";

    public long Id { get; set; }
    public required string Name { get; set; }
    public required string ArtifactLocation { get; set; }
    public string LifecycleStage { get; set; } = Tracking.LifecycleStage.Active;
    public long CreationTime { get; set; }
    public long LastUpdateTime { get; set; }
    public List<ExperimentTag> Tags { get; set; } = [];
}

public sealed class ExperimentTag
{
    public long ExperimentId { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
}

/// <summary>A training run. <see cref="Id"/> is MLflow's run_uuid (32 hex characters).</summary>
public sealed class Run
{
    public required string Id { get; set; }
    public long ExperimentId { get; set; }
    public string? Name { get; set; }
    public string? UserId { get; set; }
    public string Status { get; set; } = RunStatus.Running;
    public long StartTime { get; set; }
    public long? EndTime { get; set; }
    public string LifecycleStage { get; set; } = Tracking.LifecycleStage.Active;
    public required string ArtifactUri { get; set; }
    public long? DeletedTime { get; set; }

    public List<Param> Params { get; set; } = [];
    public List<RunTag> Tags { get; set; } = [];
    public List<LatestMetric> LatestMetrics { get; set; } = [];
    public List<RunInput> Inputs { get; set; } = [];
    public List<RunModelInput> ModelInputs { get; set; } = [];
    public List<RunOutput> Outputs { get; set; } = [];
}

public sealed class Param
{
    public required string RunId { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
}

public sealed class RunTag
{
    public required string RunId { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
}

/// <summary>
/// One point of a metric's history. NaN is stored as value 0 with <see cref="IsNaN"/> set, as MLflow does,
/// because SQLite turns NaN into NULL and SQL Server cannot store it. The key of the table is the whole row,
/// so an exact duplicate (NaN included) is one row.
/// </summary>
public sealed class Metric
{
    public required string RunId { get; set; }
    public required string Key { get; set; }
    public double Value { get; set; }
    public long Timestamp { get; set; }
    public long Step { get; set; }
    public bool IsNaN { get; set; }
}

/// <summary>The latest point of each metric of a run: the maximum by (step, timestamp, value), NaN lowest.</summary>
public sealed class LatestMetric
{
    public required string RunId { get; set; }
    public required string Key { get; set; }
    public double Value { get; set; }
    public long Timestamp { get; set; }
    public long Step { get; set; }
    public bool IsNaN { get; set; }
}

/// <summary>A dataset of an experiment, unique by (experiment, name, digest).</summary>
public sealed class Dataset
{
    public required string Id { get; set; }
    public long ExperimentId { get; set; }
    public required string Name { get; set; }
    public required string Digest { get; set; }
    public required string SourceType { get; set; }
    public required string Source { get; set; }
    public string? Schema { get; set; }
    public string? Profile { get; set; }
}

/// <summary>A dataset used by a run (MLflow's inputs table, restricted to DATASET → RUN).</summary>
public sealed class RunInput
{
    public required string Id { get; set; }
    public required string DatasetId { get; set; }
    public required string RunId { get; set; }
    public Dataset? Dataset { get; set; }
    public List<InputTag> Tags { get; set; } = [];
}

public sealed class InputTag
{
    public required string InputId { get; set; }
    public required string Key { get; set; }
    public required string Value { get; set; }
}
