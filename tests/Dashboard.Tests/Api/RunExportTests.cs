using System.Net;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;

namespace Dashboard.Tests.Api;

/// <summary>GET /experiments/{id}/runs.csv: the runs table's view as CSV, over the real server.</summary>
public sealed class RunExportTests(SharedServers servers)
{
    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Exports_the_filtered_runs_in_the_views_order_with_its_columns(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var exp = await Make.ExperimentAsync(server);
        foreach (var (name, acc) in new[] { ("low", 0.2), ("with, comma", 0.9), ("=mid", 0.5) })
        {
            var run = await Make.RunAsync(server, exp, name);
            (await Make.LogBatchAsync(server, run, $"[{Make.Metric("acc", acc, 1700000000000, 0)}]", $"[{Make.KeyValue("opt", "say \"adam\"")}]")).ShouldBeOk();
        }

        using var response = await server.Client.GetAsync(
            $"/experiments/{exp}/runs.csv?filter={Uri.EscapeDataString("metrics.acc > 0.3")}&order={Uri.EscapeDataString("metrics.`acc` DESC")}&cols=m:acc,p:opt,t:missing",
            TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/csv");
        response.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        var lines = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldBe("run_id,run_name,status,user_id,start_time,end_time,metrics.acc,params.opt,tags.missing");
        lines.Length.ShouldBe(3);
        lines[1].ShouldContain(",\"with, comma\",RUNNING,");
        lines[1].ShouldEndWith(",2023-11-14T22:13:20.000Z,,0.9,\"say \"\"adam\"\"\",");
        lines[2].ShouldContain(",'=mid,");
    }

    [Fact]
    public async Task A_bad_filter_is_a_400_with_the_parsers_message_and_an_unknown_experiment_a_404()
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite);
        var exp = await Make.ExperimentAsync(server);

        (await server.GetAsync($"/experiments/{exp}/runs.csv?filter={Uri.EscapeDataString("metrics.acc >> 1")}"))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE").Message.ShouldNotBeNull().ShouldContain("Invalid comparator");
        (await server.GetAsync($"/experiments/{exp}/runs.csv?order={Uri.EscapeDataString("metrics.acc SIDEWAYS")}"))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.GetAsync("/experiments/987654321/runs.csv")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
    }
}
