using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dashboard.Errors;

namespace Dashboard.Tracking;

/// <summary>
/// MLflow's input rules (mlflow/utils/validation.py): key charset and uniqueness as a path, length limits,
/// batch limits. Messages follow MLflow's wording so that clients and people see what they would see there.
/// </summary>
public static partial class TrackingValidation
{
    public const int MaxEntityKeyLength = 250;
    public const int MaxParamValueLength = 6000;
    public const int MaxRunTagValueLength = 8000;
    public const int MaxExperimentTagValueLength = 5000;
    public const int MaxExperimentNameLength = 500;
    public const int MaxRunNameLength = 250;
    /// <summary>The runs.user_id column of MLflow's schema (and ours).</summary>
    public const int MaxUserIdLength = 256;
    public const int MaxMetricsPerBatch = 1000;
    public const int MaxParamsTagsPerBatch = 100;
    public const int MaxEntitiesPerBatch = 1000;
    public const int MaxBatchRequestBytes = 1_000_000;
    public const int MaxDatasetsPerBatch = 1000;
    public const int MaxDatasetNameLength = 500;
    public const int MaxDatasetDigestLength = 36;
    /// <summary>The datasets.dataset_source_type column of MLflow's schema (and ours).</summary>
    public const int MaxDatasetSourceTypeLength = 36;
    public const int MaxDatasetSourceLength = 65535;
    public const int MaxDatasetSchemaLength = 1048575;
    public const int MaxDatasetProfileLength = 16777215;
    public const int MaxInputTagKeyLength = 255;
    public const int MaxInputTagValueLength = 500;
    /// <summary>SEARCH_MAX_RESULTS_THRESHOLD: the largest page of runs/search and experiments/search.</summary>

    private const string BadCharacters =
        "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).";

    [GeneratedRegex(@"^[/\w.\- :]*$")]
    private static partial Regex KeyCharacters();

    [GeneratedRegex(@"^[a-zA-Z0-9][\w\-]{0,255}$")]
    private static partial Regex RunIdPattern();

    /// <summary>MLflow's invalid_value(): <c>Invalid value "x" for parameter 'path' supplied: why</c>.</summary>
    public static string InvalidValue(string path, object? value, string? why = null)
    {
        var shown = value switch
        {
            null => "null",
            double d => FormatDouble(d),
            _ => JsonSerializer.Serialize(value),
        };
        return why is null
            ? $"Invalid value {shown} for parameter '{path}' supplied."
            : $"Invalid value {shown} for parameter '{path}' supplied: {why}";
    }

    public static string FormatDouble(double d) =>
        double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity"
            : d.ToString("R", CultureInfo.InvariantCulture);

    public static string ExceedsMaximumLength(string path, int limit) =>
        $"'{path}' exceeds the maximum length of {limit} characters";

    /// <summary>Validates a param, metric or tag key: present, MLflow's charset, a unique path, at most 250 characters.</summary>
    public static void Key(string? key, string path, string lengthName)
    {
        if (key is null)
        {
            throw MlflowException.Missing(path);
        }
        if (!KeyCharacters().IsMatch(key))
        {
            throw MlflowException.InvalidParameter(InvalidValue(path, key, BadCharacters));
        }
        if (PathNotUnique(key))
        {
            throw MlflowException.InvalidParameter(InvalidValue(path, key,
                "Names may be treated as files in certain cases, and must not resolve to other names when treated as such. " +
                $"This name would resolve to '{PosixNormPath(key)}'"));
        }
        Length(key, lengthName, MaxEntityKeyLength);
    }

    public static void Length(string? value, string name, int limit)
    {
        if (value is not null && value.Length > limit)
        {
            throw MlflowException.InvalidParameter(ExceedsMaximumLength(name, limit));
        }
    }

    /// <summary>A page size from 1 to <paramref name="max"/>; absent means <paramref name="fallback"/>.</summary>
    public static string Required(string? value, string path) =>
        string.IsNullOrEmpty(value) ? throw MlflowException.Missing(path) : value;

    public static void RunId(string runId, string path = "run_id")
    {
        if (!RunIdPattern().IsMatch(runId))
        {
            throw MlflowException.InvalidParameter(InvalidValue(path, runId));
        }
    }

