using Dashboard.Data;
using Dashboard.Errors;

namespace Dashboard.Tracking;

/// <summary>
/// What a logged model accepts. Names follow MLflow's _validate_logged_model_name. MLflow stores model params and
/// tags without checking them; here they follow the rules of a run's params and tags (key charset and length,
/// param values up to 6000 characters, tag values up to 8000), so that every key is one the UI and search can name.
/// </summary>
public static class LoggedModelValidation
{
    private static readonly System.Buffers.SearchValues<char> BadNameCharacters = System.Buffers.SearchValues.Create("/:.%\"'");

    /// <summary>An absent or empty name is generated; a given one must not contain characters that break URIs.</summary>
    public static void Name(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return;
        }
        if (name.AsSpan().IndexOfAny(BadNameCharacters) >= 0)
        {
            throw MlflowException.InvalidParameter(
                $"Invalid model name ({PythonRepr(name)}) provided. Model name must be a non-empty string and cannot contain " +
                "the following characters: ('/', ':', '.', '%', '\"', \"'\")");
        }
        TrackingValidation.Length(name, "name", DashboardDbContext.Lengths.LoggedModelName);
    }

    /// <summary>Validated params; a key given twice is refused, as in a run's log-batch.</summary>
    public static List<KeyValuePair<string, string>> Params(IReadOnlyList<KeyValueInput>? @params)
    {
        var list = @params ?? [];
        if (list.Count > TrackingValidation.MaxParamsTagsPerBatch)
        {
            throw TooMany("params", list.Count);
        }
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        var duplicates = new List<string>();
        for (var i = 0; i < list.Count; i++)
        {
            TrackingValidation.Param(list[i].Key, list[i].Value, $"params[{i}]");
            if (!rows.TryAdd(list[i].Key!, list[i].Value!))
            {
                duplicates.Add(list[i].Key!);
            }
        }
        if (duplicates.Count > 0)
        {
            throw MlflowException.InvalidParameter(
                $"Duplicate parameter keys have been submitted: [{string.Join(", ", duplicates.Select(d => $"'{d}'"))}]. " +
                "Please ensure the request contains only one param value per param key.");
        }
        return [.. rows];
    }

    /// <summary>Validated tags; a key given twice keeps its last value, as MLflow's set_logged_model_tags does.</summary>
    public static List<KeyValuePair<string, string>> Tags(IReadOnlyList<KeyValueInput>? tags)
    {
        var list = tags ?? [];
        if (list.Count > TrackingValidation.MaxParamsTagsPerBatch)
        {
            throw TooMany("tags", list.Count);
        }
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            TrackingValidation.RunTag(list[i].Key, list[i].Value, $"tags[{i}]");
            rows[list[i].Key!] = list[i].Value!;
        }
        return [.. rows];
    }

    private static MlflowException TooMany(string entity, int count) => MlflowException.InvalidParameter(
        $"A request can contain at most {TrackingValidation.MaxParamsTagsPerBatch} {entity} of a logged model. Got {count} {entity}.");

    /// <summary>Python's repr() of a string, as MLflow's messages quote names and ids.</summary>
    public static string PythonRepr(string s)
    {
        var escaped = s.Replace("\\", "\\\\", StringComparison.Ordinal);
        return s.Contains('\'', StringComparison.Ordinal) && !s.Contains('"', StringComparison.Ordinal)
            ? $"\"{escaped}\""
            : $"'{escaped.Replace("'", "\\'", StringComparison.Ordinal)}'";
    }
}
