using System.Data.Common;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Registry;
using Dashboard.Search;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Dashboard.Core.Tests.Registry;

/// <summary>
/// What the registry's contract tests cannot see from outside: how many queries a page costs, and the rules of
/// <see cref="RegistryValidation"/> one by one.
/// </summary>
public class RegistryServiceTests
{
    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Loads_a_page_of_models_or_versions_in_as_many_queries_whatever_its_size(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var registry = Registry(db.Factory);
        var runs = new RunService(db.Factory, TimeProvider.System);
        var run = await runs.CreateRunAsync("0", null, null, null, null, ct);
        for (var i = 0; i < 24; i++)
        {
            var name = $"load-{i:D2}";
            await registry.CreateRegisteredModelAsync(name, [new KeyValueInput("team", "vision")], "d", Actor.Local, ct);
            for (var v = 1; v <= 3; v++)
            {
                await registry.CreateModelVersionAsync(name, $"{run.ArtifactUri}/model", run.Id, [new KeyValueInput("k", "v")], null, null, null,
                    Actor.Local, ct);
            }
            await registry.TransitionStageAsync(name, "2", ModelStage.Production, false, Actor.Local, ct);
            await registry.SetAliasAsync(name, "champion", "3", Actor.Local, ct);
        }

        var counting = new CountingFactory(db);
        var measured = Registry(counting);
        var (small, smallPage) = await counting.CountAsync(() => measured.SearchRegisteredModelsAsync(
            new RegisteredModelSearchRequest("name LIKE 'load-%'", 2, ["name ASC"], null), ct));
        var (large, largePage) = await counting.CountAsync(() => measured.SearchRegisteredModelsAsync(
            new RegisteredModelSearchRequest("name LIKE 'load-%'", 24, ["name ASC"], null), ct));
        var (fewVersions, _) = await counting.CountAsync(() => measured.SearchModelVersionsAsync(
            new ModelVersionSearchRequest("name LIKE 'load-%'", 2, [], null), ct));
        var (manyVersions, versionsPage) = await counting.CountAsync(() => measured.SearchModelVersionsAsync(
            new ModelVersionSearchRequest("name LIKE 'load-%'", 72, [], null), ct));

        smallPage.Items.Count.ShouldBe(2);
        largePage.Items.Count.ShouldBe(24);
        largePage.Items.ShouldAllBe(m => m.LatestVersions.Count == 2 && m.Model.Tags.Count == 1 && m.Model.Aliases.Count == 1);
        largePage.Items.Select(m => m.Model.Name).ShouldBeInOrder();
        versionsPage.Items.Count.ShouldBe(72);
        versionsPage.Items.ShouldAllBe(v => v.Version.Tags.Count == 1);
        large.ShouldBe(small);
        manyVersions.ShouldBe(fewVersions);
        // The search's own query, then models, tags, aliases, latest versions, and the versions' rows, tags and names.
        large.ShouldBe(8);
        manyVersions.ShouldBe(4);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Deleting_a_model_removes_its_rows_and_keeps_its_history(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider);
        var registry = Registry(db.Factory);
        var run = await new RunService(db.Factory, TimeProvider.System).CreateRunAsync("0", null, null, null, null, ct);
        var model = await registry.CreateRegisteredModelAsync("doomed", [new KeyValueInput("k", "v")], null, Actor.Local, ct);
        var id = model.Model.Id;
        await registry.CreateModelVersionAsync("doomed", $"{run.ArtifactUri}/model", run.Id, [new KeyValueInput("k", "v")], null, null, null,
            Actor.Local, ct);
        await registry.SetAliasAsync("doomed", "champion", "1", new Actor("alice"), ct);

        await registry.DeleteRegisteredModelAsync("doomed", new Actor("bob"), ct);

        await using var context = await db.Factory.CreateDbContextAsync(ct);
        (await context.RegisteredModels.CountAsync(m => m.Id == id, ct)).ShouldBe(0);
        (await context.ModelVersions.CountAsync(v => v.RegisteredModelId == id, ct)).ShouldBe(0);
        (await context.ModelVersionTags.CountAsync(t => t.RegisteredModelId == id, ct)).ShouldBe(0);
        (await context.RegisteredModelTags.CountAsync(t => t.RegisteredModelId == id, ct)).ShouldBe(0);
        (await context.RegisteredModelAliases.CountAsync(a => a.RegisteredModelId == id, ct)).ShouldBe(0);
        var events = await context.RegistryEvents.Where(e => e.RegisteredModelId == id).OrderBy(e => e.Id).ToListAsync(ct);
        events.Select(e => (e.Kind, e.Alias, e.Before, e.After, e.Actor, e.ModelName)).ShouldBe(
        [
            (RegistryEventKind.AliasSet, "champion", null, "1", "alice", "doomed"),
            (RegistryEventKind.AliasDeleted, "champion", "1", null, "bob", "doomed"),
        ]);
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData(" 7 ", 7)]
    [InlineData("+3", 3)]
    [InlineData("007", 7)]
    [InlineData("0", null)]
    [InlineData("-2", null)]
    [InlineData("99999999999", null)]
    public void Reads_a_version_number_as_pythons_int_does(string text, int? expected)
    {
        RegistryValidation.Version(text).ShouldBe(expected);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.0")]
    [InlineData("1e2")]
    [InlineData("+")]
    [InlineData("1 2")]
    [InlineData("0x10")]
    public void Refuses_a_version_that_is_not_an_integer_with_mlflows_message(string text)
    {
        Should.Throw<MlflowException>(() => RegistryValidation.Version(text)).Message
            .ShouldBe($"Parameter 'version' must be an integer, got '{text}'.");
    }

    [Theory]
    [InlineData("champion")]
    [InlineData("v1a")]
    [InlineData("version2")]
    [InlineData("_-_")]
    [InlineData("prod-2024_q1")]
    public void Takes_alias_names_of_word_characters_and_dashes(string alias)
    {
        RegistryValidation.Alias(alias).ShouldBe(alias);
    }

    [Theory]
    [InlineData("Production", "Production")]
    [InlineData("production", "Production")]
    [InlineData("NONE", "None")]
    [InlineData("archived", "Archived")]
    public void Reads_stages_in_any_case(string stage, string canonical)
    {
        RegistryValidation.Stage(stage).ShouldBe(canonical);
    }

    private static RegistryService Registry(IDbContextFactory<DashboardDbContext> dbs) => new(dbs, TimeProvider.System,
        new ModelSourceResolver(dbs), new LoggedModelService(dbs, TimeProvider.System), new RegistrySearchService(dbs));

    /// <summary>
    /// A factory of contexts on the test's database that count the commands they send (an interceptor can only be added
    /// to a context's options, so these are contexts of their own, used by the registry under measure only).
    /// </summary>
    private sealed class CountingFactory(TestDatabase db) : IDbContextFactory<DashboardDbContext>
    {
        private readonly CommandCounter _counter = new();

        public DashboardDbContext CreateDbContext() => db.Provider switch
        {
            DatabaseProvider.Sqlite => new SqliteDashboardContext(new DbContextOptionsBuilder<SqliteDashboardContext>()
                .UseSqlite(db.Options.ConnectionString).AddInterceptors(_counter).Options),
            DatabaseProvider.PostgreSql => new PostgresDashboardContext(new DbContextOptionsBuilder<PostgresDashboardContext>()
                .UseNpgsql(db.Options.ConnectionString).AddInterceptors(_counter).Options),
            _ => throw new NotSupportedException(db.Provider.ToString()),
        };

        /// <summary>The commands sent while <paramref name="action"/> ran, and its result.</summary>
        public async Task<(int Count, T Result)> CountAsync<T>(Func<Task<T>> action)
        {
            var before = _counter.Count;
            var result = await action();
            return (_counter.Count - before, result);
        }
    }

    private sealed class CommandCounter : DbCommandInterceptor
    {
        private int _count;

        public int Count => _count;

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _count);
            return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
        }

        public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<object> result, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _count);
            return base.ScalarExecutingAsync(command, eventData, result, cancellationToken);
        }

        public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _count);
            return base.NonQueryExecutingAsync(command, eventData, result, cancellationToken);
        }
    }
}
