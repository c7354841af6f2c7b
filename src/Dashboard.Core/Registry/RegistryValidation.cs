using System.Globalization;
using System.Text.RegularExpressions;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Tracking;

namespace Dashboard.Registry;

/// <summary>
/// What the registry's RPCs accept: MLflow's rules (mlflow/utils/validation.py and the registry handlers' request
/// schemas) with MLflow's messages, plus the lengths the store's columns hold, checked before anything is stored.
/// </summary>
public static partial class RegistryValidation
{
    public const int MaxNameLength = DashboardDbContext.Lengths.RegisteredModelName;
    public const int MaxDescriptionLength = DashboardDbContext.Lengths.RegistryDescription;
    public const int MaxTagValueLength = DashboardDbContext.Lengths.RegistryTagValue;
    public const int MaxAliasLength = DashboardDbContext.Lengths.Alias;
    public const int MaxRunLinkLength = DashboardDbContext.Lengths.RunLink;

    /// <summary>The stages to which archive_existing_versions may archive the others (MLflow's "active" stages).</summary>
    public static readonly IReadOnlyList<string> ActiveStages = [ModelStage.Staging, ModelStage.Production];

    [GeneratedRegex(@"^[\w\-]*$")]
    private static partial Regex AliasCharacters();

    [GeneratedRegex(@"^[vV]\d+$")]
    private static partial Regex VersionAlias();

    /// <summary>What Python's int() takes (the digits of <c>1_000</c> aside): blanks around a signed run of digits.</summary>
    [GeneratedRegex(@"^\s*[+-]?[0-9]+\s*$")]
    private static partial Regex Integer();

    /// <summary>
    /// A registered model's name: required (MLflow's message), at most 256 characters, and without '/' or ':', which
    /// would make <c>models:/name/...</c> URIs ambiguous (MLflow's newest releases refuse them too).
    /// </summary>
    public static string Name(string? name, string path = "name")
    {
        if (string.IsNullOrEmpty(name))
        {
            throw MlflowException.Missing(path);
        }
        if (name.Contains('/', StringComparison.Ordinal) || name.Contains(':', StringComparison.Ordinal))
        {
            throw MlflowException.InvalidParameter(
                $"Invalid registered model name: '{name}'. A registered model name cannot contain '/' or ':' " +
                "(they separate the parts of a models:/ URI).");
        }
        TrackingValidation.Length(name, path, MaxNameLength);
        return name;
    }

    /// <summary>
    /// A version number as the wire sends it (a string). Not an integer: MLflow's message. An integer that no version
    /// can have (zero, negative, beyond the column) is null: the caller answers "not found", as MLflow's store does.
    /// </summary>
    public static int? Version(string? version)
    {
        if (string.IsNullOrEmpty(version))
        {
            throw MlflowException.Missing("version");
        }
        if (!Integer().IsMatch(version))
        {
            throw MlflowException.InvalidParameter($"Parameter 'version' must be an integer, got '{version}'.");
        }
        return long.TryParse(version.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= int.MaxValue
            ? (int)n
            : null;
    }

    /// <summary>MLflow's _validate_model_alias_name: charset, length, and the reserved <c>latest</c> and <c>v&lt;digits&gt;</c>.</summary>
    public static string Alias(string? alias)
    {
        if (string.IsNullOrEmpty(alias))
        {
            throw MlflowException.InvalidParameter("Registered model alias name cannot be empty.");
        }
        if (!AliasCharacters().IsMatch(alias))
        {
            throw MlflowException.InvalidParameter(
                $"Invalid alias name: '{alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).");
        }
        TrackingValidation.Length(alias, "Registered model alias name", MaxAliasLength);
        if (string.Equals(alias, "latest", StringComparison.OrdinalIgnoreCase))
        {
            throw MlflowException.InvalidParameter("'latest' alias name (case insensitive) is reserved.");
        }
        if (VersionAlias().IsMatch(alias))
        {
            throw MlflowException.InvalidParameter($"Version alias name '{alias}' is reserved.");
        }
        return alias;
    }

    /// <summary>A stage by MLflow's names, in any case (get_canonical_stage).</summary>
    public static string Stage(string? stage)
    {
        if (string.IsNullOrEmpty(stage))
        {
            throw MlflowException.Missing("stage");
        }
        return ModelStage.Parse(stage) ?? throw MlflowException.InvalidParameter(
            $"Invalid Model Version stage: {stage}. Value must be one of {string.Join(", ", ModelStage.All)}.");
    }

    /// <summary>A tag of a registered model or a version: a tag key by MLflow's key rules, a value of at most 5000 characters.</summary>
    /// <returns>The value to store: an absent value is the empty string, as the proto's default.</returns>
    public static string Tag(string? key, string? value)
    {
        TagKey(key);
        TrackingValidation.Length(value, "value", MaxTagValueLength);
        return value ?? "";
    }

    /// <summary>The tags of a create request; a key given twice keeps its last value, as MLflow's stores do.</summary>
    public static List<KeyValuePair<string, string>> Tags(IReadOnlyList<KeyValueInput>? tags)
    {
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var t in tags ?? [])
        {
            var value = Tag(t.Key, t.Value);
            if (!rows.ContainsKey(t.Key!))
            {
                order.Add(t.Key!);
            }
            rows[t.Key!] = value;
        }
        return [.. order.Select(k => KeyValuePair.Create(k, rows[k]))];
    }

    public static void Description(string? description) =>
        TrackingValidation.Length(description, "description", MaxDescriptionLength);

    public static void RunLink(string? runLink) => TrackingValidation.Length(runLink, "run_link", MaxRunLinkLength);

    /// <summary>A tag key: required (the handlers' schema refuses an empty one too), MLflow's key rules, 250 characters.</summary>
    public static string TagKey(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            throw MlflowException.Missing("key");
        }
        TrackingValidation.Key(key, "key", "key");
        return key;
    }
}
