using System.Text;
using System.Text.RegularExpressions;

namespace Dashboard.Artifacts;

/// <summary>The artifact configuration (<c>Dashboard:Artifacts:*</c>; appsettings.example.json lists the keys).</summary>
public sealed record ArtifactOptions
{
    public const string DefaultRoot = "data/artifacts";

    /// <summary>
    /// A folder (relative to the working directory, created on first use) or <c>s3://bucket/prefix</c>, with the
    /// settings of <see cref="S3"/>.
    /// </summary>
    public string Root { get; init; } = DefaultRoot;

    /// <summary><c>Dashboard:Artifacts:S3:*</c>, read when <see cref="Root"/> is an <c>s3://</c> URI.</summary>
    public S3ArtifactOptions S3 { get; init; } = new();
}

/// <summary>
/// <c>Dashboard:Artifacts:S3:*</c>: how to reach an S3-compatible store. Everything is optional: without
/// <see cref="ServiceUrl"/> it is AWS S3; without keys, the AWS SDK's standard credential chain (environment
/// variables, profile, container or instance role). <see cref="ToString"/> never shows the secret key.
/// </summary>
public sealed record S3ArtifactOptions
{
    /// <summary>The endpoint of an S3-compatible service (MinIO, Alibaba OSS, Ceph, an emulator); null for AWS S3.</summary>
    public string? ServiceUrl { get; init; }

    /// <summary>
    /// The AWS region (eu-west-1); with <see cref="ServiceUrl"/>, the region requests are signed for (default
    /// us-east-1, which most S3-compatible services accept). Without either, the SDK's own lookup (AWS_REGION, profile).
    /// </summary>
    public string? Region { get; init; }

    /// <summary>Path-style requests (http://host/bucket/key) instead of virtual-hosted ones (http://bucket.host/key).</summary>
    public bool ForcePathStyle { get; init; }

    /// <summary>With <see cref="SecretAccessKey"/>: static credentials. Set both from the environment, not in a file.</summary>
    public string? AccessKeyId { get; init; }

    public string? SecretAccessKey { get; init; }

    // The generated ToString would print the secret into any log that prints the options.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"ServiceUrl = {ServiceUrl}, Region = {Region}, ForcePathStyle = {ForcePathStyle}, ");
        builder.Append($"AccessKeyId = {(AccessKeyId is null ? "" : "(set)")}, SecretAccessKey = {(SecretAccessKey is null ? "" : "(set)")}");
        return true;
    }
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
                return S3ArtifactStore.Create(root, options.S3);
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
