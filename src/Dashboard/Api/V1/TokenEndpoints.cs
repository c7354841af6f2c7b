using System.Text.Json;
using System.Text.RegularExpressions;
using Dashboard.Auth;
using Dashboard.Errors;
using Dashboard.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Dashboard.Api.V1;

/// <summary>
/// Personal and service tokens under /api/v1 (issue 6; docs/adr/0012-authentication-and-permissions.md, "Tokens").
/// A token's secret is answered once, when it is made; lists show its prefix. Managing tokens needs a signed-in session
/// or an admin-scoped token (a read or write token cannot make tokens), and a token's scope never exceeds what its
/// owner may do (a Viewer's tokens are read tokens). Service accounts are an Admin's.
/// </summary>
public static partial class TokenEndpoints
{
    public const int DefaultExpiryDays = 90;
    public const int MaxExpiryDays = 3650;

    public static RouteGroupBuilder MapTokenEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(V1Api.Prefix).WithTags("Tokens");
        api.MapGet("/tokens", ListTokens)
            .WithName(nameof(ListTokens))
            .WithSummary("The caller's tokens (every token with all=true, for Admins), newest first, revoked ones included")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPost("/tokens", CreateToken)
            .WithName(nameof(CreateToken))
            .WithSummary("Makes a personal token; its secret is in this answer and nowhere else")
            .WithDescription("scope: read, write or admin, at most what the caller may do (a Viewer makes read tokens). " +
                $"expires_in_days (1 to {MaxExpiryDays}) or expires_at (ISO 8601, in the future); neither: {DefaultExpiryDays} days. " +
                "Use the secret as MLFLOW_TRACKING_TOKEN, or as MLFLOW_TRACKING_PASSWORD with any MLFLOW_TRACKING_USERNAME.")
            .Accepts<CreateTokenRequest>("application/json")
            .Produces<CreatedTokenResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapDelete("/tokens/{id}", RevokeToken)
            .WithName(nameof(RevokeToken))
            .WithSummary("Revokes a token at once (the owner's or, for an Admin, anyone's); another's token is 404")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/service-accounts", ListServiceAccounts)
            .WithName(nameof(ListServiceAccounts))
            .WithSummary("Service accounts (Admins)")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPost("/service-accounts", CreateServiceAccount)
            .WithName(nameof(CreateServiceAccount))
            .WithSummary("Makes a service account, an account for programs with a role of its own (Admins)")
            .WithDescription("name: letters, digits, '.', '_' and '-', up to 100 characters; role: viewer, contributor, approver or admin. " +
                "Permissions are granted to its name like a person's.")
            .Accepts<CreateServiceAccountRequest>("application/json")
            .Produces<ServiceAccountMessage>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPost("/service-accounts/{name}/tokens", CreateServiceToken)
            .WithName(nameof(CreateServiceToken))
            .WithSummary("Makes a token of a service account (Admins); its secret is in this answer and nowhere else")
            .Accepts<CreateTokenRequest>("application/json")
            .Produces<CreatedTokenResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    /// <param name="all">true: every account's tokens (Admins only).</param>
    public static async Task<Ok<TokensResponse>> ListTokens([FromQuery(Name = "all")] bool? all, HttpContext http,
        UserDirectory users, TokenService tokens, CancellationToken ct)
    {
        var caller = ManagingCaller(http);
        if (all == true)
        {
            RequireAdmin(caller);
            return TypedResults.Ok(new TokensResponse([.. (await tokens.ListAsync(null, ct)).Select(t => TokenMessage.Of(t, Now(http)))]));
        }
        var owner = await OwnerOfAsync(http, caller, users, ct);
        return TypedResults.Ok(new TokensResponse([.. (await tokens.ListAsync(owner.Id, ct)).Select(t => TokenMessage.Of(t, Now(http)))]));
    }

    public static async Task<Created<CreatedTokenResponse>> CreateToken(HttpContext http, UserDirectory users, TokenService tokens,
        CancellationToken ct)
    {
        var caller = ManagingCaller(http);
        var request = await V1Api.ReadJsonAsync<CreateTokenRequest>(http, ct);
        var owner = await OwnerOfAsync(http, caller, users, ct);
        return await IssueAsync(http, owner, request, caller, tokens, ct);
    }

