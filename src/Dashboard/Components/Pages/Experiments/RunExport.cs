using System.Globalization;
using System.Text;
using Dashboard.Errors;
using Dashboard.Search;
using Dashboard.Tracking;
using Microsoft.AspNetCore.Mvc;

namespace Dashboard.Components.Pages.Experiments;

/// <summary>
/// <c>GET /experiments/{id}/runs.csv</c>: the runs table's current view (the same query parameters as the page:
/// filter, order, cols and the quick filters) as CSV, streamed from the database in chunks by a plain HTTP endpoint,
/// so that a 100,000-run export never passes through a Blazor circuit. Errors (a bad filter) are MLflow's JSON errors.
/// </summary>
public static class RunExport
{
    public static void MapRunExport(this IEndpointRouteBuilder app) =>
        app.MapGet("/experiments/{experiment_id}/runs.csv", ExportRunsCsv).ExcludeFromDescription();

    public static async Task ExportRunsCsv(HttpContext http, [FromRoute(Name = "experiment_id")] string experimentId,
        [FromQuery] string? filter, [FromQuery] string? order, [FromQuery] string? cols, [FromQuery] string? status,
        [FromQuery] string? user, [FromQuery] string? since, ExperimentService experiments, RunTableService table, TimeProvider clock,
        CancellationToken ct)
    {
        var experiment = await experiments.GetExperimentAsync(experimentId, ct);
        await Auth.Access.RequireExperimentAsync(http, experiment.Id, Security.AccessLevel.Read);
        var state = RunTableState.From(filter, order, cols, null, null, null, null, null, status, user, since, null, null, null);
        // Parsed before the first byte is written, so that a bad filter is a 400 and not a truncated file.
        var parsed = FilterParser.Parse(state.EffectiveFilter(clock.GetUtcNow()), SearchScope.Runs);
        var orderTerms = OrderByParser.Parse(state.OrderBy, SearchScope.Runs);
        var columns = state.Columns ?? [];

        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"experiment-{experiment.Id}-runs.csv\"";
        await using var writer = new StreamWriter(http.Response.Body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 16 * 1024)
        {
            NewLine = "\r\n", // RFC 4180
        };
        string[] fixedHeader = ["run_id", "run_name", "status", "user_id", "start_time", "end_time"];
        await writer.WriteLineAsync(string.Join(",", fixedHeader.Concat(columns.Select(c => Csv(c.Identifier.Replace("`", "", StringComparison.Ordinal))))));
        var keys = new RunKeys(Keys(columns, SearchEntity.Param), Keys(columns, SearchEntity.Metric), Keys(columns, SearchEntity.Tag));
        await foreach (var chunk in table.StreamAsync([experiment.Id], ViewType.ActiveOnly, parsed, orderTerms, keys, ct))
        {
            var sb = new StringBuilder();
            foreach (var run in chunk)
            {
                sb.Append(Csv(run.Id)).Append(',').Append(Csv(run.Name)).Append(',').Append(run.Status).Append(',').Append(Csv(run.UserId))
                    .Append(',').Append(Iso(run.StartTime)).Append(',').Append(run.EndTime is { } end ? Iso(end) : "");
                foreach (var column in columns)
                {
                    sb.Append(',').Append(Cell(run, column));
                }
                sb.Append("\r\n");
            }
            await writer.WriteAsync(sb, ct);
            await writer.FlushAsync(ct);
        }
    }

    private static List<string> Keys(IReadOnlyList<RunColumn> columns, SearchEntity kind) =>
        columns.Where(c => c.Kind == kind).Select(c => c.Key).ToList();

    private static string Iso(long epochMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(epochMs).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    // A run carries only the chosen keys' values (StreamAsync loads no others): a scan of a few items.
    private static string Cell(Run run, RunColumn column) => column.Kind switch
    {
        SearchEntity.Metric => run.LatestMetrics.Find(m => m.Key == column.Key) is { } m
            ? m.IsNaN ? "NaN" : m.Value.ToString("R", CultureInfo.InvariantCulture) : "",
        SearchEntity.Param => Csv(run.Params.Find(p => p.Key == column.Key)?.Value),
        _ => Csv(run.Tags.Find(t => t.Key == column.Key)?.Value),
    };

    /// <summary>
    /// One CSV field (RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled). Text that a
    /// spreadsheet would run as a formula (starting with = + - @ or a tab or carriage return) gets a leading
    /// apostrophe, as OWASP advises for CSV injection; a value that is a plain number (-0.5) is left as it is.
    /// </summary>
    public static string Csv(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r'
            && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            value = "'" + value;
        }
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
