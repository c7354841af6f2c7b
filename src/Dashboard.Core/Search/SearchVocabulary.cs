namespace Dashboard.Search;

/// <summary>
/// MLflow's identifiers, attribute keys and comparators per scope (mlflow/utils/search_utils.py), and the
/// messages MLflow gives when one is wrong. Where MLflow prints a Python set, whose order varies from one MLflow
/// process to the next, keys are printed sorted and comparators in a fixed order.
/// </summary>
internal static class SearchVocabulary
{
    public const string RunNameAttribute = "run_name";
    public const string RunIdAttribute = "run_id";
    public const string StartTimeAttribute = "start_time";
    public const string DatasetContextTag = "mlflow.data.context";

    private static readonly string[] RunIdentifiers = ["metric", "parameter", "tag", "attribute", "dataset"];
    private static readonly string[] ExperimentIdentifiers = ["attribute", "tag", "tags"];

    private static readonly HashSet<string> RunSearchAttributes = new(StringComparer.Ordinal)
    {
        "artifact_uri", "end_time", "run_id", "run_name", "start_time", "status", "user_id",
        "created", "Created", "run name", "Run name", "Run Name",
    };

    private static readonly HashSet<string> RunOrderAttributes = new(StringComparer.Ordinal)
    {
        "artifact_uri", "end_time", "run_id", "run_name", "start_time", "status", "user_id", "created", "Created",
    };

    private static readonly HashSet<string> RunNumericAttributes = new(StringComparer.Ordinal)
    {
        "start_time", "end_time", "created", "Created",
    };

    private static readonly HashSet<string> ExperimentSearchAttributes = new(StringComparer.Ordinal)
    {
        "name", "creation_time", "last_update_time",
    };

    private static readonly HashSet<string> ExperimentOrderAttributes = new(StringComparer.Ordinal)
    {
        "name", "experiment_id", "creation_time", "last_update_time",
    };

    private static readonly HashSet<string> ExperimentNumericAttributes = new(StringComparer.Ordinal)
    {
        "creation_time", "last_update_time",
    };

    // MLflow's logged-model filter names any column of logged_models; the times also by their short aliases.
    private static readonly HashSet<string> LoggedModelAttributes = new(StringComparer.Ordinal)
    {
        "model_id", "name", "artifact_location", "creation_timestamp_ms", "last_updated_timestamp_ms", "status",
        "status_message", "model_type", "source_run_id", "creation_time", "creation_timestamp", "last_updated_timestamp",
    };

    private static readonly HashSet<string> LoggedModelNumericAttributes = new(StringComparer.Ordinal)
    {
        "creation_timestamp_ms", "last_updated_timestamp_ms", "creation_time", "creation_timestamp", "last_updated_timestamp",
    };

    public const string StatusAttribute = "status";

    // The registry's keys (SearchModelUtils, SearchModelVersionUtils and the SQL registry store).
    public const string NameAttribute = "name";
    public const string VersionNumberAttribute = "version_number";
    public const string SourcePathAttribute = "source_path";
    public const string CreationTimestampAttribute = "creation_timestamp";
    public const string LastUpdatedTimestampAttribute = "last_updated_timestamp";

    /// <summary>The order key that MLflow's registered-model search takes for <c>last_updated_timestamp</c>.</summary>
    public const string TimestampOrderKey = "timestamp";

    private static readonly HashSet<string> RegisteredModelSearchAttributes = new(StringComparer.Ordinal) { NameAttribute };

    // MLflow's SQL store names only these (no creation_timestamp, which its file store alone takes).
    private static readonly HashSet<string> RegisteredModelOrderKeys = new(StringComparer.Ordinal)
    {
        NameAttribute, TimestampOrderKey, LastUpdatedTimestampAttribute,
    };

    // What MLflow's message recommends: it leaves last_updated_timestamp out on purpose.
    private static readonly string[] RecommendedRegisteredModelOrderKeys = [NameAttribute, TimestampOrderKey];

