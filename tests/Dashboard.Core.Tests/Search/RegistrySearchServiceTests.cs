using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Registry;
using Dashboard.Search;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Core.Tests.Search;

/// <summary>Registered models and versions for search tests, written straight through the DbContext.</summary>
internal static class MakeRegistry
{
    public const string PromptTag = RegistrySearchService.PromptTag;

    public static RegisteredModel Model(string name, long lastUpdated = 1000, long created = 100, params (string Key, string Value)[] tags)
    {
        var model = new RegisteredModel { Name = name, CreationTime = created, LastUpdatedTime = lastUpdated };
        foreach (var (key, value) in tags)
        {
            model.Tags.Add(new RegisteredModelTag { Key = key, Value = value });
        }
        return model;
    }

    public static RegisteredModel Version(this RegisteredModel model, int version, long lastUpdated = 1000, long created = 100,
        string? runId = null, string? source = null, bool deleted = false, params (string Key, string Value)[] tags)
    {
        var source1 = source ?? $"models:/m-{model.Name}-{version}";
        var v = new ModelVersion
        {
            Version = version,
            CreationTime = created,
            LastUpdatedTime = lastUpdated,
            Source = source1,
            StorageLocation = source1,
            RunId = runId,
            Deleted = deleted,
        };
        foreach (var (key, value) in tags)
        {
            v.Tags.Add(new ModelVersionTag { Key = key, Value = value });
        }
        model.Versions.Add(v);
        model.LastVersion = Math.Max(model.LastVersion, version);
        return model;
    }

    public static async Task AddAsync(this TestDatabase database, params RegisteredModel[] models)
    {
        await using var db = await database.Factory.CreateDbContextAsync();
        db.RegisteredModels.AddRange(models);
        await db.SaveChangesAsync();
    }

    public static RegisteredModelSearchRequest Models(string? filter = null, string[]? orderBy = null, long? maxResults = null,
        string? pageToken = null) => new(filter, maxResults, orderBy ?? [], pageToken);

    public static ModelVersionSearchRequest Versions(string? filter = null, string[]? orderBy = null, long? maxResults = null,
        string? pageToken = null) => new(filter, maxResults, orderBy ?? [], pageToken);
}

public class RegistrySearchServiceTests
{
    private const string RunA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string RunB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    private static RegistrySearchService Service(TestDatabase database) => new(database.Factory);

    /// <summary>The names of the registered models a search finds, in order.</summary>
    private static async Task<List<string>> ModelsAsync(TestDatabase database, RegisteredModelSearchRequest request)
    {
        var page = await Service(database).SearchRegisteredModelsAsync(request, TestContext.Current.CancellationToken);
        await using var db = await database.Factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
        var names = await db.RegisteredModels.ToDictionaryAsync(m => m.Id, m => m.Name, TestContext.Current.CancellationToken);
        return page.Items.Select(id => names[id]).ToList();
    }

    private static Task<List<string>> ModelsAsync(TestDatabase database, string? filter, params string[] orderBy) =>
        ModelsAsync(database, MakeRegistry.Models(filter, orderBy));

    /// <summary>The versions a search finds as <c>name/version</c>, in order.</summary>
    private static async Task<List<string>> VersionsAsync(TestDatabase database, ModelVersionSearchRequest request)
    {
        var page = await Service(database).SearchModelVersionsAsync(request, TestContext.Current.CancellationToken);
        await using var db = await database.Factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
        var names = await db.RegisteredModels.ToDictionaryAsync(m => m.Id, m => m.Name, TestContext.Current.CancellationToken);
        return page.Items.Select(k => $"{names[k.RegisteredModelId]}/{k.Version}").ToList();
    }

    private static Task<List<string>> VersionsAsync(TestDatabase database, string? filter, params string[] orderBy) =>
        VersionsAsync(database, MakeRegistry.Versions(filter, orderBy));

    private static async Task<string> RejectsAsync(TestDatabase database, RegisteredModelSearchRequest request)
    {
        var ex = await Should.ThrowAsync<MlflowException>(() =>
            Service(database).SearchRegisteredModelsAsync(request, TestContext.Current.CancellationToken));
        ex.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        return ex.Message;
    }

    private static async Task<string> RejectsAsync(TestDatabase database, ModelVersionSearchRequest request)
    {
        var ex = await Should.ThrowAsync<MlflowException>(() =>
            Service(database).SearchModelVersionsAsync(request, TestContext.Current.CancellationToken));
        ex.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        return ex.Message;
    }

