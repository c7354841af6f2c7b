using System.Globalization;
using System.Text.Json;
using Dashboard.Auth;
using Dashboard.Errors;
using Dashboard.Governance;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Dashboard.Api.V1;

/// <summary>
/// Webhook subscriptions and their delivery log under /api/v1 (issue 7, item 6; docs/operations.md, "Webhooks").
/// Admins only. A webhook's secret is answered by create and rotate-secret, and nowhere else.
/// </summary>
public static class WebhookEndpoints
{
    public static RouteGroupBuilder MapWebhookEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(V1Api.Prefix + "/webhooks").WithTags("Webhooks");
        api.MapGet("", ListWebhooks)
            .WithName(nameof(ListWebhooks))
            .WithSummary("Every webhook (Admins); secrets are shown as a hint of their first characters")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPost("", CreateWebhook)
            .WithName(nameof(CreateWebhook))
            .WithSummary("Makes a webhook (Admins); its secret is in this answer and nowhere else")
            .WithDescription("name: 1 to 100 characters; url: absolute http(s), no user info or fragment; events: a list of " +
                string.Join(", ", WebhookEvents.All) + " or [\"*\"] (the default); model_name: only that registered model's events; " +
                "enabled (default true); secret: at least 16 characters, or omitted to have one generated.")
            .Accepts<CreateWebhookRequest>("application/json")
            .Produces<CreatedWebhookResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapGet("/{id}", GetWebhook)
            .WithName(nameof(GetWebhook))
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPatch("/{id}", UpdateWebhook)
            .WithName(nameof(UpdateWebhook))
            .WithSummary("Changes the fields given (name, url, events, model_name with \"\" for every model, enabled)")
            .Accepts<UpdateWebhookRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{id}", DeleteWebhook)
            .WithName(nameof(DeleteWebhook))
            .WithSummary("Deletes a webhook with its delivery log; deliveries not yet sent are dropped")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/rotate-secret", RotateWebhookSecret)
            .WithName(nameof(RotateWebhookSecret))
            .WithSummary("Replaces the secret with a new generated one, answered here once; later attempts are signed with it")
            .Produces<CreatedWebhookResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/test", TestWebhook)
            .WithName(nameof(TestWebhook))
            .WithSummary("Queues a webhook.test event for this webhook alone, due now; answers the delivery (202)")
            .Produces<DeliveryMessage>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id}/deliveries", ListWebhookDeliveries)
            .WithName(nameof(ListWebhookDeliveries))
            .WithSummary("The webhook's deliveries, newest first, each with its attempts and body")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/deliveries/{id}/redeliver", RedeliverWebhookDelivery)
            .WithName(nameof(RedeliverWebhookDelivery))
            .WithSummary("Sends a Delivered or Failed delivery again (same event id and body, a fresh retry budget)")
            .Produces<DeliveryMessage>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    public static async Task<Ok<WebhooksResponse>> ListWebhooks(HttpContext http, WebhookService webhooks, CancellationToken ct) =>
        TypedResults.Ok(new WebhooksResponse([.. (await webhooks.ListAsync(http.Caller(), ct)).Select(WebhookMessage.Of)]));

    public static async Task<Created<CreatedWebhookResponse>> CreateWebhook(HttpContext http, WebhookService webhooks, CancellationToken ct)
    {
        var caller = http.Caller();
        var request = await V1Api.ReadJsonAsync<CreateWebhookRequest>(http, ct);
        var made = await webhooks.CreateAsync(new WebhookInput(request.Name, request.Url, request.Events, request.ModelName, request.Enabled,
            request.Secret), caller, ct);
        return TypedResults.Created($"{V1Api.Prefix}/webhooks/{made.Webhook.Id}", new CreatedWebhookResponse(WebhookMessage.Of(made.Webhook), made.Secret));
    }

    public static async Task<Ok<WebhookMessage>> GetWebhook([FromRoute(Name = "id")] string id, HttpContext http, WebhookService webhooks,
        CancellationToken ct) =>
        TypedResults.Ok(WebhookMessage.Of(await webhooks.GetAsync(Id(id, "webhook"), http.Caller(), ct)));

    public static async Task<Ok<WebhookMessage>> UpdateWebhook([FromRoute(Name = "id")] string id, HttpContext http, WebhookService webhooks,
        CancellationToken ct)
    {
        var caller = http.Caller();
        var webhookId = Id(id, "webhook");
        var request = await V1Api.ReadJsonAsync<UpdateWebhookRequest>(http, ct);
        return TypedResults.Ok(WebhookMessage.Of(await webhooks.UpdateAsync(webhookId,
            new WebhookInput(request.Name, request.Url, request.Events, request.ModelName, request.Enabled, request.Secret), caller, ct)));
    }

    public static async Task<NoContent> DeleteWebhook([FromRoute(Name = "id")] string id, HttpContext http, WebhookService webhooks,
        CancellationToken ct)
    {
        await webhooks.DeleteAsync(Id(id, "webhook"), http.Caller(), ct);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<CreatedWebhookResponse>> RotateWebhookSecret([FromRoute(Name = "id")] string id, HttpContext http,
        WebhookService webhooks, CancellationToken ct)
    {
        var rotated = await webhooks.RotateSecretAsync(Id(id, "webhook"), http.Caller(), ct);
        return TypedResults.Ok(new CreatedWebhookResponse(WebhookMessage.Of(rotated.Webhook), rotated.Secret));
    }

    public static async Task<Accepted<DeliveryMessage>> TestWebhook([FromRoute(Name = "id")] string id, HttpContext http,
        WebhookService webhooks, CancellationToken ct)
    {
        var delivery = await webhooks.SendTestAsync(Id(id, "webhook"), http.Caller(), ct);
        return TypedResults.Accepted((string?)null, DeliveryMessage.Of(delivery));
    }

    /// <param name="maxResults">Deliveries per page, 1 to 200 (default 20).</param>
    /// <param name="pageToken">The next_page_token of the previous page.</param>
    public static async Task<Ok<DeliveriesResponse>> ListWebhookDeliveries([FromRoute(Name = "id")] string id,
        [FromQuery(Name = "max_results")] string? maxResults, [FromQuery(Name = "page_token")] string? pageToken, HttpContext http,
        WebhookService webhooks, CancellationToken ct)
    {
        int? size = null;
        if (!string.IsNullOrEmpty(maxResults))
        {
            size = int.TryParse(maxResults, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? n
                : throw MlflowException.InvalidParameter($"max_results must be 1 to {WebhookService.MaxPageSize}.");
        }
        var page = await webhooks.ListDeliveriesAsync(Id(id, "webhook"), size, pageToken, http.Caller(), ct);
        return TypedResults.Ok(new DeliveriesResponse([.. page.Items.Select(DeliveryMessage.Of)], page.NextPageToken));
    }

    public static async Task<Accepted<DeliveryMessage>> RedeliverWebhookDelivery([FromRoute(Name = "id")] string id, HttpContext http,
        WebhookService webhooks, CancellationToken ct)
    {
        var delivery = await webhooks.RedeliverAsync(Id(id, "webhook delivery"), http.Caller(), ct);
        return TypedResults.Accepted((string?)null, DeliveryMessage.Of(delivery));
    }

    /// <summary>An id from the route; anything but a positive number names nothing (404, like an id that does not exist).</summary>
    private static long Id(string text, string what) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : throw new MlflowException(ErrorCode.RESOURCE_DOES_NOT_EXIST, $"No {what} with id '{(text.Length <= 40 ? text : text[..40] + "…")}'.");

}

/// <param name="Events">Event types (see the create endpoint), or ["*"] for all.</param>
/// <param name="ModelName">Only this registered model's events; omitted: every model.</param>
/// <param name="Secret">The signing secret (16 to 256 characters); omitted: one is generated.</param>
public sealed record CreateWebhookRequest(string? Name, string? Url, IReadOnlyList<string>? Events, string? ModelName, bool? Enabled,
    string? Secret);

/// <summary>Fields to change; those omitted (or null) stay. model_name "" means every model.</summary>
/// <param name="Secret">Refused: a secret is replaced by rotate-secret, which answers the new one.</param>
public sealed record UpdateWebhookRequest(string? Name, string? Url, IReadOnlyList<string>? Events, string? ModelName, bool? Enabled,
    string? Secret);

/// <summary>A webhook as lists show it.</summary>
/// <param name="SecretHint">The secret's first characters, to tell which one a receiver holds.</param>
public sealed record WebhookMessage(long Id, string Name, string Url, IReadOnlyList<string> Events, string? ModelName, bool Enabled,
    string SecretHint, DateTimeOffset CreationTime, string CreatedBy, DateTimeOffset LastUpdatedTime)
{
    public static WebhookMessage Of(WebhookView w) => new(w.Id, w.Name, w.Url, w.Events, w.ModelName, w.Enabled, w.SecretHint,
        DateTimeOffset.FromUnixTimeMilliseconds(w.CreatedAt), w.CreatedBy, DateTimeOffset.FromUnixTimeMilliseconds(w.UpdatedAt));
}

public sealed record WebhooksResponse(IReadOnlyList<WebhookMessage> Webhooks);

/// <param name="Secret">The signing secret: in this answer only.</param>
public sealed record CreatedWebhookResponse(WebhookMessage Webhook, string Secret);

/// <summary>One attempt: the receiver's HTTP status (none when it did not answer), the error, how long it took.</summary>
public sealed record AttemptMessage(int Number, DateTimeOffset Time, int? Status, string? Error, int DurationMs);

/// <summary>One delivery of the log.</summary>
/// <param name="EventId">The event's id, sent as Dashboard-Delivery: the same in every retry and redelivery.</param>
/// <param name="State">Pending, Delivered or Failed.</param>
/// <param name="AttemptCount">Attempts since it was queued (or last redelivered).</param>
/// <param name="NextAttemptTime">When a Pending delivery is tried next.</param>
/// <param name="Payload">The body, exactly as sent and signed.</param>
/// <param name="Attempts">Every attempt, oldest first.</param>
public sealed record DeliveryMessage(long Id, long WebhookId, string EventId, string EventType, string State, int AttemptCount,
    DateTimeOffset CreationTime, DateTimeOffset? NextAttemptTime, DateTimeOffset? DeliveredTime, int? LastStatus, string? LastError,
    string Payload, IReadOnlyList<AttemptMessage> Attempts)
{
    public static DeliveryMessage Of(WebhookDeliveryView d) => new(d.Id, d.WebhookId, d.EventId, d.EventType, d.State, d.Attempts,
        At(d.CreatedAt), d.State == DeliveryState.Pending ? At(d.NextAttemptAt) : null, d.DeliveredAt is { } t ? At(t) : null,
        d.LastStatus, d.LastError, d.Payload,
        [.. d.AttemptLog.Select(a => new AttemptMessage(a.Number, At(a.Time), a.Status, a.Error, a.DurationMs))]);

    private static DateTimeOffset At(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}

/// <param name="NextPageToken">Pass as page_token for the next (older) page; omitted on the last page.</param>
public sealed record DeliveriesResponse(IReadOnlyList<DeliveryMessage> Deliveries, string? NextPageToken);
