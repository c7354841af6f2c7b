using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;

namespace Dashboard.Api.V1;

/// <summary>
/// Dashboard's own API under /api/v1 (DESIGN.md, "Our own API"): JSON in snake_case like the MLflow surface, errors as
/// ProblemDetails with the error code as an extension, described by the OpenAPI document at <see cref="OpenApiPath"/>.
/// </summary>
public static class V1Api
{
    public const string Prefix = "/api/v1";

    public const string DocumentName = "v1";

    public const string OpenApiPath = Prefix + "/openapi.json";

    public static bool IsV1Path(PathString path) => path.StartsWithSegments(Prefix, StringComparison.Ordinal);

    /// <summary>The JSON of /api/v1 answers: snake_case names, unset fields omitted, enums by name, NaN and infinities as strings.</summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        // Served as application/json with nosniff: no HTML context, so quotes and apostrophes stay readable.
        options.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
    }

    /// <summary>The JSON options of /api/v1 answers and its OpenAPI document.</summary>
    public static IServiceCollection AddV1Api(this IServiceCollection services)
    {
        // The MLflow endpoints pass their own options (MlflowJson); these are for everything else.
        services.ConfigureHttpJsonOptions(o => ConfigureJson(o.SerializerOptions));
        services.AddOpenApi(DocumentName, o =>
        {
            o.ShouldInclude = d => d.RelativePath?.StartsWith("api/v1/", StringComparison.Ordinal) == true;
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Dashboard API";
                document.Info.Version = "v1";
                document.Info.Description =
                    "Dashboard's own API. The MLflow REST API is served under /api/2.0/mlflow as MLflow documents it.";
                // Paths are relative to the server that serves the document; echoing the request's Host header would
                // put whatever a client sent into a cacheable answer.
                document.Servers?.Clear();
                return Task.CompletedTask;
            });
        });
        return services;
    }

    public static void MapV1Api(this IEndpointRouteBuilder app)
    {
        app.MapModelCardEndpoints();
        app.MapRegistryV1Endpoints();
        app.MapSecretEndpoints();
        app.MapTokenEndpoints();
        app.MapPromotionEndpoints();
        app.MapWebhookEndpoints();
        app.MapAuditEndpoints();
        app.MapOpenApi(OpenApiPath);
        app.MapFallback($"{Prefix}/{{**rest}}", (HttpContext http) => Problem(ErrorCode.ENDPOINT_NOT_FOUND,
            $"No API endpoint for {http.Request.Method} {http.Request.Path}", StatusCodes.Status404NotFound));
    }

    /// <summary>
    /// A JSON request body read with the API's options: strict types (a string where a number belongs is 400), an object
    /// required, malformed JSON answered 400 with where it broke. <paramref name="emptyIs"/>: what an empty body means,
    /// for the actions whose fields are all optional (absent: an empty body is refused).
    /// </summary>
    public static async Task<T> ReadJsonAsync<T>(HttpContext http, CancellationToken ct, T? emptyIs = null) where T : class
    {
        if (emptyIs is not null && http.Request.ContentLength is 0 or null && !http.Request.Headers.ContainsKey("Transfer-Encoding"))
        {
            return emptyIs;
        }
        var options = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>()
            .Value.SerializerOptions;
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(http.Request.Body, options, ct)
                ?? throw MlflowException.InvalidParameter("The request body must be a JSON object.");
        }
        catch (JsonException e)
        {
            var at = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" (at {e.Path})";
            throw MlflowException.InvalidParameter($"The request body is not valid JSON of the expected shape{at}.");
        }
    }

    /// <summary>An error as ProblemDetails: the status's title, the message as detail, and MLflow's error code as <c>error_code</c>.</summary>
    public static ProblemHttpResult Problem(ErrorCode code, string message, int status) =>
        TypedResults.Problem(
            detail: message,
            statusCode: status,
            title: ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } reason ? reason : code.ToString(),
            extensions: new Dictionary<string, object?> { ["error_code"] = code.ToString() });
}
