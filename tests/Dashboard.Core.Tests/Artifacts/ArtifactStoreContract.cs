using System.Security.Cryptography;
using System.Text;
using Dashboard.Artifacts;
using Dashboard.Core.Tests.Support;

namespace Dashboard.Core.Tests.Artifacts;

/// <summary>
/// What every <see cref="IArtifactStore"/> does, run against each store by deriving from this class
/// (<see cref="LocalArtifactStoreTests"/>; the S3 store's tests likewise). Each test gets a fresh, empty store.
/// Derived classes belong to the <see cref="Collection"/> collection: it runs alone, so that the streaming test
/// can read the process's allocation counter without other tests' allocations in it.
/// </summary>
public abstract class ArtifactStoreContract : IAsyncLifetime
{
    public const string Collection = "Artifact stores (run alone: the streaming test measures allocations)";

    private IArtifactStore? _store;

    protected IArtifactStore Store => _store ?? throw new InvalidOperationException("The store is created before each test.");

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A new store over empty storage (a new folder, a new bucket prefix).</summary>
    protected abstract Task<IArtifactStore> CreateEmptyStoreAsync();

    /// <summary>Removes the storage of a store made by <see cref="CreateEmptyStoreAsync"/>.</summary>
    protected abstract Task DeleteStoreAsync(IArtifactStore store);

    /// <summary>The size of the streaming test's file.</summary>
    protected virtual long LargeFileBytes => 64L * 1024 * 1024;

    /// <summary>
    /// What the whole process may allocate while the large file is written and read back. A store that holds the
    /// file in memory allocates at least the file's size; a streaming one allocates its copy buffers (or one
    /// multipart part at a time, for S3) and some bookkeeping per chunk. A quarter of the file leaves room for
    /// the second and none for the first.
    /// </summary>
    protected virtual long StreamingAllocationBudget => LargeFileBytes / 4;

    /// <summary>
    /// Whether a folder stays (and lists in its parent) after its last file is deleted: it does in a file system;
    /// on S3 a folder is only the common prefix of its objects, so it goes with them. Everything else is the same.
    /// </summary>
    protected abstract bool KeepsEmptyFolders { get; }

    public async ValueTask InitializeAsync() => _store = await CreateEmptyStoreAsync();

