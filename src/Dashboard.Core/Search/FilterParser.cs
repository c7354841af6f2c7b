using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Dashboard.Errors;

namespace Dashboard.Search;

/// <summary>
/// Parses MLflow's search filter (<c>metrics.acc &gt; 0.9 and params.opt = 'Adam'</c>) into a <see cref="Filter"/>,
/// enforcing MLflow's rules per identifier type. Errors keep MLflow's wording where MLflow has one, and say what
/// was expected and where otherwise; every error carries the 0-based position of the fault for the UI.
/// Cost is bounded: length, number of comparisons and number of list values.
/// </summary>
public static class FilterParser
{
    public const int MaxLength = 10_000;
    public const int MaxTerms = 100;
    public const int MaxListValues = 1_000;

    /// <summary>Parses or throws <see cref="MlflowException"/> INVALID_PARAMETER_VALUE. Null or blank is the empty filter.</summary>
    public static Filter Parse(string? filter, SearchScope scope = SearchScope.Runs)
    {
        try
        {
            return new Parser(filter ?? "", scope).Parse();
        }
        catch (SearchSyntaxException e)
        {
            throw MlflowException.InvalidParameter(e.Message);
        }
    }

    /// <summary>Parses without throwing: the UI shows <paramref name="error"/> inline at its position.</summary>
    public static bool TryParse(string? filter, SearchScope scope, [NotNullWhen(true)] out Filter? result,
        [NotNullWhen(false)] out FilterError? error)
    {
        try
        {
            result = new Parser(filter ?? "", scope).Parse();
            error = null;
            return true;
        }
        catch (SearchSyntaxException e)
        {
            result = null;
            error = new FilterError(e.Message, e.Position);
            return false;
        }
    }

    private sealed class Parser(string text, SearchScope scope)
    {
        private readonly FilterScanner _s = new(text);
        private int _listValues;

        public Filter Parse()
        {
            if (text.Length > MaxLength)
            {
                throw new SearchSyntaxException(
                    $"Invalid filter: it is {text.Length} characters long, more than the {MaxLength} allowed.", MaxLength);
            }
            var bad = FilterScanner.FirstUnencodable(text);
            if (bad >= 0)
            {
                throw Invalid("a NUL character or a lone surrogate cannot be searched for", bad);
            }
            _s.SkipWhitespace();
            if (_s.AtEnd)
            {
                return Filter.Empty;
            }
            var terms = new List<FilterTerm>();
            while (true)
            {
                if (terms.Count == MaxTerms)
                {
                    throw Invalid($"a filter may join at most {MaxTerms} comparisons", _s.Position);
                }
                terms.Add(ParseTerm());
                _s.SkipWhitespace();
                if (_s.AtEnd)
                {
                    return new Filter(terms);
                }
                var at = _s.Position;
                if (_s.TryReadKeyword("AND"))
                {
                    _s.SkipWhitespace();
                    if (_s.AtEnd)
                    {
                        throw Expected("a comparison after AND", _s.Position);
                    }
                    continue;
                }
                if (_s.TryReadKeyword("OR"))
                {
                    throw Invalid("OR is not supported, only AND joins comparisons", at);
                }
                throw Expected("AND or the end of the filter", at);
            }
        }

        private FilterTerm ParseTerm()
        {
            var start = _s.Position;
            var raw = _s.TryReadIdentifier(Expected) ?? throw Expected(
                _s.Current is '\'' ? "an identifier (a quoted string is a value; quote keys with backticks or double quotes)"
                    : "an identifier such as metrics.accuracy, params.lr, tags.team or attributes.status", start);
            var (entity, key) = SearchIdentifiers.Resolve(scope, raw, forOrder: false);

            _s.SkipWhitespace();
            var comparatorAt = _s.Position;
            var (comparator, comparatorText) = ReadComparator();
            if (comparator is null || !SearchVocabulary.Comparators(scope, entity, key).Contains(comparator.Value))
            {
                throw new SearchSyntaxException(
                    SearchVocabulary.InvalidComparator(scope, entity, key, comparatorText), comparatorAt);
            }

            _s.SkipWhitespace();
            var value = ReadValue(entity, raw.Key, key, comparator.Value);
            var canonical = entity == SearchEntity.Attribute ? SearchVocabulary.CanonicalAttribute(scope, key) : key;
            return new FilterTerm(entity, canonical, comparator.Value, value, start);
        }

