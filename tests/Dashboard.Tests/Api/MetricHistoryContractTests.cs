using System.Net;
using System.Text.Json.Nodes;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Api;

/// <summary>metrics/get-history (paged) and metrics/get-history-bulk-interval (downsampled).</summary>
public class MetricHistoryContractTests(SharedServers servers)
{
    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_the_whole_history_of_a_metric_in_step_order(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        foreach (var step in new[] { 3, 0, 2, 1 })
        {
            (await LogMetricAsync(server, runId, "loss", $"{step}.5", 1700000000000 + step, step)).ShouldBeOk();
        }

        var reply = (await server.GetAsync($"{Mlflow}/metrics/get-history?run_id={runId}&metric_key=loss")).ShouldBeOk();

        reply.Json.ShouldHaveShape($$"""{"metrics": [{{Shapes.Metric}}], "next_page_token?": "string"}""");
        reply.Json!["next_page_token"].ShouldBeNull();
        var metrics = reply.Json!["metrics"]!.AsArray();
        metrics.Select(m => m!["step"]!.GetValue<long>()).ShouldBe([0L, 1, 2, 3]);
        metrics.Select(m => m!["value"]!.GetValue<double>()).ShouldBe([0.5, 1.5, 2.5, 3.5]);
        metrics.ShouldAllBe(m => m!["key"]!.GetValue<string>() == "loss");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_an_empty_message_for_a_metric_never_logged(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);

        var reply = (await server.GetAsync($"{Mlflow}/metrics/get-history?run_id={runId}&metric_key=no_such_metric")).ShouldBeOk();

        reply.Json.ShouldHaveShape(Shapes.Empty);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Answers_404_for_the_history_of_an_unknown_run(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);

        var reply = await server.GetAsync($"{Mlflow}/metrics/get-history?run_id=00000000000000000000000000000000&metric_key=m");

        reply.ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Pages_a_history_with_max_results_and_page_token(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        // Ties on step and timestamp, and a NaN among equal values, so the page order needs all of its keys.
        (await LogBatchAsync(server, runId, """
            [{"key": "m", "value": 2, "timestamp": 5, "step": 1}, {"key": "m", "value": 1, "timestamp": 5, "step": 1},
             {"key": "m", "value": "NaN", "timestamp": 5, "step": 1}, {"key": "m", "value": 0, "timestamp": 5, "step": 1},
             {"key": "m", "value": 7, "timestamp": 4, "step": 2}, {"key": "m", "value": 7, "timestamp": 3, "step": 2},
             {"key": "m", "value": "-Infinity", "timestamp": 9, "step": 0}]
            """)).ShouldBeOk();

        var seen = new List<JsonNode>();
        string? token = null;
        var pages = 0;
        do
        {
            var query = $"{Mlflow}/metrics/get-history?run_id={runId}&metric_key=m&max_results=3" +
                (token is null ? "" : $"&page_token={Uri.EscapeDataString(token)}");
            var page = (await server.GetAsync(query)).ShouldBeOk().Json!;
            page.ShouldHaveShape($$"""{"metrics": [{{Shapes.Metric}}], "next_page_token?": "string"}""");
            seen.AddRange(page["metrics"]!.AsArray().Select(m => m!));
            token = page["next_page_token"]?.GetValue<string>();
            pages++;
        }
        while (token is not null && pages < 10);

        pages.ShouldBe(3);
        seen.Select(m => (m["step"]!.GetValue<long>(), m["timestamp"]!.GetValue<long>())).ShouldBeInOrder();
        seen.Select(m => $"{m["step"]}/{m["timestamp"]}/{m["value"]}").Order(StringComparer.Ordinal)
            .ShouldBe(new[] { "0/9/-Infinity", "1/5/0", "1/5/NaN", "1/5/1", "1/5/2", "2/3/7", "2/4/7" }.Order(StringComparer.Ordinal));
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_a_page_size_outside_1_to_25000_and_a_forged_page_token(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        var history = $"{Mlflow}/metrics/get-history?run_id={runId}&metric_key=m";

        (await server.GetAsync(history + "&max_results=25000")).ShouldBeOk();
        var replies = new[]
        {
            await server.GetAsync(history + "&max_results=0"),
            await server.GetAsync(history + "&max_results=25001"),
            await server.GetAsync(history + "&max_results=abc"),
            await server.GetAsync(history + "&page_token=not-a-token"),
            await server.GetAsync(history + "&page_token=" + Convert.ToBase64String("h1:1:2:3"u8)),
        };

        foreach (var reply in replies)
        {
            reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        }
        replies[0].Message.ShouldBe("Invalid value 0 for parameter 'max_results' supplied: it must be between 1 and 25000.");
        replies[2].Message.ShouldBe("Invalid value for parameter 'max_results' supplied: expected a 32-bit integer.");
        replies[3].Message.ShouldBe("Invalid value \"not-a-token\" for parameter 'page_token' supplied: the page token is not valid.");
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Downsamples_each_run_to_max_results_points_keeping_the_first_and_the_last(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var experimentId = await ExperimentAsync(server);
        var longRun = await RunAsync(server, experimentId);
        var shortRun = await RunAsync(server, experimentId);
        (await LogBatchAsync(server, longRun, Array(1000, i => Metric("loss", 1.0 / (i + 1), 1700000000000 + i, i * 3)))).ShouldBeOk();
        (await LogBatchAsync(server, shortRun, Array(5, i => Metric("loss", i, 1700000000000 + i, i)))).ShouldBeOk();

        var reply = (await server.GetAsync(
            $"{Mlflow}/metrics/get-history-bulk-interval?run_ids={longRun}&run_ids={shortRun}&metric_key=loss&max_results=10")).ShouldBeOk();

        reply.Json.ShouldHaveShape("""
            {"metrics": [{"key": "string", "value": "double", "timestamp": "number", "step": "number", "run_id": "string"}]}
            """);
        var metrics = reply.Json!["metrics"]!.AsArray();
        var longSteps = metrics.Where(m => m!["run_id"]!.GetValue<string>() == longRun).Select(m => m!["step"]!.GetValue<long>()).ToList();
        var shortSteps = metrics.Where(m => m!["run_id"]!.GetValue<string>() == shortRun).Select(m => m!["step"]!.GetValue<long>()).ToList();
        longSteps.Count.ShouldBe(10);
        longSteps[0].ShouldBe(0);
        longSteps[^1].ShouldBe(2997);
        longSteps.ShouldBeInOrder();
        longSteps.Distinct().Count().ShouldBe(10);
        shortSteps.ShouldBe([0L, 1, 2, 3, 4]);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Downsamples_within_the_steps_asked_for(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        (await LogBatchAsync(server, runId, Array(100, i => Metric("acc", i, 1, i)))).ShouldBeOk();

        var reply = (await server.GetAsync(
            $"{Mlflow}/metrics/get-history-bulk-interval?run_ids={runId}&metric_key=acc&start_step=10&end_step=20&max_results=3")).ShouldBeOk();

        reply.Json!["metrics"]!.AsArray().Select(m => m!["step"]!.GetValue<long>()).ShouldBe([10L, 15, 20]);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Refuses_bulk_interval_requests_outside_mlflows_limits(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var runId = await RunAsync(server);
        var bulk = $"{Mlflow}/metrics/get-history-bulk-interval";
        var tooManyRuns = string.Join("&", Enumerable.Range(0, 101).Select(i => $"run_ids=r{i}"));

        var replies = new[]
        {
            await server.GetAsync($"{bulk}?metric_key=m"),
            await server.GetAsync($"{bulk}?{tooManyRuns}&metric_key=m"),
            await server.GetAsync($"{bulk}?run_ids={runId}"),
            await server.GetAsync($"{bulk}?run_ids={runId}&metric_key=m&max_results=0"),
            await server.GetAsync($"{bulk}?run_ids={runId}&metric_key=m&max_results=2501"),
            await server.GetAsync($"{bulk}?run_ids={runId}&metric_key=m&start_step=5"),
            await server.GetAsync($"{bulk}?run_ids={runId}&metric_key=m&start_step=5&end_step=4"),
        };

        foreach (var reply in replies)
        {
            reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        }
        replies[1].Message.ShouldBe("GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received 101 run_ids.");
        replies[5].Message.ShouldBe("If either start step or end step are specified, both must be specified.");
        (await server.GetAsync($"{bulk}?run_ids={runId}&metric_key=m&max_results=2500")).ShouldBeOk();
    }
}
