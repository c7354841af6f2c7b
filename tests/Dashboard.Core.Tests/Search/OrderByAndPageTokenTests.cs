using System.Text;
using Dashboard.Errors;
using Dashboard.Search;

namespace Dashboard.Core.Tests.Search;

public class OrderByParserTests
{
    private static OrderTerm One(string clause, SearchScope scope = SearchScope.Runs) => OrderByParser.Parse([clause], scope).Single();

    private static string Error(string[] clauses, SearchScope scope = SearchScope.Runs)
    {
        var ex = Should.Throw<MlflowException>(() => OrderByParser.Parse(clauses, scope));
        ex.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        return ex.Message;
    }

    [Theory]
    [InlineData("metrics.val_loss ASC", SearchEntity.Metric, "val_loss", true)]
    [InlineData("metrics.x DESC", SearchEntity.Metric, "x", false)]
    [InlineData("metrics.x desc", SearchEntity.Metric, "x", false)]
    [InlineData("params.lr", SearchEntity.Param, "lr", true)]
    [InlineData("params.learning_rate DESC", SearchEntity.Param, "learning_rate", false)]
    [InlineData("tags.mlflow.runName", SearchEntity.Tag, "mlflow.runName", true)]
    [InlineData("attributes.start_time ASC", SearchEntity.Attribute, "start_time", true)]
    [InlineData("start_time", SearchEntity.Attribute, "start_time", true)]
    [InlineData("created DESC", SearchEntity.Attribute, "start_time", false)]
    [InlineData("run_name", SearchEntity.Attribute, "run_name", true)]
    [InlineData("metrics.`val loss` DESC", SearchEntity.Metric, "val loss", false)]
    [InlineData("metrics.\"val loss\"", SearchEntity.Metric, "val loss", true)]
    [InlineData("  metrics.x   DESC  ", SearchEntity.Metric, "x", false)]
    public void Reads_a_clause_and_its_direction(string clause, SearchEntity entity, string key, bool ascending) =>
        One(clause).ShouldBe(new OrderTerm(entity, key, ascending));

    [Theory]
    [InlineData("name", "name", true)]
    [InlineData("experiment_id DESC", "experiment_id", false)]
    [InlineData("attribute.last_update_time desc", "last_update_time", false)]
    [InlineData("creation_time", "creation_time", true)]
    public void Reads_experiment_order_keys(string clause, string key, bool ascending) =>
        One(clause, SearchScope.Experiments).ShouldBe(new OrderTerm(SearchEntity.Attribute, key, ascending));

    [Theory]
    [InlineData("metrics.x up", "Invalid ordering key in order_by clause 'metrics.x up'.")]
    [InlineData("metrics.x ASC DESC", "Invalid order_by clause 'metrics.x ASC DESC'. Could not be parsed.")]
    [InlineData("", "Invalid order_by clause ''. Could not be parsed.")]
    [InlineData("> 1", "Invalid order_by clause '> 1'. Could not be parsed.")]
    [InlineData("metrics.x; DROP TABLE runs", "Invalid order_by clause 'metrics.x; DROP TABLE runs'. Could not be parsed.")]
    [InlineData("metrics.`x", "Invalid order_by clause 'metrics.`x'. Could not be parsed.")]
    [InlineData("foo.x", "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']")]
    [InlineData("lifecycle_stage", "Invalid attribute key 'lifecycle_stage' specified. Valid keys are '{'Created', 'artifact_uri', 'created', 'end_time', 'run_id', 'run_name', 'start_time', 'status', 'user_id'}'")]
    [InlineData("datasets.name", "Invalid identifier type 'dataset'")]
    public void Rejects_malformed_run_orders_with_mlflows_message(string clause, string message) =>
        Error([clause]).ShouldBe(message);

    [Theory]
    [InlineData("tags.x", "Invalid order_by entity: tag")]
    [InlineData("metrics.x", "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')")]
    [InlineData("lifecycle_stage", "Invalid attribute key 'lifecycle_stage' specified. Valid keys are '{'creation_time', 'experiment_id', 'last_update_time', 'name'}'")]
    public void Rejects_malformed_experiment_orders(string clause, string message) =>
        Error([clause], SearchScope.Experiments).ShouldBe(message);

