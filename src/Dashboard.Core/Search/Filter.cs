namespace Dashboard.Search;

/// <summary>What a search runs over; each has its own identifiers, keys and orders (MLflow's SearchUtils,
/// SearchExperimentsUtils, search_logged_model_utils, SearchModelUtils and SearchModelVersionUtils).</summary>
public enum SearchScope
{
    Runs,
    Experiments,
    LoggedModels,
    RegisteredModels,
    ModelVersions,
}

/// <summary>The kind of thing an identifier names: <c>metrics.x</c>, <c>params.x</c>, <c>tags.x</c>,
/// <c>attributes.x</c> (or a bare attribute name) and <c>datasets.x</c>.</summary>
public enum SearchEntity
{
    Metric,
    Param,
    Tag,
    Attribute,
    Dataset,
}

public enum Comparator
{
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Like,
    ILike,
    In,
    NotIn,
    IsNull,
    IsNotNull,
}

/// <summary>The right-hand side of a comparison; <see cref="Position"/> is its 0-based offset in the filter.</summary>
public abstract record FilterValue(int Position);

/// <summary>A number as written (<see cref="Text"/>) and as parsed.</summary>
public sealed record NumberValue(double Value, string Text, int Position) : FilterValue(Position);

/// <summary>A quoted string, unquoted: the value to compare with, never SQL.</summary>
public sealed record StringValue(string Value, int Position) : FilterValue(Position);

/// <summary>The parenthesized list of quoted strings of IN and NOT IN.</summary>
public sealed record ListValue(IReadOnlyList<string> Values, int Position) : FilterValue(Position);

/// <summary>
/// One comparison of a filter. <see cref="Key"/> is the metric, param, tag or dataset field name, or the canonical
/// attribute name (aliases such as <c>created</c> and <c>run name</c> are resolved). <see cref="Value"/> is null
/// only for IS NULL and IS NOT NULL. <see cref="Position"/> is the 0-based offset of the identifier.
/// </summary>
public sealed record FilterTerm(SearchEntity Entity, string Key, Comparator Comparator, FilterValue? Value, int Position);

/// <summary>A parsed filter: comparisons that must all hold (MLflow's grammar has AND only).</summary>
public sealed record Filter(IReadOnlyList<FilterTerm> Terms)
{
    public static Filter Empty { get; } = new([]);
}

/// <summary>Why a filter was rejected and where: the 0-based offset in the filter text that the UI can point at.</summary>
public sealed record FilterError(string Message, int Position);

/// <summary>One term of order_by: what to sort on and in which direction.</summary>
public sealed record OrderTerm(SearchEntity Entity, string Key, bool Ascending);
