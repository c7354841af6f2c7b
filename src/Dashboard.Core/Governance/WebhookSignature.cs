using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Dashboard.Governance;

/// <summary>
/// How a webhook delivery is signed (issue 7, item 6; docs/operations.md, "Webhooks"). Every POST carries
/// <c>Dashboard-Event</c> (the event type), <c>Dashboard-Delivery</c> (the event id, the same in every retry),
/// <c>Dashboard-Timestamp</c> (unix seconds of this attempt) and
/// <c>Dashboard-Signature: t=&lt;timestamp&gt;,v1=&lt;hex&gt;</c>, where hex is the lowercase hexadecimal
/// HMAC-SHA256, keyed with the webhook's secret (its UTF-8 bytes), of the ASCII timestamp, a dot, and the body's bytes.
/// Signing the timestamp with the body lets a receiver refuse a replayed request.
/// </summary>
public static class WebhookSignature
{
    public const string EventHeader = "Dashboard-Event";
    public const string DeliveryHeader = "Dashboard-Delivery";
    public const string TimestampHeader = "Dashboard-Timestamp";
    public const string SignatureHeader = "Dashboard-Signature";

    /// <summary>How far a signature's timestamp may be from the receiver's clock by default.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>The lowercase hex HMAC-SHA256 of <c>"&lt;timestamp&gt;." + body</c> under <paramref name="secret"/>.</summary>
    public static string Compute(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var prefix = Encoding.ASCII.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>The value of the <c>Dashboard-Signature</c> header.</summary>
    public static string Header(string secret, long timestamp, ReadOnlySpan<byte> body) =>
        $"t={timestamp.ToString(CultureInfo.InvariantCulture)},v1={Compute(secret, timestamp, body)}";

    /// <summary>The four headers of a delivery, in the order they are sent.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Headers(string secret, string eventType, string eventId, long timestamp,
        ReadOnlySpan<byte> body) =>
    [
        new(EventHeader, eventType),
        new(DeliveryHeader, eventId),
        new(TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture)),
        new(SignatureHeader, Header(secret, timestamp, body)),
    ];

    /// <summary>
    /// What a receiver does: true when <paramref name="header"/> (a <c>Dashboard-Signature</c> value) carries a timestamp
    /// within <paramref name="tolerance"/> of <paramref name="now"/> and a <c>v1</c> signature of that timestamp and
    /// <paramref name="body"/> under <paramref name="secret"/> (compared in constant time). Several <c>v1</c> entries
    /// are accepted, any one matching (room for a future signing of two secrets at once).
    /// </summary>
    public static bool Verify(string secret, string? header, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan? tolerance = null)
    {
        if (string.IsNullOrEmpty(secret) || string.IsNullOrEmpty(header) || header.Length > 1000)
        {
            return false;
        }
        long? timestamp = null;
        var signatures = new List<string>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                return false;
            }
            var (key, value) = (part[..eq], part[(eq + 1)..]);
            if (key == "t")
            {
                if (timestamp is not null
                    || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var t))
                {
                    return false;
                }
                timestamp = t;
            }
            else if (key == "v1")
            {
                signatures.Add(value);
            }
        }
        if (timestamp is not { } ts || signatures.Count == 0)
        {
            return false;
        }
        var age = now.ToUnixTimeSeconds() - ts;
        if (Math.Abs(age) > (long)(tolerance ?? DefaultTolerance).TotalSeconds)
        {
            return false;
        }
        var expected = Encoding.ASCII.GetBytes(Compute(secret, ts, body));
        var match = false;
        foreach (var signature in signatures)
        {
            // Every candidate is compared, so the time taken does not tell which one matched.
            match |= CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature));
        }
        return match;
    }
}
