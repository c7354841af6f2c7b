using System.Net;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;
using static Dashboard.Tests.Support.Make;
using static Dashboard.Tests.Support.MakeRunArtifacts;

namespace Dashboard.Tests.Api;

/// <summary>
/// GET /runs/{run_id}/artifact?path=...: the run page's downloads and image previews, over the real server: the type
/// of ArtifactContentTypes, always an attachment, nosniff, and every path through ArtifactPath.
/// </summary>
public class RunArtifactDownloadTests(SharedServers servers)
{
    private static string Href(string runId, string path) => $"/runs/{runId}/artifact?path={Uri.EscapeDataString(path)}";

    private async Task<(DashboardServer Server, string RunId, string ExperimentId)> RunWithFilesAsync(ArtifactBackend backend = ArtifactBackend.Local)
    {
        var server = await servers.GetAsync(DatabaseProvider.Sqlite, backend);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);
        await PutAsync(server, experimentId, runId, "plots/loss.png", Png, "image/png");
        await PutAsync(server, experimentId, runId, "report.html", "<script>alert(1)</script>");
        await PutAsync(server, experimentId, runId, "chart.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>");
        await PutAsync(server, experimentId, runId, "data/table.csv", "a,b\n1,2\n");
        await PutAsync(server, experimentId, runId, "weights.bin", new byte[] { 1, 2, 3 }, "application/octet-stream");
        await PutAsync(server, experimentId, runId, "name with space ü.txt", "text");
        return (server, runId, experimentId);
    }

    [Theory]
    [InlineData("plots/loss.png", "image/png", "loss.png")]
    [InlineData("report.html", "text/plain", "report.html")]
    [InlineData("chart.svg", "text/plain", "chart.svg")]
    [InlineData("data/table.csv", "text/plain", "table.csv")]
    [InlineData("weights.bin", "application/octet-stream", "weights.bin")]
    public async Task Serves_a_file_as_an_attachment_with_its_type_and_nosniff(string path, string type, string fileName)
    {
        var (server, runId, _) = await RunWithFilesAsync();
        using var response = await server.Client.GetAsync(Href(runId, path), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe(type);
        response.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        response.Content.Headers.ContentDisposition.FileName!.Trim('"').ShouldBe(fileName);
        response.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
        if (path.EndsWith(".png", StringComparison.Ordinal))
        {
            (await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)).ShouldBe(Png);
        }
    }

    [Fact]
    public async Task Names_a_unicode_file_in_the_RFC_5987_form_and_serves_from_S3_too()
    {
        var (server, runId, _) = await RunWithFilesAsync(ArtifactBackend.S3);
        using var response = await server.Client.GetAsync(Href(runId, "name with space ü.txt"), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentDisposition!.FileNameStar.ShouldBe("name with space ü.txt");
        (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).ShouldBe("text");
    }

    [Theory]
    [InlineData("../../../etc/passwd")]
    [InlineData("..%2F..%2Fsecret")]
    [InlineData("%252e%252e/%252e%252e/secret")]
    [InlineData("/etc/passwd")]
    [InlineData("plots/../../other-run/artifacts/x")]
    [InlineData("plots\\..\\..\\x")]
    [InlineData("C:/x")]
    [InlineData("a#b")]
    [InlineData("plots/")]
    [InlineData("")]
    public async Task Refuses_paths_that_could_leave_the_run_with_400_and_no_server_path(string path)
    {
        var (server, runId, _) = await RunWithFilesAsync();
        var reply = await server.GetAsync($"/runs/{runId}/artifact?path={Uri.EscapeDataString(path)}");
        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Text.ShouldNotContain(server.ArtifactSandbox);
    }

    [Fact]
    public async Task A_missing_file_a_folder_and_a_missing_run_are_404()
    {
        var (server, runId, _) = await RunWithFilesAsync();
        (await server.GetAsync(Href(runId, "nope.txt"))).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.GetAsync(Href(runId, "plots"))).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.GetAsync(Href("0123456789abcdef0123456789abcdef", "plots/loss.png"))).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
    }

    [Fact]
    public async Task Another_runs_file_is_not_reachable_through_this_run()
    {
        var (server, runId, experimentId) = await RunWithFilesAsync();
        var other = await RunAsync(server, experimentId);
        await PutAsync(server, experimentId, other, "secret.txt", "other run");
        (await server.GetAsync(Href(runId, $"../../{other}/artifacts/secret.txt"))).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.GetAsync(Href(runId, "secret.txt"))).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
    }
}
