using System.Text;
using Dashboard.Artifacts;

namespace Dashboard.Core.Tests.ModelCards;

/// <summary>
/// An artifact store in memory for the card reader's tests; it records every file opened, so a test can show that a
/// model's own files are never read.
/// </summary>
public sealed class MemoryArtifactStore : IArtifactStore
{
    private readonly SortedDictionary<string, byte[]> _files = new(StringComparer.Ordinal);

    public List<string> Opened { get; } = [];

    /// <summary>When set, the length the store reports for every file (a store that under-reports).</summary>
    public long? ReportedLength { get; set; }

    public string Description => "memory";

    public void Put(string path, byte[] content) => _files[path] = content;

    public void Remove(string path) => _files.Remove(path);

    public void Put(string path, string content) => Put(path, Encoding.UTF8.GetBytes(content));

    public void PutAll(string folder, IReadOnlyDictionary<string, byte[]> files)
    {
        foreach (var (name, content) in files)
        {
            Put($"{folder}/{name}", content);
        }
    }

    public Task<ArtifactContent?> OpenReadAsync(ArtifactPath path, CancellationToken ct)
    {
        if (!_files.TryGetValue(path.Value, out var content))
        {
            return Task.FromResult<ArtifactContent?>(null);
        }
        Opened.Add(path.Value);
        return Task.FromResult<ArtifactContent?>(new ArtifactContent(new MemoryStream(content, writable: false), ReportedLength ?? content.Length));
    }

    public Task WriteAsync(ArtifactPath path, Stream content, CancellationToken ct) => throw new NotSupportedException();

    public Task DeleteAsync(ArtifactPath path, CancellationToken ct) => throw new NotSupportedException();

    public Task<IReadOnlyList<ArtifactEntry>> ListAsync(ArtifactPath folder, CancellationToken ct)
    {
        var prefix = folder.IsRoot ? "" : folder.Value + "/";
        var entries = new SortedDictionary<string, ArtifactEntry>(StringComparer.Ordinal);
        foreach (var (path, content) in _files)
        {
            if (!path.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }
            var rest = path[prefix.Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var name = slash < 0 ? rest : rest[..slash];
            entries[name] = slash < 0 ? new ArtifactEntry(name, false, content.Length) : new ArtifactEntry(name, true, null);
        }
        return Task.FromResult<IReadOnlyList<ArtifactEntry>>([.. entries.Values]);
    }
}
