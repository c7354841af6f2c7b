using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Dashboard.Errors;

namespace Dashboard.Tracking;

/// <summary>
/// The page token of get-history: the last point of the page, so the next page starts after it. Opaque to
/// clients (URL-safe base64); a token that does not decode is a 400, never a 500.
/// </summary>
internal static class HistoryToken
{
    private const string Prefix = "h1:";

    public static string Encode(Metric last) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{Prefix}{last.Step}:{last.Timestamp}:{BitConverter.DoubleToInt64Bits(last.Value)}:{(last.IsNaN ? 1 : 0)}")));

    public static (long Step, long Timestamp, double Value, bool IsNaN)? Decode(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            if (text.StartsWith(Prefix, StringComparison.Ordinal))
            {
                var parts = text[Prefix.Length..].Split(':');
                if (parts.Length == 4
                    && long.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var step)
                    && long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ts)
                    && long.TryParse(parts[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var bits)
                    && parts[3] is "0" or "1")
                {
                    return (step, ts, BitConverter.Int64BitsToDouble(bits), parts[3] == "1");
                }
            }
        }
        catch (FormatException)
        {
        }
        throw MlflowException.InvalidParameter(TrackingValidation.InvalidValue("page_token", token, "the page token is not valid."));
    }
}
