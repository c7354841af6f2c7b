using Dashboard.Auth;
using Dashboard.ModelCards;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Dashboard.Api.V1;

/// <summary>
/// Model cards (issue 3): what the server reads from a model's MLmodel and environment files. Read-only: GET only,
/// and nothing here executes, loads or deserializes a model (docs/adr/0008-model-cards.md).
/// </summary>
public static class ModelCardEndpoints
{
    public static RouteGroupBuilder MapModelCardEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(V1Api.Prefix).WithTags("Model cards");
        api.MapGet("/runs/{run_id}/model-cards", ListRunModelCards)
            .WithName(nameof(ListRunModelCards))
            .WithSummary("The cards of every model a run logged")
            .WithDescription("MLflow 2 models from the run's mlflow.log-model.history tag, then MLflow 3 logged models whose source run " +
                "the run is or that it output. A model whose folder has no MLmodel file is listed with a problem saying so.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/runs/{run_id}/model-card", GetRunModelCard)
            .WithName(nameof(GetRunModelCard))
            .WithSummary("The card of the model at an artifact path of a run")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/logged-models/{model_id}/model-card", GetLoggedModelCard)
            .WithName(nameof(GetLoggedModelCard))
            .WithSummary("The card of an MLflow 3 logged model")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Ok<ModelCardsResponse>> ListRunModelCards([FromRoute(Name = "run_id")] string runId, ModelCardService cards,
        HttpContext http, CancellationToken ct)
    {
        await http.RequireRunAsync(runId, AccessLevel.Read);
        var list = await cards.ListForRunAsync(runId, ct);
        return TypedResults.Ok(new ModelCardsResponse(list.Cards, list.Truncated));
    }

    /// <param name="path">The model's folder relative to the run's artifact root, as MLflow 2 names it (<c>model</c>).</param>
    public static async Task<Ok<ModelCard>> GetRunModelCard([FromRoute(Name = "run_id")] string runId, [FromQuery] string? path,
        ModelCardService cards, HttpContext http, CancellationToken ct)
    {
        await http.RequireRunAsync(runId, AccessLevel.Read);
        return TypedResults.Ok(await cards.GetForRunAsync(runId, path, ct));
    }

    public static async Task<Ok<ModelCard>> GetLoggedModelCard([FromRoute(Name = "model_id")] string modelId, ModelCardService cards,
        HttpContext http, CancellationToken ct)
    {
        await http.RequireLoggedModelAsync(modelId, AccessLevel.Read);
        return TypedResults.Ok(await cards.GetForLoggedModelAsync(modelId, ct));
    }
}

/// <param name="Truncated">True when the run logged more models than one answer lists (<see cref="ModelCardService.MaxCardsPerRun"/>).</param>
public sealed record ModelCardsResponse(IReadOnlyList<ModelCard> ModelCards, bool Truncated);
