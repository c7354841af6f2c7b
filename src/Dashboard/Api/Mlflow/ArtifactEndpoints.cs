using Dashboard.Artifacts;
using Dashboard.Auth;
using Dashboard.Security;
using Dashboard.Errors;
using Dashboard.Tracking;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Dashboard.Api.Mlflow;

/// <summary>
/// The artifact proxy of mlflow_artifacts.proto (<c>mlflow server --serve-artifacts</c>) and service.proto's
/// listArtifacts. Handlers are named after the RPC. Every path goes through <see cref="ArtifactPath"/> before it
/// reaches the store.
/// </summary>
public static class ArtifactEndpoints
{
    public static readonly string[] Prefixes = ["/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts"];

    /// <summary>The message MLflow clients look for to fall back from a multipart upload to one PUT.</summary>
    public const string MultipartNotSupported = "Multipart upload is not supported for the current artifact repository";

    private const int CopyBufferSize = 128 * 1024;

    public static void MapArtifactEndpoints(this IEndpointRouteBuilder app)
    {
        foreach (var prefix in Prefixes)
        {
            var api = app.MapGroup(prefix);
            api.MapGet("/artifacts", ListArtifactsMlflowArtifacts);
            api.MapGet("/artifacts/{**path}", DownloadArtifact);
            api.MapPut("/artifacts/{**path}", UploadArtifact);
            api.MapDelete("/artifacts/{**path}", DeleteArtifact);
            api.MapPost("/mpu/create/{**path}", CreateMultipartUpload);
            api.MapPost("/mpu/complete/{**path}", CompleteMultipartUpload);
            api.MapPost("/mpu/abort/{**path}", AbortMultipartUpload);
        }
        foreach (var prefix in MlflowApi.Prefixes)
        {
            app.MapGet($"{prefix}/artifacts/list", ListArtifacts);
        }
    }

    public static async Task DownloadArtifact(HttpContext http, IArtifactStore store, string? path)
    {
        var artifact = UrlPath(http, path);
        await http.RequireArtifactPathAsync(artifact.Value, AccessLevel.Read);
        // MLflow answers a missing file with a 500 (its repository raises); it is the caller's to fix.
        await using var content = await store.OpenReadAsync(artifact, http.RequestAborted)
            ?? throw MlflowException.NotFound($"No artifact file at '{artifact}'.");
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ArtifactContentTypes.For(artifact.Name);
        response.ContentLength = content.Length;
        // As MLflow: a download, never a page of this origin (nosniff is set for every MLflow path).
        var disposition = new ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName(artifact.Name);
        response.Headers.ContentDisposition = disposition.ToString();
        await content.Stream.CopyToAsync(response.Body, CopyBufferSize, http.RequestAborted);
    }

