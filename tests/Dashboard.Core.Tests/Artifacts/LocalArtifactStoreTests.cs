using Dashboard.Artifacts;
using Dashboard.Core.Tests.Support;
using Dashboard.Errors;

namespace Dashboard.Core.Tests.Artifacts;

[CollectionDefinition(ArtifactStoreContract.Collection, DisableParallelization = true)]
public sealed class ArtifactStoresRunAlone;

/// <summary>The store contract on a local folder, and what only a folder has: links, the upload folder, conflicts.</summary>
[Collection(ArtifactStoreContract.Collection)]
public sealed class LocalArtifactStoreTests : ArtifactStoreContract
{
    // Each store's root sits inside a folder of its own, so that "outside the root" is a place the tests can watch.
    private readonly string _sandbox = System.IO.Path.Join(System.IO.Path.GetTempPath(), $"dashboard-store-{Guid.NewGuid():N}");

    private string RootFolder => System.IO.Path.Join(_sandbox, "artifacts");

    private string Outside => System.IO.Path.Join(_sandbox, "outside");

    private LocalArtifactStore Local => (LocalArtifactStore)Store;

    protected override bool KeepsEmptyFolders => true;

    protected override Task<IArtifactStore> CreateEmptyStoreAsync()
    {
        Directory.CreateDirectory(Outside);
        File.WriteAllText(System.IO.Path.Join(Outside, "secret.txt"), "outside the store");
        return Task.FromResult<IArtifactStore>(new LocalArtifactStore(RootFolder));
    }

