using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Dashboard.Errors;
using Dashboard.Tracking;

namespace Dashboard.Api.Mlflow;

/// <summary>
/// Binds an MLflow request message: from the JSON body of POST/PATCH/DELETE, or from the query string of GET
/// (repeated keys for lists), so each handler reads one typed record whatever the method.
/// </summary>
public static class MlflowRequest
{
    /// <summary>The largest JSON body accepted outside log-batch: a dataset profile may reach 16 MB.</summary>
    public const int MaxBodyBytes = 32 * 1024 * 1024;

    public static async Task<T> ReadAsync<T>(HttpContext http, int maxBytes = MaxBodyBytes)
    {
        if (HttpMethods.IsGet(http.Request.Method))
        {
            return FromQuery<T>(http.Request.Query);
        }
        var body = await ReadBodyAsync(http, maxBytes);
        try
        {
            if (body.Length == 0)
            {
                return Deserialize<T>("{}"u8);
            }
            return Deserialize<T>(body.Span);
        }
        finally
        {
            body.Return();
        }
    }

    private static T Deserialize<T>(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, MlflowJson.Options)
                ?? throw MlflowException.InvalidParameter("The request body must be a JSON object.");
        }
        catch (JsonException ex)
        {
            throw ToMlflow(ex);
        }
    }

    internal static MlflowException ToMlflow(JsonException ex)
    {
        var path = ex.Path is { Length: > 1 } p ? p.TrimStart('$').TrimStart('.') : null;
        if (ex is WireTypeException && path is not null)
        {
            return MlflowException.InvalidParameter($"Invalid value for parameter '{path}' supplied: {ex.Message}");
        }
        if (path is not null && ex.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            return MlflowException.InvalidParameter($"Invalid value for parameter '{path}' supplied: it has the wrong JSON type.");
        }
        var where = ex.BytePositionInLine is { } pos ? $" (line {(ex.LineNumber ?? 0) + 1}, byte {pos + 1})" : "";
        return new MlflowException(ErrorCode.BAD_REQUEST, $"Malformed JSON in the request body{where}.");
    }

    private readonly struct Body(byte[] buffer, int length)
    {
        public int Length => length;
        public ReadOnlySpan<byte> Span => buffer.AsSpan(0, length);
        public void Return() => ArrayPool<byte>.Shared.Return(buffer);
    }

    private static async Task<Body> ReadBodyAsync(HttpContext http, int maxBytes)
    {
        var declared = http.Request.ContentLength;
        if (declared > maxBytes)
        {
            throw TooLarge(maxBytes, declared.Value);
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(declared ?? 16 * 1024, maxBytes) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > maxBytes)
                    {
                        throw TooLarge(maxBytes, null);
                    }
                    var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                var read = await http.Request.Body.ReadAsync(buffer.AsMemory(length), http.RequestAborted);
                if (read == 0)
                {
                    break;
                }
                length += read;
            }
            if (length > maxBytes)
            {
                throw TooLarge(maxBytes, null);
            }
            return new Body(buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static MlflowException TooLarge(int maxBytes, long? size) =>
        maxBytes == TrackingValidation.MaxBatchRequestBytes
            ? MlflowException.InvalidParameter(
                $"Batched logging API requests must be at most {maxBytes} bytes, got a request of size {(size is { } s ? s.ToString(CultureInfo.InvariantCulture) : $"more than {maxBytes}")}.")
            : MlflowException.InvalidParameter($"The request body exceeds the limit of {maxBytes} bytes.");

    /// <summary>
    /// A GET request's fields come from the query string: each field of the message by its JSON name, lists from
    /// repeated keys. Numbers are passed as numbers when they parse, so the strict reader judges them.
    /// </summary>
    private static T FromQuery<T>(IQueryCollection query)
    {
        var info = (JsonTypeInfo<T>)MlflowJson.Options.GetTypeInfo(typeof(T));
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in info.Properties)
            {
                if (!query.TryGetValue(property.Name, out var values))
                {
                    continue;
                }
                var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                writer.WritePropertyName(property.Name);
                if (type != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(type))
                {
                    writer.WriteStartArray();
                    foreach (var v in values)
                    {
                        writer.WriteStringValue(v);
                    }
                    writer.WriteEndArray();
                }
                else
                {
                    WriteScalar(writer, type, values[^1]);
                }
            }
            writer.WriteEndObject();
        }
        return Deserialize<T>(buffer.WrittenSpan);
    }

    private static void WriteScalar(Utf8JsonWriter writer, Type type, string? value)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else if ((type == typeof(long) || type == typeof(int)) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            writer.WriteNumberValue(l);
        }
        else if (type == typeof(double) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            writer.WriteNumberValue(d);
        }
        else if (type == typeof(bool) && bool.TryParse(value, out var b))
        {
            writer.WriteBooleanValue(b);
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }
}