    private static readonly HashSet<string> ModelVersionSearchAttributes = new(StringComparer.Ordinal)
    {
        NameAttribute, RunIdAttribute, SourcePathAttribute, VersionNumberAttribute,
    };

    private static readonly HashSet<string> ModelVersionOrderAttributes = new(StringComparer.Ordinal)
    {
        NameAttribute, VersionNumberAttribute, CreationTimestampAttribute, LastUpdatedTimestampAttribute,
    };

    // SearchModelVersionUtils.NUMERIC_ATTRIBUTES: only version_number is searchable, but MLflow's message lists all three.
    private static readonly string[] ModelVersionNumericAttributes =
        [CreationTimestampAttribute, LastUpdatedTimestampAttribute, VersionNumberAttribute];

    private static readonly HashSet<string> DatasetKeys = new(StringComparer.Ordinal) { "name", "digest", "context" };

    // In the order the recorded MLflow 3.9 server printed them; a Python set's order changes from one process to the next.
    private static readonly Comparator[] NumericComparators =
        [Comparator.NotEqual, Comparator.Greater, Comparator.GreaterOrEqual, Comparator.Less, Comparator.LessOrEqual, Comparator.Equal];

    private static readonly Comparator[] KeyValueComparators =
        [Comparator.NotEqual, Comparator.Equal, Comparator.Like, Comparator.ILike];

    private static readonly Comparator[] StringAttributeComparators =
        [Comparator.NotEqual, Comparator.Equal, Comparator.Like, Comparator.ILike, Comparator.In, Comparator.NotIn];

    // search_logged_model_utils' tuples, in their order.
    private static readonly Comparator[] LoggedModelNumericComparators =
        [Comparator.Less, Comparator.LessOrEqual, Comparator.Greater, Comparator.GreaterOrEqual, Comparator.Equal, Comparator.NotEqual];

    private static readonly Comparator[] LoggedModelStringComparators =
        [Comparator.Equal, Comparator.NotEqual, Comparator.Like, Comparator.ILike, Comparator.In, Comparator.NotIn];

    private static readonly Comparator[] LoggedModelStatusComparators =
        [Comparator.Equal, Comparator.NotEqual, Comparator.In, Comparator.NotIn];

    /// <summary>Maps MLflow's entity words and their aliases; null when the word names none.</summary>
    public static SearchEntity? Entity(SearchScope scope, string word) => scope switch
    {
        SearchScope.LoggedModels => word switch
        {
            "attributes" => SearchEntity.Attribute,
            "metrics" => SearchEntity.Metric,
            "params" => SearchEntity.Param,
            "tags" => SearchEntity.Tag,
            _ => null,
        },
        SearchScope.Experiments or SearchScope.RegisteredModels or SearchScope.ModelVersions => word switch
        {
            "attribute" => SearchEntity.Attribute,
            "tag" or "tags" => SearchEntity.Tag,
            _ => null,
        },
        _ => word switch
        {
            "metric" or "metrics" => SearchEntity.Metric,
            "parameter" or "parameters" or "param" or "params" => SearchEntity.Param,
            "tag" or "tags" => SearchEntity.Tag,
            "attribute" or "attr" or "attributes" or "run" => SearchEntity.Attribute,
            "dataset" or "datasets" => SearchEntity.Dataset,
            _ => null,
        },
    };

    public static string InvalidEntity(SearchScope scope, string word) => scope switch
    {
        SearchScope.Experiments or SearchScope.RegisteredModels or SearchScope.ModelVersions =>
            $"Invalid entity type '{word}'. Valid entity types are ({string.Join(", ", ExperimentIdentifiers.Select(Quote))})",
        SearchScope.LoggedModels => $"Invalid entity type: '{word}'. Expected one of ['attributes', 'metrics', 'params', 'tags'].",
        _ => $"Invalid entity type '{word}'. Valid values are [{string.Join(", ", RunIdentifiers.Select(Quote))}]",
    };