    // ---- registered models

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Filters_registered_models_by_name_with_each_comparator(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await database.AddAsync(
            MakeRegistry.Model("paddle-mnist", lastUpdated: 300),
            MakeRegistry.Model("Paddle-OCR", lastUpdated: 200),
            MakeRegistry.Model("torch-nlp", lastUpdated: 100),
            MakeRegistry.Model("paddle-mnist ", lastUpdated: 50));

        (await ModelsAsync(database, "name = 'paddle-mnist'")).ShouldBe(["paddle-mnist"]);
        (await ModelsAsync(database, "attribute.name = \"torch-nlp\"")).ShouldBe(["torch-nlp"]);
        (await ModelsAsync(database, "name = 'PADDLE-MNIST'")).ShouldBeEmpty();
        (await ModelsAsync(database, "name != 'paddle-mnist'", "timestamp DESC")).ShouldBe(["Paddle-OCR", "torch-nlp", "paddle-mnist "]);
        (await ModelsAsync(database, "name LIKE 'paddle%'", "timestamp DESC")).ShouldBe(["paddle-mnist", "paddle-mnist "]);
        (await ModelsAsync(database, "name like '%-___'")).ShouldBe(["Paddle-OCR", "torch-nlp"]);
        (await ModelsAsync(database, "name ILIKE 'PADDLE-%'", "last_updated_timestamp DESC"))
            .ShouldBe(["paddle-mnist", "Paddle-OCR", "paddle-mnist "]);
        (await ModelsAsync(database, "name LIKE 'paddle%' AND name != 'paddle-mnist '")).ShouldBe(["paddle-mnist"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Matches_a_registered_model_tag_only_on_models_that_have_it(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await database.AddAsync(
            MakeRegistry.Model("m1", tags: [("task", "mnist"), ("team key", "Vision")]),
            MakeRegistry.Model("m2", tags: [("task", "ocr")]),
            MakeRegistry.Model("m3"));

        (await ModelsAsync(database, "tags.task = 'mnist'")).ShouldBe(["m1"]);
        (await ModelsAsync(database, "tag.task = 'mnist'")).ShouldBe(["m1"]);
        // As for runs (RunSearchServiceTests.Matches_only_runs_that_have_the_param_or_tag): m3 has no task to differ.
        (await ModelsAsync(database, "tags.task != 'mnist'")).ShouldBe(["m2"]);
        (await ModelsAsync(database, "tags.task LIKE '%'")).ShouldBe(["m1", "m2"]);
        (await ModelsAsync(database, "tags.`team key` = 'Vision'")).ShouldBe(["m1"]);
        (await ModelsAsync(database, "tags.\"team key\" LIKE 'vision'")).ShouldBeEmpty();
        (await ModelsAsync(database, "tags.`team key` ILIKE 'vision'")).ShouldBe(["m1"]);
        (await ModelsAsync(database, "tags.task LIKE 'm%' and tags.task != 'x' and name = 'm1'")).ShouldBe(["m1"]);
        (await ModelsAsync(database, "tags.TASK = 'mnist'")).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Hides_prompts_and_lets_models_without_the_prompt_tag_match_mlflow_3_clients_filter(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await database.AddAsync(
            MakeRegistry.Model("model", tags: [("task", "mnist")]),
            MakeRegistry.Model("not-a-prompt", tags: [(MakeRegistry.PromptTag, "false")]),
            MakeRegistry.Model("prompt", tags: [(MakeRegistry.PromptTag, "true")]),
            MakeRegistry.Model("shouting-prompt", tags: [(MakeRegistry.PromptTag, "TRUE")]));

        // What MLflow 3.9 clients add to every registered-models/search (recorded, seq 286-293).
        (await ModelsAsync(database, "tag.`mlflow.prompt.is_prompt` != 'true'")).ShouldBe(["model", "not-a-prompt", "shouting-prompt"]);
        (await ModelsAsync(database, "name = 'model' AND tag.`mlflow.prompt.is_prompt` != 'true'")).ShouldBe(["model"]);
        // No filter hides prompts too, and so does any other comparison on the tag, which is then dropped.
        (await ModelsAsync(database, filter: null)).ShouldBe(["model", "not-a-prompt", "shouting-prompt"]);
        (await ModelsAsync(database, "tags.`mlflow.prompt.is_prompt` = 'false'")).ShouldBe(["model", "not-a-prompt", "shouting-prompt"]);
        (await ModelsAsync(database, "tags.`mlflow.prompt.is_prompt` LIKE 'x%'")).ShouldBe(["model", "not-a-prompt", "shouting-prompt"]);
        // Asking for prompts makes the comparisons ordinary ones; the value is compared exactly.
        (await ModelsAsync(database, "tags.`mlflow.prompt.is_prompt` = 'true'")).ShouldBe(["prompt"]);
        (await ModelsAsync(database, "tags.`mlflow.prompt.is_prompt` != 'False'")).ShouldBe(["not-a-prompt", "prompt", "shouting-prompt"]);
        (await ModelsAsync(database, "tags.`mlflow.prompt.is_prompt` = 'TRUE'")).ShouldBe(["shouting-prompt"]);
        // The first comparison on the tag decides.
        (await ModelsAsync(database, "tags.`mlflow.prompt.is_prompt` != 'true' and tags.`mlflow.prompt.is_prompt` = 'true'"))
            .ShouldBe(["model", "not-a-prompt", "shouting-prompt"]);
        // Any other tag that a model lacks never matches !=, as for runs.
        (await ModelsAsync(database, "tags.task != 'ocr'")).ShouldBe(["model"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Orders_registered_models_by_name_or_last_update_then_by_name(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await database.AddAsync(
            MakeRegistry.Model("b-model", lastUpdated: 200, created: 1),
            MakeRegistry.Model("c-model", lastUpdated: 100, created: 2),
            MakeRegistry.Model("a-model", lastUpdated: 200, created: 3));

        (await ModelsAsync(database, filter: null)).ShouldBe(["a-model", "b-model", "c-model"]);
        (await ModelsAsync(database, null, "name DESC")).ShouldBe(["c-model", "b-model", "a-model"]);
        (await ModelsAsync(database, null, "name ASC")).ShouldBe(["a-model", "b-model", "c-model"]);
        (await ModelsAsync(database, null, "last_updated_timestamp DESC")).ShouldBe(["a-model", "b-model", "c-model"]);
        (await ModelsAsync(database, null, "timestamp")).ShouldBe(["c-model", "a-model", "b-model"]);
        (await ModelsAsync(database, null, "timestamp desc", "name desc")).ShouldBe(["b-model", "a-model", "c-model"]);
        (await ModelsAsync(database, null, "`name` DESC")).ShouldBe(["c-model", "b-model", "a-model"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Pages_registered_models_with_a_token_only_while_more_remain(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await database.AddAsync(
            MakeRegistry.Model("aux-0", tags: [("aux", "yes")]),
            MakeRegistry.Model("aux-1", tags: [("aux", "yes")]),
            MakeRegistry.Model("aux-2", tags: [("aux", "yes")]),
            MakeRegistry.Model("other"));
        var service = Service(database);
        var ct = TestContext.Current.CancellationToken;
        const string Filter = "name LIKE 'aux-%' AND tag.`mlflow.prompt.is_prompt` != 'true'";

        // The recorded exchange (seq 290, 291): 2 of 3, then the last one without a token.
        var first = await service.SearchRegisteredModelsAsync(MakeRegistry.Models(Filter, ["name ASC"], 2), ct);
        first.Items.Count.ShouldBe(2);
        first.NextPageToken.ShouldNotBeNull();
        var second = await service.SearchRegisteredModelsAsync(MakeRegistry.Models(Filter, ["name ASC"], 2, first.NextPageToken), ct);
        (await ModelsAsync(database, MakeRegistry.Models(Filter, ["name ASC"], 2, first.NextPageToken))).ShouldBe(["aux-2"]);
        second.NextPageToken.ShouldBeNull();
        // A page that ends exactly at the last model has no token either.
        (await service.SearchRegisteredModelsAsync(MakeRegistry.Models(Filter, ["name ASC"], 3), ct)).NextPageToken.ShouldBeNull();
        (await service.SearchRegisteredModelsAsync(MakeRegistry.Models(null, null, 1), ct)).NextPageToken.ShouldNotBeNull();

        (await RejectsAsync(database, MakeRegistry.Models(Filter, ["name DESC"], 2, first.NextPageToken)))
            .ShouldStartWith("Invalid page token: it was issued for a search with another filter");
        (await RejectsAsync(database, MakeRegistry.Models("name LIKE 'aux-%'", ["name ASC"], 2, first.NextPageToken)))
            .ShouldStartWith("Invalid page token");
        (await RejectsAsync(database, MakeRegistry.Models(Filter, ["name ASC"], 2, "eyJvZmZzZXQiOiAyfQ==")))
            .ShouldBe("Invalid page token: it is not a token this server issued for a search.");
        // A registered-models token is no model-versions token.
        (await RejectsAsync(database, MakeRegistry.Versions(Filter, ["name ASC"], 2, first.NextPageToken)))
            .ShouldStartWith("Invalid page token");
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Rejects_bad_registered_model_searches_with_mlflows_messages(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);

        (await RejectsAsync(database, MakeRegistry.Models(maxResults: 1001)))
            .ShouldBe("Invalid value for request parameter max_results. It must be at most 1000, but got value 1001");
        (await RejectsAsync(database, MakeRegistry.Models(maxResults: 0)))
            .ShouldBe("Invalid value for max_results. It must be a positive integer, but got 0");
        // The filter every MLflow 3.9 client error case sends (seq 395): a 400, in this parser's words.
        (await RejectsAsync(database, MakeRegistry.Models("nonsense filter == AND tag.`mlflow.prompt.is_prompt` != 'true'")))
            .ShouldBe("Invalid attribute key 'nonsense' specified. Valid keys are '{'name'}'");
        (await RejectsAsync(database, MakeRegistry.Models("metrics.acc > 1")))
            .ShouldBe("Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')");
        (await RejectsAsync(database, MakeRegistry.Models("attributes.name = 'x'")))
            .ShouldBe("Invalid entity type 'attributes'. Valid entity types are ('attribute', 'tag', 'tags')");
        (await RejectsAsync(database, MakeRegistry.Models("run_id = 'x'")))
            .ShouldBe("Invalid attribute key 'run_id' specified. Valid keys are '{'name'}'");
        (await RejectsAsync(database, MakeRegistry.Models("name > 'x'"))).ShouldBe("Invalid comparator for attribute: >");
        (await RejectsAsync(database, MakeRegistry.Models("tags.t >= 'x'"))).ShouldBe("Invalid comparator for tag: >=");
        (await RejectsAsync(database, MakeRegistry.Models("name IN ('x')")))
            .ShouldBe("Only the 'run_id' attribute supports comparison with a list of quoted string values.");
        (await RejectsAsync(database, MakeRegistry.Models("name = 1")))
            .ShouldBe("Expected a quoted string value or a list of quoted string values for attributes. Got value 1");
        (await RejectsAsync(database, MakeRegistry.Models("tags.t = 1")))
            .ShouldBe("Expected a quoted string value for tag (e.g. 'my-value'). Got value 1");
        (await RejectsAsync(database, MakeRegistry.Models("name = 'a' OR name = 'b'")))
            .ShouldStartWith("Invalid filter 'name = 'a' OR name = 'b'': OR is not supported");
        (await RejectsAsync(database, MakeRegistry.Models(orderBy: ["creation_timestamp"])))
            .ShouldBe("Invalid order by key 'creation_timestamp' specified. Valid keys are '{'name', 'timestamp'}'");
        (await RejectsAsync(database, MakeRegistry.Models(orderBy: ["attribute.name"])))
            .ShouldBe("Invalid order by key 'attribute.name' specified. Valid keys are '{'name', 'timestamp'}'");
        (await RejectsAsync(database, MakeRegistry.Models(orderBy: ["name sideways"])))
            .ShouldBe("Invalid ordering key in order_by clause 'name sideways'.");
        (await RejectsAsync(database, MakeRegistry.Models(orderBy: ["timestamp", "last_updated_timestamp DESC"])))
            .ShouldBe("`order_by` contains duplicate fields: ['timestamp', 'last_updated_timestamp DESC']");
    }

    // ---- model versions

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Orders_model_versions_by_last_update_then_name_then_version_descending_by_default(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await database.AddAsync(
            // The recorded model (seq 212, 280): both versions updated together, so version 2 comes first.
            MakeRegistry.Model("mnist").Version(1, lastUpdated: 500, created: 10).Version(2, lastUpdated: 500, created: 20),
            MakeRegistry.Model("aux").Version(1, lastUpdated: 500, created: 30).Version(2, lastUpdated: 900, created: 40),
            MakeRegistry.Model("old").Version(1, lastUpdated: 100, created: 5));

        (await VersionsAsync(database, filter: null)).ShouldBe(["aux/2", "aux/1", "mnist/2", "mnist/1", "old/1"]);
        (await VersionsAsync(database, "name = 'mnist'")).ShouldBe(["mnist/2", "mnist/1"]);
        (await VersionsAsync(database, "name LIKE 'mnist%'", "version_number DESC")).ShouldBe(["mnist/2", "mnist/1"]);
        (await VersionsAsync(database, null, "version_number")).ShouldBe(["aux/1", "mnist/1", "old/1", "aux/2", "mnist/2"]);
        (await VersionsAsync(database, null, "creation_timestamp DESC")).ShouldBe(["aux/2", "aux/1", "mnist/2", "mnist/1", "old/1"]);
        (await VersionsAsync(database, null, "attribute.creation_timestamp")).ShouldBe(["old/1", "mnist/1", "mnist/2", "aux/1", "aux/2"]);
        (await VersionsAsync(database, null, "name DESC")).ShouldBe(["old/1", "mnist/2", "mnist/1", "aux/2", "aux/1"]);
        (await VersionsAsync(database, null, "last_updated_timestamp", "version_number ASC"))
            .ShouldBe(["old/1", "aux/1", "mnist/1", "mnist/2", "aux/2"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Filters_model_versions_by_name_run_id_source_path_and_tags(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await database.AddAsync(
            MakeRegistry.Model("mnist")
                .Version(1, runId: RunA, source: "mlflow-artifacts:/1/" + RunA + "/artifacts/model", tags: [("validation_status", "approved")])
                .Version(2, runId: RunA, source: "models:/m-2c0d", tags: [("source", "register_model")])
                .Version(3, runId: RunB, source: "s3://Bucket/model"),
            MakeRegistry.Model("aux").Version(1, source: "models:/m-aux"));

        (await VersionsAsync(database, $"name = 'mnist' AND run_id = '{RunA}'", "version_number")).ShouldBe(["mnist/1", "mnist/2"]);
        (await VersionsAsync(database, $"run_id IN ('{RunB}', 'cccccccccccccccccccccccccccccccc')")).ShouldBe(["mnist/3"]);
        (await VersionsAsync(database, $"run_id IN ('{RunA}', '{RunB}',)", "version_number")).ShouldBe(["mnist/1", "mnist/2", "mnist/3"]);
        // A version without a run has no run id to differ: neither != nor NOT IN finds it, as in SQL.
        (await VersionsAsync(database, $"run_id NOT IN ('{RunA}')")).ShouldBe(["mnist/3"]);
        (await VersionsAsync(database, $"run_id != '{RunB}'", "version_number")).ShouldBe(["mnist/1", "mnist/2"]);
        (await VersionsAsync(database, $"run_id = '{RunA.ToUpperInvariant()}'")).ShouldBeEmpty();
        (await VersionsAsync(database, "source_path = 'models:/m-2c0d'")).ShouldBe(["mnist/2"]);
        (await VersionsAsync(database, "source_path LIKE 'models:/%'", "version_number", "name")).ShouldBe(["aux/1", "mnist/2"]);
        (await VersionsAsync(database, "source_path LIKE 's3://bucket/%'")).ShouldBeEmpty();
        (await VersionsAsync(database, "source_path ILIKE 's3://bucket/%'")).ShouldBe(["mnist/3"]);
        (await VersionsAsync(database, "source_path != 'models:/m-aux' AND name = 'aux'")).ShouldBeEmpty();
        (await VersionsAsync(database, "name = 'mnist' AND tags.validation_status = 'approved'")).ShouldBe(["mnist/1"]);
        (await VersionsAsync(database, "tags.validation_status != 'rejected'")).ShouldBe(["mnist/1"]);
        (await VersionsAsync(database, "tag.`source` ILIKE 'REGISTER%'")).ShouldBe(["mnist/2"]);
        (await VersionsAsync(database, "name ILIKE 'MNIST' and version_number >= 2", "version_number DESC")).ShouldBe(["mnist/3", "mnist/2"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Compares_version_numbers_as_numbers(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var model = MakeRegistry.Model("m");
        foreach (var v in new[] { 1, 2, 9, 10, 11 })
        {
            model.Version(v);
        }
        await database.AddAsync(model);
        const string ByVersion = "version_number";

        (await VersionsAsync(database, "version_number = 10", ByVersion)).ShouldBe(["m/10"]);
        (await VersionsAsync(database, "version_number != 10", ByVersion)).ShouldBe(["m/1", "m/2", "m/9", "m/11"]);
        (await VersionsAsync(database, "version_number > 9", ByVersion)).ShouldBe(["m/10", "m/11"]);
        (await VersionsAsync(database, "version_number >= 9", ByVersion)).ShouldBe(["m/9", "m/10", "m/11"]);
        (await VersionsAsync(database, "version_number < 2", ByVersion)).ShouldBe(["m/1"]);
        (await VersionsAsync(database, "version_number <= 2", ByVersion)).ShouldBe(["m/1", "m/2"]);
        (await VersionsAsync(database, "version_number > 1.5 and version_number < 9.5", ByVersion)).ShouldBe(["m/2", "m/9"]);
        (await VersionsAsync(database, "version_number = 2.5", ByVersion)).ShouldBeEmpty();
        (await VersionsAsync(database, "version_number = 1e1", ByVersion)).ShouldBe(["m/10"]);
        // MLflow passes a quoted number to SQL, where SQLite reads it as the number.
        (await VersionsAsync(database, "version_number = '11'", ByVersion)).ShouldBe(["m/11"]);
        (await VersionsAsync(database, "version_number > 99999999999999999999", ByVersion)).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Never_returns_deleted_versions(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await database.AddAsync(MakeRegistry.Model("m")
            .Version(1, runId: RunA, deleted: true, tags: [("t", "x")])
            .Version(2, runId: RunA));

        (await VersionsAsync(database, filter: null)).ShouldBe(["m/2"]);
        (await VersionsAsync(database, "version_number = 1")).ShouldBeEmpty();
        (await VersionsAsync(database, $"run_id = '{RunA}'")).ShouldBe(["m/2"]);
        (await VersionsAsync(database, "tags.t = 'x'")).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Hides_the_versions_of_prompts_unless_the_filter_asks_for_them(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await database.AddAsync(
            MakeRegistry.Model("model").Version(1, lastUpdated: 2),
            // MLflow looks for the tag on the versions, and hides every version of a model that has one so tagged.
            MakeRegistry.Model("prompt").Version(1, lastUpdated: 1, tags: [(MakeRegistry.PromptTag, "true")]).Version(2, lastUpdated: 1));

        (await VersionsAsync(database, filter: null)).ShouldBe(["model/1"]);
        (await VersionsAsync(database, "tags.`mlflow.prompt.is_prompt` != 'true'")).ShouldBe(["model/1"]);
        (await VersionsAsync(database, "tags.`mlflow.prompt.is_prompt` = 'true'")).ShouldBe(["prompt/1"]);
        (await VersionsAsync(database, "name = 'prompt'")).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Pages_model_versions_as_the_recorded_exchange(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await database.AddAsync(MakeRegistry.Model("mnist").Version(1).Version(2));
        var service = Service(database);
        var ct = TestContext.Current.CancellationToken;

        // seq 284, 285: max_results 1 gives version 2 and a token, then version 1 and none.
        var first = await service.SearchModelVersionsAsync(MakeRegistry.Versions("name = 'mnist'", maxResults: 1), ct);
        first.Items.Select(k => k.Version).ShouldBe([2]);
        first.NextPageToken.ShouldNotBeNull();
        var second = await service.SearchModelVersionsAsync(MakeRegistry.Versions("name = 'mnist'", maxResults: 1, pageToken: first.NextPageToken), ct);
        second.Items.Select(k => k.Version).ShouldBe([1]);
        second.NextPageToken.ShouldBeNull();
        (await service.SearchModelVersionsAsync(MakeRegistry.Versions("name = 'mnist'"), ct)).Items.Count.ShouldBe(2);

        (await RejectsAsync(database, MakeRegistry.Versions("name = 'other'", maxResults: 1, pageToken: first.NextPageToken)))
            .ShouldStartWith("Invalid page token");
        (await RejectsAsync(database, MakeRegistry.Models("name = 'mnist'", maxResults: 1, pageToken: first.NextPageToken)))
            .ShouldStartWith("Invalid page token");
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Rejects_bad_model_version_searches_with_mlflows_messages(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);

        (await RejectsAsync(database, MakeRegistry.Versions(maxResults: 0)))
            .ShouldBe("Invalid value for max_results. It must be a positive integer, but got 0");
        (await RejectsAsync(database, MakeRegistry.Versions(maxResults: -5)))
            .ShouldBe("Invalid value for max_results. It must be a positive integer, but got -5");
        (await RejectsAsync(database, MakeRegistry.Versions(maxResults: 200_001)))
            .ShouldBe("Invalid value for request parameter max_results. It must be at most 200000, but got value 200001");
        (await RejectsAsync(database, MakeRegistry.Versions("model_id = 'm-1'")))
            .ShouldBe("Invalid attribute key 'model_id' specified. Valid keys are '{'name', 'run_id', 'source_path', 'version_number'}'");
        (await RejectsAsync(database, MakeRegistry.Versions("params.x = 'y'")))
            .ShouldBe("Invalid entity type 'params'. Valid entity types are ('attribute', 'tag', 'tags')");
        (await RejectsAsync(database, MakeRegistry.Versions("version_number LIKE '1%'")))
            .ShouldBe("Invalid comparator for attribute version_number: LIKE");
        (await RejectsAsync(database, MakeRegistry.Versions("source_path < 'x'"))).ShouldBe("Invalid comparator for attribute: <");
        (await RejectsAsync(database, MakeRegistry.Versions("tags.t IN ('x')"))).ShouldBe("Invalid comparator for tag: IN");
        (await RejectsAsync(database, MakeRegistry.Versions("source_path IN ('x')")))
            .ShouldBe("Only the 'run_id' attribute supports comparison with a list of quoted string values.");
        (await RejectsAsync(database, MakeRegistry.Versions("name = 1")))
            .ShouldBe("Only the '{'creation_timestamp', 'last_updated_timestamp', 'version_number'}' attributes support comparison with numeric values.");
        (await RejectsAsync(database, MakeRegistry.Versions("version_number = 'two'")))
            .ShouldBe("Expected numeric value type for numeric attribute: version_number. Found 'two'");
        (await RejectsAsync(database, MakeRegistry.Versions("run_id IN ()")))
            .ShouldBe("While parsing a list in the query, expected a non-empty list of string values, but got empty list");
        (await RejectsAsync(database, MakeRegistry.Versions(orderBy: ["tags.t"]))).ShouldBe("Invalid order_by entity: tag");
        (await RejectsAsync(database, MakeRegistry.Versions(orderBy: ["run_id"])))
            .ShouldBe("Invalid attribute key 'run_id' specified. Valid keys are '{'creation_timestamp', 'last_updated_timestamp', 'name', 'version_number'}'");
        (await RejectsAsync(database, MakeRegistry.Versions(orderBy: ["version_number", "version_number DESC"])))
            .ShouldBe("`order_by` contains duplicate fields: ['version_number', 'version_number DESC']");
    }

    // ---- what a name can hold

    public static TheoryData<DatabaseProvider, string> HostileNames
    {
        get
        {
            string[] names =
            [
                "it's a model",
                "'; DROP TABLE registered_models; --",
                "\" OR \"\"=\"",
                "100% sure",
                "snake_case",
                "back\\slash\\",
                "[bracket]",
                "ünïcødé-模型-🚀",
                "<script>alert(1)</script>",
            ];
            DatabaseProvider[] providers = TestDatabase.PostgresAdminConnectionString is null
                ? [DatabaseProvider.Sqlite]
                : [DatabaseProvider.Sqlite, DatabaseProvider.PostgreSql];
            var data = new TheoryData<DatabaseProvider, string>();
            foreach (var provider in providers)
            {
                foreach (var name in names)
                {
                    data.Add(provider, name);
                }
            }
            return data;
        }
    }

    /// <summary>A filter's string with MLflow's quoting: single quotes, a doubled one inside.</summary>
    private static string Quoted(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    [Theory]
    [MemberData(nameof(HostileNames))]
    public async Task Finds_a_hostile_name_exactly_and_only_as_data(DatabaseProvider provider, string name)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await database.AddAsync(
            MakeRegistry.Model(name, tags: [("note", name)]).Version(1, source: "models:/" + name),
            MakeRegistry.Model("plain").Version(1, source: "models:/plain"));

        (await ModelsAsync(database, "name = " + Quoted(name))).ShouldBe([name]);
        (await ModelsAsync(database, "name != " + Quoted(name))).ShouldBe(["plain"]);
        (await ModelsAsync(database, "tags.note = " + Quoted(name))).ShouldBe([name]);
        (await ModelsAsync(database, "name LIKE " + Quoted(name))).ShouldBe([name]);
        (await ModelsAsync(database, "name ILIKE " + Quoted(name))).ShouldBe([name]);
        (await VersionsAsync(database, "name = " + Quoted(name))).ShouldBe([name + "/1"]);
        (await VersionsAsync(database, "source_path LIKE " + Quoted("models:/" + name))).ShouldBe([name + "/1"]);
        // Both tables are still there.
        (await ModelsAsync(database, filter: null)).Count.ShouldBe(2);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Treats_only_percent_and_underscore_as_like_wildcards(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await database.AddAsync(
            MakeRegistry.Model("100% sure", lastUpdated: 5),
            MakeRegistry.Model("1000 sure", lastUpdated: 4),
            MakeRegistry.Model("a_b", lastUpdated: 3),
            MakeRegistry.Model("axb", lastUpdated: 2),
            MakeRegistry.Model("c\\d", lastUpdated: 1),
            MakeRegistry.Model("[e]", lastUpdated: 0),
            MakeRegistry.Model("*?", lastUpdated: -1));
        const string Order = "timestamp DESC";

        // As in MLflow, % and _ in a pattern are wildcards and nothing escapes them.
        (await ModelsAsync(database, "name LIKE '100%'", Order)).ShouldBe(["100% sure", "1000 sure"]);
        (await ModelsAsync(database, "name LIKE 'a_b'", Order)).ShouldBe(["a_b", "axb"]);
        // Everything else matches itself: a backslash, brackets, and SQLite's GLOB characters.
        (await ModelsAsync(database, "name LIKE 'c\\d'", Order)).ShouldBe(["c\\d"]);
        (await ModelsAsync(database, "name ILIKE 'C\\%'", Order)).ShouldBe(["c\\d"]);
        (await ModelsAsync(database, "name LIKE '[e]'", Order)).ShouldBe(["[e]"]);
        (await ModelsAsync(database, "name LIKE '*?'", Order)).ShouldBe(["*?"]);
        (await ModelsAsync(database, "name LIKE '%'", Order)).Count.ShouldBe(7);
    }
}

public class RegistryFilterParserTests
{
    [Theory]
    [InlineData("name = 'm'", SearchEntity.Attribute, "name", Comparator.Equal)]
    [InlineData("attribute.name ILIKE 'm%'", SearchEntity.Attribute, "name", Comparator.ILike)]
    [InlineData("tags.`mlflow.prompt.is_prompt` != 'true'", SearchEntity.Tag, "mlflow.prompt.is_prompt", Comparator.NotEqual)]
    [InlineData("tag.task like 'm%'", SearchEntity.Tag, "task", Comparator.Like)]
    public void Reads_registered_model_identifiers(string filter, SearchEntity entity, string key, Comparator comparator)
    {
        var term = FilterParser.Parse(filter, SearchScope.RegisteredModels).Terms.Single();
        (term.Entity, term.Key, term.Comparator).ShouldBe((entity, key, comparator));
    }

    [Fact]
    public void Reads_model_version_identifiers_and_values()
    {
        var terms = FilterParser.Parse(
            "run_id IN ('a', 'b') and run_id not in ('c') and source_path = 's' and version_number >= 2 and version_number = '3' and tags.t = 'x'",
            SearchScope.ModelVersions).Terms;
        terms.Select(t => (t.Entity, t.Key, t.Comparator)).ShouldBe(
        [
            (SearchEntity.Attribute, "run_id", Comparator.In),
            (SearchEntity.Attribute, "run_id", Comparator.NotIn),
            (SearchEntity.Attribute, "source_path", Comparator.Equal),
            (SearchEntity.Attribute, "version_number", Comparator.GreaterOrEqual),
            (SearchEntity.Attribute, "version_number", Comparator.Equal),
            (SearchEntity.Tag, "t", Comparator.Equal),
        ]);
        ((ListValue)terms[0].Value!).Values.ShouldBe(["a", "b"]);
        ((NumberValue)terms[3].Value!).Value.ShouldBe(2);
        ((NumberValue)terms[4].Value!).Value.ShouldBe(3);
    }

    [Fact]
    public void Points_at_the_fault_of_a_registry_filter_for_the_ui()
    {
        FilterParser.TryParse("name = 'a' and version_number LIKE '1'", SearchScope.ModelVersions, out _, out var error).ShouldBeFalse();
        error!.Message.ShouldBe("Invalid comparator for attribute version_number: LIKE");
        error.Position.ShouldBe(30);
    }

    [Fact]
    public void Keeps_the_runs_and_experiments_rules_for_lists()
    {
        Should.Throw<MlflowException>(() => FilterParser.Parse("status IN ('a')")).Message
            .ShouldBe("Only the 'run_id' attribute supports comparison with a list of quoted string values.");
        Should.Throw<MlflowException>(() => FilterParser.Parse("status = ('a')")).Message
            .ShouldBe("Expected a quoted string value for attributes. Got value ('a')");
        Should.Throw<MlflowException>(() => FilterParser.Parse("name = ('a')", SearchScope.Experiments)).Message
            .ShouldBe("Expected a quoted string value for attributes. Got value ('a')");
        Should.Throw<MlflowException>(() => FilterParser.Parse("start_time = '5'")).Message
            .ShouldBe("Expected numeric value type for numeric attribute: start_time. Found '5'");
    }

    [Theory]
    [InlineData("name", "name", true)]
    [InlineData("timestamp DESC", "last_updated_timestamp", false)]
    [InlineData("last_updated_timestamp asc", "last_updated_timestamp", true)]
    public void Reads_registered_model_orders(string clause, string key, bool ascending) =>
        OrderByParser.Parse([clause], SearchScope.RegisteredModels).Single()
            .ShouldBe(new OrderTerm(SearchEntity.Attribute, key, ascending));

    [Theory]
    [InlineData("version_number DESC", "version_number", false)]
    [InlineData("attribute.creation_timestamp", "creation_timestamp", true)]
    [InlineData("last_updated_timestamp", "last_updated_timestamp", true)]
    public void Reads_model_version_orders(string clause, string key, bool ascending) =>
        OrderByParser.Parse([clause], SearchScope.ModelVersions).Single()
            .ShouldBe(new OrderTerm(SearchEntity.Attribute, key, ascending));
}
