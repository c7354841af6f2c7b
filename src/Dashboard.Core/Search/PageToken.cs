using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dashboard.Errors;

namespace Dashboard.Search;

/// <summary>
/// Opaque page tokens: base64url of <c>{"o": offset, "q": hash}</c>, where the hash covers what decides the
/// order and membership of the results (scope, experiment ids, filter, order_by, view type). A token used with
/// another query is refused instead of silently skipping or repeating rows. The hash is a consistency check,
/// not a secret: a forged offset only moves the caller within results it may read anyway.
/// </summary>
internal static class PageToken
{
    private const int MaxTokenLength = 256;

    public static string Create(long offset, string queryHash) =>
        Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new Body(offset, queryHash), JsonContext.Options));

    /// <summary>The offset a token stands for; 0 without a token.</summary>
    public static long ReadOffset(string? token, string queryHash)
    {
        if (string.IsNullOrEmpty(token))
        {
            return 0;
        }
        Body? body = null;
        if (token.Length <= MaxTokenLength)
        {
            try
            {
                body = JsonSerializer.Deserialize<Body>(Base64Url.DecodeFromChars(token), JsonContext.Options);
            }
            catch (Exception e) when (e is FormatException or JsonException)
            {
                body = null;
            }
        }
        if (body is null || body.O < 0 || body.Q is null)
        {
            throw MlflowException.InvalidParameter("Invalid page token: it is not a token this server issued for a search.");
        }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(body.Q), Encoding.ASCII.GetBytes(queryHash)))
        {
            throw MlflowException.InvalidParameter(
                "Invalid page token: it was issued for a search with another filter, order_by, experiment ids or view type.");
        }
        return body.O;
    }

    public static string QueryHash(SearchScope scope, IEnumerable<long>? experimentIds, string? filter,
        IReadOnlyList<string>? orderBy, ViewType viewType)
    {
        // Length-prefixed fields, so that no two different queries write the same bytes.
        var sb = new StringBuilder();
        void Field(string value) => sb.Append(value.Length).Append(':').Append(value).Append(';');
        Field(scope.ToString());
        Field(viewType.ToString());
        foreach (var id in (experimentIds ?? []).Distinct().Order())
        {
            Field(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        Field("|");
        Field((filter ?? "").Trim());
        foreach (var o in orderBy ?? [])
        {
            Field(o ?? "");
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString()));
        return Base64Url.EncodeToString(hash.AsSpan(0, 12));
    }

    private sealed record Body(long O, string? Q);

    private static class JsonContext
    {
        public static readonly JsonSerializerOptions Options = new()
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            MaxDepth = 4,
        };
    }
}