        /// <summary>Reads an operator; an unknown run of operator characters comes back with a null comparator so
        /// that the caller can answer with MLflow's "Invalid comparator" message for the identifier's type.</summary>
        private (Comparator? Comparator, string Text) ReadComparator()
        {
            var start = _s.Position;
            if (_s.Current is '<' or '>' or '=' or '!')
            {
                while (_s.Current is '<' or '>' or '=' or '!')
                {
                    _s.Position++;
                }
                var op = text[start.._s.Position];
                Comparator? c = op switch
                {
                    "=" => Comparator.Equal,
                    "!=" => Comparator.NotEqual,
                    "<" => Comparator.Less,
                    "<=" => Comparator.LessOrEqual,
                    ">" => Comparator.Greater,
                    ">=" => Comparator.GreaterOrEqual,
                    _ => null,
                };
                return (c, op);
            }
            if (_s.TryReadKeyword("LIKE"))
            {
                return (Comparator.Like, "LIKE");
            }
            if (_s.TryReadKeyword("ILIKE"))
            {
                return (Comparator.ILike, "ILIKE");
            }
            if (_s.TryReadKeyword("IN"))
            {
                return (Comparator.In, "IN");
            }
            if (_s.TryReadKeyword("NOT"))
            {
                _s.SkipWhitespace();
                if (!_s.TryReadKeyword("IN"))
                {
                    throw Expected("IN after NOT", _s.Position);
                }
                return (Comparator.NotIn, "NOT IN");
            }
            if (_s.TryReadKeyword("IS"))
            {
                _s.SkipWhitespace();
                var not = _s.TryReadKeyword("NOT");
                _s.SkipWhitespace();
                if (!_s.TryReadKeyword("NULL"))
                {
                    throw Expected(not ? "NULL after IS NOT" : "NULL or NOT NULL after IS", _s.Position);
                }
                return not ? (Comparator.IsNotNull, "IS NOT NULL") : (Comparator.IsNull, "IS NULL");
            }
            throw Expected("a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)", start);
        }

        private FilterValue? ReadValue(SearchEntity entity, string rawKey, string key, Comparator comparator)
        {
            if (comparator is Comparator.IsNull or Comparator.IsNotNull)
            {
                return null;
            }
            var start = _s.Position;
            var isList = comparator is Comparator.In or Comparator.NotIn;
            var numeric = entity == SearchEntity.Metric
                || (entity == SearchEntity.Attribute && SearchVocabulary.IsNumericAttribute(scope, key));

            if (_s.Current == '(')
            {
                var list = ReadList();
                var rawList = text[start.._s.Position];
                // Runs and model versions take lists for run_id only; logged models for every string field
                // (search_logged_model_utils). The registry reads a list before it looks at the comparator.
                var registry = scope is SearchScope.RegisteredModels or SearchScope.ModelVersions;
                var onlyRunId = scope is SearchScope.Runs || registry;
                if ((isList || registry) && onlyRunId && entity == SearchEntity.Attribute
                    && SearchVocabulary.CanonicalAttribute(scope, key) != SearchVocabulary.RunIdAttribute)
                {
                    throw new SearchSyntaxException(
                        "Only the 'run_id' attribute supports comparison with a list of quoted string values.", start);
                }
                if (!isList)
                {
                    throw new SearchSyntaxException(WrongType(entity, rawKey, numeric, rawList, quoted: true), start);
                }
                return new ListValue(list, start);
            }
            if (isList)
            {
                throw Expected($"a parenthesized list of quoted strings after {SearchVocabulary.Text(comparator)}", start);
            }
            if (_s.Current is '\'' or '"')
            {
                var s = _s.ReadQuoted(_s.Current, Expected, "string");
                // MLflow hands a quoted version_number to SQL as it is, where SQLite compares it as the number it
                // spells ('2' is 2); a quoted number is read as that number, anything else is refused.
                if (numeric && scope == SearchScope.ModelVersions
                    && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var spelled)
                    && double.IsFinite(spelled))
                {
                    return new NumberValue(spelled, s, start);
                }
                if (numeric)
                {
                    throw new SearchSyntaxException(WrongType(entity, rawKey, numeric, text[start.._s.Position], quoted: true), start);
                }
                return new StringValue(s, start);
            }
            if (_s.TryReadNumber() is { } number && !FilterScanner.IsWordChar(_s.Current) && _s.Current != '.')
            {
                if (!numeric)
                {
                    throw new SearchSyntaxException(scope switch
                    {
                        SearchScope.RegisteredModels when entity == SearchEntity.Attribute =>
                            $"Expected a quoted string value or a list of quoted string values for attributes. Got value {number.Text}",
                        SearchScope.ModelVersions when entity == SearchEntity.Attribute => SearchVocabulary.NumericValueForStringAttribute(),
                        _ => WrongType(entity, rawKey, numeric, number.Text, quoted: true),
                    }, start);
                }
                return new NumberValue(number.Value, number.Text, start);
            }
            _s.Position = start;
            if (_s.Current == '`' || FilterScanner.IsWordChar(_s.Current))
            {
                // An unquoted word: MLflow reads it as an identifier and says what it wanted instead.
                if (_s.Current == '`')
                {
                    _s.ReadQuoted('`', Expected, "value");
                }
                else
                {
                    while (FilterScanner.IsWordChar(_s.Current) || _s.Current is '.' or '-')
                    {
                        _s.Position++;
                    }
                }
                throw new SearchSyntaxException(WrongType(entity, rawKey, numeric, text[start.._s.Position], quoted: false), start);
            }
            throw Expected(_s.AtEnd
                ? $"a value after {SearchVocabulary.Text(comparator)}"
                : "a value (a quoted string, a number or a parenthesized list of quoted strings)", start);
        }