    [Fact]
    public void Rejects_duplicate_fields_with_mlflows_message() =>
        Error(["metrics.a", "metrics.a DESC"]).ShouldBe("`order_by` contains duplicate fields: ['metrics.a', 'metrics.a DESC']");

    [Fact]
    public void Treats_an_alias_and_its_attribute_as_the_same_field() =>
        Error(["created", "start_time"]).ShouldStartWith("`order_by` contains duplicate fields");

    [Fact]
    public void Rejects_more_clauses_than_the_limit() =>
        Error(Enumerable.Range(0, OrderByParser.MaxTerms + 1).Select(i => $"metrics.m{i}").ToArray())
            .ShouldBe("Invalid order_by: 21 clauses, more than the 20 allowed.");
}

public class PageTokenTests
{
    private static readonly string Hash = PageToken.QueryHash(SearchScope.Runs, [1], "metrics.a > 1", ["metrics.a"], ViewType.ActiveOnly);

    [Fact]
    public void Round_trips_an_offset_through_an_opaque_url_safe_token()
    {
        var token = PageToken.Create(300, Hash);
        token.ShouldNotContain("=");
        token.ShouldNotContain("+");
        token.ShouldNotContain("/");
        PageToken.ReadOffset(token, Hash).ShouldBe(300);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Reads_no_token_as_the_first_page(string? token) => PageToken.ReadOffset(token, Hash).ShouldBe(0);

    [Fact]
    public void Rejects_a_token_of_another_query()
    {
        var token = PageToken.Create(2, Hash);
        var others = new[]
        {
            PageToken.QueryHash(SearchScope.Runs, [2], "metrics.a > 1", ["metrics.a"], ViewType.ActiveOnly),
            PageToken.QueryHash(SearchScope.Runs, [1], "metrics.a > 2", ["metrics.a"], ViewType.ActiveOnly),
            PageToken.QueryHash(SearchScope.Runs, [1], "metrics.a > 1", ["metrics.a DESC"], ViewType.ActiveOnly),
            PageToken.QueryHash(SearchScope.Runs, [1], "metrics.a > 1", ["metrics.a"], ViewType.All),
            PageToken.QueryHash(SearchScope.Experiments, [1], "metrics.a > 1", ["metrics.a"], ViewType.ActiveOnly),
        };
        foreach (var other in others)
        {
            Should.Throw<MlflowException>(() => PageToken.ReadOffset(token, other)).Message
                .ShouldBe("Invalid page token: it was issued for a search with another filter, order_by, experiment ids or view type.");
        }
    }

    [Fact]
    public void Ignores_the_order_of_experiment_ids_and_surrounding_blanks_of_the_filter() =>
        PageToken.QueryHash(SearchScope.Runs, [2, 1], " metrics.a > 1 ", [], ViewType.ActiveOnly)
            .ShouldBe(PageToken.QueryHash(SearchScope.Runs, [1, 2], "metrics.a > 1", [], ViewType.ActiveOnly));

    [Theory]
    [InlineData("not a token!")]
    [InlineData("eyJvZmZzZXQiOiAyfQ==")] // MLflow's own {"offset": 2}
    [InlineData("bnVsbA")] // null
    [InlineData("W10")] // []
    [InlineData("e30")] // {}
    public void Rejects_a_malformed_token(string token) =>
        Should.Throw<MlflowException>(() => PageToken.ReadOffset(token, Hash)).Message
            .ShouldBe("Invalid page token: it is not a token this server issued for a search.");

    [Fact]
    public void Rejects_a_token_with_a_lone_surrogate() =>
        Should.Throw<MlflowException>(() => PageToken.ReadOffset("e30" + '\ud800', Hash)).ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);

    [Fact]
    public void Rejects_a_negative_offset()
    {
        var forged = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{{\"o\":-5,\"q\":\"{Hash}\"}}"))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Should.Throw<MlflowException>(() => PageToken.ReadOffset(forged, Hash)).ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
    }

    [Fact]
    public void Rejects_an_oversized_token() =>
        Should.Throw<MlflowException>(() => PageToken.ReadOffset(new string('A', 10_000), Hash)).ErrorCode
            .ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
}