    public async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await DeleteStoreAsync(_store);
        }
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Starts_empty()
    {
        (await Store.ListAsync(ArtifactPath.Root, Ct)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Writes_and_reads_back_an_empty_file()
    {
        await WriteAsync("outputs/empty.txt", []);

        (await ReadAsync("outputs/empty.txt")).ShouldBeEmpty();
        (await ListAsync("outputs")).ShouldBe([new ArtifactEntry("empty.txt", false, 0)]);
    }

    [Fact]
    public async Task Writes_and_reads_back_binary_content_byte_for_byte()
    {
        var bytes = new byte[300_000];
        new Random(17).NextBytes(bytes);
        Enumerable.Range(0, 256).Select(i => (byte)i).ToArray().CopyTo(bytes, 0);

        await WriteAsync("outputs/bin/weights.bin", bytes);

        (await ReadAsync("outputs/bin/weights.bin")).ShouldBe(bytes);
        await using var content = (await Store.OpenReadAsync(Path("outputs/bin/weights.bin"), Ct))!;
        content.Length.ShouldBe(bytes.Length);
    }

    [Fact]
    public async Task Keeps_names_with_spaces_and_unicode()
    {
        var text = Encoding.UTF8.GetBytes("space in name, unicode: éè中\n");

        await WriteAsync("outputs/report 1.txt", text);
        await WriteAsync("éè中/文件 🙂.txt", text);

        (await ReadAsync("outputs/report 1.txt")).ShouldBe(text);
        (await ReadAsync("éè中/文件 🙂.txt")).ShouldBe(text);
        (await ListAsync("")).Select(e => e.Name).ShouldBe(["outputs", "éè中"]);
        (await ListAsync("éè中")).ShouldBe([new ArtifactEntry("文件 🙂.txt", false, text.Length)]);
    }

    [Fact]
    public async Task Creates_the_folders_of_a_nested_path()
    {
        await WriteAsync("a/b/c/d.txt", "deep"u8.ToArray());

        (await ListAsync("")).ShouldBe([new ArtifactEntry("a", true, null)]);
        (await ListAsync("a")).ShouldBe([new ArtifactEntry("b", true, null)]);
        (await ListAsync("a/b")).ShouldBe([new ArtifactEntry("c", true, null)]);
        (await ListAsync("a/b/c")).ShouldBe([new ArtifactEntry("d.txt", false, 4)]);
        (await ReadAsync("a/b/c/d.txt")).ShouldBe("deep"u8.ToArray());
    }

    [Fact]
    public async Task Overwrites_a_file_with_the_new_content()
    {
        await WriteAsync("model/MLmodel", "first version, longer"u8.ToArray());
        await WriteAsync("model/MLmodel", "second"u8.ToArray());

        (await ReadAsync("model/MLmodel")).ShouldBe("second"u8.ToArray());
        (await ListAsync("model")).ShouldBe([new ArtifactEntry("MLmodel", false, 6)]);
    }

    [Fact]
    public async Task Lists_folders_and_files_sorted_by_ordinal_name_with_the_sizes_of_files()
    {
        foreach (var (name, size) in new[] { ("b.txt", 3), ("MLmodel", 7), ("a/x", 1), ("Z/y", 1), ("_u.txt", 2), ("a.txt", 5), ("é.txt", 4) })
        {
            await WriteAsync($"run/{name}", new byte[size]);
        }

        (await ListAsync("run")).ShouldBe(
        [
            new ArtifactEntry("MLmodel", false, 7),
            new ArtifactEntry("Z", true, null),
            new ArtifactEntry("_u.txt", false, 2),
            new ArtifactEntry("a", true, null),
            new ArtifactEntry("a.txt", false, 5),
            new ArtifactEntry("b.txt", false, 3),
            new ArtifactEntry("é.txt", false, 4),
        ]);
    }

    [Fact]
    public async Task Lists_nothing_for_a_missing_path_a_file_or_an_emptied_folder()
    {
        await WriteAsync("tables/epoch_metrics.json", "{}"u8.ToArray());
        await WriteAsync("emptied/gone.txt", "x"u8.ToArray());
        await Store.DeleteAsync(Path("emptied/gone.txt"), Ct);

        (await ListAsync("missing")).ShouldBeEmpty();
        (await ListAsync("missing/deeper")).ShouldBeEmpty();
        (await ListAsync("tables/epoch_metrics.json")).ShouldBeEmpty();
        (await ListAsync("tables/epoch_metrics.json/below")).ShouldBeEmpty();
        (await ListAsync("emptied")).ShouldBeEmpty();
    }

    [Fact]
    public async Task An_emptied_folder_lists_in_its_parent_only_where_the_store_keeps_folders()
    {
        await WriteAsync("run/emptied/gone.txt", "x"u8.ToArray());
        await WriteAsync("run/kept.txt", "y"u8.ToArray());

        await Store.DeleteAsync(Path("run/emptied/gone.txt"), Ct);

        (await ListAsync("run")).ShouldBe(KeepsEmptyFolders
            ? [new ArtifactEntry("emptied", true, null), new ArtifactEntry("kept.txt", false, 1)]
            : [new ArtifactEntry("kept.txt", false, 1)]);
        (await ListAsync("run/emptied")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Reads_no_content_for_a_missing_file_or_a_folder()
    {
        await WriteAsync("model/MLmodel", "x"u8.ToArray());

        (await Store.OpenReadAsync(Path("model/missing.txt"), Ct)).ShouldBeNull();
        (await Store.OpenReadAsync(Path("missing/deeper.txt"), Ct)).ShouldBeNull();
        (await Store.OpenReadAsync(Path("model"), Ct)).ShouldBeNull();
        (await Store.OpenReadAsync(Path("model/MLmodel/below"), Ct)).ShouldBeNull();
        (await Store.OpenReadAsync(ArtifactPath.Root, Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task Deletes_a_file()
    {
        await WriteAsync("notes/summary.txt", "a"u8.ToArray());
        await WriteAsync("notes/keep.txt", "b"u8.ToArray());

        await Store.DeleteAsync(Path("notes/summary.txt"), Ct);

        (await Store.OpenReadAsync(Path("notes/summary.txt"), Ct)).ShouldBeNull();
        (await ListAsync("notes")).ShouldBe([new ArtifactEntry("keep.txt", false, 1)]);
    }

    [Fact]
    public async Task Deletes_a_folder_and_everything_below_it_but_not_its_namesakes()
    {
        await WriteAsync("a/x.txt", "1"u8.ToArray());
        await WriteAsync("a/b/y.txt", "2"u8.ToArray());
        await WriteAsync("ab/z.txt", "3"u8.ToArray());
        await WriteAsync("a.txt", "4"u8.ToArray());

        await Store.DeleteAsync(Path("a"), Ct);

        (await Store.OpenReadAsync(Path("a/x.txt"), Ct)).ShouldBeNull();
        (await Store.OpenReadAsync(Path("a/b/y.txt"), Ct)).ShouldBeNull();
        (await ListAsync("a")).ShouldBeEmpty();
        (await ReadAsync("ab/z.txt")).ShouldBe("3"u8.ToArray());
        (await ReadAsync("a.txt")).ShouldBe("4"u8.ToArray());
        (await ListAsync("")).ShouldBe([new ArtifactEntry("a.txt", false, 1), new ArtifactEntry("ab", true, null)]);
    }

    [Fact]
    public async Task Deleting_nothing_is_not_an_error()
    {
        await Store.DeleteAsync(Path("missing"), Ct);
        await Store.DeleteAsync(Path("missing/deeper/file.txt"), Ct);

        (await ListAsync("")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Refuses_to_delete_the_root()
    {
        await WriteAsync("kept.txt", "x"u8.ToArray());

        await Should.ThrowAsync<ArgumentException>(() => Store.DeleteAsync(ArtifactPath.Root, Ct));
        await Should.ThrowAsync<ArgumentException>(() => Store.WriteAsync(ArtifactPath.Root, new MemoryStream(), Ct));

        (await ReadAsync("kept.txt")).ShouldBe("x"u8.ToArray());
    }

    [Fact]
    public async Task An_interrupted_write_leaves_nothing_listed()
    {
        await using var failing = new GeneratedStream(1_000_000, seed: 1, failAfter: 300_000);

        await Should.ThrowAsync<IOException>(() => Store.WriteAsync(Path("uploads/big.bin"), failing, Ct));

        (await ListAsync("")).ShouldBeEmpty();
        (await ListAsync("uploads")).ShouldBeEmpty();
        (await Store.OpenReadAsync(Path("uploads/big.bin"), Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task An_interrupted_overwrite_keeps_the_previous_content()
    {
        await WriteAsync("model/model.pdiparams", "previous"u8.ToArray());
        await using var failing = new GeneratedStream(1_000_000, seed: 2, failAfter: 500_000);

        await Should.ThrowAsync<IOException>(() => Store.WriteAsync(Path("model/model.pdiparams"), failing, Ct));

        (await ReadAsync("model/model.pdiparams")).ShouldBe("previous"u8.ToArray());
        (await ListAsync("model")).ShouldBe([new ArtifactEntry("model.pdiparams", false, 8)]);
    }

    [Fact]
    public async Task A_cancelled_write_leaves_nothing_listed()
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        await using var source = new GeneratedStream(4_000_000, seed: 3, onRead: position =>
        {
            if (position > 1_000_000)
            {
                cancel.Cancel();
            }
        });

        await Should.ThrowAsync<OperationCanceledException>(() => Store.WriteAsync(Path("cancelled.bin"), source, cancel.Token));

        (await ListAsync("")).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_write_becomes_visible_only_when_complete()
    {
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var source = new GeneratedStream(2_000_000, seed: 4, onReadAsync: async position =>
        {
            if (position >= 1_000_000 && !halfway.Task.IsCompleted)
            {
                halfway.SetResult();
                await resume.Task;
            }
        });

        var writing = Store.WriteAsync(Path("slow/upload.bin"), source, Ct);
        await halfway.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        var listedMidway = await ListAsync("slow");
        var readMidway = await Store.OpenReadAsync(Path("slow/upload.bin"), Ct);
        resume.SetResult();
        await writing;

        listedMidway.ShouldBeEmpty();
        readMidway.ShouldBeNull();
        (await ListAsync("slow")).ShouldBe([new ArtifactEntry("upload.bin", false, 2_000_000)]);
    }

    [Fact]
    public async Task Concurrent_writes_to_one_path_leave_one_of_them_whole()
    {
        var first = new byte[1_000_000];
        var second = new byte[1_500_000];
        Array.Fill(first, (byte)1);
        Array.Fill(second, (byte)2);

        await Task.WhenAll(
            Task.Run(() => Store.WriteAsync(Path("race.bin"), new MemoryStream(first), Ct), Ct),
            Task.Run(() => Store.WriteAsync(Path("race.bin"), new MemoryStream(second), Ct), Ct));

        var content = await ReadAsync("race.bin");
        (content.SequenceEqual(first) || content.SequenceEqual(second)).ShouldBeTrue($"{content.Length} bytes, a mix of both writes");
    }

    [Fact]
    public async Task Streams_a_large_file_both_ways_without_holding_it_in_memory()
    {
        var allocated = await MeasureLargeRoundTripAsync(Store, "large/model.bin");

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{allocated / 1024.0 / 1024:F1} MB allocated while writing and reading {LargeFileBytes / 1024 / 1024} MB");
        allocated.ShouldBeLessThan(StreamingAllocationBudget,
            $"{allocated / 1024 / 1024} MB allocated while writing and reading {LargeFileBytes / 1024 / 1024} MB");
        (await ListAsync("large")).ShouldBe([new ArtifactEntry("model.bin", false, LargeFileBytes)]);
    }

    /// <summary>
    /// Writes <see cref="LargeFileBytes"/> generated bytes through <paramref name="store"/>, reads them back, checks
    /// they are the same (SHA-256), and answers how many bytes the process allocated meanwhile.
    /// </summary>
    protected async Task<long> MeasureLargeRoundTripAsync(IArtifactStore store, string path)
    {
        var size = LargeFileBytes;
        var buffer = new byte[81920];
        using var expected = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var reference = new GeneratedStream(size, seed: 5))
        {
            int read;
            while ((read = await reference.ReadAsync(buffer, Ct)) > 0)
            {
                expected.AppendData(buffer, 0, read);
            }
        }
        using var actual = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var source = new GeneratedStream(size, seed: 5);
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);

        await store.WriteAsync(Path(path), source, Ct);
        long length;
        await using (var content = (await store.OpenReadAsync(Path(path), Ct))!)
        {
            length = content.Length;
            int read;
            while ((read = await content.Stream.ReadAsync(buffer, Ct)) > 0)
            {
                actual.AppendData(buffer, 0, read);
            }
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        length.ShouldBe(size);
        actual.GetHashAndReset().ShouldBe(expected.GetHashAndReset());
        return allocated;
    }

    protected static ArtifactPath Path(string path) => ArtifactPath.Parse(path, "path");

    protected Task WriteAsync(string path, byte[] content) => Store.WriteAsync(Path(path), new MemoryStream(content), Ct);

    protected async Task<byte[]> ReadAsync(string path)
    {
        await using var content = await Store.OpenReadAsync(Path(path), Ct);
        content.ShouldNotBeNull($"no file at {path}");
        using var copy = new MemoryStream();
        await content.Stream.CopyToAsync(copy, Ct);
        copy.Length.ShouldBe(content.Length);
        return copy.ToArray();
    }

    protected async Task<List<ArtifactEntry>> ListAsync(string folder) => [.. await Store.ListAsync(Path(folder), Ct)];
}
