using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Search;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Core.Tests.Search;

public class RunSearchServiceTests
{
    /// <summary>
    /// Runs the search in each of its shapes and checks that they agree: sorting a small candidate set (what these
    /// small tests get by default), walking the order's index, and sorting from the smallest term (what a sparse
    /// search falls back to); the thresholds force each.
    /// </summary>
    private static async Task<List<string>> NamesAsync(TestDatabase database, RunSearchRequest request)
    {
        var ct = TestContext.Current.CancellationToken;
        var sorted = await new RunSearchService(database.Factory).SearchAsync(request, ct);
        var names = sorted.Items.Select(r => r.Name!).ToList();
        var walked = await Walking(database).SearchAsync(request, ct);
        walked.Items.Select(r => r.Name!).ShouldBe(names, $"the walking shape disagrees on {request.Filter} / {string.Join(", ", request.OrderBy)}");
        var fallback = await new RunSearchService(database.Factory) { SmallSet = 0, WalkBudget = 0 }.SearchAsync(request, ct);
        fallback.Items.Select(r => r.Name!).ShouldBe(names, $"the sparse shape disagrees on {request.Filter} / {string.Join(", ", request.OrderBy)}");
        return names;
    }

    private static RunSearchService Walking(TestDatabase database) =>
        new(database.Factory) { SmallSet = 0, WalkBudget = int.MaxValue };

    private static async Task<List<string>> NamesAsync(TestDatabase database, long experimentId, string? filter, params string[] orderBy) =>
        await NamesAsync(database, Make.Request(experimentId, filter, orderBy));

