using System.Text.RegularExpressions;

namespace Dashboard.Artifacts;

/// <summary>The artifact configuration (<c>Dashboard:Artifacts:*</c>; appsettings.example.json lists the keys).</summary>
public sealed record ArtifactOptions
{
    public const string DefaultRoot = "data/artifacts";

    /// <summary>
    /// A folder (relative to the working directory, created on first use) or <c>s3://bucket/prefix</c>. The S3
    /// settings (<c>Dashboard:Artifacts:S3:*</c>: endpoint, region, path style, credentials) come with the S3 store.
    /// </summary>
    public string Root { get; init; } = DefaultRoot;
}

/// <summary>Chooses the artifact store that <see cref="ArtifactOptions.Root"/> names.</summary>
public static partial class ArtifactStores
{
    public static IArtifactStore Create(ArtifactOptions options)
    {
        var root = options.Root;
        if (string.IsNullOrWhiteSpace(root))
        {
            throw new InvalidOperationException(
                $"Dashboard:Artifacts:Root is empty; give a folder (default {ArtifactOptions.DefaultRoot}) or s3://bucket/prefix.");
        }
        switch (SchemeOf(root))
        {
            case null:
                return new LocalArtifactStore(root);
            case "s3":
                // The S3-compatible store (AWSSDK.S3) plugs in here, reading Dashboard:Artifacts:S3:*.
                throw new InvalidOperationException(
                    "Dashboard:Artifacts:Root names an S3 bucket, but S3 artifact storage is not available yet in this " +
                    "version of Dashboard. Use a folder for now.");
            default:
                throw new InvalidOperationException(
                    "Dashboard:Artifacts:Root must be a folder or s3://bucket/prefix; other URI schemes are not supported.");
        }
    }

    /// <summary>The URI scheme of a root such as "s3://b/p", lower-cased; null for a folder (incl. "C:\data").</summary>
    private static string? SchemeOf(string root) =>
        Scheme().Match(root) is { Success: true } m ? m.Groups[1].Value.ToLowerInvariant() : null;

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]+)://")]
    private static partial Regex Scheme();
}