    public static async Task<NoContent> RevokeToken([FromRoute(Name = "id")] string id, HttpContext http, UserDirectory users,
        TokenService tokens, CancellationToken ct)
    {
        var caller = ManagingCaller(http);
        var notFound = new MlflowException(ErrorCode.RESOURCE_DOES_NOT_EXIST, $"No token with id '{id}'.");
        if (!long.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var tokenId))
        {
            throw notFound;
        }
        var token = await tokens.FindAsync(tokenId, ct) ?? throw notFound;
        if (!caller.IsAdmin)
        {
            // Another's token is "not found": its existence is none of the caller's business.
            var owner = await OwnerOfAsync(http, caller, users, ct);
            if (token.UserId != owner.Id)
            {
                throw notFound;
            }
        }
        await tokens.RevokeAsync(tokenId, ct);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<ServiceAccountsResponse>> ListServiceAccounts(HttpContext http, UserDirectory users, CancellationToken ct)
    {
        RequireAdmin(ManagingCaller(http));
        return TypedResults.Ok(new ServiceAccountsResponse([.. (await users.ListAsync(ct)).Where(u => u.IsService).Select(ServiceAccountMessage.Of)]));
    }

    public static async Task<Created<ServiceAccountMessage>> CreateServiceAccount(HttpContext http, UserDirectory users, CancellationToken ct)
    {
        RequireAdmin(ManagingCaller(http));
        var request = await V1Api.ReadJsonAsync<CreateServiceAccountRequest>(http, ct);
        var name = request.Name?.Trim() ?? "";
        if (!ServiceAccountName().IsMatch(name))
        {
            throw MlflowException.InvalidParameter(
                "A service account's name must be 1 to 100 letters, digits, '.', '_' or '-'.");
        }
        if (!Enum.TryParse<DashboardRole>(request.Role, ignoreCase: true, out var role) || !Enum.IsDefined(role)
            || !request.Role!.All(char.IsLetter))
        {
            throw MlflowException.InvalidParameter("role must be viewer, contributor, approver or admin.");
        }
        if (await users.FindByNameAsync(name, ct) is not null)
        {
            throw new MlflowException(ErrorCode.RESOURCE_ALREADY_EXISTS, $"An account called '{name}' exists already.");
        }
        var account = await users.EnsureServiceAccountAsync(name, role, ct);
        return TypedResults.Created($"{V1Api.Prefix}/service-accounts/{Uri.EscapeDataString(name)}", ServiceAccountMessage.Of(account));
    }

    public static async Task<Created<CreatedTokenResponse>> CreateServiceToken([FromRoute(Name = "name")] string name, HttpContext http,
        UserDirectory users, TokenService tokens, CancellationToken ct)
    {
        var caller = ManagingCaller(http);
        RequireAdmin(caller);
        var request = await V1Api.ReadJsonAsync<CreateTokenRequest>(http, ct);
        var account = await users.FindByNameAsync(name, ct) is { IsService: true } found
            ? found
            : throw new MlflowException(ErrorCode.RESOURCE_DOES_NOT_EXIST, $"No service account called '{name}'.");
        return await IssueAsync(http, account, request, caller, tokens, ct);
    }

    /// <summary>The most a token of an account with this role may be scoped to: a Viewer reads; anyone else may have any scope.</summary>
    public static TokenScope MaxScope(DashboardRole role) => role == DashboardRole.Viewer ? TokenScope.Read : TokenScope.Admin;

    private static async Task<Created<CreatedTokenResponse>> IssueAsync(HttpContext http, DashboardUser owner, CreateTokenRequest request,
        Caller caller, TokenService tokens, CancellationToken ct)
    {
        var scope = ParseScope(request.Scope);
        if (scope > MaxScope(owner.Role) || scope > MaxScope(caller.Role))
        {
            throw new MlflowException(ErrorCode.PERMISSION_DENIED,
                $"A token's scope cannot exceed what its owner may do: '{owner.Name}' ({owner.Role}) may have read tokens only.");
        }
        var expiry = ExpiryOf(request, Now(http));
        IssuedToken issued;
        try
        {
            issued = await tokens.CreateAsync(owner.Id, request.Name ?? "", scope, expiry, caller.Name, ct);
        }
        catch (ArgumentException e)
        {
            throw MlflowException.InvalidParameter(e.Message.Split(" (Parameter", 2)[0]);
        }
        issued.Token.User = owner;
        return TypedResults.Created($"{V1Api.Prefix}/tokens/{issued.Token.Id}",
            new CreatedTokenResponse(TokenMessage.Of(issued.Token, Now(http)), issued.Secret));
    }

    private static TokenScope ParseScope(string? text) => text?.ToLowerInvariant() switch
    {
        "read" => TokenScope.Read,
        "write" => TokenScope.Write,
        "admin" => TokenScope.Admin,
        _ => throw MlflowException.InvalidParameter("scope must be read, write or admin."),
    };

    private static DateTimeOffset ExpiryOf(CreateTokenRequest request, DateTimeOffset now)
    {
        switch (request)
        {
            case { ExpiresInDays: not null, ExpiresAt: not null }:
                throw MlflowException.InvalidParameter("Give expires_in_days or expires_at, not both.");
            case { ExpiresInDays: { } days }:
                return days is >= 1 and <= MaxExpiryDays
                    ? now.AddDays(days)
                    : throw MlflowException.InvalidParameter($"expires_in_days must be 1 to {MaxExpiryDays}.");
            case { ExpiresAt: { } at }:
                if (at <= now)
                {
                    throw MlflowException.InvalidParameter("expires_at must be in the future.");
                }
                return at <= now.AddDays(MaxExpiryDays)
                    ? at
                    : throw MlflowException.InvalidParameter($"expires_at must be within {MaxExpiryDays} days.");
            default:
                return now.AddDays(DefaultExpiryDays);
        }
    }

