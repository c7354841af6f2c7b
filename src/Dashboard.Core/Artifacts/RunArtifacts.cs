using System.Text;
using System.Text.Json;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Artifacts;

/// <summary>What the run page's artifact browser can show of a file.</summary>
public enum PreviewKind
{
    /// <summary>Plain text (also YAML, logs, Python, and pages and SVG, which are shown as their text).</summary>
    Text,
    Json,
    Csv,
    /// <summary>A raster image the browser shows through the download endpoint.</summary>
    Image,
    /// <summary>An MLmodel file: the model card of its folder.</summary>
    Model,
    /// <summary>Nothing to show: offered as a download.</summary>
    Binary,
}

/// <summary>
/// The preview of one file. <see cref="Text"/> is the first <see cref="RunArtifacts.MaxPreviewBytes"/> at most
/// (<see cref="Truncated"/> then); a CSV file's first rows are in <see cref="Rows"/> (the first is the header).
/// </summary>
public sealed record ArtifactPreview(ArtifactPath Path, PreviewKind Kind, long Size, string? Text, bool Truncated,
    IReadOnlyList<IReadOnlyList<string>>? Rows);

/// <summary>
/// A run's artifacts for the dashboard: listing a folder and previewing a file, both relative to the run's artifact
/// root and validated as <see cref="ArtifactPath"/>s first, as the MLflow endpoints do. Previews read a bounded prefix of
/// the file, never all of it.
/// </summary>
public sealed class RunArtifacts(IDbContextFactory<DashboardDbContext> dbs, IArtifactStore store)
{
    /// <summary>The most bytes a text preview reads.</summary>
    public const int MaxPreviewBytes = 1024 * 1024;

    /// <summary>The most rows (header included) a CSV preview shows.</summary>
    public const int MaxCsvRows = 200;

