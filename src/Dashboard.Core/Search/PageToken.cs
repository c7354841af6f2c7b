using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dashboard.Errors;

namespace Dashboard.Search;

/// <summary>
/// Opaque page tokens: base64url of <c>{"o": offset, "q": hash}</c> (plus the part and the offset in it for a search
/// read in parts, see <see cref="RunQuery"/>), where the hash covers what decides the
/// order and membership of the results (scope, experiment ids, filter, order_by, view type). A token used with
/// another query is refused instead of silently skipping or repeating rows. The hash is a consistency check,
/// not a secret: a forged offset only moves the caller within results it may read anyway.
/// </summary>
internal static class PageToken
{
    private const int MaxTokenLength = 256;

    public static string Create(long offset, string queryHash) => Create(new PagePosition(offset), queryHash);

    public static string Create(PagePosition position, string queryHash) =>
        Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(
            new Body(position.Offset, queryHash, position.Part, position.Part is null ? null : position.PartOffset), JsonContext.Options));

    /// <summary>The offset a token stands for; 0 without a token.</summary>
    public static long ReadOffset(string? token, string queryHash) => Read(token, queryHash).Offset;

    /// <summary>The position a token stands for; the start without a token.</summary>
    public static PagePosition Read(string? token, string queryHash) =>
        Read(token, queryHash, "Invalid page token: it was issued for a search with another filter, order_by, experiment ids or view type.");

    private static PagePosition Read(string? token, string queryHash, string otherQuery)
    {
        if (string.IsNullOrEmpty(token))
        {
            return new PagePosition(0);
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
        if (body is null || body.O < 0 || body.Q is null || body.P < 0 || body.S < 0 || (body.P is null) != (body.S is null))
        {
            throw MlflowException.InvalidParameter("Invalid page token: it is not a token this server issued for a search.");
        }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(body.Q), Encoding.ASCII.GetBytes(queryHash)))
        {
            throw MlflowException.InvalidParameter(otherQuery);
        }
        return new PagePosition(body.O, body.P, body.S ?? 0);
    }

    /// <summary>
    /// A keyset token: the last row's id of a page (newest-first lists page on <c>id &lt; last</c>), bound to a hash of
    /// the query it belongs to (<see cref="Hash"/>). Used by the /api/v1 lists (audit events, promotion requests,
    /// webhook deliveries).
    /// </summary>
    public static string Keyset(long lastId, string queryHash) => Create(lastId, queryHash);

    /// <summary>The last id a keyset token stands for; null without a token. A token of another query is refused.</summary>
    public static long? ReadKeyset(string? token, string queryHash)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }
        var position = Read(token, queryHash, "Invalid page token: it was issued for a list with other filters.");
        return position.Offset >= 1 && position.Part is null
            ? position.Offset
            : throw MlflowException.InvalidParameter("Invalid page token: it is not a token this server issued for a search.");
    }

    /// <summary>A hash of a query's fields (length-prefixed, so no two different field lists write the same bytes).</summary>
    public static string Hash(params string?[] fields)
    {
        var sb = new StringBuilder();
        foreach (var value in fields)
        {
            sb.Append(value?.Length ?? -1).Append(':').Append(value).Append(';');
        }
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())).AsSpan(0, 12));
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

    private sealed record Body(long O, string? Q, int? P = null, long? S = null);

    private static class JsonContext
    {
        public static readonly JsonSerializerOptions Options = new()
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
            MaxDepth = 4,
        };
    }
}
