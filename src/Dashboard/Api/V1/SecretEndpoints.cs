using Dashboard.Auth;
using Dashboard.Errors;
using Dashboard.Secrets;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Dashboard.Api.V1;

/// <summary>
/// Secret blocking under /api/v1 (docs/adr/0012, "Secret blocking"): the record of refused and redacted writes (for
/// administrators only: it tells who tried to store what kind of credential where) and the policy in force.
/// </summary>
public static class SecretEndpoints
{
    public static RouteGroupBuilder MapSecretEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(V1Api.Prefix).WithTags("Secret blocking");
        api.MapGet("/secret-blocks", ListSecretBlocks)
            .WithName(nameof(ListSecretBlocks))
            .WithSummary("Writes refused or redacted because a key or value looked like a credential, newest first")
            .WithDescription("Each record names the key, where it was going, the rule, the action, the run, experiment or model and " +
                "the caller; never the value. Administrators only.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapGet("/secret-policy", GetSecretPolicy)
            .WithName(nameof(GetSecretPolicy))
            .WithSummary("The secret-blocking policy: on or off, refuse or redact, the allowed keys and the names of the rules");
        return api;
    }

    /// <param name="maxResults">Records in one answer: 1 to 1000, default 1000.</param>
    /// <param name="pageToken">The <c>next_page_token</c> of the previous answer.</param>
    public static async Task<Ok<SecretBlocksResponse>> ListSecretBlocks(HttpContext http,
        [FromQuery(Name = "max_results")] int? maxResults, [FromQuery(Name = "page_token")] string? pageToken,
        SecretGuard guard, CancellationToken ct)
    {
        if (!CurrentCaller.Of(http).IsAdmin)
        {
            throw new MlflowException(ErrorCode.PERMISSION_DENIED, "Only an administrator may read the record of blocked secrets.");
        }
        var page = await guard.ListBlocksAsync(maxResults, pageToken, ct);
        return TypedResults.Ok(new SecretBlocksResponse([.. page.Items.Select(SecretBlockMessage.Of)], page.NextPageToken));
    }

    public static Ok<SecretPolicyResponse> GetSecretPolicy(SecretGuard guard) =>
        TypedResults.Ok(new SecretPolicyResponse(
            guard.Policy.Enabled,
            guard.Policy.Action == SecretAction.Refuse ? "refuse" : "redact",
            [.. guard.Policy.Allow.Order(StringComparer.OrdinalIgnoreCase)],
            SecretPolicy.RedactedValue,
            SecretScanner.KeyRules,
            SecretScanner.ValueRules));
}

/// <param name="NextPageToken">Absent on the last page.</param>
public sealed record SecretBlocksResponse(IReadOnlyList<SecretBlockMessage> Blocks, string? NextPageToken);

/// <summary>One refused or redacted value: what and where, never the value.</summary>
/// <param name="Time">Epoch milliseconds.</param>
/// <param name="Target">param, run_tag, run_name, experiment_tag, registered_model_tag, registered_model_description,
/// model_version_tag, model_version_description, logged_model_param or logged_model_tag.</param>
/// <param name="Rule">The rule that matched, e.g. <c>key:password</c> or <c>value:aws_access_key_id</c>.</param>
/// <param name="Action"><c>refused</c> or <c>redacted</c>.</param>
public sealed record SecretBlockMessage(long Id, long Time, string Actor, string Target, string Key, string Rule, string Action,
    string? RunId, long? ExperimentId, string? ModelName)
{
    public static SecretBlockMessage Of(SecretBlock b) =>
        new(b.Id, b.Time, b.Actor, b.Target, b.Key, b.Rule, b.Action, b.RunId, b.ExperimentId, b.ModelName);
}

/// <param name="Policy"><c>refuse</c> (the default) or <c>redact</c>.</param>
/// <param name="Allow">Keys never blocked (Dashboard:Secrets:Allow), compared without regard to case.</param>
/// <param name="RedactedValue">What a redacted value is stored as.</param>
public sealed record SecretPolicyResponse(bool Enabled, string Policy, IReadOnlyList<string> Allow, string RedactedValue,
    IReadOnlyList<string> KeyRules, IReadOnlyList<string> ValueRules);