    public static bool IsAttribute(SearchScope scope, string key, bool forOrder) => Attributes(scope, forOrder).Contains(key);

    private static HashSet<string> Attributes(SearchScope scope, bool forOrder) => (scope, forOrder) switch
    {
        (SearchScope.LoggedModels, _) => LoggedModelAttributes,
        (SearchScope.Runs, false) => RunSearchAttributes,
        (SearchScope.Runs, true) => RunOrderAttributes,
        (SearchScope.RegisteredModels, false) => RegisteredModelSearchAttributes,
        (SearchScope.RegisteredModels, true) => RegisteredModelOrderKeys,
        (SearchScope.ModelVersions, false) => ModelVersionSearchAttributes,
        (SearchScope.ModelVersions, true) => ModelVersionOrderAttributes,
        (_, false) => ExperimentSearchAttributes,
        _ => ExperimentOrderAttributes,
    };

    public static string InvalidAttribute(SearchScope scope, string key, bool forOrder) =>
        $"Invalid attribute key '{key}' specified. Valid keys are '{PythonSet(Attributes(scope, forOrder).Order(StringComparer.Ordinal))}'";

    /// <summary>MLflow's message for an order key of registered models that is not one (SearchUtils.parse_order_by_for_search_registered_models).</summary>
    public static string InvalidRegisteredModelOrderKey(string written) =>
        $"Invalid order by key '{written}' specified. Valid keys are '{PythonSet(RecommendedRegisteredModelOrderKeys)}'";

    /// <summary>The one SearchModelVersionUtils message for a number compared with a string attribute.</summary>
    public static string NumericValueForStringAttribute() =>
        $"Only the '{PythonSet(ModelVersionNumericAttributes)}' attributes support comparison with numeric values.";

    public static bool IsDatasetKey(string key) => DatasetKeys.Contains(key);

    public static string InvalidDatasetKey(string key) =>
        $"Invalid dataset key '{key}' specified. Valid keys are '{PythonSet(DatasetKeys)}'";

    public static bool IsNumericAttribute(SearchScope scope, string key) => scope switch
    {
        SearchScope.Runs => RunNumericAttributes.Contains(key),
        SearchScope.LoggedModels => LoggedModelNumericAttributes.Contains(key),
        SearchScope.RegisteredModels => false,
        SearchScope.ModelVersions => key == VersionNumberAttribute,
        _ => ExperimentNumericAttributes.Contains(key),
    };

    /// <summary>Resolves the attribute aliases of a scope: the runs' (see the other overload) or the logged models'
    /// (SqlLoggedModel.ALIASES).</summary>
    public static string CanonicalAttribute(SearchScope scope, string key) => scope switch
    {
        SearchScope.LoggedModels => key switch
        {
            "creation_time" or "creation_timestamp" => "creation_timestamp_ms",
            "last_updated_timestamp" => "last_updated_timestamp_ms",
            _ => key,
        },
        SearchScope.RegisteredModels or SearchScope.ModelVersions => key,
        _ => CanonicalAttribute(key),
    };

    /// <summary>Resolves MLflow's attribute aliases (translate_key_alias).</summary>
    public static string CanonicalAttribute(string key) => key switch
    {
        "created" or "Created" => StartTimeAttribute,
        "run name" or "Run name" or "Run Name" => RunNameAttribute,
        _ => key,
    };

    public static IReadOnlyList<Comparator> Comparators(SearchScope scope, SearchEntity entity, string key) => scope switch
    {
        SearchScope.LoggedModels => LoggedModelComparators(entity, key),
        SearchScope.RegisteredModels or SearchScope.ModelVersions => RegistryComparators(scope, entity, key),
        _ => TrackingComparators(scope, entity, key),
    };