        private List<string> ReadList()
        {
            var open = _s.Position;
            _s.Position++;
            var values = new List<string>();
            _s.SkipWhitespace();
            if (_s.Current == ')')
            {
                throw new SearchSyntaxException(
                    "While parsing a list in the query, expected a non-empty list of string values, but got empty list", open);
            }
            while (true)
            {
                _s.SkipWhitespace();
                var itemAt = _s.Position;
                if (_s.Current is not ('\'' or '"'))
                {
                    if (_s.Current == ')' && values.Count > 0)
                    {
                        // A trailing comma, as in Python's ('a',).
                        _s.Position++;
                        return values;
                    }
                    if (_s.AtEnd)
                    {
                        throw Expected("a quoted string and a closing ) for the list that starts", open);
                    }
                    throw new SearchSyntaxException(
                        "While parsing a list in the query, expected string value, punctuation, or whitespace, " +
                        $"but got different type in list at position {itemAt}", itemAt);
                }
                if (++_listValues > MaxListValues)
                {
                    throw Invalid($"a filter may hold at most {MaxListValues} values in lists", itemAt);
                }
                values.Add(_s.ReadQuoted(_s.Current, Expected, "string"));
                _s.SkipWhitespace();
                if (_s.Current == ',')
                {
                    _s.Position++;
                    continue;
                }
                if (_s.Current == ')')
                {
                    _s.Position++;
                    return values;
                }
                throw Expected(_s.AtEnd ? "a closing ) for the list that starts" : "',' or ')' in the list",
                    _s.AtEnd ? open : _s.Position);
            }
        }

        /// <summary>MLflow's messages for a value of the wrong type (SearchUtils._get_value), with the value as written.</summary>
        private static string WrongType(SearchEntity entity, string rawKey, bool numeric, string raw, bool quoted)
        {
            if (entity == SearchEntity.Metric)
            {
                return $"Expected numeric value type for metric. Found {raw}";
            }
            if (numeric)
            {
                return $"Expected numeric value type for numeric attribute: {rawKey}. Found {raw}";
            }
            if (!quoted)
            {
                return $"Parameter value is either not quoted or unidentified quote types used for string value {raw}. " +
                    "Use either single or double quotes.";
            }
            return entity switch
            {
                SearchEntity.Param => $"Expected a quoted string value for parameter (e.g. 'my-value'). Got value {raw}",
                SearchEntity.Tag => $"Expected a quoted string value for tag (e.g. 'my-value'). Got value {raw}",
                SearchEntity.Dataset => $"Expected a quoted string value for dataset attributes. Got value {raw}",
                _ => $"Expected a quoted string value for attributes. Got value {raw}",
            };
        }

        private SearchSyntaxException Expected(string what, int position) =>
            new($"Invalid filter '{FilterScanner.Shown(text)}': expected {what} at position {position}", position);

        private SearchSyntaxException Invalid(string why, int position) =>
            new($"Invalid filter '{FilterScanner.Shown(text)}': {why} at position {position}", position);
    }
}