    public static async Task<IResult> UploadArtifact(HttpContext http, IArtifactStore store, string? path)
    {
        var artifact = UrlFilePath(http, path);
        await http.RequireArtifactPathAsync(artifact.Value, AccessLevel.Edit);
        // Artifacts (models, checkpoints) are larger than any JSON body: the server's body limit is lifted here only.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }
        try
        {
            await store.WriteAsync(artifact, http.Request.Body, http.RequestAborted);
        }
        catch (IOException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away mid-upload (a reset connection); the store kept nothing of it.
            throw new OperationCanceledException(http.RequestAborted);
        }
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    public static async Task<IResult> ListArtifactsMlflowArtifacts(HttpContext http, IArtifactStore store)
    {
        var req = await MlflowRequest.ReadAsync<ListArtifactsRequest>(http);
        var folder = ArtifactPath.Parse(req.Path, "path");
        await http.RequireArtifactPathAsync(folder.Value, AccessLevel.Read);
        var entries = await store.ListAsync(folder, http.RequestAborted);
        return Results.Json(new ListArtifactsResponse(null, entries.Select(e => File(e.Name, e)).ToList()), MlflowJson.Options);
    }

    public static async Task<IResult> DeleteArtifact(HttpContext http, IArtifactStore store, string? path)
    {
        var artifact = UrlPath(http, path);
        await http.RequireArtifactPathAsync(artifact.Value, AccessLevel.Manage);
        if (artifact.IsRoot)
        {
            // MLflow deletes everything it stores here; no client means that.
            throw MlflowException.InvalidParameter("Invalid path in parameter 'artifact_path': the artifact root cannot be deleted.");
        }
        await store.DeleteAsync(artifact, http.RequestAborted);
        return Results.Json(Empty.Instance, MlflowJson.Options);
    }

    // The local store has no multipart uploads: MLflow clients that try one (MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD)
    // read this message and send one PUT instead. A store with multipart support answers here.
    public static Task<IResult> CreateMultipartUpload(HttpContext http, string? path) => MultipartUpload(http, path);

    public static Task<IResult> CompleteMultipartUpload(HttpContext http, string? path) => MultipartUpload(http, path);

    public static Task<IResult> AbortMultipartUpload(HttpContext http, string? path) => MultipartUpload(http, path);

    /// <summary>service.proto's listArtifacts: a run's files, with paths relative to the run's artifact root.</summary>
    public static async Task<IResult> ListArtifacts(HttpContext http, RunService runs, IArtifactStore store)
    {
        var req = await MlflowRequest.ReadAsync<ListRunArtifactsRequest>(http);
        var relative = ArtifactPath.Parse(req.Path, "path");
        if (!string.IsNullOrEmpty(req.PageToken))
        {
            // Every file of a folder comes in one page, so no token was ever handed out.
            throw MlflowException.InvalidParameter("Invalid page token: this server lists a folder in one page.");
        }
        await http.RequireRunAsync(string.IsNullOrEmpty(req.RunId) ? req.RunUuid : req.RunId, AccessLevel.Read);
        var run = await runs.GetRunAsync(string.IsNullOrEmpty(req.RunId) ? req.RunUuid : req.RunId, http.RequestAborted);
        var root = ArtifactLocations.StorePath(run.ArtifactUri)
            ?? throw MlflowException.InvalidParameter(
                $"The artifacts of run '{run.Id}' are not stored behind this server's proxy, so it cannot list them.");
        var entries = await store.ListAsync(root.Append(relative), http.RequestAborted);
        var files = entries.Select(e => File(relative.IsRoot ? e.Name : $"{relative.Value}/{e.Name}", e)).ToList();
        return Results.Json(new ListArtifactsResponse(run.ArtifactUri, files), MlflowJson.Options);
    }

    private static async Task<IResult> MultipartUpload(HttpContext http, string? path)
    {
        await http.RequireArtifactPathAsync(UrlFilePath(http, path).Value, AccessLevel.Edit);
        throw new MlflowException(ErrorCode.NOT_IMPLEMENTED, MultipartNotSupported);
    }

    // protobuf omits a zero file_size: MLflow lists an empty file without one.
    private static FileInfoMessage File(string path, ArtifactEntry entry) =>
        new(path, entry.IsDirectory, entry.Size is > 0 ? entry.Size : null);

    /// <summary>
    /// The artifact path of the URL (the route's value, decoded once by the server). The raw request target is
    /// checked as well: the server resolves "." and ".." segments before routing ("a/../b" reaches us as "b"),
    /// and a path that had them is refused, not resolved.
    /// </summary>
    private static ArtifactPath UrlPath(HttpContext http, string? path)
    {
        RefuseDotSegments(http);
        return ArtifactPath.Parse(path, "artifact_path");
    }

    private static ArtifactPath UrlFilePath(HttpContext http, string? path)
    {
        RefuseDotSegments(http);
        return ArtifactPath.ParseFile(path, "artifact_path");
    }

    private static void RefuseDotSegments(HttpContext http)
    {
        var target = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        var query = target.IndexOf('?', StringComparison.Ordinal);
        if (ArtifactPath.HasDotSegment(query >= 0 ? target[..query] : target))
        {
            throw MlflowException.InvalidParameter("Invalid path in parameter 'artifact_path': '.' and '..' segments are not allowed.");
        }
    }
}