    public static long ExperimentId(string? experimentId, string path = "experiment_id")
    {
        if (string.IsNullOrEmpty(experimentId))
        {
            throw MlflowException.Missing(path);
        }
        if (!long.TryParse(experimentId, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            // MLflow's stores answer an id that is not theirs with "does not exist"; a malformed one is a bad value.
            throw MlflowException.InvalidParameter(InvalidValue(path, experimentId, "an experiment ID is a non-negative integer."));
        }
        return id;
    }

    public static void Metric(string? key, double value, long timestamp, string path)
    {
        Key(key, Join(path, "name"), "Metric name");
        if (timestamp < 0)
        {
            throw MlflowException.InvalidParameter(InvalidValue(Join(path, "timestamp"), timestamp,
                $"metric '{key}' (value={FormatDouble(value)}). Timestamp must be a nonnegative long (64-bit integer) "));
        }
    }

    public static void Param(string? key, string? value, string path)
    {
        Key(key, Join(path, "key"), "Param key");
        if (value is null)
        {
            throw MlflowException.Missing(Join(path, "value"));
        }
        Length(value, "Param value", MaxParamValueLength);
    }

    public static void RunTag(string? key, string? value, string path)
    {
        Key(key, Join(path, "key"), Join(path, "key"));
        if (value is null)
        {
            throw MlflowException.Missing(Join(path, "value"));
        }
        Length(value, Join(path, "value"), MaxRunTagValueLength);
    }

    public static void ExperimentTag(string? key, string? value)
    {
        Key(key, "key", "key");
        if (value is null)
        {
            throw MlflowException.Missing("value");
        }
        Length(value, "value", MaxExperimentTagValueLength);
    }

    public static void ExperimentName(string? name, string path = "name")
    {
        if (string.IsNullOrEmpty(name))
        {
            throw MlflowException.InvalidParameter($"Invalid experiment name: '{name}'");
        }
        if (name.Length > MaxExperimentNameLength)
        {
            throw MlflowException.InvalidParameter($"Experiment name exceeds the maximum length of {MaxExperimentNameLength} characters");
        }
        _ = path;
    }

    public static void BatchLimits(int metrics, int @params, int tags)
    {
        BatchLimit("metrics", MaxMetricsPerBatch, metrics);
        BatchLimit("params", MaxParamsTagsPerBatch, @params);
        BatchLimit("tags", MaxParamsTagsPerBatch, tags);
        BatchLimit("metrics, params, and tags", MaxEntitiesPerBatch, metrics + @params + tags);
    }

    private static void BatchLimit(string entity, int limit, int count)
    {
        if (count > limit)
        {
            throw MlflowException.InvalidParameter(
                $"A batch logging request can contain at most {limit} {entity}. Got {count} {entity}. " +
                $"Please split up {entity} across multiple requests and try again.");
        }
    }

    public static string Join(string path, string field) => path.Length == 0 ? field : $"{path}.{field}";

    /// <summary>MLflow's path_not_unique: the key must be its own normalized POSIX path and stay inside.</summary>
    internal static bool PathNotUnique(string name)
    {
        var norm = PosixNormPath(name);
        return norm != name || norm == "." || norm.StartsWith("..", StringComparison.Ordinal) || norm.StartsWith('/');
    }

    /// <summary>Python's posixpath.normpath.</summary>
    internal static string PosixNormPath(string path)
    {
        if (path.Length == 0)
        {
            return ".";
        }
        var initialSlashes = path.StartsWith('/') ? (path.StartsWith("//", StringComparison.Ordinal) && !path.StartsWith("///", StringComparison.Ordinal) ? 2 : 1) : 0;
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }
            if (part != ".." || (initialSlashes == 0 && parts.Count == 0) || (parts.Count > 0 && parts[^1] == ".."))
            {
                parts.Add(part);
            }
            else if (parts.Count > 0)
            {
                parts.RemoveAt(parts.Count - 1);
            }
        }
        var result = new string('/', initialSlashes) + string.Join('/', parts);
        return result.Length == 0 ? "." : result;
    }
}
