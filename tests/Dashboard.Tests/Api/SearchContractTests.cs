using System.Net;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Api;

/// <summary>
/// The parts of runs/search and experiments/search that do not depend on the filter grammar: message shapes,
/// view types and page sizes. Filters, order_by and page tokens are pinned by the recordings (RecordingReplayTests).
/// </summary>
public class SearchContractTests(SharedServers servers)
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    [Theory, MemberData(nameof(Providers))]
    public async Task Searches_runs_with_mlflows_message_shape(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId, "searched");
        (await LogMetricAsync(server, runId, "loss", "\"NaN\"")).ShouldBeOk();
        (await LogParamAsync(server, runId, "lr", "0.1")).ShouldBeOk();

        var reply = (await server.PostAsync($"{Mlflow}/runs/search", $$"""{"experiment_ids": [{{J(experimentId)}}]}""")).ShouldBeOk();

        reply.Json.ShouldHaveShape($$"""{"runs": [{{Shapes.Run}}], "next_page_token?": "string"}""");
        var run = reply.Json!["runs"]!.AsArray().Single()!;
        run["info"]!["run_id"]!.GetValue<string>().ShouldBe(runId);
        Find(run["data"]!["metrics"], "loss")!["value"]!.GetValue<string>().ShouldBe("NaN");
        ValueOf(run["data"]!["params"], "lr").ShouldBe("0.1");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_an_empty_message_when_no_run_matches(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);

        var reply = (await server.PostAsync($"{Mlflow}/runs/search", $$"""{"experiment_ids": [{{J(experimentId)}}]}""")).ShouldBeOk();

        reply.Json.ShouldHaveShape(Shapes.Empty);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Limits_a_page_of_experiments_to_max_results(DatabaseProvider provider)
    {
        await using var server = await DashboardServer.StartAsync(provider);
        await ExperimentAsync(server);
        await ExperimentAsync(server);

        var one = (await server.PostAsync($"{Mlflow}/experiments/search", """{"max_results": 1}""")).ShouldBeOk();

        one.Json!["experiments"]!.AsArray().Count.ShouldBe(1);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_an_experiment_id_that_is_not_a_number_in_a_run_search(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);

        var reply = await server.PostAsync($"{Mlflow}/runs/search", """{"experiment_ids": ["abc"]}""");

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
    }

    public static TheoryData<DatabaseProvider, string, string> RefusedPageSizes
    {
        get
        {
            var data = new TheoryData<DatabaseProvider, string, string>();
            foreach (var provider in TestDatabase.Providers)
            {
                data.Add(provider, "experiments/search", "0");
                data.Add(provider, "experiments/search", "-1");
                data.Add(provider, "experiments/search", "50001");
                data.Add(provider, "runs/search", "0");
                data.Add(provider, "runs/search", "-1");
                data.Add(provider, "runs/search", "50001");
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(RefusedPageSizes))]
    public async Task Refuses_a_page_size_outside_1_to_50000(DatabaseProvider provider, string rpc, string maxResults)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);

        var reply = await server.PostAsync($"{Mlflow}/{rpc}", $$"""{"experiment_ids": [{{J(experimentId)}}], "max_results": {{maxResults}}}""");

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        // MLflow's own wording, which differs between its run and experiment searches.
        var tooLarge = maxResults == "50001";
        reply.Message.ShouldBe((rpc, tooLarge) switch
        {
            ("runs/search", true) => $"Invalid value for request parameter max_results. It must be at most 50000, but got value {maxResults}",
            ("runs/search", false) => $"Invalid value for request parameter max_results. It must be a positive integer, but got value {maxResults}",
            (_, true) => $"Invalid value for max_results. It must be at most 50000, but got {maxResults}",
            _ => $"Invalid value for max_results. It must be a positive integer, but got {maxResults}",
        });
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Accepts_the_largest_page_size(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);

        (await server.PostAsync($"{Mlflow}/runs/search", $$"""{"experiment_ids": [{{J(experimentId)}}], "max_results": 50000}""")).ShouldBeOk();
        (await server.PostAsync($"{Mlflow}/experiments/search", """{"max_results": 50000}""")).ShouldBeOk();
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Searches_runs_by_view_type_by_name_or_by_number(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var active = await RunAsync(server, experimentId);
        var deleted = await RunAsync(server, experimentId);
        (await server.PostAsync($"{Mlflow}/runs/delete", $$"""{"run_id": {{J(deleted)}}}""")).ShouldBeOk();

        async Task<string[]> Search(string viewType) =>
            [.. ((await server.PostAsync($"{Mlflow}/runs/search", $$"""{"experiment_ids": [{{J(experimentId)}}], "run_view_type": {{viewType}}}"""))
                .ShouldBeOk().Json!["runs"]?.AsArray() ?? []).Select(r => r!["info"]!["run_id"]!.GetValue<string>()).Order()];

        (await Search("\"ACTIVE_ONLY\"")).ShouldBe([active]);
        (await Search("\"DELETED_ONLY\"")).ShouldBe([deleted]);
        (await Search("\"ALL\"")).ShouldBe(new[] { active, deleted }.Order());
        // protobuf's JSON mapping lets an enum travel as its number.
        (await Search("1")).ShouldBe([active]);
        (await Search("2")).ShouldBe([deleted]);
        (await Search("3")).ShouldBe(new[] { active, deleted }.Order());
        var bogus = await server.PostAsync($"{Mlflow}/runs/search", $$"""{"experiment_ids": [{{J(experimentId)}}], "run_view_type": "SOME"}""");
        bogus.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Searches_experiments_by_view_type(DatabaseProvider provider)
    {
        await using var server = await DashboardServer.StartAsync(provider);
        var active = await ExperimentAsync(server);
        var deleted = await ExperimentAsync(server);
        (await server.PostAsync($"{Mlflow}/experiments/delete", $$"""{"experiment_id": {{J(deleted)}}}""")).ShouldBeOk();

        async Task<string[]> Search(string query) =>
            [.. ((await server.GetAsync($"{Mlflow}/experiments/search?max_results=100&{query}")).ShouldBeOk().Json!["experiments"]?.AsArray() ?? [])
                .Select(e => e!["experiment_id"]!.GetValue<string>()).Order()];

        (await Search("view_type=ACTIVE_ONLY")).ShouldBe(new[] { "0", active }.Order());
        (await Search("view_type=DELETED_ONLY")).ShouldBe([deleted]);
        (await Search("view_type=ALL")).ShouldBe(new[] { "0", active, deleted }.Order());
        (await Search("")).ShouldBe(new[] { "0", active }.Order());
        var byNumber = (await server.PostAsync($"{Mlflow}/experiments/search", """{"max_results": 100, "view_type": 2}""")).ShouldBeOk();
        byNumber.Json!["experiments"]!.AsArray().Select(e => e!["experiment_id"]!.GetValue<string>()).ShouldBe([deleted]);
    }
}
