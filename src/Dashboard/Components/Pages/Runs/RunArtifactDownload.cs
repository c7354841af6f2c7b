using Dashboard.Api.Mlflow;
using Dashboard.Artifacts;
using Dashboard.Errors;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Dashboard.Components.Pages.Runs;

/// <summary>
/// <c>GET /runs/{run_id}/artifact?path=a/b.png</c>: one file of a run's artifacts, streamed from the store, for the run
/// page's download links and image previews. The path is a query parameter, so no URL normalization folds a "../"
/// before <see cref="ArtifactPath"/> sees it. Always an attachment with the type of <see cref="ArtifactContentTypes"/>
/// (HTML and SVG are text/plain) and nosniff: nothing a run logged is ever rendered as a page of this origin.
/// An <c>&lt;img&gt;</c> shows an attachment all the same. Errors are MLflow's JSON errors (400, 404).
/// </summary>
public static class RunArtifactDownload
{
    private const int CopyBufferSize = 128 * 1024;

    public static void MapRunArtifactDownload(this IEndpointRouteBuilder app) =>
        app.MapGet("/runs/{run_id}/artifact", DownloadRunArtifact).ExcludeFromDescription();

    public static string Href(string runId, string path) =>
        $"/runs/{Uri.EscapeDataString(runId)}/artifact?path={Uri.EscapeDataString(path)}";

    public static async Task DownloadRunArtifact(HttpContext http, [FromRoute(Name = "run_id")] string runId, [FromQuery] string? path,
        RunArtifacts artifacts)
    {
        await Auth.Access.RequireRunAsync(http, runId, Security.AccessLevel.Read);
        var (file, opened) = await artifacts.OpenAsync(runId, path, http.RequestAborted);
        await using var content = opened ?? throw MlflowException.NotFound($"No artifact file at '{file.Value}'.");
        var response = http.Response;
        response.ContentType = ArtifactContentTypes.For(file.Name);
        response.ContentLength = content.Length;
        response.Headers.XContentTypeOptions = "nosniff";
        var disposition = new ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName(file.Name);
        response.Headers.ContentDisposition = disposition.ToString();
        // A run's file does not change under its name often, but it can be replaced: revalidate rather than cache.
        response.Headers.CacheControl = "no-cache";
        await content.Stream.CopyToAsync(response.Body, CopyBufferSize, http.RequestAborted);
    }
}