    private static async Task<MlflowException> RejectsAsync(TestDatabase database, RunSearchRequest request)
    {
        var ex = await Should.ThrowAsync<MlflowException>(() =>
            new RunSearchService(database.Factory).SearchAsync(request, TestContext.Current.CancellationToken));
        ex.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        return ex;
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Returns_runs_of_the_given_experiments_newest_first_then_by_run_id(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e1");
        var other = await database.ExperimentAsync("e2");
        await database.AddAsync(
            Make.Run(exp, "old", 100),
            Make.Run(exp, "tie-b", 200, id: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
            Make.Run(exp, "tie-a", 200, id: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            Make.Run(exp, "new", 300),
            Make.Run(other, "elsewhere", 400));

        (await NamesAsync(database, exp, null)).ShouldBe(["new", "tie-a", "tie-b", "old"]);
        (await NamesAsync(database, new RunSearchRequest([exp, other], "", ViewType.ActiveOnly, 1000, [], null)))
            .ShouldBe(["elsewhere", "new", "tie-a", "tie-b", "old"]);
        (await NamesAsync(database, new RunSearchRequest([], null, ViewType.ActiveOnly, 1000, [], null))).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Filters_metrics_with_each_numeric_comparator(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(
            Make.Run(exp, "low", 3).Metric("acc", 0.25),
            Make.Run(exp, "mid", 2).Metric("acc", 0.5),
            Make.Run(exp, "high", 1).Metric("acc", 0.75),
            Make.Run(exp, "none", 0).Metric("loss", 0.5));

        (await NamesAsync(database, exp, "metrics.acc > 0.5")).ShouldBe(["high"]);
        (await NamesAsync(database, exp, "metrics.acc >= 0.5")).ShouldBe(["mid", "high"]);
        (await NamesAsync(database, exp, "metrics.acc < 0.5")).ShouldBe(["low"]);
        (await NamesAsync(database, exp, "metrics.acc <= 0.5")).ShouldBe(["low", "mid"]);
        (await NamesAsync(database, exp, "metrics.acc = 0.5")).ShouldBe(["mid"]);
        (await NamesAsync(database, exp, "metrics.acc != 0.5")).ShouldBe(["low", "high"]);
        (await NamesAsync(database, exp, "metrics.acc > 2.5e-1 and metrics.acc < 7.5E-1")).ShouldBe(["mid"]);
        (await NamesAsync(database, exp, "metrics.ACC > 0")).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Never_matches_a_nan_metric_as_its_stored_zero(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(
            Make.Run(exp, "nan", 3).Metric("m", double.NaN),
            Make.Run(exp, "zero", 2).Metric("m", 0),
            Make.Run(exp, "inf", 1).Metric("m", double.PositiveInfinity),
            Make.Run(exp, "-inf", 0).Metric("m", double.NegativeInfinity));

        (await NamesAsync(database, exp, "metrics.m = 0")).ShouldBe(["zero"]);
        (await NamesAsync(database, exp, "metrics.m <= 0")).ShouldBe(["zero", "-inf"]);
        (await NamesAsync(database, exp, "metrics.m >= 0")).ShouldBe(["zero", "inf"]);
        // IEEE 754: NaN differs from everything.
        (await NamesAsync(database, exp, "metrics.m != 0")).ShouldBe(["nan", "inf", "-inf"]);
        (await NamesAsync(database, exp, "metrics.m > 1e300")).ShouldBe(["inf"]);
        (await NamesAsync(database, exp, "metrics.m < -1e300")).ShouldBe(["-inf"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Compares_params_tags_and_string_attributes_case_sensitively_with_equals(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(
            Make.Run(exp, "upper", 2, userId: "Ana").Param("opt", "Adam").Tag("team", "Vision"),
            Make.Run(exp, "lower", 1, userId: "ana").Param("opt", "adam").Tag("team", "vision"),
            Make.Run(exp, "spaced", 0, userId: "ana ").Param("opt", "adam ").Tag("team", "vision "));

        (await NamesAsync(database, exp, "params.opt = 'Adam'")).ShouldBe(["upper"]);
        (await NamesAsync(database, exp, "params.opt = \"adam\"")).ShouldBe(["lower"]);
        (await NamesAsync(database, exp, "params.opt != 'adam'")).ShouldBe(["upper", "spaced"]);
        (await NamesAsync(database, exp, "tags.team = 'vision'")).ShouldBe(["lower"]);
        (await NamesAsync(database, exp, "tags.team != 'vision'")).ShouldBe(["upper", "spaced"]);
        (await NamesAsync(database, exp, "attributes.user_id = 'ana'")).ShouldBe(["lower"]);
        (await NamesAsync(database, exp, "run_name = 'UPPER'")).ShouldBeEmpty();
        (await NamesAsync(database, exp, "params.OPT = 'Adam'")).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Matches_like_case_sensitively_and_ilike_case_insensitively(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(
            Make.Run(exp, "a", 2).Tag("framework", "PaddlePaddle 2.6"),
            Make.Run(exp, "b", 1).Tag("framework", "paddle"),
            Make.Run(exp, "c", 0).Tag("framework", "torch"));

        (await NamesAsync(database, exp, "tags.framework LIKE '%paddle%'")).ShouldBe(["b"]);
        (await NamesAsync(database, exp, "tags.framework LIKE 'Paddle%'")).ShouldBe(["a"]);
        (await NamesAsync(database, exp, "tags.framework ILIKE '%PADDLE%'")).ShouldBe(["a", "b"]);
        (await NamesAsync(database, exp, "tags.framework like 'paddle'")).ShouldBe(["b"]);
        (await NamesAsync(database, exp, "tags.framework LIKE 'paddl'")).ShouldBeEmpty();
        (await NamesAsync(database, exp, "tags.framework ILIKE 'T_RCH'")).ShouldBe(["c"]);
        (await NamesAsync(database, exp, "run_name LIKE '_'")).ShouldBe(["a", "b", "c"]);
        (await NamesAsync(database, exp, "attributes.status ILIKE 'finished'")).ShouldBe(["a", "b", "c"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Treats_only_percent_and_underscore_as_wildcards(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(
            Make.Run(exp, "backslash", 6).Param("p", "a\\b"),
            Make.Run(exp, "bracket", 5).Param("p", "[ab]"),
            Make.Run(exp, "star", 4).Param("p", "a*b"),
            Make.Run(exp, "question", 3).Param("p", "a?b"),
            Make.Run(exp, "percent", 2).Param("p", "100%"),
            Make.Run(exp, "plain", 1).Param("p", "axb"));

        (await NamesAsync(database, exp, "params.p LIKE 'a\\b'")).ShouldBe(["backslash"]);
        (await NamesAsync(database, exp, "params.p ILIKE 'A\\B'")).ShouldBe(["backslash"]);
        (await NamesAsync(database, exp, "params.p LIKE '[ab]'")).ShouldBe(["bracket"]);
        (await NamesAsync(database, exp, "params.p LIKE '[a%'")).ShouldBe(["bracket"]);
        (await NamesAsync(database, exp, "params.p LIKE 'a*b'")).ShouldBe(["star"]);
        (await NamesAsync(database, exp, "params.p LIKE 'a?b'")).ShouldBe(["question"]);
        (await NamesAsync(database, exp, "params.p LIKE 'a_b'")).ShouldBe(["backslash", "star", "question", "plain"]);
        (await NamesAsync(database, exp, "params.p LIKE '%\\%'")).ShouldBe(["backslash"]);
        (await NamesAsync(database, exp, "params.p LIKE '100%'")).ShouldBe(["percent"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Treats_injection_attempts_in_values_as_data(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        const string Evil = "'; DROP TABLE runs; --";
        await database.AddAsync(
            Make.Run(exp, "evil", 2).Tag("note", Evil).Param("q", "x' OR '1'='1"),
            Make.Run(exp, "plain", 1).Tag("note", "fine").Param("q", "x"));

        (await NamesAsync(database, exp, "tags.note = '''; DROP TABLE runs; --'")).ShouldBe(["evil"]);
        (await NamesAsync(database, exp, "tags.note LIKE '%DROP TABLE%'")).ShouldBe(["evil"]);
        (await NamesAsync(database, exp, "params.q = 'x'' OR ''1''=''1'")).ShouldBe(["evil"]);
        (await NamesAsync(database, exp, "params.q = \"x' OR '1'='1\"")).ShouldBe(["evil"]);
        (await NamesAsync(database, exp, "tags.`note'; DROP TABLE runs; --` = 'x'")).ShouldBeEmpty();
        (await NamesAsync(database, exp, "attributes.run_id IN ('x'') OR 1=1 --')")).ShouldBeEmpty();
        await using var db = await database.Factory.CreateDbContextAsync(TestContext.Current.CancellationToken);
        (await db.Runs.CountAsync(TestContext.Current.CancellationToken)).ShouldBe(2);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Filters_string_attributes_and_run_ids(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        var a = Make.Run(exp, "simplecnn-train", 3, status: RunStatus.Finished, userId: "ana");
        var b = Make.Run(exp, "resnet", 2, status: RunStatus.Failed, userId: null);
        var c = Make.Run(exp, "killed", 1, status: RunStatus.Killed, userId: "bo");
        await database.AddAsync(a, b, c);

        (await NamesAsync(database, exp, "attributes.status = 'FAILED'")).ShouldBe(["resnet"]);
        (await NamesAsync(database, exp, "status != 'FAILED'")).ShouldBe(["simplecnn-train", "killed"]);
        (await NamesAsync(database, exp, "attributes.run_name = 'simplecnn-train'")).ShouldBe(["simplecnn-train"]);
        (await NamesAsync(database, exp, "`Run Name` LIKE 'res%'")).ShouldBe(["resnet"]);
        (await NamesAsync(database, exp, "tags.mlflow.runName = 'killed'")).ShouldBe(["killed"]);
        (await NamesAsync(database, exp, $"attributes.run_id = '{b.Id}'")).ShouldBe(["resnet"]);
        (await NamesAsync(database, exp, $"attributes.run_id IN ('{a.Id}', '{c.Id}')")).ShouldBe(["simplecnn-train", "killed"]);
        (await NamesAsync(database, exp, $"run_id NOT IN ('{a.Id}', '{c.Id}')")).ShouldBe(["resnet"]);
        (await NamesAsync(database, exp, $"run_id IN ('{a.Id.ToUpperInvariant()}')")).ShouldBeEmpty();
        (await NamesAsync(database, exp, $"attributes.artifact_uri LIKE 'mlflow-artifacts:/{exp}/{a.Id}/%'")).ShouldBe(["simplecnn-train"]);
        // A run without a user id is neither equal nor different: it has no value to compare.
        (await NamesAsync(database, exp, "user_id != 'ana'")).ShouldBe(["killed"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Filters_numeric_attributes_with_integer_and_fractional_values(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(
            Make.Run(exp, "t1", 1000, endTime: 1500),
            Make.Run(exp, "t2", 2000, endTime: null),
            Make.Run(exp, "t3", 3000, endTime: 3500));

        (await NamesAsync(database, exp, "attributes.start_time > 1000")).ShouldBe(["t3", "t2"]);
        (await NamesAsync(database, exp, "start_time >= 2000 and start_time <= 2000")).ShouldBe(["t2"]);
        (await NamesAsync(database, exp, "created < 2000")).ShouldBe(["t1"]);
        (await NamesAsync(database, exp, "start_time = 2000")).ShouldBe(["t2"]);
        (await NamesAsync(database, exp, "start_time != 2000")).ShouldBe(["t3", "t1"]);
        (await NamesAsync(database, exp, "start_time > 1999.5")).ShouldBe(["t3", "t2"]);
        (await NamesAsync(database, exp, "start_time < 2000.5")).ShouldBe(["t2", "t1"]);
        (await NamesAsync(database, exp, "start_time = 2000.5")).ShouldBeEmpty();
        (await NamesAsync(database, exp, "start_time != 2000.5")).ShouldBe(["t3", "t2", "t1"]);
        (await NamesAsync(database, exp, "start_time > 2e3")).ShouldBe(["t3"]);
        (await NamesAsync(database, exp, "start_time < 1e30")).ShouldBe(["t3", "t2", "t1"]);
        (await NamesAsync(database, exp, "start_time > -1e30")).ShouldBe(["t3", "t2", "t1"]);
        (await NamesAsync(database, exp, "end_time > 0")).ShouldBe(["t3", "t1"]);
        (await NamesAsync(database, exp, "end_time != 1500")).ShouldBe(["t3"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Matches_only_runs_that_have_the_param_or_tag(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(
            Make.Run(exp, "with", 2).Param("lr", "0.1").Tag("t", "x"),
            Make.Run(exp, "without", 1));

        (await NamesAsync(database, exp, "params.lr != '0.2'")).ShouldBe(["with"]);
        (await NamesAsync(database, exp, "tags.t != 'y'")).ShouldBe(["with"]);
        (await NamesAsync(database, exp, "params.lr LIKE '%'")).ShouldBe(["with"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Joins_comparisons_of_every_kind_with_and(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(
            Make.Run(exp, "adam-good", 3).Metric("accuracy", 0.9).Param("optimizer", "Adam").Tag("t", "a"),
            Make.Run(exp, "adam-bad", 2).Metric("accuracy", 0.4).Param("optimizer", "Adam").Tag("t", "a"),
            Make.Run(exp, "sgd-good", 1).Metric("accuracy", 0.95).Param("optimizer", "SGD").Tag("t", "a"));

        (await NamesAsync(database, exp, "metrics.accuracy > 0.5 and params.optimizer = 'Adam'")).ShouldBe(["adam-good"]);
        (await NamesAsync(database, exp, "metrics.accuracy > 0.5 AND tags.t = 'a' and status = 'FINISHED' and start_time > 0"))
            .ShouldBe(["adam-good", "sgd-good"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Filters_runs_by_dataset_name_digest_and_context(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        var mnist = Make.Dataset(exp, "mnist", "d1");
        var cifar = Make.Dataset(exp, "CIFAR", "d2");
        await database.AddAsync(
            Make.Run(exp, "train-mnist", 3).Input(mnist, "training"),
            Make.Run(exp, "eval-cifar", 2).Input(cifar, "eval"),
            Make.Run(exp, "no-data", 1));

        (await NamesAsync(database, exp, "datasets.name = 'mnist'")).ShouldBe(["train-mnist"]);
        (await NamesAsync(database, exp, "datasets.name ILIKE 'cifar'")).ShouldBe(["eval-cifar"]);
        (await NamesAsync(database, exp, "datasets.name LIKE 'cifar'")).ShouldBeEmpty();
        (await NamesAsync(database, exp, "datasets.digest IN ('d1', 'd2')")).ShouldBe(["train-mnist", "eval-cifar"]);
        (await NamesAsync(database, exp, "datasets.digest NOT IN ('d1')")).ShouldBe(["eval-cifar"]);
        (await NamesAsync(database, exp, "datasets.name != 'mnist'")).ShouldBe(["eval-cifar"]);
        (await NamesAsync(database, exp, "datasets.context = 'training'")).ShouldBe(["train-mnist"]);
        (await NamesAsync(database, exp, "datasets.context IN ('eval', 'x')")).ShouldBe(["eval-cifar"]);
        (await NamesAsync(database, exp, "dataset.name = 'mnist' and datasets.context = 'eval'")).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Orders_by_a_metric_with_nan_after_values_and_missing_last_in_both_directions(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(
            Make.Run(exp, "missing", 6),
            Make.Run(exp, "nan", 5).Metric("loss", double.NaN),
            Make.Run(exp, "zero", 4).Metric("loss", 0),
            Make.Run(exp, "high", 3).Metric("loss", 2.5),
            Make.Run(exp, "inf", 2).Metric("loss", double.PositiveInfinity),
            Make.Run(exp, "negative", 1).Metric("loss", -1));

        (await NamesAsync(database, exp, null, "metrics.loss ASC")).ShouldBe(["negative", "zero", "high", "inf", "nan", "missing"]);
        (await NamesAsync(database, exp, null, "metrics.loss DESC")).ShouldBe(["inf", "high", "zero", "negative", "nan", "missing"]);
        (await NamesAsync(database, exp, null, "metrics.loss")).ShouldBe(["negative", "zero", "high", "inf", "nan", "missing"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Orders_by_params_and_tags_with_runs_lacking_them_last(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(
            Make.Run(exp, "none", 4),
            Make.Run(exp, "b", 3).Param("lr", "0.01").Tag("k", "b"),
            Make.Run(exp, "a", 2).Param("lr", "0.001").Tag("k", "a"),
            Make.Run(exp, "c", 1).Param("lr", "0.1").Tag("k", "c"));

        (await NamesAsync(database, exp, null, "params.lr")).ShouldBe(["a", "b", "c", "none"]);
        (await NamesAsync(database, exp, null, "params.learning_rate DESC", "params.lr DESC")).ShouldBe(["c", "b", "a", "none"]);
        (await NamesAsync(database, exp, null, "tags.k DESC")).ShouldBe(["c", "b", "a", "none"]);
        (await NamesAsync(database, exp, null, "tags.`k` ASC")).ShouldBe(["a", "b", "c", "none"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Orders_by_several_metrics_params_and_tags_each_with_its_own_missing_and_nan_ranks(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(
            Make.Run(exp, "a", 1).Metric("m", 1).Param("p", "x").Tag("t", "k"),
            Make.Run(exp, "b", 2).Metric("m", 1).Param("p", "y").Tag("t", "k"),
            Make.Run(exp, "c", 3).Metric("m", 1).Tag("t", "j"),
            Make.Run(exp, "d", 4).Metric("m", double.NaN).Param("p", "x").Metric("n", 5),
            Make.Run(exp, "e", 5).Metric("m", double.NaN).Param("p", "x").Metric("n", double.NaN),
            Make.Run(exp, "f", 6).Metric("m", 2).Param("p", "x").Tag("t", "j"),
            Make.Run(exp, "g", 7).Param("p", "x").Tag("t", "k"),
            Make.Run(exp, "h", 8).Param("p", "x"));

        (await NamesAsync(database, exp, null, "metrics.m DESC", "params.p DESC", "tags.t")).ShouldBe(["f", "b", "a", "c", "e", "d", "g", "h"]);
        (await NamesAsync(database, exp, null, "metrics.m", "params.p", "tags.t DESC")).ShouldBe(["a", "b", "c", "f", "e", "d", "g", "h"]);
        (await NamesAsync(database, exp, null, "tags.t", "metrics.m DESC", "metrics.n")).ShouldBe(["f", "c", "b", "a", "g", "d", "e", "h"]);
        (await NamesAsync(database, exp, "params.p = 'x'", "params.p", "metrics.n DESC", "metrics.m")).ShouldBe(["d", "e", "a", "f", "h", "g"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Orders_by_attributes_with_empty_values_last(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(
            Make.Run(exp, "r1", 100, endTime: null, userId: null, status: RunStatus.Running),
            Make.Run(exp, "r2", 200, endTime: 250, userId: "bo", status: RunStatus.Finished),
            Make.Run(exp, "r3", 300, endTime: 310, userId: "ana", status: RunStatus.Failed));

        (await NamesAsync(database, exp, null, "end_time")).ShouldBe(["r2", "r3", "r1"]);
        (await NamesAsync(database, exp, null, "attributes.end_time DESC")).ShouldBe(["r3", "r2", "r1"]);
        (await NamesAsync(database, exp, null, "user_id")).ShouldBe(["r3", "r2", "r1"]);
        (await NamesAsync(database, exp, null, "user_id DESC")).ShouldBe(["r2", "r3", "r1"]);
        (await NamesAsync(database, exp, null, "attributes.start_time ASC")).ShouldBe(["r1", "r2", "r3"]);
        (await NamesAsync(database, exp, null, "created DESC")).ShouldBe(["r3", "r2", "r1"]);
        (await NamesAsync(database, exp, null, "run_name DESC")).ShouldBe(["r3", "r2", "r1"]);
        (await NamesAsync(database, exp, null, "status")).ShouldBe(["r3", "r2", "r1"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Breaks_ties_of_an_order_by_start_time_descending_then_run_id(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(
            Make.Run(exp, "old", 1).Param("p", "same"),
            Make.Run(exp, "new-b", 2, id: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb").Param("p", "same"),
            Make.Run(exp, "new-a", 2, id: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").Param("p", "same"));

        (await NamesAsync(database, exp, null, "params.p")).ShouldBe(["new-a", "new-b", "old"]);
        (await NamesAsync(database, exp, null, "params.p", "start_time ASC")).ShouldBe(["old", "new-a", "new-b"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Applies_the_view_type_to_the_run_lifecycle_stage(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(
            Make.Run(exp, "active", 2),
            Make.Run(exp, "deleted", 1, stage: LifecycleStage.Deleted));

        (await NamesAsync(database, Make.Request(exp))).ShouldBe(["active"]);
        (await NamesAsync(database, Make.Request(exp, viewType: ViewType.DeletedOnly))).ShouldBe(["deleted"]);
        (await NamesAsync(database, Make.Request(exp, viewType: ViewType.All))).ShouldBe(["active", "deleted"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Pages_with_tokens_as_the_recorded_mlflow_server_does(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(Enumerable.Range(0, 8).Select(i => Make.Run(exp, $"r{i}", i)).ToArray());
        var service = new RunSearchService(database.Factory);
        var ct = TestContext.Current.CancellationToken;

        var names = new List<string>();
        var tokens = new List<string?>();
        string? token = null;
        do
        {
            var page = await service.SearchAsync(Make.Request(exp, "", ["attributes.start_time ASC"], maxResults: 2, pageToken: token), ct);
            names.AddRange(page.Items.Select(r => r.Name!));
            tokens.Add(page.NextPageToken);
            token = page.NextPageToken;
        }
        while (token is not null);

        names.ShouldBe(Enumerable.Range(0, 8).Select(i => $"r{i}"));
        // Recording seq 299-303: four full pages carry a token, the fifth is empty and has none.
        tokens.Count.ShouldBe(5);
        tokens.Take(4).ShouldAllBe(t => t != null);
        tokens[4].ShouldBeNull();

        var partial = await service.SearchAsync(Make.Request(exp, "", ["attributes.start_time ASC"], maxResults: 3,
            pageToken: (await service.SearchAsync(Make.Request(exp, "", ["attributes.start_time ASC"], maxResults: 3), ct)).NextPageToken), ct);
        partial.Items.Select(r => r.Name).ShouldBe(["r3", "r4", "r5"]);
        (await service.SearchAsync(Make.Request(exp, "", ["attributes.start_time ASC"], maxResults: 3, pageToken: partial.NextPageToken), ct))
            .NextPageToken.ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Pages_through_values_nan_and_missing_runs_when_walking_an_index(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        var runs = new List<Run>();
        for (var i = 0; i < 7; i++)
        {
            runs.Add(Make.Run(exp, $"v{i}", i).Metric("m", i * 0.5).Param("lr", $"0.{i}"));
        }
        runs.Add(Make.Run(exp, "nan1", 10).Metric("m", double.NaN));
        runs.Add(Make.Run(exp, "nan2", 11).Metric("m", double.NaN));
        runs.Add(Make.Run(exp, "missing1", 12));
        runs.Add(Make.Run(exp, "missing2", 13).Param("lr", "0.9"));
        await database.AddAsync([.. runs]);
        var ct = TestContext.Current.CancellationToken;
        var walking = Walking(database);
        var sorting = new RunSearchService(database.Factory);

        foreach (var orderBy in new[] { "metrics.m DESC", "metrics.m ASC", "params.lr DESC" })
        {
            var everything = (await sorting.SearchAsync(Make.Request(exp, orderBy: [orderBy]), ct)).Items.Select(r => r.Name).ToList();
            foreach (var size in new[] { 1, 2, 3, 4, 11 })
            {
                var names = new List<string?>();
                string? token = null;
                var pages = 0;
                do
                {
                    var page = await walking.SearchAsync(Make.Request(exp, orderBy: [orderBy], maxResults: size, pageToken: token), ct);
                    names.AddRange(page.Items.Select(r => r.Name));
                    token = page.NextPageToken;
                    pages++;
                }
                while (token is not null && pages < 20);
                names.ShouldBe(everything, $"{orderBy}, pages of {size}");
            }
        }

        // A token from the sorting shape, used once the search walks (the data grew past the threshold).
        var first = await sorting.SearchAsync(Make.Request(exp, orderBy: ["metrics.m DESC"], maxResults: 8), ct);
        var rest = await walking.SearchAsync(Make.Request(exp, orderBy: ["metrics.m DESC"], maxResults: 8, pageToken: first.NextPageToken), ct);
        rest.Items.Select(r => r.Name).ShouldBe(["nan1", "missing2", "missing1"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Reads_a_page_at_any_offset_for_a_grid(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(
        [
            .. Enumerable.Range(0, 6).Select(i => Make.Run(exp, $"v{i}", i).Metric("m", i).Param("p", "x")),
            Make.Run(exp, "nan", 20).Metric("m", double.NaN).Param("p", "x"),
            .. Enumerable.Range(0, 3).Select(i => Make.Run(exp, $"none{i}", 30 + i).Param("p", "x")),
        ]);
        var ct = TestContext.Current.CancellationToken;
        var filter = FilterParser.Parse("params.p = 'x'");
        var order = OrderByParser.Parse(["metrics.m DESC"]);
        string[] all = ["v5", "v4", "v3", "v2", "v1", "v0", "nan", "none2", "none1", "none0"];

        foreach (var service in new[] { new RunSearchService(database.Factory), Walking(database) })
        {
            (await service.PageAsync([exp], ViewType.ActiveOnly, filter, order, 0, 3, ct)).Select(r => r.Name).ShouldBe(all[..3]);
            (await service.PageAsync([exp], ViewType.ActiveOnly, filter, order, 5, 4, ct)).Select(r => r.Name).ShouldBe(all[5..9]);
            (await service.PageAsync([exp], ViewType.ActiveOnly, filter, order, 8, 10, ct)).Select(r => r.Name).ShouldBe(all[8..]);
            (await service.PageAsync([exp], ViewType.ActiveOnly, filter, order, 10, 10, ct)).ShouldBeEmpty();
            (await service.PageAsync([exp], ViewType.ActiveOnly, filter, order, 6, 1, ct)).Single().Params.Single().Value.ShouldBe("x");
        }
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Rejects_a_page_token_reused_with_another_query(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(Make.Run(exp, "a", 1), Make.Run(exp, "b", 2));
        var first = await new RunSearchService(database.Factory).SearchAsync(Make.Request(exp, maxResults: 1), TestContext.Current.CancellationToken);

        (await RejectsAsync(database, Make.Request(exp, "metrics.a > 1", maxResults: 1, pageToken: first.NextPageToken)))
            .Message.ShouldStartWith("Invalid page token");
        (await RejectsAsync(database, Make.Request(exp, orderBy: ["start_time"], maxResults: 1, pageToken: first.NextPageToken)))
            .Message.ShouldStartWith("Invalid page token");
        (await RejectsAsync(database, Make.Request(exp, viewType: ViewType.All, maxResults: 1, pageToken: first.NextPageToken)))
            .Message.ShouldStartWith("Invalid page token");
        (await RejectsAsync(database, Make.Request(exp, maxResults: 1, pageToken: "garbage")))
            .Message.ShouldStartWith("Invalid page token");
        // Another page size is the same query.
        (await NamesAsync(database, Make.Request(exp, maxResults: 5, pageToken: first.NextPageToken))).ShouldBe(["a"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Rejects_max_results_outside_mlflows_bounds(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        (await RejectsAsync(database, Make.Request(0, maxResults: 50_001))).Message.ShouldBe(
            "Invalid value for request parameter max_results. It must be at most 50000, but got value 50001");
        (await RejectsAsync(database, Make.Request(0, maxResults: 0))).Message.ShouldBe(
            "Invalid value for request parameter max_results. It must be a positive integer, but got value 0");
        await new RunSearchService(database.Factory).SearchAsync(Make.Request(0, maxResults: 50_000), TestContext.Current.CancellationToken);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Rejects_a_malformed_filter_or_order_before_touching_the_database(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        (await RejectsAsync(database, Make.Request(0, "metrics.avg_loss <<< 3"))).Message
            .ShouldBe("Invalid comparator '<<<' not one of '{'!=', '>', '>=', '<', '<=', '='}");
        (await RejectsAsync(database, Make.Request(0, orderBy: ["metrics.x sideways"]))).Message
            .ShouldBe("Invalid ordering key in order_by clause 'metrics.x sideways'.");
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Loads_params_tags_latest_metrics_and_inputs_of_each_run(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var exp = await database.ExperimentAsync("e");
        await database.AddAsync(Make.Run(exp, "full", 1).Param("lr", "0.1").Tag("t", "v").Metric("acc", 0.9)
            .Input(Make.Dataset(exp, "mnist", "d"), "train"));

        var run = (await new RunSearchService(database.Factory).SearchAsync(Make.Request(exp, "params.lr = '0.1'"),
            TestContext.Current.CancellationToken)).Items.Single();
        run.Params.Single().Value.ShouldBe("0.1");
        run.Tags.Select(t => t.Key).Order().ShouldBe(["mlflow.runName", "t"]);
        run.LatestMetrics.Single().Value.ShouldBe(0.9);
        run.Inputs.Single().Dataset!.Name.ShouldBe("mnist");
        run.Inputs.Single().Tags.Single().Value.ShouldBe("train");
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Searches_runs_logged_through_the_run_service(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var ct = TestContext.Current.CancellationToken;
        var runs = new RunService(database.Factory, TimeProvider.System);
        var exp = await new ExperimentService(database.Factory, TimeProvider.System).CreateExperimentAsync("svc", null, null, ct);
        var a = await runs.CreateRunAsync(exp.ToString(System.Globalization.CultureInfo.InvariantCulture), "ana", "first", 10, null, ct);
        var b = await runs.CreateRunAsync(exp.ToString(System.Globalization.CultureInfo.InvariantCulture), "ana", "second", 20, null, ct);
        await runs.LogBatchAsync(a.Id, [new MetricInput("loss", 0.5, 1, 0), new MetricInput("loss", 0.2, 2, 1)],
            [new KeyValueInput("optimizer", "Adam")], [], ct);
        await runs.LogBatchAsync(b.Id, [new MetricInput("loss", double.NaN, 1, 0)], [new KeyValueInput("optimizer", "SGD")], [], ct);
        await runs.UpdateRunAsync(b.Id, RunStatus.Finished, 30, "renamed", ct);

        (await NamesAsync(database, exp, "metrics.loss < 0.3")).ShouldBe(["first"]);
        (await NamesAsync(database, exp, "run_name = 'renamed'")).ShouldBe(["renamed"]);
        (await NamesAsync(database, exp, "tags.mlflow.runName = 'renamed' and params.optimizer = 'SGD'")).ShouldBe(["renamed"]);
        (await NamesAsync(database, exp, null, "metrics.loss DESC")).ShouldBe(["first", "renamed"]);
    }
}
