using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Search;
using Dashboard.Tracking;

namespace Dashboard.Core.Tests.Search;

public class ExperimentSearchServiceTests
{
    private static ExperimentSearchRequest Request(string? filter = null, string[]? orderBy = null,
        ViewType viewType = ViewType.ActiveOnly, long maxResults = 1000, string? pageToken = null) =>
        new(filter, viewType, maxResults, orderBy ?? [], pageToken);

    private static async Task<List<string>> NamesAsync(TestDatabase database, ExperimentSearchRequest request) =>
        (await new ExperimentSearchService(database.Factory).SearchAsync(request, TestContext.Current.CancellationToken))
            .Items.Select(e => e.Name).ToList();

    private static async Task<MlflowException> RejectsAsync(TestDatabase database, ExperimentSearchRequest request)
    {
        var ex = await Should.ThrowAsync<MlflowException>(() =>
            new ExperimentSearchService(database.Factory).SearchAsync(request, TestContext.Current.CancellationToken));
        ex.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        return ex;
    }

    private static async Task SeedAsync(TestDatabase database)
    {
        await database.ExperimentAsync("paddle-mnist", 300, 900, tags: [("team", "vision"), ("owner", "Ana")]);
        await database.ExperimentAsync("Paddle-OCR", 200, 800, tags: [("team", "Vision")]);
        await database.ExperimentAsync("torch-nlp", 200, 700, tags: [("team", "nlp")]);
        await database.ExperimentAsync("old-deleted", 100, 600, stage: LifecycleStage.Deleted);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Orders_by_creation_time_descending_then_experiment_id_by_default(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await SeedAsync(database);

        // "Default" is created at start-up, so it is the newest.
        (await NamesAsync(database, Request())).ShouldBe(["Default", "paddle-mnist", "Paddle-OCR", "torch-nlp"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Filters_on_name_tags_and_times(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await SeedAsync(database);

        (await NamesAsync(database, Request("name LIKE 'paddle%'"))).ShouldBe(["paddle-mnist"]);
        (await NamesAsync(database, Request("name ILIKE 'paddle%'"))).ShouldBe(["paddle-mnist", "Paddle-OCR"]);
        (await NamesAsync(database, Request("name = 'torch-nlp'"))).ShouldBe(["torch-nlp"]);
        (await NamesAsync(database, Request("attribute.name != 'Default' and name != 'torch-nlp'"))).ShouldBe(["paddle-mnist", "Paddle-OCR"]);
        (await NamesAsync(database, Request("tags.team = 'vision' AND name = 'paddle-mnist'"))).ShouldBe(["paddle-mnist"]);
        (await NamesAsync(database, Request("tags.team = 'vision'"))).ShouldBe(["paddle-mnist"]);
        (await NamesAsync(database, Request("tag.team ILIKE 'VISION'"))).ShouldBe(["paddle-mnist", "Paddle-OCR"]);
        (await NamesAsync(database, Request("tags.owner != 'Bo'"))).ShouldBe(["paddle-mnist"]);
        (await NamesAsync(database, Request("creation_time <= 200"))).ShouldBe(["Paddle-OCR", "torch-nlp"]);
        (await NamesAsync(database, Request("creation_time = 200 and last_update_time > 750"))).ShouldBe(["Paddle-OCR"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Orders_by_any_orderable_attribute_with_experiment_id_descending_as_tie_breaker(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await SeedAsync(database);
        const string NotDefault = "name != 'Default'";

        // Names sort in the database's collation; these two sort alike in all of them.
        (await NamesAsync(database, Request(NotDefault + " and name != 'Paddle-OCR'", ["name DESC"]))).ShouldBe(["torch-nlp", "paddle-mnist"]);
        (await NamesAsync(database, Request(NotDefault, ["last_update_time ASC"]))).ShouldBe(["torch-nlp", "Paddle-OCR", "paddle-mnist"]);
        (await NamesAsync(database, Request(NotDefault, ["creation_time"]))).ShouldBe(["torch-nlp", "Paddle-OCR", "paddle-mnist"]);
        (await NamesAsync(database, Request(NotDefault, ["creation_time", "experiment_id"]))).ShouldBe(["Paddle-OCR", "torch-nlp", "paddle-mnist"]);
        (await NamesAsync(database, Request(NotDefault, ["experiment_id DESC"]))).ShouldBe(["torch-nlp", "Paddle-OCR", "paddle-mnist"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Applies_the_view_type_to_the_experiment_lifecycle_stage(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await SeedAsync(database);

        (await NamesAsync(database, Request("name = 'old-deleted'"))).ShouldBeEmpty();
        (await NamesAsync(database, Request("name = 'old-deleted'", viewType: ViewType.DeletedOnly))).ShouldBe(["old-deleted"]);
        (await NamesAsync(database, Request(viewType: ViewType.All))).Count.ShouldBe(5);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Pages_without_a_token_after_the_last_page(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await SeedAsync(database);
        var service = new ExperimentSearchService(database.Factory);
        var ct = TestContext.Current.CancellationToken;

        var first = await service.SearchAsync(Request(maxResults: 2), ct);
        first.Items.Select(e => e.Name).ShouldBe(["Default", "paddle-mnist"]);
        first.NextPageToken.ShouldNotBeNull();
        var second = await service.SearchAsync(Request(maxResults: 2, pageToken: first.NextPageToken), ct);
        second.Items.Select(e => e.Name).ShouldBe(["Paddle-OCR", "torch-nlp"]);
        // MLflow's experiment search asks for one more row: an exactly full last page has no token.
        second.NextPageToken.ShouldBeNull();

        (await RejectsAsync(database, Request("name != 'x'", maxResults: 2, pageToken: first.NextPageToken)))
            .Message.ShouldStartWith("Invalid page token");
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Returns_experiments_with_their_tags(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await SeedAsync(database);

        var experiment = (await new ExperimentSearchService(database.Factory).SearchAsync(Request("name = 'paddle-mnist'"),
            TestContext.Current.CancellationToken)).Items.Single();
        experiment.Tags.Select(t => (t.Key, t.Value)).Order().ShouldBe([("owner", "Ana"), ("team", "vision")]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Rejects_bad_arguments_with_mlflows_messages(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);

        (await RejectsAsync(database, Request(maxResults: 0))).Message
            .ShouldBe("Invalid value for max_results. It must be a positive integer, but got 0");
        (await RejectsAsync(database, Request(maxResults: 50_001))).Message
            .ShouldBe("Invalid value for max_results. It must be at most 50000, but got 50001");
        (await RejectsAsync(database, Request("metrics.a > 1"))).Message
            .ShouldBe("Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')");
        (await RejectsAsync(database, Request(orderBy: ["tags.team"]))).Message.ShouldBe("Invalid order_by entity: tag");
    }
}