    /// <summary>The most columns a CSV preview shows.</summary>
    public const int MaxCsvColumns = 100;

    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        // Raster formats only: an SVG can carry script and is shown as text.
        "png", "jpg", "jpeg", "gif", "bmp", "webp",
    };

    private static readonly HashSet<string> TextExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        "txt", "log", "err", "cfg", "conf", "ini", "toml", "yaml", "yml", "xml", "py", "md", "rst", "sh", "js", "ts",
        "html", "htm", "svg", "properties", "MLproject", "requirements",
    };

    /// <summary>The children of a folder of the run's artifacts ("" is the root), folders first, then files, by name.</summary>
    public async Task<IReadOnlyList<ArtifactEntry>> ListAsync(string runId, string? folder, CancellationToken ct = default)
    {
        var root = await RootAsync(runId, ct);
        var path = ArtifactPath.Parse(folder, "path");
        var entries = await store.ListAsync(root.Append(path), ct);
        return [.. entries.OrderBy(e => e.IsDirectory ? 0 : 1).ThenBy(e => e.Name, StringComparer.Ordinal)];
    }

    /// <summary>Opens a file of the run's artifacts; null when there is none. The caller disposes it.</summary>
    public async Task<(ArtifactPath Path, ArtifactContent? Content)> OpenAsync(string runId, string? file, CancellationToken ct = default)
    {
        var root = await RootAsync(runId, ct);
        var path = ArtifactPath.ParseFile(file, "path");
        return (path, await store.OpenReadAsync(root.Append(path), ct));
    }

    /// <summary>What the browser shows of a file: its kind from its name, and for text the first megabyte.</summary>
    public async Task<ArtifactPreview> PreviewAsync(string runId, string? file, CancellationToken ct = default)
    {
        var (path, opened) = await OpenAsync(runId, file, ct);
        await using var content = opened ?? throw MlflowException.NotFound($"No artifact file at '{path.Value}'.");
        var kind = KindOf(path.Name);
        if (kind is PreviewKind.Image or PreviewKind.Model or PreviewKind.Binary)
        {
            return new ArtifactPreview(path, kind, content.Length, null, false, null);
        }
        var (text, truncated) = await ReadPrefixAsync(content, ct);
        if (text is null)
        {
            // Not UTF-8: a binary file with a text-like name.
            return new ArtifactPreview(path, PreviewKind.Binary, content.Length, null, false, null);
        }
        return kind switch
        {
            PreviewKind.Json => new ArtifactPreview(path, PreviewKind.Json, content.Length, truncated ? text : Indent(text), truncated, null),
            PreviewKind.Csv => new ArtifactPreview(path, PreviewKind.Csv, content.Length, null, truncated,
                CsvRows(text, path.Name.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',', truncated)),
            _ => new ArtifactPreview(path, PreviewKind.Text, content.Length, text, truncated, null),
        };
    }

    public static PreviewKind KindOf(string name)
    {
        if (name == "MLmodel")
        {
            return PreviewKind.Model;
        }
        var dot = name.LastIndexOf('.');
        var extension = dot > 0 ? name[(dot + 1)..] : name;
        return extension.ToLowerInvariant() switch
        {
            "json" => PreviewKind.Json,
            "csv" or "tsv" => PreviewKind.Csv,
            _ when ImageExtensions.Contains(extension) => PreviewKind.Image,
            _ when TextExtensions.Contains(extension) || dot < 0 => PreviewKind.Text,
            _ => PreviewKind.Binary,
        };
    }

    private async Task<ArtifactPath> RootAsync(string runId, CancellationToken ct)
    {
        var id = TrackingValidation.Required(runId, "run_id");
        await using var db = await dbs.CreateDbContextAsync(ct);
        var uri = await db.Runs.AsNoTracking().Where(r => r.Id == id).Select(r => r.ArtifactUri).FirstOrDefaultAsync(ct)
            ?? throw RunService.NotFound(id);
        return ArtifactLocations.StorePath(uri) ?? throw MlflowException.InvalidParameter(
            $"The artifacts of run '{id}' are not stored behind this server's proxy, so it cannot read them.");
    }

    /// <summary>The first <see cref="MaxPreviewBytes"/> as UTF-8 text (a character cut at the end is dropped); null when not UTF-8.</summary>
    private static async Task<(string? Text, bool Truncated)> ReadPrefixAsync(ArtifactContent content, CancellationToken ct)
    {
        var buffer = new byte[(int)Math.Min(content.Length, MaxPreviewBytes) + 1];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await content.Stream.ReadAsync(buffer.AsMemory(read), ct);
            if (n == 0)
            {
                break;
            }
            read += n;
        }
        var truncated = read > MaxPreviewBytes;
        var length = Math.Min(read, MaxPreviewBytes);
        if (truncated)
        {
            // Back up to the start of a UTF-8 sequence that the cut may have split.
            while (length > 0 && (buffer[length] & 0xC0) == 0x80)
            {
                length--;
            }
        }
        var decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        try
        {
            var text = decoder.GetString(buffer, 0, length);
            if (text.Contains('\0', StringComparison.Ordinal))
            {
                return (null, false);
            }
            return (text.StartsWith('\uFEFF') ? text[1..] : text, truncated);
        }
        catch (DecoderFallbackException)
        {
            return (null, false);
        }
    }

    private static string Indent(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
            return JsonSerializer.Serialize(doc.RootElement, IndentedJson);
        }
        catch (JsonException)
        {
            // Shown as it is: the preview is for reading, not validating.
            return json;
        }
    }

    private static readonly JsonSerializerOptions IndentedJson = new()
    {
        WriteIndented = true,
        // Shown as text in the page (Razor encodes it), so the characters need no JSON escaping.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// The first <see cref="MaxCsvRows"/> records of RFC 4180 text (quoted fields, doubled quotes, line breaks inside
    /// quotes, CRLF or LF). When the text was cut, the last record may be partial and is dropped.
    /// </summary>
    public static List<IReadOnlyList<string>> CsvRows(string text, char separator = ',', bool truncated = false)
    {
        var rows = new List<IReadOnlyList<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        var complete = true;
        for (var i = 0; i < text.Length && rows.Count < MaxCsvRows; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
                continue;
            }
            complete = false;
            if (c == '"' && field.Length == 0)
            {
                quoted = true;
            }
            else if (c == separator)
            {
                AddField(row, field);
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }
                AddField(row, field);
                rows.Add(row);
                row = [];
                complete = true;
            }
            else
            {
                field.Append(c);
            }
        }
        if (rows.Count < MaxCsvRows && !complete && !truncated)
        {
            AddField(row, field);
            rows.Add(row);
        }
        return rows;
    }

    private static void AddField(List<string> row, StringBuilder field)
    {
        if (row.Count < MaxCsvColumns)
        {
            row.Add(field.ToString());
        }
        field.Clear();
    }
}
