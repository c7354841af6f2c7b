using Dashboard.Core.Tests.Support;
using Dashboard.Search;
using Dashboard.Tracking;

namespace Dashboard.Core.Tests.Search;

/// <summary>Runs and experiments for search tests, written straight through the DbContext.</summary>
internal static class Make
{
    public static Run Run(long experimentId, string name, long startTime, string status = RunStatus.Finished,
        string stage = LifecycleStage.Active, string? userId = "ana", long? endTime = null, string? id = null)
    {
        var runId = id ?? Guid.NewGuid().ToString("N");
        var run = new Run
        {
            Id = runId,
            ExperimentId = experimentId,
            Name = name,
            UserId = userId,
            Status = status,
            StartTime = startTime,
            EndTime = endTime,
            LifecycleStage = stage,
            ArtifactUri = $"mlflow-artifacts:/{experimentId}/{runId}/artifacts",
        };
        return run.Tag(RunService.RunNameTag, name);
    }

    public static Run Param(this Run run, string key, string value)
    {
        run.Params.Add(new Param { RunId = run.Id, Key = key, Value = value });
        return run;
    }

    public static Run Tag(this Run run, string key, string value)
    {
        run.Tags.Add(new RunTag { RunId = run.Id, Key = key, Value = value });
        return run;
    }

    public static Run Metric(this Run run, string key, double value)
    {
        var nan = double.IsNaN(value);
        run.LatestMetrics.Add(new LatestMetric
        {
            RunId = run.Id, Key = key, Value = nan ? 0 : value, IsNaN = nan, Timestamp = 1, Step = 0,
        });
        return run;
    }

    public static Run Input(this Run run, Dataset dataset, string? context = null)
    {
        var input = new RunInput { Id = Guid.NewGuid().ToString("N"), DatasetId = dataset.Id, RunId = run.Id, Dataset = dataset };
        if (context is not null)
        {
            input.Tags.Add(new InputTag { InputId = input.Id, Key = "mlflow.data.context", Value = context });
        }
        run.Inputs.Add(input);
        return run;
    }

    public static Dataset Dataset(long experimentId, string name, string digest) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        ExperimentId = experimentId,
        Name = name,
        Digest = digest,
        SourceType = "local",
        Source = "{\"uri\": \"/data\"}",
    };

    public static async Task<long> ExperimentAsync(this TestDatabase database, string name, long creationTime = 1000,
        long? lastUpdateTime = null, string stage = LifecycleStage.Active, params (string Key, string Value)[] tags)
    {
        await using var db = await database.Factory.CreateDbContextAsync();
        var experiment = new Experiment
        {
            Name = name,
            ArtifactLocation = "mlflow-artifacts:/" + name,
            CreationTime = creationTime,
            LastUpdateTime = lastUpdateTime ?? creationTime,
            LifecycleStage = stage,
        };
        foreach (var (key, value) in tags)
        {
            experiment.Tags.Add(new ExperimentTag { Key = key, Value = value });
        }
        db.Experiments.Add(experiment);
        await db.SaveChangesAsync();
        return experiment.Id;
    }

    public static async Task AddAsync(this TestDatabase database, params Run[] runs)
    {
        await using var db = await database.Factory.CreateDbContextAsync();
        db.Runs.AddRange(runs);
        await db.SaveChangesAsync();
    }

    public static RunSearchRequest Request(long experimentId, string? filter = null, string[]? orderBy = null,
        ViewType viewType = ViewType.ActiveOnly, int maxResults = 1000, string? pageToken = null) =>
        new([experimentId], filter, viewType, maxResults, orderBy ?? [], pageToken);
}