    private static Comparator[] TrackingComparators(SearchScope scope, SearchEntity entity, string key) => entity switch
    {
        SearchEntity.Metric => NumericComparators,
        SearchEntity.Param or SearchEntity.Tag => KeyValueComparators,
        SearchEntity.Dataset => StringAttributeComparators,
        _ when IsNumericAttribute(scope, key) => NumericComparators,
        // Lists are accepted for run_id only, so IN never reaches an experiment's string attribute.
        _ => scope == SearchScope.Experiments ? KeyValueComparators : StringAttributeComparators,
    };

    /// <summary>
    /// What the SQL registry store takes: = != LIKE ILIKE on strings and tags, numeric comparisons on version_number.
    /// IN and NOT IN pass here for every string attribute so that a list on another one than run_id gets MLflow's
    /// "Only the 'run_id' attribute supports..." from the value check, as in MLflow, which checks the value first.
    /// </summary>
    private static Comparator[] RegistryComparators(SearchScope scope, SearchEntity entity, string key) => entity switch
    {
        SearchEntity.Tag => KeyValueComparators,
        _ when IsNumericAttribute(scope, key) => NumericComparators,
        _ => StringAttributeComparators,
    };

    private static Comparator[] LoggedModelComparators(SearchEntity entity, string key) => entity switch
    {
        SearchEntity.Metric => LoggedModelNumericComparators,
        SearchEntity.Attribute when IsNumericAttribute(SearchScope.LoggedModels, key) => LoggedModelNumericComparators,
        SearchEntity.Attribute when key == StatusAttribute => LoggedModelStatusComparators,
        _ => LoggedModelStringComparators,
    };

    /// <summary>
    /// MLflow's "Invalid comparator" message. MLflow leaves the closing quote off for metrics, tags, numeric
    /// attributes and datasets; the recorded reference server shows it for metrics, so the wording is kept as is.
    /// </summary>
    public static string InvalidComparator(SearchScope scope, SearchEntity entity, string key, string comparator)
    {
        if (scope is SearchScope.RegisteredModels or SearchScope.ModelVersions)
        {
            // The SQL registry store's words (_get_search_registered_model_filter_query and the versions' twin).
            return entity switch
            {
                SearchEntity.Tag => $"Invalid comparator for tag: {comparator}",
                _ when IsNumericAttribute(scope, key) => $"Invalid comparator for attribute {key}: {comparator}",
                _ => $"Invalid comparator for attribute: {comparator}",
            };
        }
        if (scope == SearchScope.LoggedModels)
        {
            // search_logged_model_utils lists the string operators whatever the identifier; this lists the ones it takes.
            var ops = string.Join(", ", LoggedModelComparators(entity, key).Select(c => Quote(Text(c))));
            return $"Invalid comparison operator for {EntityWord(entity)}.{key}: '{comparator}'. Expected one of ({ops}).";
        }
        var valid = PythonSet(Comparators(scope, entity, key).Select(Text));
        var closingQuote = entity is SearchEntity.Param || (entity is SearchEntity.Attribute && !IsNumericAttribute(scope, key));
        return $"Invalid comparator '{comparator}' not one of '{valid}" + (closingQuote ? "'" : "");
    }

    public static string Text(Comparator c) => c switch
    {
        Comparator.Equal => "=",
        Comparator.NotEqual => "!=",
        Comparator.Less => "<",
        Comparator.LessOrEqual => "<=",
        Comparator.Greater => ">",
        Comparator.GreaterOrEqual => ">=",
        Comparator.Like => "LIKE",
        Comparator.ILike => "ILIKE",
        Comparator.In => "IN",
        Comparator.NotIn => "NOT IN",
        Comparator.IsNull => "IS NULL",
        _ => "IS NOT NULL",
    };

    public static string EntityWord(SearchEntity entity) => entity switch
    {
        SearchEntity.Metric => "metrics",
        SearchEntity.Param => "params",
        SearchEntity.Tag => "tags",
        SearchEntity.Dataset => "datasets",
        _ => "attributes",
    };

    private static string Quote(string s) => $"'{s}'";

    private static string PythonSet(IEnumerable<string> items) => "{" + string.Join(", ", items.Select(Quote)) + "}";
}
