using Dashboard.Errors;
using Dashboard.Search;

namespace Dashboard.Core.Tests.Search;

public class FilterParserTests
{
    private static FilterTerm Single(string filter, SearchScope scope = SearchScope.Runs)
    {
        var parsed = FilterParser.Parse(filter, scope);
        parsed.Terms.Count.ShouldBe(1);
        return parsed.Terms[0];
    }

    private static FilterError Error(string filter, SearchScope scope = SearchScope.Runs)
    {
        FilterParser.TryParse(filter, scope, out var result, out var error).ShouldBeFalse();
        result.ShouldBeNull();
        return error!;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   \t\n ")]
    public void Reads_an_empty_or_blank_filter_as_no_condition(string? filter) =>
        FilterParser.Parse(filter).Terms.ShouldBeEmpty();

    [Theory]
    [InlineData("metrics.acc > 0.5", SearchEntity.Metric, "acc", Comparator.Greater)]
    [InlineData("metric.acc >= 0.5", SearchEntity.Metric, "acc", Comparator.GreaterOrEqual)]
    [InlineData("metrics.acc < 0.5", SearchEntity.Metric, "acc", Comparator.Less)]
    [InlineData("metrics.acc <= 0.5", SearchEntity.Metric, "acc", Comparator.LessOrEqual)]
    [InlineData("metrics.acc = 0.5", SearchEntity.Metric, "acc", Comparator.Equal)]
    [InlineData("metrics.acc != 0.5", SearchEntity.Metric, "acc", Comparator.NotEqual)]
    [InlineData("metrics.acc>0.5", SearchEntity.Metric, "acc", Comparator.Greater)]
    [InlineData("params.lr = '0.1'", SearchEntity.Param, "lr", Comparator.Equal)]
    [InlineData("param.lr != '0.1'", SearchEntity.Param, "lr", Comparator.NotEqual)]
    [InlineData("parameter.lr LIKE '0.%'", SearchEntity.Param, "lr", Comparator.Like)]
    [InlineData("parameters.lr ilike '0.%'", SearchEntity.Param, "lr", Comparator.ILike)]
    [InlineData("tags.team = 'vision'", SearchEntity.Tag, "team", Comparator.Equal)]
    [InlineData("tag.team Like 'v%'", SearchEntity.Tag, "team", Comparator.Like)]
    [InlineData("attributes.status = 'FINISHED'", SearchEntity.Attribute, "status", Comparator.Equal)]
    [InlineData("attribute.status = 'FINISHED'", SearchEntity.Attribute, "status", Comparator.Equal)]
    [InlineData("attr.user_id = 'ana'", SearchEntity.Attribute, "user_id", Comparator.Equal)]
    [InlineData("run.artifact_uri LIKE 'file:%'", SearchEntity.Attribute, "artifact_uri", Comparator.Like)]
    [InlineData("status = 'FAILED'", SearchEntity.Attribute, "status", Comparator.Equal)]
    [InlineData("run_name = 'a'", SearchEntity.Attribute, "run_name", Comparator.Equal)]
    [InlineData("attributes.start_time > 0", SearchEntity.Attribute, "start_time", Comparator.Greater)]
    [InlineData("end_time <= 10", SearchEntity.Attribute, "end_time", Comparator.LessOrEqual)]
    [InlineData("datasets.name = 'mnist'", SearchEntity.Dataset, "name", Comparator.Equal)]
    [InlineData("dataset.digest != 'abc'", SearchEntity.Dataset, "digest", Comparator.NotEqual)]
    [InlineData("datasets.context ILIKE 'train%'", SearchEntity.Dataset, "context", Comparator.ILike)]
    public void Reads_every_identifier_type_and_comparator(string filter, SearchEntity entity, string key, Comparator comparator)
    {
        var term = Single(filter);
        term.Entity.ShouldBe(entity);
        term.Key.ShouldBe(key);
        term.Comparator.ShouldBe(comparator);
    }

    [Theory]
    [InlineData("created > 5", "start_time")]
    [InlineData("attributes.Created > 5", "start_time")]
    [InlineData("attributes.`run name` = 'x'", "run_name")]
    [InlineData("attributes.\"Run Name\" = 'x'", "run_name")]
    [InlineData("`Run name` = 'x'", "run_name")]
    public void Resolves_mlflows_attribute_aliases(string filter, string key) => Single(filter).Key.ShouldBe(key);

    [Theory]
    [InlineData("tags.mlflow.runName = 'x'", "mlflow.runName")]
    [InlineData("tags.`mlflow.runName` = 'x'", "mlflow.runName")]
    [InlineData("metrics.`my key` > 1", "my key")]
    [InlineData("metrics.\"error rate\" > 1", "error rate")]
    [InlineData("metrics.'prediction accuracy' > 1", "prediction accuracy")]
    [InlineData("metrics.`a``b` > 1", "a`b")]
    [InlineData("metrics.train/loss-1:x > 1", "train/loss-1:x")]
    [InlineData("params.2019-04-02 = 'x'", "2019-04-02")]
    [InlineData("`metrics`.acc > 1", "acc")]
    [InlineData("tags.Genauigkeit_ä = 'x'", "Genauigkeit_ä")]
    public void Reads_dotted_backticked_and_quoted_keys(string filter, string key) => Single(filter).Key.ShouldBe(key);

    [Theory]
    [InlineData("metrics.a > 1", 1d)]
    [InlineData("metrics.a > -1", -1d)]
    [InlineData("metrics.a > +2", 2d)]
    [InlineData("metrics.a > 0.25", 0.25)]
    [InlineData("metrics.a > .5", 0.5)]
    [InlineData("metrics.a > 5.", 5d)]
    [InlineData("metrics.a > 1e3", 1000d)]
    [InlineData("metrics.a > 1.5E-2", 0.015)]
    [InlineData("metrics.a > -2.5e+2", -250d)]
    [InlineData("metrics.a >-3", -3d)]
    public void Reads_integers_floats_exponents_and_signs(string filter, double value) =>
        Single(filter).Value.ShouldBeOfType<NumberValue>().Value.ShouldBe(value);

    [Fact]
    public void Reads_an_overflowing_exponent_as_infinity() =>
        Single("metrics.a < 1e400").Value.ShouldBeOfType<NumberValue>().Value.ShouldBe(double.PositiveInfinity);

    [Theory]
    [InlineData("params.a = 'x'", "x")]
    [InlineData("params.a = \"x\"", "x")]
    [InlineData("params.a = ''", "")]
    [InlineData("params.a = 'it''s'", "it's")]
    [InlineData("params.a = \"say \"\"hi\"\"\"", "say \"hi\"")]
    [InlineData("params.a = \"it's\"", "it's")]
    [InlineData("params.a = 'C:\\data\\'", "C:\\data\\")]
    [InlineData("params.a = ' spaced  '", " spaced  ")]
    [InlineData("params.a = 'AND b = 1'", "AND b = 1")]
    public void Reads_single_and_double_quoted_strings_with_doubled_quotes(string filter, string value) =>
        Single(filter).Value.ShouldBeOfType<StringValue>().Value.ShouldBe(value);

    [Theory]
    [InlineData("'; DROP TABLE runs; --")]
    [InlineData("x' OR '1'='1")]
    [InlineData("\\'; DELETE FROM params; --")]
    [InlineData("%_\\[*?]")]
    [InlineData("Robert'); DROP TABLE students;--")]
    public void Keeps_injection_attempts_as_data(string value)
    {
        var quoted = "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
        var term = Single("tags.note = " + quoted);
        term.Value.ShouldBeOfType<StringValue>().Value.ShouldBe(value);
    }

    [Fact]
    public void Reads_in_and_not_in_lists_of_quoted_strings()
    {
        var terms = FilterParser.Parse("attributes.run_id IN ('a', \"b\",'c') and run_id not in ('d',) and datasets.name IN ('m')").Terms;
        terms[0].Comparator.ShouldBe(Comparator.In);
        terms[0].Value.ShouldBeOfType<ListValue>().Values.ShouldBe(["a", "b", "c"]);
        terms[1].Comparator.ShouldBe(Comparator.NotIn);
        terms[1].Value.ShouldBeOfType<ListValue>().Values.ShouldBe(["d"]);
        terms[2].Entity.ShouldBe(SearchEntity.Dataset);
    }

    [Fact]
    public void Reads_the_recorded_mlflow_client_filter()
    {
        var filter = "tags.mlflow.loggedArtifacts LIKE '%\"path\"%:%\"tables/epoch_metrics.json\",%\"type\"%:%\"table\"%' " +
            "and attributes.run_id IN ('cb2792467a294b26bd8c61868cf5d191')";
        var terms = FilterParser.Parse(filter).Terms;
        terms.Count.ShouldBe(2);
        terms[0].Key.ShouldBe("mlflow.loggedArtifacts");
        terms[0].Value.ShouldBeOfType<StringValue>().Value.ShouldBe("%\"path\"%:%\"tables/epoch_metrics.json\",%\"type\"%:%\"table\"%");
        terms[1].Value.ShouldBeOfType<ListValue>().Values.ShouldBe(["cb2792467a294b26bd8c61868cf5d191"]);
    }

    [Theory]
    [InlineData("metrics.a > 1 and params.b = 'x'")]
    [InlineData("metrics.a > 1 AND params.b = 'x'")]
    [InlineData("metrics.a > 1 And params.b = 'x'")]
    [InlineData("metrics.a>1 and\tparams.b='x'")]
    [InlineData("  metrics.a > 1\n and params.b = 'x'  ")]
    public void Joins_comparisons_with_a_case_insensitive_and(string filter) =>
        FilterParser.Parse(filter).Terms.Select(t => t.Entity).ShouldBe([SearchEntity.Metric, SearchEntity.Param]);

    [Fact]
    public void Records_the_position_of_each_term() =>
        FilterParser.Parse("metrics.a > 1 and params.b = 'x'").Terms.Select(t => t.Position).ShouldBe([0, 18]);

    [Fact]
    public void Reads_an_experiment_filter_on_name_times_and_tags()
    {
        var terms = FilterParser.Parse(
            "name LIKE 'paddle%' and tags.team = 'vision' and tag.x != 'y' and attribute.creation_time > 5 and last_update_time < 9",
            SearchScope.Experiments).Terms;
        terms.Select(t => (t.Entity, t.Key)).ShouldBe([
            (SearchEntity.Attribute, "name"), (SearchEntity.Tag, "team"), (SearchEntity.Tag, "x"),
            (SearchEntity.Attribute, "creation_time"), (SearchEntity.Attribute, "last_update_time")]);
    }

    // Errors: MLflow's wording where MLflow has one, the position always.

    [Fact]
    public void Rejects_an_unknown_comparator_with_mlflows_message_and_its_position()
    {
        var error = Error("metrics.avg_loss <<< 3");
        error.Message.ShouldBe("Invalid comparator '<<<' not one of '{'!=', '>', '>=', '<', '<=', '='}");
        error.Position.ShouldBe(17);
        Should.Throw<MlflowException>(() => FilterParser.Parse("metrics.avg_loss <<< 3"))
            .ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
    }

    [Theory]
    [InlineData("metrics.acc >> 1", "Invalid comparator '>>'", 12)]
    [InlineData("metrics.acc == 1", "Invalid comparator '=='", 12)]
    [InlineData("metrics.acc <> 1", "Invalid comparator '<>'", 12)]
    [InlineData("metrics.acc LIKE 1", "Invalid comparator 'LIKE' not one of '{'!=', '>', '>=', '<', '<=', '='}", 12)]
    [InlineData("params.a > 'x'", "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE'}'", 9)]
    [InlineData("params.a IN ('x')", "Invalid comparator 'IN' not one of '{'!=', '=', 'LIKE', 'ILIKE'}'", 9)]
    [InlineData("tags.a < 'x'", "Invalid comparator '<' not one of '{'!=', '=', 'LIKE', 'ILIKE'}", 7)]
    [InlineData("status > 'x'", "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'", 7)]
    [InlineData("start_time LIKE '1%'", "Invalid comparator 'LIKE' not one of '{'!=', '>', '>=', '<', '<=', '='}", 11)]
    [InlineData("datasets.name > 'x'", "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}", 14)]
    [InlineData("tags.a IS NULL", "Invalid comparator 'IS NULL'", 7)]
    [InlineData("metrics.a IS NOT NULL", "Invalid comparator 'IS NOT NULL'", 10)]
    public void Rejects_a_comparator_that_the_identifier_type_does_not_allow(string filter, string message, int position)
    {
        var error = Error(filter);
        error.Message.ShouldStartWith(message);
        error.Position.ShouldBe(position);
    }

    [Fact]
    public void Rejects_a_metric_compared_with_a_string() =>
        Error("metrics.acc > 'high'").ShouldBe(new FilterError("Expected numeric value type for metric. Found 'high'", 14));

    [Fact]
    public void Rejects_a_numeric_attribute_compared_with_a_string() =>
        Error("attributes.created > 'x'").Message.ShouldBe("Expected numeric value type for numeric attribute: created. Found 'x'");

    [Theory]
    [InlineData("params.lr = 0.1", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 0.1")]
    [InlineData("tags.n = 3", "Expected a quoted string value for tag (e.g. 'my-value'). Got value 3")]
    [InlineData("status = 1", "Expected a quoted string value for attributes. Got value 1")]
    [InlineData("datasets.name = 1", "Expected a quoted string value for dataset attributes. Got value 1")]
    [InlineData("params.lr = abc", "Parameter value is either not quoted or unidentified quote types used for string value abc. Use either single or double quotes.")]
    [InlineData("params.lr = `abc`", "Parameter value is either not quoted or unidentified quote types used for string value `abc`. Use either single or double quotes.")]
    [InlineData("metrics.a > abc", "Expected numeric value type for metric. Found abc")]
    [InlineData("metrics.a > 12abc", "Expected numeric value type for metric. Found 12abc")]
    public void Rejects_a_string_identifier_compared_with_a_number_or_an_unquoted_word(string filter, string message) =>
        Error(filter).Message.ShouldBe(message);

    [Theory]
    [InlineData("foo.bar = 'x'", "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']", 0)]
    [InlineData("METRICS.a > 1", "Invalid entity type 'METRICS'.", 0)]
    [InlineData("attributes.lifecycle_stage = 'active'", "Invalid attribute key 'lifecycle_stage' specified. Valid keys are '{", 11)]
    [InlineData("experiment_id = '1'", "Invalid attribute key 'experiment_id' specified.", 0)]
    [InlineData("datasets.source = 'x'", "Invalid dataset key 'source' specified. Valid keys are '{'name', 'digest', 'context'}'", 9)]
    public void Rejects_unknown_entities_and_keys_with_mlflows_message(string filter, string message, int position)
    {
        var error = Error(filter);
        error.Message.ShouldStartWith(message);
        error.Position.ShouldBe(position);
    }

    [Theory]
    [InlineData("status IN ('A')")]
    [InlineData("run_name NOT IN ('A')")]
    public void Rejects_a_list_for_any_attribute_but_run_id(string filter) =>
        Error(filter).Message.ShouldBe("Only the 'run_id' attribute supports comparison with a list of quoted string values.");

    [Theory]
    [InlineData("run_id IN ()", "While parsing a list in the query, expected a non-empty list of string values, but got empty list", 10)]
    [InlineData("run_id IN ( )", "While parsing a list in the query, expected a non-empty list of string values, but got empty list", 10)]
    [InlineData("run_id IN ('a', 1)", "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list", 16)]
    [InlineData("run_id IN 'a'", "expected a parenthesized list of quoted strings after IN at position 10", 10)]
    [InlineData("run_id NOT IN 'a'", "expected a parenthesized list of quoted strings after NOT IN at position 14", 14)]
    [InlineData("run_id IN ('a' 'b')", "expected ',' or ')' in the list at position 15", 15)]
    [InlineData("run_id IN ('a',", "expected a quoted string and a closing ) for the list that starts at position 10", 10)]
    [InlineData("run_id NOT LIKE 'a'", "expected IN after NOT at position 11", 11)]
    public void Rejects_malformed_lists_with_the_position(string filter, string message, int position)
    {
        var error = Error(filter);
        error.Message.ShouldContain(message);
        error.Position.ShouldBe(position);
    }

    [Theory]
    [InlineData("metrics.a > 1 or params.b = 'x'", "Invalid filter 'metrics.a > 1 or params.b = 'x'': OR is not supported, only AND joins comparisons at position 14", 14)]
    [InlineData("metrics.a > 1 params.b = 'x'", "Invalid filter 'metrics.a > 1 params.b = 'x'': expected AND or the end of the filter at position 14", 14)]
    [InlineData("metrics.a > 1 and", "Invalid filter 'metrics.a > 1 and': expected a comparison after AND at position 17", 17)]
    [InlineData("metrics.a > 1 and ", "expected a comparison after AND at position 18", 18)]
    [InlineData("metrics.a > 1;", "expected AND or the end of the filter at position 13", 13)]
    [InlineData("metrics.a > 1; DROP TABLE runs", "expected AND or the end of the filter at position 13", 13)]
    [InlineData("metrics.a 1", "expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN) at position 10", 10)]
    [InlineData("metrics.a", "expected a comparison operator", 9)]
    [InlineData("metrics.a >", "expected a value after > at position 11", 11)]
    [InlineData("metrics.a > )", "expected a value (a quoted string, a number or a parenthesized list of quoted strings) at position 12", 12)]
    [InlineData("params.a = 'open", "expected a closing ' for the string that starts at position 11", 11)]
    [InlineData("params.`a = 'x'", "expected a closing ` for the key that starts at position 7", 7)]
    [InlineData("\"run name = 'x'", "expected a closing \" for the identifier that starts at position 0", 0)]
    [InlineData("metrics. > 1", "expected a key after 'metrics.' at position 8", 8)]
    [InlineData("> 1", "expected an identifier such as metrics.accuracy", 0)]
    [InlineData("'x' = params.a", "expected an identifier (a quoted string is a value", 0)]
    [InlineData("(metrics.a > 1)", "expected an identifier", 0)]
    [InlineData("metrics.a > 1 and (params.b = 'x')", "expected an identifier", 18)]
    [InlineData("metrics.a > 1 andparams.b = 'x'", "expected AND or the end of the filter at position 14", 14)]
    [InlineData("params.a IS 'x'", "expected NULL or NOT NULL after IS at position 12", 12)]
    public void Rejects_syntax_errors_saying_what_was_expected_and_where(string filter, string message, int position)
    {
        var error = Error(filter);
        error.Message.ShouldContain(message);
        error.Position.ShouldBe(position);
        Should.Throw<MlflowException>(() => FilterParser.Parse(filter)).Message.ShouldBe(error.Message);
    }

    [Fact]
    public void Rejects_a_filter_longer_than_the_limit()
    {
        var filter = "params.a = '" + new string('x', FilterParser.MaxLength) + "'";
        var error = Error(filter);
        error.Message.ShouldBe($"Invalid filter: it is {filter.Length} characters long, more than the 10000 allowed.");
        error.Position.ShouldBe(FilterParser.MaxLength);
    }

    [Fact]
    public void Accepts_the_maximum_number_of_comparisons_and_rejects_one_more()
    {
        var terms = Enumerable.Range(0, FilterParser.MaxTerms).Select(i => $"metrics.m{i} > {i}").ToList();
        FilterParser.Parse(string.Join(" and ", terms)).Terms.Count.ShouldBe(FilterParser.MaxTerms);
        var tooMany = string.Join(" and ", terms.Append("metrics.extra > 0"));
        var error = Error(tooMany);
        error.Message.ShouldContain("a filter may join at most 100 comparisons at position");
        error.Position.ShouldBe(tooMany.IndexOf("metrics.extra", StringComparison.Ordinal));
    }

    [Fact]
    public void Rejects_more_list_values_than_the_limit()
    {
        var list = string.Join(",", Enumerable.Range(0, FilterParser.MaxListValues + 1).Select(i => $"'{i}'"));
        Error($"run_id IN ({list})").Message.ShouldContain("a filter may hold at most 1000 values in lists");
        var ok = string.Join(",", Enumerable.Range(0, FilterParser.MaxListValues).Select(i => $"'{i}'"));
        FilterParser.Parse($"run_id IN ({ok})").Terms[0].Value.ShouldBeOfType<ListValue>().Values.Count.ShouldBe(1000);
    }

    [Theory]
    [InlineData('\0')]
    [InlineData('\ud800')]
    [InlineData('\udc00')]
    public void Rejects_characters_the_databases_cannot_take(char bad)
    {
        // Built in code: attribute arguments cannot carry a lone surrogate.
        var error = Error("params.a = 'x" + bad + "y'");
        error.Message.ShouldContain("a NUL character or a lone surrogate cannot be searched for");
        error.Position.ShouldBe(13);
    }

    [Fact]
    public void Accepts_a_surrogate_pair() =>
        Single("params.a = 'x\U0001F600'").Value.ShouldBeOfType<StringValue>().Value.ShouldBe("x\U0001F600");

    [Fact]
    public void Shortens_a_long_filter_in_messages()
    {
        var filter = "params.a = '" + new string('x', 600) + "' or";
        var message = Error(filter).Message;
        message.ShouldStartWith("Invalid filter 'params.a = 'xxx");
        message.ShouldContain("...': OR is not supported");
    }

    [Theory]
    [InlineData("metrics.a > 1", "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')")]
    [InlineData("attributes.name = 'x'", "Invalid entity type 'attributes'. Valid entity types are ('attribute', 'tag', 'tags')")]
    [InlineData("run_id = 'x'", "Invalid attribute key 'run_id' specified. Valid keys are '{'creation_time', 'last_update_time', 'name'}'")]
    [InlineData("name IN ('x')", "Invalid comparator 'IN' not one of '{'!=', '=', 'LIKE', 'ILIKE'}'")]
    [InlineData("creation_time LIKE 'x'", "Invalid comparator 'LIKE' not one of '{'!=', '>', '>=', '<', '<=', '='}")]
    [InlineData("name = 1", "Expected a quoted string value for attributes. Got value 1")]
    [InlineData("creation_time > 'x'", "Expected numeric value type for numeric attribute: creation_time. Found 'x'")]
    public void Rejects_what_experiment_search_does_not_allow(string filter, string message) =>
        Error(filter, SearchScope.Experiments).Message.ShouldBe(message);
}