    /// <summary>The caller, when they may manage tokens: a session (or Local mode) or an admin-scoped token.</summary>
    private static Caller ManagingCaller(HttpContext http)
    {
        var caller = CurrentCaller.Of(http);
        if (caller.Scope is TokenScope.Read or TokenScope.Write)
        {
            throw new MlflowException(ErrorCode.PERMISSION_DENIED,
                "Tokens are managed from a signed-in session or with an admin-scoped token; this token's scope is "
                + caller.Scope.ToString()!.ToLowerInvariant() + ".");
        }
        return caller;
    }

    private static void RequireAdmin(Caller caller)
    {
        if (!caller.IsAdmin)
        {
            throw new MlflowException(ErrorCode.PERMISSION_DENIED, "Only an Admin may do this.");
        }
    }

    /// <summary>
    /// The caller's users row: in Local mode the local Admin's (made on first use); otherwise the row written when
    /// they signed in (a token's owner has one by construction).
    /// </summary>
    private static async Task<DashboardUser> OwnerOfAsync(HttpContext http, Caller caller, UserDirectory users, CancellationToken ct)
    {
        if (await users.FindByNameAsync(caller.Name, ct) is { } user)
        {
            return user;
        }
        if (http.RequestServices.GetRequiredService<AuthOptions>().Mode == AuthMode.Local && caller.Name == Caller.Local.Name)
        {
            return await users.EnsureLocalUserAsync(ct);
        }
        throw new MlflowException(ErrorCode.PERMISSION_DENIED,
            $"'{caller.Name}' has no account yet: sign in to the dashboard once, then make tokens.");
    }


    private static DateTimeOffset Now(HttpContext http) => http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex ServiceAccountName();
}

/// <param name="Name">What the token is for (1 to 100 characters), e.g. "training on gpu-3".</param>
/// <param name="Scope">read, write or admin.</param>
/// <param name="ExpiresInDays">Days until it expires (1 to 3650).</param>
/// <param name="ExpiresAt">When it expires (ISO 8601), instead of <paramref name="ExpiresInDays"/>.</param>
public sealed record CreateTokenRequest(string? Name, string? Scope, int? ExpiresInDays, DateTimeOffset? ExpiresAt);

/// <param name="Name">The account's name: what permissions are granted to.</param>
/// <param name="Role">viewer, contributor, approver or admin.</param>
public sealed record CreateServiceAccountRequest(string? Name, string? Role);

/// <summary>A token as lists show it: never its secret.</summary>
/// <param name="Prefix">Its first characters, to tell tokens apart.</param>
/// <param name="Owner">The account it acts as.</param>
/// <param name="Status">active, expired or revoked.</param>
public sealed record TokenMessage(long Id, string Name, TokenScope Scope, string Prefix, string Owner, bool ServiceAccount,
    string CreatedBy, DateTimeOffset CreationTime, DateTimeOffset? ExpiryTime, DateTimeOffset? LastUsedTime, DateTimeOffset? RevokedTime,
    string Status)
{
    public static TokenMessage Of(AccessToken t, DateTimeOffset now) => new(t.Id, t.Name, t.Scope, t.Prefix, t.User?.Name ?? "",
        t.User?.IsService ?? false, t.CreatedBy, At(t.CreationTime), AtOrNull(t.ExpiryTime), AtOrNull(t.LastUsedTime),
        AtOrNull(t.RevokedTime),
        t.RevokedTime is not null ? "revoked" : t.ExpiryTime is { } e && e <= now.ToUnixTimeMilliseconds() ? "expired" : "active");

    private static DateTimeOffset At(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static DateTimeOffset? AtOrNull(long? ms) => ms is { } v ? At(v) : null;
}

public sealed record TokensResponse(IReadOnlyList<TokenMessage> Tokens);

/// <param name="Secret">The token itself: shown in this answer only (the server keeps its SHA-256).</param>
public sealed record CreatedTokenResponse(TokenMessage Token, string Secret);

public sealed record ServiceAccountMessage(long Id, string Name, DashboardRole Role, DateTimeOffset CreationTime)
{
    public static ServiceAccountMessage Of(DashboardUser u) => new(u.Id, u.Name, u.Role, DateTimeOffset.FromUnixTimeMilliseconds(u.CreationTime));
}

public sealed record ServiceAccountsResponse(IReadOnlyList<ServiceAccountMessage> ServiceAccounts);
