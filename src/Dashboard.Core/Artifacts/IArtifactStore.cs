namespace Dashboard.Artifacts;

/// <summary>
/// Where artifact files live: a local folder or an S3-compatible bucket (the two implementations). Paths are
/// <see cref="ArtifactPath"/>s relative to the store's root, validated before they get here. Reads and writes
/// stream; a write becomes visible only once complete, so an interrupted upload never lists as a file.
/// </summary>
public interface IArtifactStore
{
    /// <summary>For logs and the UI: "local folder data/artifacts", "s3://bucket/prefix". Never a secret.</summary>
    string Description { get; }

    /// <summary>The file's content, or null when there is no file at the path (a folder is not a file).</summary>
    Task<ArtifactContent?> OpenReadAsync(ArtifactPath path, CancellationToken ct);

    /// <summary>Writes the whole stream to the path, replacing a file there; visible only when complete.</summary>
    Task WriteAsync(ArtifactPath path, Stream content, CancellationToken ct);

    /// <summary>
    /// The immediate children of a folder, folders and files, sorted by name (ordinal). Empty when the path is a
    /// file or does not exist, as MLflow's list answers both with no files.
    /// </summary>
    Task<IReadOnlyList<ArtifactEntry>> ListAsync(ArtifactPath folder, CancellationToken ct);

    /// <summary>Deletes the file, or the folder and everything below it. Deleting nothing is not an error.</summary>
    Task DeleteAsync(ArtifactPath path, CancellationToken ct);
}

/// <summary>A child of a listed folder: its name (one segment), whether it is a folder, and a file's size in bytes.</summary>
public sealed record ArtifactEntry(string Name, bool IsDirectory, long? Size);

/// <summary>An open artifact file. Dispose it to release the underlying stream.</summary>
public sealed class ArtifactContent(Stream stream, long length) : IAsyncDisposable
{
    public Stream Stream { get; } = stream;

    public long Length { get; } = length;

    public ValueTask DisposeAsync() => Stream.DisposeAsync();
}
