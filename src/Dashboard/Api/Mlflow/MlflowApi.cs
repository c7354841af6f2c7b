using System.Text.Json;
using Dashboard.Api.V1;
using Dashboard.Errors;
using Microsoft.AspNetCore.Diagnostics;

namespace Dashboard.Api.Mlflow;

/// <summary>The MLflow REST surface: one route table mounted under /api/2.0/mlflow and /ajax-api/2.0/mlflow.</summary>
public static class MlflowApi
{
    public static readonly string[] Prefixes = ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"];

    public static bool IsMlflowPath(PathString path) =>
        path.StartsWithSegments("/api", StringComparison.Ordinal) || path.StartsWithSegments("/ajax-api", StringComparison.Ordinal);

    public static void MapMlflowApi(this IEndpointRouteBuilder app)
    {
        foreach (var prefix in Prefixes)
        {
            var api = app.MapGroup(prefix);
            api.MapExperimentEndpoints();
            api.MapRunEndpoints();
            api.MapMetricEndpoints();
            api.MapLoggedModelEndpoints();
            api.MapRegistryEndpoints();
            api.MapPermissionEndpoints();
        }
        app.MapArtifactEndpoints();
        app.MapServerEndpoints();
        foreach (var root in new[] { "/api", "/ajax-api" })
        {
            app.MapFallback($"{root}/{{**rest}}", (HttpContext http) => Error(http, ErrorCode.ENDPOINT_NOT_FOUND,
                $"No API endpoint for {http.Request.Method} {http.Request.Path}", StatusCodes.Status404NotFound));
        }
    }

    /// <summary>
    /// Renders errors of the MLflow paths in MLflow's shape: {"error_code", "message"} with MLflow's status table, and
    /// those of /api/v1 as ProblemDetails with the same status and the error code as an extension.
    /// Unexpected exceptions are logged and answered 500 without details (no server paths, no SQL).
    /// </summary>
    public static void UseMlflowErrors(this IApplicationBuilder app)
    {
        app.Use(async (http, next) =>
        {
            http.Response.Headers.XContentTypeOptions = "nosniff";
            try
            {
                await next(http);
            }
            catch (Exception ex) when (!http.Response.HasStarted)
            {
                var (code, message, status) = Describe(http, ex);
                if (status is null)
                {
                    throw;
                }
                // One handler, two shapes: MLflow's under the MLflow paths, ProblemDetails under /api/v1.
                var result = V1Api.IsV1Path(http.Request.Path)
                    ? V1Api.Problem(code, message, status.Value)
                    : Error(http, code, message, status.Value);
                await result.ExecuteAsync(http);
            }
        });
    }

    private static (ErrorCode, string, int?) Describe(HttpContext http, Exception ex)
    {
        switch (ex)
        {
            case MlflowException m:
                return (m.ErrorCode, m.Message, m.HttpStatus);
            case BadHttpRequestException bad:
                // Kestrel's own limits and malformed framing; the caller's to fix.
                return (ErrorCode.BAD_REQUEST, bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? "The request body is too large." : "The request could not be read.", StatusCodes.Status400BadRequest);
            case OperationCanceledException when http.RequestAborted.IsCancellationRequested:
                // The client went away; nobody reads the answer.
                return (ErrorCode.INTERNAL_ERROR, "", 499);
            default:
                http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Dashboard.Api.Mlflow")
                    .LogError(ex, "Unhandled error on {Method} {Path}", http.Request.Method, http.Request.Path);
                return (ErrorCode.INTERNAL_ERROR, "An internal error occurred. It has been logged on the server.",
                    StatusCodes.Status500InternalServerError);
        }
    }

    public static IResult Error(HttpContext http, ErrorCode code, string message, int status)
    {
        _ = http;
        return Results.Json(new ErrorResponse(code.ToString(), message), MlflowJson.Options, statusCode: status);
    }
}

public sealed record ErrorResponse(string ErrorCode, string Message);
