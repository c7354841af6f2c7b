using System.Text;
using Dashboard.Errors;

namespace Dashboard.Artifacts;

/// <summary>
/// A path inside the artifact store, relative to its root, in '/'-separated normalized segments. The only way to
/// make one is <see cref="Parse"/>, which refuses everything that could leave the root or mean something else to
/// a file system or a URL (docs/adr/0006-artifact-paths-and-stores.md and the path-safety tests).
/// <see cref="Root"/> is the store's root itself.
/// </summary>
public readonly record struct ArtifactPath
{
    /// <summary>The longest path, in characters after decoding (S3 keys stop at 1024 bytes).</summary>
    public const int MaxLength = 1024;

    /// <summary>The longest segment in UTF-8 bytes: the name limit of ext4, XFS, NTFS and APFS.</summary>
    public const int MaxSegmentBytes = 255;

    /// <summary>As MLflow's validate_path_is_safe: decode until stable, at most this many times.</summary>
    public const int MaxDecodingRounds = 10;

    // A raw value longer than this cannot decode to a path of MaxLength (each round shrinks an escape at most 3:1
    // and deeper encodings grow by "25" per round); refusing it first bounds the work of decoding.
    private const int MaxRawLength = MaxLength * 3 * 4;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // Windows keeps these device names in every folder, whatever the extension ("nul.txt" is the device NUL).
    private static readonly HashSet<string> DeviceNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
        "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³",
        "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
    };

    // null for the root, so that default(ArtifactPath) is the root too.
    private readonly string? _value;

    private ArtifactPath(string value) => _value = value.Length == 0 ? null : value;

    /// <summary>The normalized relative path; "" for the root.</summary>
    public string Value => _value ?? "";

    public static ArtifactPath Root => default;

    public bool IsRoot => _value is null;

    public IEnumerable<string> Segments => IsRoot ? [] : Value.Split('/');

    /// <summary>The last segment; "" for the root.</summary>
    public string Name => IsRoot ? "" : Value[(Value.LastIndexOf('/') + 1)..];

    /// <summary>
    /// Validates a path taken from a request (URL path, query string or JSON), decoding percent-encoding
    /// repeatedly first. Throws MlflowException INVALID_PARAMETER_VALUE naming <paramref name="parameter"/>; the
    /// message never repeats the path. Null or "" is the root. One trailing '/' is dropped ("dir/" is the folder
    /// "dir", as MLflow clients send it); every other empty segment is refused.
    /// </summary>
    public static ArtifactPath Parse(string? raw, string parameter) =>
        TryParse(raw, out var path, out var problem)
            ? path
            : throw MlflowException.InvalidParameter($"Invalid path in parameter '{parameter}': {problem}");

    /// <summary>
    /// <see cref="Parse"/> for a path that names a file (an upload): not the root, and no trailing '/'.
    /// </summary>
    public static ArtifactPath ParseFile(string? raw, string parameter)
    {
        var path = Parse(raw, parameter);
        if (path.IsRoot || Decode(raw!)!.EndsWith('/'))
        {
            throw MlflowException.InvalidParameter(
                $"Invalid path in parameter '{parameter}': a file path needs a name after its last '/'.");
        }
        return path;
    }

    /// <summary>
    /// Whether a raw URL path has a "." or ".." segment in any encoding (or cannot be decoded). Servers resolve
    /// such segments before routing ("a/../b" becomes "b"); a path that had them is refused rather than resolved.
    /// </summary>
    public static bool HasDotSegment(string raw) =>
        (raw.Length > MaxRawLength ? null : Decode(raw)) is not { } decoded
        || decoded.Split('/', '\\').Any(segment => segment is "." or "..");

    /// <summary>The rules of <see cref="Parse"/> without an exception; <paramref name="problem"/> says what is wrong.</summary>
    public static bool TryParse(string? raw, out ArtifactPath path, out string? problem)
    {
        path = Root;
        problem = null;
        if (string.IsNullOrEmpty(raw))
        {
            return true;
        }
        if (raw.Length > MaxRawLength)
        {
            problem = $"an artifact path is at most {MaxLength} characters.";
            return false;
        }
        var decoded = Decode(raw);
        if (decoded is null)
        {
            problem = $"it is still percent-encoded after {MaxDecodingRounds} rounds of decoding.";
            return false;
        }
        problem = Problem(decoded);
        if (problem is not null)
        {
            return false;
        }
        path = new ArtifactPath(decoded.EndsWith('/') ? decoded[..^1] : decoded);
        return true;
    }

    /// <summary>
    /// Whether <paramref name="name"/> is one segment that <see cref="Parse"/> would give back unchanged. Stores hide
    /// entries that are not (their own temporary files, anything no request could name).
    /// </summary>
    public static bool IsValidName(string name) =>
        name.Length > 0 && !name.Contains('/', StringComparison.Ordinal) && TryParse(name, out var path, out _) && path.Value == name;

    /// <summary>This path followed by a child path (already valid, as both sides are).</summary>
    public ArtifactPath Append(ArtifactPath child) =>
        IsRoot ? child : child.IsRoot ? this : new ArtifactPath($"{Value}/{child.Value}");

    public override string ToString() => Value;

    /// <summary>
    /// Percent-decodes until nothing changes, so that "%252e%252e" is judged as "..", as the file system or a later
    /// hop would see it. Null when it still changes after the last round. Invalid escapes stay as they are.
    /// Model version sources (Registry/SourceUris) are decoded by the same rule.
    /// </summary>
    internal static string? Decode(string raw)
    {
        var current = raw;
        for (var round = 0; round < MaxDecodingRounds; round++)
        {
            if (!current.Contains('%', StringComparison.Ordinal))
            {
                return current;
            }
            var next = Uri.UnescapeDataString(current);
            if (next == current)
            {
                return current;
            }
            current = next;
        }
        return null;
    }

    /// <summary>What is wrong with a decoded path, or null when it is a path inside the root.</summary>
    private static string? Problem(string path)
    {
        if (path.Length > MaxLength)
        {
            return $"an artifact path is at most {MaxLength} characters.";
        }
        foreach (var c in path)
        {
            if (CharacterProblem(c) is { } problem)
            {
                return problem;
            }
        }
        if (path[0] == '/')
        {
            return "an artifact path is relative; it must not start with '/'.";
        }
        var body = path.EndsWith('/') ? path[..^1] : path;
        foreach (var segment in body.Split('/'))
        {
            if (SegmentProblem(segment) is { } problem)
            {
                return problem;
            }
        }
        return null;
    }

    private static string? CharacterProblem(char c) => c switch
    {
        '\\' => "'\\' is not a separator here; use '/'.",
        ':' => "':' is not allowed (drive letters, URI schemes and NTFS streams use it).",
        '#' or '?' or ';' => $"'{c}' is not allowed (URLs give it a meaning).",
        '<' or '>' or '"' or '|' or '*' => $"'{c}' is not allowed in a file name on every system.",
        _ when char.IsControl(c) => "control characters (U+0000 to U+001F, U+007F to U+009F) are not allowed.",
        _ => null,
    };

    private static string? SegmentProblem(string segment)
    {
        if (segment.Length == 0)
        {
            return "an empty segment ('//') is not allowed.";
        }
        if (segment is "." or "..")
        {
            return "'.' and '..' segments are not allowed.";
        }
        int bytes;
        try
        {
            bytes = StrictUtf8.GetByteCount(segment);
        }
        catch (EncoderFallbackException)
        {
            return "it is not valid Unicode (an unpaired surrogate).";
        }
        if (bytes > MaxSegmentBytes)
        {
            return $"a segment is at most {MaxSegmentBytes} bytes in UTF-8.";
        }
        // Windows drops trailing dots and spaces ("a." and "a " name "a"), so two paths would name one file.
        if (segment[^1] is '.' or ' ')
        {
            return "a segment must not end with '.' or a space.";
        }
        var stem = segment.Split('.')[0].TrimEnd(' ');
        if (DeviceNames.Contains(stem))
        {
            return "a segment must not be a Windows device name (CON, PRN, AUX, NUL, or COM or LPT and a digit).";
        }
        return null;
    }
}
