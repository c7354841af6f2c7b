using Dashboard.Data;
using Dashboard.Search;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Core.Tests.Search;

/// <summary>
/// Translates every query shape of a search to SQL for each provider, without a server: SQL Server has none in
/// this test run, and a construct its provider cannot translate would otherwise surface as a 500 in production.
/// </summary>
public class SqlTranslationTests
{
    public static TheoryData<DatabaseProvider> AllProviders => [DatabaseProvider.Sqlite, DatabaseProvider.PostgreSql, DatabaseProvider.SqlServer];

    private static DashboardDbContext Context(DatabaseProvider provider) => provider switch
    {
        DatabaseProvider.Sqlite => new SqliteDesignFactory().CreateDbContext([]),
        DatabaseProvider.PostgreSql => new PostgresDesignFactory().CreateDbContext([]),
        _ => new SqlServerDesignFactory().CreateDbContext([]),
    };

    private static readonly string[] Filters =
    [
        "",
        "metrics.acc > 0.5 and metrics.acc != 0 and metrics.loss <= -1e3",
        "params.opt = 'Adam' and params.lr != '0.1' and params.x LIKE 'a%' and params.y ILIKE '%B_'",
        "tags.team = 'vision' and tags.t != 'x' and tags.`mlflow.runName` LIKE '[x]%' and tags.n ILIKE 'Q'",
        "attributes.status = 'FINISHED' and run_name != 'x' and user_id LIKE 'a%' and artifact_uri ILIKE '%s3%'",
        "run_id IN ('a', 'b') and attributes.run_id NOT IN ('c') and run_id = 'd'",
        "start_time > 5 and end_time <= 9.5 and created != 1 and start_time = 2.5",
        "datasets.name = 'm' and datasets.digest IN ('d') and datasets.context NOT IN ('train') and datasets.name ILIKE 'x'",
    ];

    private static readonly string[][] Orders =
    [
        [],
        ["metrics.acc DESC", "params.lr", "tags.t DESC"],
        ["params.lr DESC", "metrics.acc"],
        ["tags.t", "end_time DESC", "run_name", "user_id", "status", "artifact_uri", "run_id"],
        ["start_time ASC", "metrics.acc"],
    ];

