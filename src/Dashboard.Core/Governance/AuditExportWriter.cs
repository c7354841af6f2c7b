using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dashboard.Governance;

/// <summary>
/// Writes an audit export as it streams (docs/operations.md, "Audit trail"):
/// <list type="bullet">
/// <item>CSV (RFC 4180): a header row, then one row per event; CRLF line ends; a field holding a comma, a quote, CR or LF
/// is quoted, quotes doubled. A text that starts with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab or CR gets a leading
/// <c>'</c>, so that a spreadsheet shows it as text instead of running it as a formula.</item>
/// <item>JSON: one array of events (the shape of the API's <c>events</c>), written as it is read.</item>
/// </list>
/// </summary>
public static class AuditExportWriter
{
    public static readonly IReadOnlyList<string> CsvColumns =
        ["id", "time", "time_ms", "actor", "action", "target_type", "target", "model_name", "version", "request_id", "reason", "before", "after"];

    /// <summary>The JSON of exports and of the API: snake_case, nulls omitted.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private const int FlushEvery = 500;

    public static async Task WriteCsvAsync(IAsyncEnumerable<AuditEvent> rows, Stream output, CancellationToken ct)
    {
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 64 * 1024, leaveOpen: true) { NewLine = "\r\n" };
        await writer.WriteAsync(string.Join(',', CsvColumns) + "\r\n");
        var n = 0;
        await foreach (var e in rows.WithCancellation(ct))
        {
            await writer.WriteAsync(CsvRow(e));
            if (++n % FlushEvery == 0)
            {
                await writer.FlushAsync(ct);
            }
        }
        await writer.FlushAsync(ct);
    }

    /// <summary>One event's CSV line, CRLF included.</summary>
    public static string CsvRow(AuditEvent e)
    {
        string?[] cells =
        [
            e.Id.ToString(CultureInfo.InvariantCulture),
            DateTimeOffset.FromUnixTimeMilliseconds(e.Time).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            e.Time.ToString(CultureInfo.InvariantCulture),
            e.Actor,
            e.Action,
            e.TargetType,
            e.Target,
            e.ModelName,
            e.Version?.ToString(CultureInfo.InvariantCulture),
            e.RequestId?.ToString(CultureInfo.InvariantCulture),
            e.Reason,
            e.Before,
            e.After,
        ];
        return string.Join(',', cells.Select(CsvCell)) + "\r\n";
    }

    /// <summary>One CSV field: defused against formula injection, then quoted when RFC 4180 needs it.</summary>
    public static string CsvCell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    public static async Task WriteJsonAsync(IAsyncEnumerable<AuditEvent> rows, Stream output, CancellationToken ct)
    {
        // The serializer flushes its writer synchronously, which a response stream refuses: it writes to a buffer, and
        // the buffer goes to the stream asynchronously every few hundred events.
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        await using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartArray();
        var n = 0;
        await foreach (var e in rows.WithCancellation(ct))
        {
            JsonSerializer.Serialize(writer, AuditEventView.Of(e), Json);
            if (++n % FlushEvery == 0)
            {
                await DrainAsync(writer, buffer, output, ct);
            }
        }
        writer.WriteEndArray();
        await DrainAsync(writer, buffer, output, ct);
        await output.FlushAsync(ct);
    }

    private static async Task DrainAsync(Utf8JsonWriter writer, ArrayBufferWriter<byte> buffer, Stream output, CancellationToken ct)
    {
        writer.Flush();
        await output.WriteAsync(buffer.WrittenMemory, ct);
        buffer.ResetWrittenCount();
    }
}
