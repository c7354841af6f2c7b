using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dashboard.Errors;

namespace Dashboard.Tracking;

/// <summary>
/// The <c>mlflow.log-model.history</c> run tag that MLflow 2 clients fill through runs/log-model: a JSON list with
/// one entry per logged model, each the model's <c>Model.get_tags_dict()</c> (run_id, artifact_path,
/// utc_time_created, model_uuid and the flavors without their <c>config</c>), written as MLflow's server writes it.
/// </summary>
public static class ModelHistory
{
    public const string TagKey = "mlflow.log-model.history";

    /// <summary>The fields handlers.py requires of the model JSON, in the order its message lists them (sorted).</summary>
    private static readonly string[] Mandatory = ["artifact_path", "flavors", "run_id", "utc_time_created"];

    /// <summary>
    /// The history entry of a model sent as <c>model_json</c>, as MLflow's <c>Model.from_dict(model).get_tags_dict()</c>
    /// makes it. Refuses text that is not a JSON object or lacks a mandatory field, with MLflow's messages.
    /// </summary>
    public static JsonObject Entry(string modelJson, DateTimeOffset now)
    {
        JsonObject model;
        try
        {
            model = JsonNode.Parse(modelJson) as JsonObject
                ?? throw MlflowException.InvalidParameter($"Malformed model info. \n {modelJson} \n is not a JSON object.");
            // Materializes the properties now: a duplicate name throws here rather than later.
            _ = model.Count;
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw MlflowException.InvalidParameter($"Malformed model info. \n {modelJson} \n is not a valid JSON.");
        }
        var missing = Mandatory.Where(f => !model.ContainsKey(f)).ToList();
        if (missing.Count > 0)
        {
            throw MlflowException.InvalidParameter(
                $"Model json is missing mandatory fields: {{{string.Join(", ", missing.Select(f => $"'{f}'"))}}}");
        }

        var entry = new JsonObject();
        // Model.to_dict() leaves run_id and artifact_path out when they are None.
        if (model["run_id"] is { } runId)
        {
            entry["run_id"] = runId.DeepClone();
        }
        if (model["artifact_path"] is { } artifactPath)
        {
            entry["artifact_path"] = artifactPath.DeepClone();
        }
        entry["utc_time_created"] = UtcTimeCreated(model["utc_time_created"], now);
        entry["model_uuid"] = model["model_uuid"]?.DeepClone();
        entry["flavors"] = Flavors(model["flavors"]);
        return entry;
    }

    /// <summary>
    /// The tag's new value: the stored list with the entry appended. The tag holds at most
    /// <paramref name="limit"/> characters (a run tag's limit): when the list outgrows it, the oldest entries are
    /// dropped, so the newest models stay listed and the value stays a JSON list.
    /// </summary>
    public static string Append(string? stored, JsonObject entry, string runId, int limit = TrackingValidation.MaxRunTagValueLength)
    {
        var entries = new JsonArray();
        if (!string.IsNullOrEmpty(stored))
        {
            JsonArray? previous;
            try
            {
                previous = JsonNode.Parse(stored) as JsonArray;
            }
            catch (JsonException)
            {
                previous = null;
            }
            if (previous is null)
            {
                throw MlflowException.InvalidParameter(
                    $"The tag '{TagKey}' of run {runId} does not hold a JSON list, so the model cannot be added to it. " +
                    "Delete the tag to start a new history.");
            }
            foreach (var item in previous.ToList())
            {
                previous.Remove(item);
                entries.Add(item);
            }
        }
        entries.Add(entry);
        var value = PythonJson.Serialize(entries);
        while (value.Length > limit && entries.Count > 1)
        {
            entries.RemoveAt(0);
            value = PythonJson.Serialize(entries);
        }
        if (value.Length > limit)
        {
            throw MlflowException.InvalidParameter(
                $"The model's entry in the tag '{TagKey}' exceeds the maximum length of {limit} characters");
        }
        return value;
    }

    /// <summary>Python's <c>str(utc_time_created or datetime.utcnow())</c>.</summary>
    private static JsonNode UtcTimeCreated(JsonNode? value, DateTimeOffset now)
    {
        switch (value)
        {
            case JsonValue v when v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length > 0:
                return v.DeepClone();
            case JsonValue v when v.GetValueKind() == JsonValueKind.True:
                return JsonValue.Create("True");
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.ToJsonString().Trim('-', '0', '.', 'e', 'E', '+') != "":
                return JsonValue.Create(PythonJson.Number(v.ToJsonString()));
            case JsonObject { Count: > 0 } or JsonArray { Count: > 0 }:
                return JsonValue.Create(PythonJson.Serialize(value));
            default:
                // Falsy values (None, "", 0, False, empty containers) mean "now", as datetime.utcnow() prints it.
                return JsonValue.Create(now.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Each flavor's configuration without its <c>config</c> entry (get_tags_dict drops it).</summary>
    private static JsonObject Flavors(JsonNode? flavors)
    {
        var result = new JsonObject();
        switch (flavors)
        {
            case null:
                return result;
            case JsonObject obj:
                foreach (var (name, config) in obj)
                {
                    if (config is JsonObject settings)
                    {
                        var copy = new JsonObject();
                        foreach (var (key, setting) in settings)
                        {
                            if (key != "config")
                            {
                                copy[key] = setting?.DeepClone();
                            }
                        }
                        result[name] = copy;
                    }
                    else
                    {
                        result[name] = config?.DeepClone();
                    }
                }
                return result;
            default:
                throw MlflowException.InvalidParameter("Malformed model info: 'flavors' must be a JSON object.");
        }
    }
}