    protected override Task DeleteStoreAsync(IArtifactStore store)
    {
        Directory.Delete(_sandbox, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Creates_its_root_on_first_use_and_not_before()
    {
        Directory.Exists(RootFolder).ShouldBeFalse();
        Local.RootFolder.ShouldBe(RootFolder);
        Local.Description.ShouldBe($"local folder {RootFolder}");

        (await Store.ListAsync(ArtifactPath.Root, Ct)).ShouldBeEmpty();

        Directory.Exists(RootFolder).ShouldBeTrue();
        Directory.Exists(Local.UploadFolder).ShouldBeTrue();
    }

    [Fact]
    public async Task Stores_each_artifact_as_a_file_of_the_same_relative_path()
    {
        await WriteAsync("1/run/artifacts/outputs/report 1.txt", "hello"u8.ToArray());

        File.ReadAllText(System.IO.Path.Join(RootFolder, "1", "run", "artifacts", "outputs", "report 1.txt")).ShouldBe("hello");
    }

    [Fact]
    public async Task Leaves_no_temporary_file_after_a_write_or_a_failed_one()
    {
        await WriteAsync("done.txt", "x"u8.ToArray());
        await using var failing = new GeneratedStream(1_000_000, seed: 6, failAfter: 100_000);
        await Should.ThrowAsync<IOException>(() => Store.WriteAsync(Path("failed.bin"), failing, Ct));

        Directory.EnumerateFileSystemEntries(Local.UploadFolder).ShouldBeEmpty();
        Directory.EnumerateFileSystemEntries(RootFolder).Select(System.IO.Path.GetFileName)
            .ShouldBe([LocalArtifactStore.UploadFolderName, "done.txt"], ignoreOrder: true);
    }

    [Fact]
    public async Task Removes_uploads_that_a_dead_process_left_behind_when_it_starts()
    {
        Directory.CreateDirectory(System.IO.Path.Join(RootFolder, LocalArtifactStore.UploadFolderName));
        var stale = System.IO.Path.Join(RootFolder, LocalArtifactStore.UploadFolderName, "stale.part");
        var recent = System.IO.Path.Join(RootFolder, LocalArtifactStore.UploadFolderName, "recent.part");
        File.WriteAllText(stale, "half an upload");
        File.WriteAllText(recent, "an upload of another process, still running");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow - LocalArtifactStore.StaleUploadAge - TimeSpan.FromMinutes(1));

        (await Store.ListAsync(ArtifactPath.Root, Ct)).ShouldBeEmpty();

        File.Exists(stale).ShouldBeFalse();
        File.Exists(recent).ShouldBeTrue();
    }

    [Fact]
    public async Task Does_not_follow_a_link_to_a_folder_outside_the_root()
    {
        await WriteAsync("inside.txt", "x"u8.ToArray());
        Directory.CreateSymbolicLink(System.IO.Path.Join(RootFolder, "evil"), Outside);

        (await Store.OpenReadAsync(Path("evil/secret.txt"), Ct)).ShouldBeNull();
        (await Store.ListAsync(Path("evil"), Ct)).ShouldBeEmpty();
        (await Store.ListAsync(ArtifactPath.Root, Ct)).Select(e => e.Name).ShouldBe(["inside.txt"]);
        var write = await Should.ThrowAsync<MlflowException>(() => WriteAsync("evil/planted.txt", "x"u8.ToArray()));
        var overwrite = await Should.ThrowAsync<MlflowException>(() => WriteAsync("evil/secret.txt", "x"u8.ToArray()));
        await Should.ThrowAsync<MlflowException>(() => Store.DeleteAsync(Path("evil/secret.txt"), Ct));
        await Should.ThrowAsync<MlflowException>(() => Store.DeleteAsync(Path("evil"), Ct));

        write.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        write.Message.ShouldBe("The artifact path 'evil/planted.txt' passes through a symbolic link, which the artifact store does not follow.");
        overwrite.Message.ShouldNotContain(_sandbox);
        OutsideIsUntouched();
    }

    [Fact]
    public async Task Does_not_follow_a_link_to_a_file_outside_the_root()
    {
        await WriteAsync("model/MLmodel", "x"u8.ToArray());
        File.CreateSymbolicLink(System.IO.Path.Join(RootFolder, "model", "passwd"), System.IO.Path.Join(Outside, "secret.txt"));

        (await Store.OpenReadAsync(Path("model/passwd"), Ct)).ShouldBeNull();
        (await Store.ListAsync(Path("model"), Ct)).Select(e => e.Name).ShouldBe(["MLmodel"]);
        await Should.ThrowAsync<MlflowException>(() => WriteAsync("model/passwd", "overwritten"u8.ToArray()));
        await Should.ThrowAsync<MlflowException>(() => Store.DeleteAsync(Path("model/passwd"), Ct));

        OutsideIsUntouched();
    }

    [Fact]
    public async Task Does_not_follow_a_link_planted_deeper_or_a_dangling_one()
    {
        await WriteAsync("a/b/kept.txt", "x"u8.ToArray());
        Directory.CreateSymbolicLink(System.IO.Path.Join(RootFolder, "a", "b", "c"), Outside);
        File.CreateSymbolicLink(System.IO.Path.Join(RootFolder, "a", "dangling"), System.IO.Path.Join(_sandbox, "nothing-here"));

        (await Store.OpenReadAsync(Path("a/b/c/secret.txt"), Ct)).ShouldBeNull();
        await Should.ThrowAsync<MlflowException>(() => WriteAsync("a/b/c/d/e.txt", "x"u8.ToArray()));
        await Should.ThrowAsync<MlflowException>(() => WriteAsync("a/dangling", "x"u8.ToArray()));
        await Should.ThrowAsync<MlflowException>(() => WriteAsync("a/dangling/below.txt", "x"u8.ToArray()));

        File.Exists(System.IO.Path.Join(_sandbox, "nothing-here")).ShouldBeFalse();
        Directory.Exists(System.IO.Path.Join(Outside, "d")).ShouldBeFalse();
        OutsideIsUntouched();
    }

    [Fact]
    public async Task Deleting_a_folder_removes_links_inside_it_but_not_what_they_point_to()
    {
        await WriteAsync("run/artifacts/a.txt", "x"u8.ToArray());
        Directory.CreateSymbolicLink(System.IO.Path.Join(RootFolder, "run", "artifacts", "folder-link"), Outside);
        File.CreateSymbolicLink(System.IO.Path.Join(RootFolder, "run", "file-link"), System.IO.Path.Join(Outside, "secret.txt"));

        await Store.DeleteAsync(Path("run"), Ct);

        Directory.Exists(System.IO.Path.Join(RootFolder, "run")).ShouldBeFalse();
        OutsideIsUntouched();
    }

    [Fact]
    public async Task Refuses_to_start_when_its_upload_folder_is_a_link()
    {
        Directory.CreateDirectory(RootFolder);
        Directory.CreateSymbolicLink(System.IO.Path.Join(RootFolder, LocalArtifactStore.UploadFolderName), Outside);

        var ex = await Should.ThrowAsync<InvalidOperationException>(() => WriteAsync("a.txt", "x"u8.ToArray()));

        ex.Message.ShouldContain(LocalArtifactStore.UploadFolderName);
        Directory.EnumerateFileSystemEntries(Outside).Select(System.IO.Path.GetFileName).ShouldBe(["secret.txt"]);
    }

    [Fact]
    public async Task Refuses_a_write_where_a_file_stands_for_a_folder_or_a_folder_for_a_file()
    {
        await WriteAsync("model/MLmodel", "x"u8.ToArray());

        var below = await Should.ThrowAsync<MlflowException>(() => WriteAsync("model/MLmodel/below.txt", "y"u8.ToArray()));
        var onFolder = await Should.ThrowAsync<MlflowException>(() => WriteAsync("model", "y"u8.ToArray()));

        below.Message.ShouldBe("Cannot write artifact 'model/MLmodel/below.txt': a file stands where it needs a folder.");
        onFolder.Message.ShouldBe("Cannot write artifact 'model': it is a folder.");
        (await ReadAsync("model/MLmodel")).ShouldBe("x"u8.ToArray());
    }

    [Fact]
    public async Task Hides_entries_that_no_request_could_name()
    {
        await WriteAsync("ok.txt", "x"u8.ToArray());
        File.WriteAllText(System.IO.Path.Join(RootFolder, "bad#name.txt"), "placed by hand");
        File.WriteAllText(System.IO.Path.Join(RootFolder, "a%20b"), "placed by hand");

        (await Store.ListAsync(ArtifactPath.Root, Ct)).Select(e => e.Name).ShouldBe(["ok.txt"]);
    }

    [Fact]
    public async Task The_streaming_budget_catches_a_store_that_holds_a_file_in_memory()
    {
        var allocated = await MeasureLargeRoundTripAsync(new BufferingStore(Store), "buffered.bin");

        allocated.ShouldBeGreaterThan(StreamingAllocationBudget);
    }

    [Theory]
    [InlineData("data/artifacts")]
    [InlineData("/var/lib/dashboard/artifacts")]
    [InlineData("artifacts-s3")]
    public void Chooses_a_local_store_for_a_folder(string root)
    {
        var store = ArtifactStores.Create(new ArtifactOptions { Root = root }).ShouldBeOfType<LocalArtifactStore>();

        store.RootFolder.ShouldBe(System.IO.Path.GetFullPath(root));
        Directory.Exists(store.RootFolder).ShouldBe(Directory.Exists(System.IO.Path.GetFullPath(root)));
    }

    [Fact]
    public void Defaults_to_data_artifacts()
    {
        new ArtifactOptions().Root.ShouldBe("data/artifacts");
    }

    [Theory]
    [InlineData("gs://bucket/prefix", "other URI schemes are not supported")]
    [InlineData("file:///data/artifacts", "other URI schemes are not supported")]
    [InlineData("", "is empty")]
    [InlineData("  ", "is empty")]
    public void Refuses_a_root_it_cannot_serve_with_a_clear_message(string root, string message)
    {
        var ex = Should.Throw<InvalidOperationException>(() => ArtifactStores.Create(new ArtifactOptions { Root = root }));

        ex.Message.ShouldContain("Dashboard:Artifacts:Root");
        ex.Message.ShouldContain(message);
    }

    private void OutsideIsUntouched()
    {
        Directory.EnumerateFileSystemEntries(Outside).Select(System.IO.Path.GetFileName).ShouldBe(["secret.txt"]);
        File.ReadAllText(System.IO.Path.Join(Outside, "secret.txt")).ShouldBe("outside the store");
        Directory.EnumerateFileSystemEntries(_sandbox).Select(System.IO.Path.GetFileName).ShouldBe(["artifacts", "outside"], ignoreOrder: true);
    }

    /// <summary>A store that copies each upload into memory first: what the streaming test must catch.</summary>
    private sealed class BufferingStore(IArtifactStore inner) : IArtifactStore
    {
        public string Description => inner.Description;

        public Task<ArtifactContent?> OpenReadAsync(ArtifactPath path, CancellationToken ct) => inner.OpenReadAsync(path, ct);

        public async Task WriteAsync(ArtifactPath path, Stream content, CancellationToken ct)
        {
            using var copy = new MemoryStream();
            await content.CopyToAsync(copy, ct);
            copy.Position = 0;
            await inner.WriteAsync(path, copy, ct);
        }

        public Task<IReadOnlyList<ArtifactEntry>> ListAsync(ArtifactPath folder, CancellationToken ct) => inner.ListAsync(folder, ct);

        public Task DeleteAsync(ArtifactPath path, CancellationToken ct) => inner.DeleteAsync(path, ct);
    }
}
