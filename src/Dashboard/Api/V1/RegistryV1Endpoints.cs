using Dashboard.Auth;
using Dashboard.Registry;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Dashboard.Api.V1;

/// <summary>
/// The model registry under /api/v1 (issue 4), read-only: the history of every stage change and alias move of a
/// registered model (who made it, when, from what to what; newest first, paged by <c>max_results</c> and
/// <c>page_token</c>), and what a <c>models:/</c> URI resolves to (docs/adr/0009-model-registry.md).
/// </summary>
public static class RegistryV1Endpoints
{
    public static RouteGroupBuilder MapRegistryV1Endpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(V1Api.Prefix).WithTags("Model registry");
        api.MapGet("/model-uri", ResolveModelUri)
            .WithName(nameof(ResolveModelUri))
            .WithSummary("What a models:/ URI names and where its files are")
            .WithDescription("models:/<name>/<version>, models:/<name>/<stage> (the latest version in it), models:/<name>/latest, " +
                "models:/<name>@<alias> (a registered model's version) and models:/<model_id> (an MLflow 3 logged model). " +
                "An unknown model or version is 404; an unknown alias or stage, or a URI of another form, is 400 (MLflow's answers).")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/registered-models/{name}/history", GetModelHistory)
            .WithName(nameof(GetModelHistory))
            .WithSummary("The history of a registered model: stage changes and alias moves of all its versions, newest first")
            .WithDescription("Events of versions deleted since are included. A model deleted and created again under the same name " +
                "is a new model with a history of its own.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/registered-models/{name}/versions/{version}/history", GetVersionHistory)
            .WithName(nameof(GetVersionHistory))
            .WithSummary("The history of one model version: its stage changes and the aliases set to it, moved away from it or removed, newest first")
            .WithDescription("A deleted version's history stays readable.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    /// <param name="uri">A models:/ URI, as MLflow clients load models by.</param>
    public static async Task<Ok<ModelUriResponse>> ResolveModelUri([FromQuery(Name = "uri")] string? uri, ModelSourceResolver resolver,
        HttpContext http, CancellationToken ct)
    {
        // An absent uri is "", which the resolver answers with MLflow's missing-value message.
        var given = uri ?? "";
        var target = await resolver.ResolveModelUriAsync(given, ct);
        switch (target)
        {
            case RegisteredVersionTarget v:
                await http.RequireRegisteredModelAsync(v.Name, AccessLevel.Read);
                break;
            case LoggedModelTarget m:
                await http.RequireLoggedModelAsync(m.ModelId, AccessLevel.Read);
                break;
        }
        return TypedResults.Ok(ModelUriResponse.Of(given, target));
    }

    /// <param name="maxResults">Events in one answer: 1 to 1000, default 1000.</param>
    /// <param name="pageToken">The <c>next_page_token</c> of the previous answer.</param>
    public static async Task<Ok<RegistryHistoryResponse>> GetModelHistory([FromRoute(Name = "name")] string name,
        [FromQuery(Name = "max_results")] int? maxResults, [FromQuery(Name = "page_token")] string? pageToken,
        RegistryService registry, HttpContext http, CancellationToken ct)
    {
        await http.RequireRegisteredModelAsync(name, AccessLevel.Read);
        return TypedResults.Ok(RegistryHistoryResponse.Of(await registry.GetHistoryAsync(name, null, maxResults, pageToken, ct)));
    }

    /// <param name="maxResults">Events in one answer: 1 to 1000, default 1000.</param>
    /// <param name="pageToken">The <c>next_page_token</c> of the previous answer.</param>
    public static async Task<Ok<RegistryHistoryResponse>> GetVersionHistory([FromRoute(Name = "name")] string name,
        [FromRoute(Name = "version")] string version, [FromQuery(Name = "max_results")] int? maxResults,
        [FromQuery(Name = "page_token")] string? pageToken, RegistryService registry, HttpContext http, CancellationToken ct)
    {
        await http.RequireRegisteredModelAsync(name, AccessLevel.Read);
        return TypedResults.Ok(RegistryHistoryResponse.Of(await registry.GetHistoryAsync(name, version, maxResults, pageToken, ct)));
    }
}

/// <summary>One page of a history, newest event first.</summary>
/// <param name="NextPageToken">Absent on the last page.</param>
public sealed record RegistryHistoryResponse(IReadOnlyList<RegistryEventMessage> Events, string? NextPageToken)
{
    public static RegistryHistoryResponse Of(Search.SearchPage<RegistryEvent> page) =>
        new([.. page.Items.Select(RegistryEventMessage.Of)], page.NextPageToken);
}

/// <summary>A change of the registry.</summary>
/// <param name="Id">Increases with every event: the order in which changes were made.</param>
/// <param name="Kind"><c>stage_changed</c>, <c>alias_set</c> (a new alias or a move) or <c>alias_deleted</c>.</param>
/// <param name="ModelName">The model's name when the change was made.</param>
/// <param name="Version">The version changed: the one whose stage changed, or that the alias points to now (or pointed to, when removed).</param>
/// <param name="Alias">The alias of an alias event.</param>
/// <param name="From">The stage before, or the version the alias pointed to before (absent for a new alias).</param>
/// <param name="To">The stage after, or the version the alias points to now (absent when it was removed).</param>
/// <param name="Actor">Who made the change (<c>local</c> until sign-in exists).</param>
/// <param name="Timestamp">When, in UTC (ISO 8601).</param>
/// <param name="TimestampMs">When, in milliseconds since the Unix epoch (MLflow's unit).</param>
public sealed record RegistryEventMessage(long Id, string Kind, string ModelName, int? Version, string? Alias, string? From, string? To,
    string Actor, DateTimeOffset Timestamp, long TimestampMs)
{
    public static RegistryEventMessage Of(RegistryEvent e) => new(e.Id, e.Kind, e.ModelName, e.Version, e.Alias, e.Before, e.After,
        e.Actor, DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp), e.Timestamp);
}

/// <summary>What a models:/ URI resolves to.</summary>
/// <param name="Kind"><c>model_version</c> (a registered model's version) or <c>logged_model</c> (models:/&lt;model_id&gt;).</param>
/// <param name="Name">The registered model (model versions only).</param>
/// <param name="Version">The version the URI resolves to now (model versions only).</param>
/// <param name="ModelId">The logged model: the URI's, or the one the version was registered from.</param>
/// <param name="RunId">The run that produced the model, when known.</param>
/// <param name="StorageLocation">Where the model's files are (what model-versions/get-download-uri answers for a version).</param>
public sealed record ModelUriResponse(string Uri, string Kind, string? Name, int? Version, string? ModelId, string? RunId, string StorageLocation)
{
    public static ModelUriResponse Of(string uri, ModelUriTarget target) => target switch
    {
        RegisteredVersionTarget v => new(uri, "model_version", v.Name, v.Version, v.ModelId, v.RunId, v.StorageLocation),
        LoggedModelTarget m => new(uri, "logged_model", null, null, m.ModelId, m.SourceRunId, m.StorageLocation),
        _ => throw new InvalidOperationException($"Unknown target {target.GetType().Name}."),
    };
}
