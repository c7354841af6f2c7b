using Dashboard.Errors;

namespace Dashboard.Artifacts;

/// <summary>
/// Artifacts as files under a root folder (default data/artifacts), created on first use. Writes go to a
/// temporary file in the root's <see cref="UploadFolderName"/> folder, which no request can name and no listing
/// shows, and are renamed into place once complete; an interrupted upload leaves nothing behind. Symbolic links
/// below the root are never followed: a path that meets one is refused for writing and deleting and is "no
/// file" for reading and listing. (The root itself may be a link an operator made, say to a larger disk.)
/// </summary>
public sealed class LocalArtifactStore : IArtifactStore
{
    /// <summary>Where uploads are written before they are renamed into place. '#' makes it a name no request can give.</summary>
    public const string UploadFolderName = "#uploads";

    /// <summary>Temporary files older than this, found when the store starts, belong to uploads that died with a process.</summary>
    public static readonly TimeSpan StaleUploadAge = TimeSpan.FromHours(1);

    private const int CopyBufferSize = 128 * 1024;

    private readonly string _configuredRoot;
    private readonly Lock _gate = new();
    private volatile bool _ready;

    public LocalArtifactStore(string root)
    {
        _configuredRoot = root;
        RootFolder = Path.GetFullPath(root);
        UploadFolder = Path.Join(RootFolder, UploadFolderName);
    }

    public string Description => $"local folder {_configuredRoot}";

    /// <summary>The root as a full path.</summary>
    public string RootFolder { get; }

    /// <summary>The folder of uploads in progress.</summary>
    public string UploadFolder { get; }

    public Task<ArtifactContent?> OpenReadAsync(ArtifactPath path, CancellationToken ct)
    {
        EnsureCreated();
        var (full, kind) = Locate(path);
        if (path.IsRoot || kind != Kind.File)
        {
            return Task.FromResult<ArtifactContent?>(null);
        }
        try
        {
            // FileShare.Delete: an upload may replace the file (a rename) or a delete remove it while it is read.
            var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult<ArtifactContent?>(new ArtifactContent(stream, stream.Length));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            // Deleted between the look and the open.
            return Task.FromResult<ArtifactContent?>(null);
        }
    }

    public async Task WriteAsync(ArtifactPath path, Stream content, CancellationToken ct)
    {
        if (path.IsRoot)
        {
            throw new ArgumentException("The store's root is a folder; a file needs a name.", nameof(path));
        }
        EnsureCreated();
        EnsureWritable(path);
        var temporary = Path.Join(UploadFolder, $"{Guid.NewGuid():N}.part");
        try
        {
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0,
                FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, CopyBufferSize, ct);
                // On disk before it gets its name: after a crash the name holds the old file or the whole new one.
                file.Flush(flushToDisk: true);
            }
            var target = Path.Join(RootFolder, path.Value);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            // Looked at again: the upload took time, and creating the folders must not have gone through a link.
            EnsureWritable(path);
            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            TryDelete(temporary);
        }
    }

    public Task<IReadOnlyList<ArtifactEntry>> ListAsync(ArtifactPath folder, CancellationToken ct)
    {
        EnsureCreated();
        var (full, kind) = Locate(folder);
        if (kind != Kind.Folder)
        {
            return Task.FromResult<IReadOnlyList<ArtifactEntry>>([]);
        }
        var entries = new List<ArtifactEntry>();
        try
        {
            foreach (var info in new DirectoryInfo(full).EnumerateFileSystemInfos())
            {
                // Links are not followed, and names no request could give (the upload folder) are not shown.
                if (info.LinkTarget is not null || !ArtifactPath.IsValidName(info.Name))
                {
                    continue;
                }
                entries.Add(info is FileInfo file ? new ArtifactEntry(info.Name, false, file.Length) : new ArtifactEntry(info.Name, true, null));
            }
        }
        catch (DirectoryNotFoundException)
        {
            // Deleted while listed.
            return Task.FromResult<IReadOnlyList<ArtifactEntry>>([]);
        }
        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return Task.FromResult<IReadOnlyList<ArtifactEntry>>(entries);
    }

    public Task DeleteAsync(ArtifactPath path, CancellationToken ct)
    {
        if (path.IsRoot)
        {
            throw new ArgumentException("The store's root cannot be deleted.", nameof(path));
        }
        EnsureCreated();
        var (full, kind) = Locate(path);
        switch (kind)
        {
            case Kind.Link:
                throw ThroughLink(path);
            case Kind.File:
                File.Delete(full);
                break;
            case Kind.Folder:
                // Links inside are removed as links; their targets are not touched.
                Directory.Delete(full, recursive: true);
                break;
        }
        return Task.CompletedTask;
    }

    private enum Kind
    {
        Missing,
        File,
        Folder,
        Link,
        // A file stands where the path needs a folder.
        Blocked,
    }

    /// <summary>
    /// The full path of <paramref name="path"/> and what is there, looking at each component below the root
    /// without following it: a link anywhere on the way makes the whole path <see cref="Kind.Link"/>.
    /// </summary>
    private (string FullPath, Kind Kind) Locate(ArtifactPath path)
    {
        var current = RootFolder;
        var kind = Kind.Folder;
        foreach (var segment in path.Segments)
        {
            if (kind == Kind.File)
            {
                return (Path.Join(RootFolder, path.Value), Kind.Blocked);
            }
            current = Path.Join(current, segment);
            kind = KindOf(current);
            if (kind is Kind.Missing or Kind.Link)
            {
                return (Path.Join(RootFolder, path.Value), kind);
            }
        }
        return (current, kind);
    }

    private static Kind KindOf(string fullPath)
    {
        if (new FileInfo(fullPath).LinkTarget is not null)
        {
            return Kind.Link;
        }
        return Directory.Exists(fullPath) ? Kind.Folder : File.Exists(fullPath) ? Kind.File : Kind.Missing;
    }

    private void EnsureWritable(ArtifactPath path)
    {
        switch (Locate(path).Kind)
        {
            case Kind.Link:
                throw ThroughLink(path);
            case Kind.Blocked:
                throw MlflowException.InvalidParameter($"Cannot write artifact '{path}': a file stands where it needs a folder.");
            case Kind.Folder:
                throw MlflowException.InvalidParameter($"Cannot write artifact '{path}': it is a folder.");
        }
    }

    private static MlflowException ThroughLink(ArtifactPath path) =>
        MlflowException.InvalidParameter($"The artifact path '{path}' passes through a symbolic link, which the artifact store does not follow.");

    /// <summary>Creates the root and the upload folder on first use, and removes what dead uploads left there.</summary>
    private void EnsureCreated()
    {
        if (_ready)
        {
            return;
        }
        lock (_gate)
        {
            if (_ready)
            {
                return;
            }
            Directory.CreateDirectory(RootFolder);
            if (KindOf(UploadFolder) is Kind.Link or Kind.File)
            {
                throw new InvalidOperationException(
                    $"The artifact store's upload folder '{UploadFolderName}' is not a plain folder; remove it and restart.");
            }
            Directory.CreateDirectory(UploadFolder);
            var stale = DateTime.UtcNow - StaleUploadAge;
            foreach (var file in new DirectoryInfo(UploadFolder).EnumerateFiles())
            {
                if (file.LastWriteTimeUtc < stale)
                {
                    TryDelete(file.FullName);
                }
            }
            _ready = true;
        }
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (IOException)
        {
            // Still open somewhere (Windows); the next start removes it as stale.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
