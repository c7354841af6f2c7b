using Dashboard.Auth;
using Dashboard.Security;
using Dashboard.Tracking;

namespace Dashboard.Api.Mlflow;

/// <summary>Metric history RPCs of service.proto.</summary>
public static class MetricEndpoints
{
    public static void MapMetricEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapGet("/metrics/get-history", GetMetricHistory);
        api.MapGet("/metrics/get-history-bulk-interval", GetMetricHistoryBulkInterval);
    }

    public static async Task<IResult> GetMetricHistory(HttpContext http, MetricService metrics)
    {
        var req = await MlflowRequest.ReadAsync<GetMetricHistoryRequest>(http);
        await http.RequireRunAsync(string.IsNullOrEmpty(req.RunId) ? req.RunUuid : req.RunId, AccessLevel.Read);
        var page = await metrics.GetHistoryAsync(string.IsNullOrEmpty(req.RunId) ? req.RunUuid : req.RunId, req.MetricKey,
            req.MaxResults, req.PageToken, http.RequestAborted);
        return Results.Json(new MetricHistoryResponse(page.Metrics.Select(Wire.Metric).ToList(), page.NextPageToken), MlflowJson.Options);
    }

    public static async Task<IResult> GetMetricHistoryBulkInterval(HttpContext http, MetricService metrics)
    {
        var req = await MlflowRequest.ReadAsync<GetMetricHistoryBulkIntervalRequest>(http);
        await http.RequireRunsAsync(req.RunIds ?? [], AccessLevel.Read);
        var points = await metrics.GetHistoryBulkIntervalAsync(req.RunIds ?? [], req.MetricKey, req.StartStep, req.EndStep,
            req.MaxResults, http.RequestAborted);
        return Results.Json(new MetricHistoryBulkResponse(points
            .Select(m => new MetricWithRunIdMessage(m.Key, m.IsNaN ? double.NaN : m.Value, m.Timestamp, m.Step, m.RunId)).ToList()),
            MlflowJson.Options);
    }
}
