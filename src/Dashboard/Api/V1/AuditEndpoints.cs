using System.Globalization;
using Dashboard.Auth;
using Dashboard.Errors;
using Dashboard.Governance;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Dashboard.Api.V1;

/// <summary>
/// The audit trail under /api/v1 (issue 7, item 5; docs/operations.md, "Audit trail"): the events newest first with
/// filters and keyset paging, their export as CSV or JSON with the same filters, and a model's promotion timeline.
/// Admins and Approvers see every event; anyone else only those of the registered models they may read.
/// </summary>
public static class AuditEndpoints
{
    public const string ExportLimitHeader = "X-Export-Row-Limit";
    public const string ExportTruncatedHeader = "X-Export-Truncated";

    private const string FilterDescription =
        "Filters (all optional, combined with AND): actor; action (exact, or a prefix ending in a dot such as 'promotion_request.'); " +
        "target_type; name (the registered model); version; request_id; from and to (epoch milliseconds or ISO 8601; from inclusive, " +
        "to exclusive); q (text found in the target, any case).";

    public static RouteGroupBuilder MapAuditEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(V1Api.Prefix).WithTags("Audit trail");
        api.MapGet("/audit-events", SearchAuditEvents)
            .WithName(nameof(SearchAuditEvents))
            .WithSummary("Audit events, newest first: who did what to which target, when, with the state before and after")
            .WithDescription(FilterDescription + $" max_results: 1 to {AuditService.MaxPageSize} (default {AuditService.DefaultPageSize}); " +
                "page_token: the next_page_token of the previous answer, with the same filters.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/audit-events/export", ExportAuditEvents)
            .WithName(nameof(ExportAuditEvents))
            .WithSummary("The audit events the filters select, as a CSV or JSON download, newest first")
            .WithDescription(FilterDescription + " format: csv (RFC 4180; texts starting with = + - @ tab or CR are prefixed with ') " +
                "or json (one array of events). At most 100,000 rows: the X-Export-Row-Limit header gives the cap and " +
                "X-Export-Truncated says whether more events matched.")
            .Produces(StatusCodes.Status200OK, contentType: "text/csv")
            .Produces<IReadOnlyList<AuditEventView>>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/registered-models/{name}/timeline", GetModelTimeline)
            .WithName(nameof(GetModelTimeline))
            .WithSummary("The promotion timeline of a registered model, newest first: promotions with who asked, who approved and the gates; " +
                "requests rejected, cancelled or expired; direct stage changes, alias moves and versions created")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Ok<AuditEventsResponse>> SearchAuditEvents(HttpContext http, AuditService audit,
        [FromQuery(Name = "max_results")] string? maxResults, [FromQuery(Name = "page_token")] string? pageToken, CancellationToken ct)
    {
        var query = Query(http) with { MaxResults = Int(maxResults, "max_results"), PageToken = pageToken };
        var page = await audit.SearchAsync(query, http.Caller(), ct);
        return TypedResults.Ok(new AuditEventsResponse([.. page.Items.Select(AuditEventView.Of)], page.NextPageToken));
    }

    /// <param name="format">csv (the default) or json.</param>
    public static async Task<IResult> ExportAuditEvents(HttpContext http, AuditService audit, TimeProvider time,
        [FromQuery(Name = "format")] string? format)
    {
        var csv = (format ?? "csv").ToLowerInvariant() switch
        {
            "csv" => true,
            "json" => false,
            _ => throw MlflowException.InvalidParameter($"Invalid value '{format}' for parameter 'format': give csv or json."),
        };
        var export = await audit.ExportAsync(Query(http), http.Caller(), http.RequestAborted);
        http.Response.Headers[ExportLimitHeader] = export.Limit.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers[ExportTruncatedHeader] = export.Truncated ? "true" : "false";
        var name = $"audit-events-{time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.{(csv ? "csv" : "json")}";
        return Results.Stream(
            stream => csv
                ? AuditExportWriter.WriteCsvAsync(export.Rows, stream, http.RequestAborted)
                : AuditExportWriter.WriteJsonAsync(export.Rows, stream, http.RequestAborted),
            csv ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
            name);
    }

    public static async Task<Ok<ModelTimelineResponse>> GetModelTimeline([FromRoute(Name = "name")] string name, HttpContext http,
        AuditService audit, CancellationToken ct)
    {
        var timeline = await audit.TimelineAsync(name, http.Caller(), ct);
        return TypedResults.Ok(new ModelTimelineResponse(timeline.ModelName, timeline.Entries, timeline.Truncated));
    }

    /// <summary>The filters of the query string (shared by search and export), parsed; a bad one is INVALID_PARAMETER_VALUE.</summary>
    public static AuditQuery Query(HttpContext http)
    {
        var q = http.Request.Query;
        string? Text(string key) => q[key].Count > 1
            ? throw MlflowException.InvalidParameter($"Give the parameter '{key}' once.")
            : q[key].ToString() is { Length: > 0 } s ? s : null;
        var query = new AuditQuery(
            Actor: Text("actor"),
            Action: Text("action"),
            TargetType: Text("target_type"),
            ModelName: Text("name"),
            Version: Int(Text("version"), "version"),
            RequestId: Long(Text("request_id"), "request_id"),
            From: AuditService.ParseTime(Text("from"), "from"),
            To: AuditService.ParseTime(Text("to"), "to"),
            Text: Text("q"));
        AuditService.Validate(query);
        return query;
    }

    private static int? Int(string? text, string parameter) =>
        text is null ? null
        : int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n
        : throw MlflowException.InvalidParameter($"Invalid value '{Cut(text)}' for parameter '{parameter}': it must be an integer.");

    private static long? Long(string? text, string parameter) =>
        text is null ? null
        : long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n
        : throw MlflowException.InvalidParameter($"Invalid value '{Cut(text)}' for parameter '{parameter}': it must be an integer.");

    private static string Cut(string text) => text.Length <= 40 ? text : text[..40] + "…";
}

/// <param name="NextPageToken">Absent on the last page.</param>
public sealed record AuditEventsResponse(IReadOnlyList<AuditEventView> Events, string? NextPageToken);

/// <param name="Truncated">Only the newest 2,000 events and requests of the model were read.</param>
public sealed record ModelTimelineResponse(string Name, IReadOnlyList<TimelineEntry> Entries, bool Truncated);