    [Theory]
    [MemberData(nameof(AllProviders))]
    public void Translates_every_logged_model_search_shape(DatabaseProvider provider)
    {
        using var db = Context(provider);
        string[] filters =
        [
            "",
            "metrics.acc > 0.5 and metrics.loss != 1 and params.lr = '0.1' and params.opt IN ('a', 'b') and tags.t ILIKE 'x%'",
            "name LIKE 'm%' and status IN ('READY', 'FAILED') and model_type != 'x' and source_run_id NOT IN ('r')",
            "creation_time > 5 and last_updated_timestamp_ms <= 9.5 and model_id = 'm-1' and artifact_location ILIKE '%a%'",
        ];
        LoggedModelOrder[][] orders =
        [
            [],
            [new("metrics.acc", false, "test", "d1"), new("name")],
            [new("metrics.`val loss`"), new("creation_timestamp", false), new("model_id")],
            [new("status"), new("model_type", false), new("experiment_id"), new("last_updated_timestamp_ms")],
        ];
        LoggedModelDatasetFilter[][] datasets = [[], [new("test", null), new("train", "d2")]];
        for (var i = 0; i < filters.Length; i++)
        {
            var request = new LoggedModelSearchRequest([1, 2], filters[i], datasets[i % 2], 50, orders[i], null);
            Should.NotThrow(() => LoggedModelSearchService.Query(db, request).Skip(10).Take(51).ToQueryString(),
                $"{provider}: {filters[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(AllProviders))]
    public void Translates_every_run_search_shape(DatabaseProvider provider)
    {
        using var db = Context(provider);
        // Every filter and every order at least once (pairs, not the whole product: each translation costs).
        for (var i = 0; i < Math.Max(Filters.Length, Orders.Length) + 2; i++)
        {
            var (filter, order) = (Filters[i % Filters.Length], Orders[(i * 3) % Orders.Length]);
            var query = new RunQuery(db, [1], ViewType.ActiveOnly, FilterParser.Parse(filter), OrderByParser.Parse(order));
            foreach (var shape in query.Shapes())
            {
                Should.NotThrow(() => shape.ToQueryString(), $"{provider}: {filter} / {string.Join(", ", order)}");
            }
        }
        var multi = new RunQuery(db, [1, 2], ViewType.All, FilterParser.Parse(Filters[1]), OrderByParser.Parse(Orders[1]));
        foreach (var shape in multi.Shapes())
        {
            Should.NotThrow(() => shape.ToQueryString());
        }
    }

    [Theory]
    [MemberData(nameof(AllProviders))]
    public void Translates_experiment_searches(DatabaseProvider provider)
    {
        using var db = Context(provider);
        var filter = FilterParser.Parse(
            "name LIKE 'a%' and name ILIKE 'b' and name != 'c' and tags.t = 'x' and tags.u ILIKE 'y' and creation_time > 1.5 and last_update_time = 3",
            SearchScope.Experiments);
        var order = OrderByParser.Parse(["name DESC", "last_update_time", "creation_time", "experiment_id"], SearchScope.Experiments);
        Should.NotThrow(() => ExperimentSearchService.Query(db, ViewType.All, filter, order).Take(5).ToQueryString());
    }

    [Theory]
    [MemberData(nameof(AllProviders))]
    public void Translates_every_registry_search_shape(DatabaseProvider provider)
    {
        using var db = Context(provider);
        string[] modelFilters =
        [
            "",
            "name = 'a' and name != 'b' and name LIKE 'c%' and name ILIKE '%D_'",
            "tags.t = 'x' and tag.`u v` != 'y' and tags.w LIKE '[z]%' and tags.q ILIKE 'Q' and tag.`mlflow.prompt.is_prompt` != 'true'",
            "tags.`mlflow.prompt.is_prompt` = 'true' and attribute.name = 'p'",
        ];
        string[][] modelOrders = [[], ["name DESC"], ["timestamp"], ["last_updated_timestamp DESC", "name"]];
        for (var i = 0; i < modelFilters.Length; i++)
        {
            var query = RegistrySearchService.RegisteredModels(db, FilterParser.Parse(modelFilters[i], SearchScope.RegisteredModels),
                OrderByParser.Parse(modelOrders[i], SearchScope.RegisteredModels));
            Should.NotThrow(() => query.Skip(10).Take(101).Select(m => m.Id).ToQueryString(), $"{provider}: {modelFilters[i]}");
        }
        string[] versionFilters =
        [
            "",
            "name = 'a' and run_id = 'r' and run_id != 's' and run_id IN ('t', 'u') and run_id NOT IN ('v')",
            "source_path = 'a' and source_path != 'b' and source_path LIKE 'models:/%' and source_path ILIKE '%S3%'",
            "version_number = 1 and version_number != 2 and version_number > 1.5 and version_number <= '9' and version_number < 1e30",
            "tags.t = 'x' and tags.u ILIKE 'y%' and name LIKE 'm%' and tags.`mlflow.prompt.is_prompt` = 'true'",
        ];
        string[][] versionOrders =
        [
            [], ["version_number"], ["creation_timestamp DESC", "name"], ["last_updated_timestamp", "version_number DESC", "name DESC"], ["name"],
        ];
        for (var i = 0; i < versionFilters.Length; i++)
        {
            var query = RegistrySearchService.ModelVersions(db, FilterParser.Parse(versionFilters[i], SearchScope.ModelVersions),
                OrderByParser.Parse(versionOrders[i], SearchScope.ModelVersions));
            Should.NotThrow(() => query.Skip(10).Take(1001).Select(v => new ModelVersionKey(v.RegisteredModelId, v.Version)).ToQueryString(),
                $"{provider}: {versionFilters[i]}");
        }
    }

    [Fact]
    public void Compares_registry_names_and_tags_on_sql_server_under_a_binary_collation()
    {
        using var db = Context(DatabaseProvider.SqlServer);
        var sql = RegistrySearchService.RegisteredModels(db, FilterParser.Parse("name = 'Model' and tags.t LIKE 'a%'", SearchScope.RegisteredModels), [])
            .ToQueryString();
        sql.ShouldContain("COLLATE Latin1_General_100_BIN2");
        sql.ShouldContain("DATALENGTH");
        sql.ShouldContain("ESCAPE N'\\'");
    }

    [Fact]
    public void Binds_every_registry_filter_value_as_a_parameter()
    {
        using var db = Context(DatabaseProvider.PostgreSql);
        var models = RegistrySearchService.RegisteredModels(db, FilterParser.Parse(
            "name = '''; DROP TABLE registered_models; --' and tags.t LIKE '%evil%'", SearchScope.RegisteredModels), []).ToQueryString();
        var versions = RegistrySearchService.ModelVersions(db, FilterParser.Parse(
            "run_id IN ('x'') OR 1=1 --') and source_path ILIKE '%evil%' and name != 'evil'", SearchScope.ModelVersions), []).ToQueryString();
        foreach (var sql in new[] { models, versions })
        {
            var statement = sql[sql.IndexOf("SELECT", StringComparison.Ordinal)..];
            statement.ShouldNotContain("DROP TABLE");
            statement.ShouldNotContain("evil");
            statement.ShouldNotContain("1=1");
        }
    }

    [Fact]
    public void Compares_strings_on_sql_server_under_a_binary_collation_and_byte_length()
    {
        using var db = Context(DatabaseProvider.SqlServer);
        var sql = RunSearchService.Query(db, [1], ViewType.ActiveOnly, FilterParser.Parse("params.opt = 'Adam' and tags.t LIKE 'a%'"), []).ToQueryString();
        sql.ShouldContain("COLLATE Latin1_General_100_BIN2");
        sql.ShouldContain("DATALENGTH");
        sql.ShouldContain("ESCAPE N'\\'");
    }

    [Fact]
    public void Uses_a_case_sensitive_glob_for_like_on_sqlite()
    {
        using var db = Context(DatabaseProvider.Sqlite);
        var sql = RunSearchService.Query(db, [1], ViewType.ActiveOnly, FilterParser.Parse("tags.t LIKE 'a%' and tags.u ILIKE 'b%'"), []).ToQueryString();
        sql.ShouldContain("GLOB");
        sql.ShouldContain("LIKE");
    }

    [Fact]
    public void Binds_every_filter_value_as_a_parameter()
    {
        using var db = Context(DatabaseProvider.PostgreSql);
        var sql = RunSearchService.Query(db, [1], ViewType.ActiveOnly,
            FilterParser.Parse("tags.note = '''; DROP TABLE runs; --' and params.p LIKE '%evil%' and run_id IN ('x'') OR 1=1 --')"), []).ToQueryString();
        var statement = sql[sql.IndexOf("SELECT", StringComparison.Ordinal)..];
        statement.ShouldNotContain("DROP TABLE");
        statement.ShouldNotContain("evil");
        statement.ShouldNotContain("1=1");
    }
}

public class LikePatternTests
{
    [Theory]
    [InlineData("abc", "abc")]
    [InlineData("a%b_c", "a*b?c")]
    [InlineData("*?[", "[*][?][[]")]
    [InlineData("]x\\", "]x\\")]
    public void Translates_mlflow_like_patterns_to_sqlite_globs(string like, string glob) =>
        SearchPredicates.LikeToGlob(like).ShouldBe(glob);

    [Theory]
    [InlineData("a\\b%", false, "a\\\\b%")]
    [InlineData("[x]_", false, "[x]_")]
    [InlineData("[x]_", true, "\\[x]_")]
    public void Escapes_backslashes_and_sql_server_brackets_in_like_patterns(string like, bool brackets, string escaped) =>
        SearchPredicates.EscapeLike(like, brackets).ShouldBe(escaped);
}
