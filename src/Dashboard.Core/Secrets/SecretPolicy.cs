namespace Dashboard.Secrets;

/// <summary>What happens to a write whose key or value looks like a credential.</summary>
public enum SecretAction
{
    /// <summary>The whole request is refused with 400 INVALID_PARAMETER_VALUE; nothing of it is stored (the default).</summary>
    Refuse = 0,

    /// <summary>The request is stored with each such value replaced by <see cref="SecretPolicy.RedactedValue"/>.</summary>
    Redact = 1,
}

/// <summary>
/// The secret-blocking configuration (<c>Dashboard:Secrets:*</c>, docs/operations.md): on by default, refusing, with
/// an allowlist of keys that are never blocked (compared without regard to case).
/// </summary>
public sealed class SecretPolicy
{
    /// <summary>What a redacted value becomes: fixed, so that logging the same param again stays idempotent.</summary>
    public const string RedactedValue = "[REDACTED]";

    public static readonly SecretPolicy Default = new();

    public bool Enabled { get; init; } = true;

    public SecretAction Action { get; init; } = SecretAction.Refuse;

    /// <summary>Keys never blocked, whatever their name or value says.</summary>
    public IReadOnlySet<string> Allow { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    public bool Allows(string key) => Allow.Contains(key);

    /// <summary>A policy from its parts; the allowlist's blanks are dropped and its keys trimmed.</summary>
    public static SecretPolicy Create(bool enabled, SecretAction action, IEnumerable<string>? allow) => new()
    {
        Enabled = enabled,
        Action = action,
        Allow = new HashSet<string>((allow ?? []).Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => a.Trim()),
            StringComparer.OrdinalIgnoreCase),
    };
}

/// <summary>Where a checked value was going (secret_blocks.target).</summary>
public static class SecretTargets
{
    public const string Param = "param";
    public const string RunTag = "run_tag";
    public const string RunName = "run_name";
    public const string ExperimentTag = "experiment_tag";
    public const string RegisteredModelTag = "registered_model_tag";
    public const string RegisteredModelDescription = "registered_model_description";
    public const string ModelVersionTag = "model_version_tag";
    public const string ModelVersionDescription = "model_version_description";
    public const string LoggedModelParam = "logged_model_param";
    public const string LoggedModelTag = "logged_model_tag";
    public const string DatasetSource = "dataset_source";
    public const string InputTag = "input_tag";

    /// <summary>How a message names an item of the target.</summary>
    public static string Label(string target) => target switch
    {
        Param => "Param",
        RunTag => "Tag",
        RunName => "Run name",
        ExperimentTag => "Experiment tag",
        RegisteredModelTag => "Registered model tag",
        RegisteredModelDescription => "Registered model description",
        ModelVersionTag => "Model version tag",
        ModelVersionDescription => "Model version description",
        LoggedModelParam => "Logged model param",
        LoggedModelTag => "Logged model tag",
        DatasetSource => "Dataset source",
        InputTag => "Dataset input tag",
        _ => "Value",
    };
}

/// <summary>What a checked write belongs to, recorded with each block.</summary>
public sealed record SecretScope(string? RunId = null, long? ExperimentId = null, string? ModelName = null);

/// <summary>
/// The actor of the current request or circuit, for the record of a block: set by the web layer (per HTTP request
/// after authentication, per inbound activity of a Blazor circuit) and flowing with the async calls below it, so
/// that the services need no actor parameter. Null outside a request (workers, the demo seeder, Core tests).
/// </summary>
public static class AmbientActor
{
    private static readonly AsyncLocal<string?> Value = new();

    public static string? Current => Value.Value;

    /// <summary>Sets the actor until the returned scope is disposed (then the previous one is back).</summary>
    public static IDisposable Use(string? name)
    {
        var previous = Value.Value;
        Value.Value = name;
        return new Restore(previous);
    }

    private sealed class Restore(string? previous) : IDisposable
    {
        public void Dispose() => Value.Value = previous;
    }
}
