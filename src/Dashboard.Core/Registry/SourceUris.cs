using System.Text.RegularExpressions;
using Dashboard.Artifacts;
using Dashboard.Search;

namespace Dashboard.Registry;

/// <summary>
/// The text rules of model version sources (docs/adr/0009-model-registry.md, "Sources"): decoding, what no source
/// may hold, schemes, and the canonical form of a location URI on which containment is judged. Each method answers
/// a problem (a sentence for an error message that never repeats the source) or null.
/// </summary>
internal static partial class SourceUris
{
    public const string ProxyScheme = "mlflow-artifacts";
    public const string RunsScheme = "runs";
    public const string ModelsScheme = "models";

    public const string LocalProblem =
        "local paths and file: URIs are never sources here (the server does not hand out its own disk); register " +
        "runs:/<run_id>/<path>, models:/<model_id>, or a location inside the artifact location of a run or logged model.";

    // Schemes whose authority is a bucket or container, not a host (s3://bucket/key).
    private static readonly HashSet<string> BucketSchemes = new(StringComparer.Ordinal) { "s3", "s3a", "s3n", "gs", "oss" };

    [GeneratedRegex("^[a-z][a-z0-9+.-]*$")]
    private static partial Regex Scheme();

    [GeneratedRegex("^[a-z0-9._-]+$", RegexOptions.IgnoreCase)]
    private static partial Regex Bucket();

    /// <summary>
    /// Decodes percent-encoding until stable (<see cref="ArtifactPath"/>'s rule, so <c>%252e%252e</c> is judged as
    /// <c>..</c>) and refuses, anywhere in the source: control characters, unpaired surrogates, <c>\</c>, <c>#</c>,
    /// <c>?</c>, <c>;</c>, and <c>.</c> or <c>..</c> segments.
    /// </summary>
    public static string? Decode(string raw, out string decoded)
    {
        if (ArtifactPath.Decode(raw) is not { } stable)
        {
            decoded = "";
            return $"it is still percent-encoded after {ArtifactPath.MaxDecodingRounds} rounds of decoding.";
        }
        decoded = stable;
        foreach (var c in decoded)
        {
            var problem = c switch
            {
                '\\' => "'\\' is not allowed (a path separator on Windows).",
                '#' => "'#' is not allowed (a fragment hides the rest of a URI from whoever checks it).",
                '?' => "'?' is not allowed (a query).",
                ';' => "';' is not allowed (path parameters).",
                _ when char.IsControl(c) => "control characters (U+0000 to U+001F, U+007F to U+009F) are not allowed.",
                _ => null,
            };
            if (problem is not null)
            {
                return problem;
            }
        }
        if (Unencodable(decoded) is { } unencodable)
        {
            return unencodable;
        }
        return ArtifactPath.HasDotSegment(decoded) ? "'.' and '..' segments are not allowed." : null;
    }

    /// <summary>
    /// What the databases cannot take as a parameter (a lone surrogate, NUL: a 500 on PostgreSQL otherwise), or null.
    /// Also for run_id and model_id, which are looked up as they are.
    /// </summary>
    public static string? Unencodable(string text) =>
        FilterScanner.FirstUnencodable(text) is var bad && bad >= 0
            ? text[bad] == '\0' ? "the NUL character (U+0000) is not allowed." : "it is not valid Unicode (an unpaired surrogate)."
            : null;

    /// <summary>
    /// Splits a decoded source into its scheme (lower case, as URI schemes compare) and the rest. A source without
    /// a scheme, with a one-letter scheme (a drive: <c>C:/x</c>) or with <c>file:</c> is a local path: refused.
    /// </summary>
    public static string? SplitScheme(string decoded, out string scheme, out string rest)
    {
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        scheme = colon > 0 ? decoded[..colon].ToLowerInvariant() : "";
        rest = colon > 0 ? decoded[(colon + 1)..] : decoded;
        return colon <= 1 || !Scheme().IsMatch(scheme) || scheme == "file" ? LocalProblem : null;
    }

    /// <summary>
    /// Validates a location URI (any scheme but runs: and models:, already split by <see cref="SplitScheme"/>) and
    /// answers its canonical form: scheme in lower case, a network host in lower case, <c>mlflow-artifacts:///p</c>
    /// as <c>mlflow-artifacts:/p</c>, the path as <see cref="ArtifactPath"/> normalizes it (no trailing '/').
    /// Nothing else is folded (path case, ports, bucket names), so two locations compare equal only when they are.
    /// </summary>
    public static string? NormalizeLocation(string scheme, string rest, out string normalized)
    {
        normalized = "";
        string? authority = null;
        string pathText;
        var rooted = rest.StartsWith('/');
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            var end = rest.IndexOf('/', 2);
            authority = end < 0 ? rest[2..] : rest[2..end];
            pathText = end < 0 ? "" : rest[(end + 1)..];
        }
        else
        {
            pathText = rooted ? rest[1..] : rest;
        }

        if (scheme == ProxyScheme)
        {
            if (!rooted || authority is { Length: > 0 })
            {
                // mlflow-artifacts://host/... sends clients to another server.
                return $"a location of this server's artifact store is '{ProxyScheme}:/<path>', without a host.";
            }
            authority = null;
        }
        else if (authority is not null)
        {
            if (BucketSchemes.Contains(scheme))
            {
                if (!Bucket().IsMatch(authority))
                {
                    return "a bucket name is made of letters, digits, '.', '-' and '_'.";
                }
            }
            else if (NetworkHosts.Problem(authority) is { } hostProblem)
            {
                return hostProblem;
            }
            else
            {
                // Host names compare without case; ports and user information (refused) are left as they are.
                authority = authority.ToLowerInvariant();
            }
        }

        if (!ArtifactPath.TryParse(pathText, out var path, out var pathProblem))
        {
            return pathProblem;
        }
        normalized = authority is not null
            ? $"{scheme}://{authority}{(path.IsRoot ? "" : "/" + path.Value)}"
            : $"{scheme}:{(rooted ? "/" : "")}{path.Value}";
        return null;
    }

    /// <summary>
    /// The canonical form of a location the server stored (a run's or logged model's artifact location), or null
    /// when it is not one a version may be registered from (a local path left by an older version, an internal host).
    /// </summary>
    public static string? NormalizeStored(string location)
    {
        if (Decode(location, out var decoded) is not null
            || SplitScheme(decoded, out var scheme, out var rest) is not null
            || scheme is RunsScheme or ModelsScheme
            || NormalizeLocation(scheme, rest, out var normalized) is not null)
        {
            return null;
        }
        return normalized;
    }

    /// <summary>
    /// Whether <paramref name="source"/> is <paramref name="location"/> or lies inside it, both canonical: equal,
    /// or the location followed by '/' and more (never a mere prefix: <c>.../artifacts2</c> is not in <c>.../artifacts</c>).
    /// </summary>
    public static bool IsInside(string source, string location) =>
        source == location || (source.Length > location.Length + 1 && source.StartsWith(location + "/", StringComparison.Ordinal));
}
