using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using Dashboard.Artifacts;
using Dashboard.Core.Tests.Support;

namespace Dashboard.Core.Tests.Artifacts;

/// <summary>
/// The store contract on S3 (the emulator that ./test.sh starts; a new bucket for each test, the store below the
/// prefix "artifacts"), and what only S3 has: multipart uploads and their abort, key prefixes, folder markers.
/// </summary>
[Collection(ArtifactStoreContract.Collection)]
public sealed class S3ArtifactStoreTests : ArtifactStoreContract
{
    private const string StorePrefix = "artifacts";

    private AmazonS3Client? _admin;
    private string _bucket = "";

    private AmazonS3Client Admin => _admin ?? throw new InvalidOperationException("Made with the store.");

    private S3ArtifactStore S3 => (S3ArtifactStore)Store;

    protected override bool KeepsEmptyFolders => false;

    /// <summary>256 MB: four times the local store's file, so that the multipart path runs for 32 parts.</summary>
    protected override long LargeFileBytes => 256L * 1024 * 1024;

    /// <summary>
    /// An eighth of the file (32 MB), tighter than the contract's quarter: two pooled 8 MB part buffers, the first
    /// read buffer and the SDK's objects per request come to about 21 MB for the 256 MB written and read back.
    /// </summary>
    protected override long StreamingAllocationBudget => LargeFileBytes / 8;

    protected override async Task<IArtifactStore> CreateEmptyStoreAsync()
    {
        var endpoint = TestS3.RequireEndpoint();
        _admin = TestS3.CreateClient(endpoint);
        _bucket = await TestS3.CreateBucketAsync(_admin);
        return new S3ArtifactStore(_admin, _bucket, StorePrefix, endpoint);
    }

    protected override async Task DeleteStoreAsync(IArtifactStore store)
    {
        await TestS3.DeleteBucketAsync(Admin, _bucket);
        Admin.Dispose();
    }

    [Fact]
    public async Task Stores_each_artifact_as_the_object_of_its_path_below_the_prefix()
    {
        await WriteAsync("1/run/artifacts/outputs/report 1.txt", "hello"u8.ToArray());
        await WriteAsync("éè中/文件 🙂.txt", "x"u8.ToArray());
        await WriteAsync("odd/a+b 100%.txt", "y"u8.ToArray());

        (await TestS3.KeysAsync(Admin, _bucket)).ShouldBe(
            ["artifacts/1/run/artifacts/outputs/report 1.txt", "artifacts/odd/a+b 100%.txt", "artifacts/éè中/文件 🙂.txt"], ignoreOrder: true);
        (await ReadAsync("odd/a+b 100%.txt")).ShouldBe("y"u8.ToArray());
        (await ListAsync("odd")).ShouldBe([new ArtifactEntry("a+b 100%.txt", false, 1)]);
        S3.Description.ShouldStartWith($"s3://{_bucket}/artifacts at http://127.0.0.1:");
    }

    [Fact]
    public async Task Uploads_a_body_larger_than_one_part_as_a_multipart_upload()
    {
        const long size = 2L * S3ArtifactStore.MinimumPartSize + 1_234_567;
        await using (var source = new GeneratedStream(size, seed: 11))
        {
            await Store.WriteAsync(Path("model/weights.bin"), source, Ct);
        }

        var metadata = await Admin.GetObjectMetadataAsync(_bucket, "artifacts/model/weights.bin", Ct);
        var small = await WriteAndGetETagAsync("model/MLmodel", new byte[1000]);
        var onePart = await WriteAndGetETagAsync("model/exactly-one-part.bin", new byte[S3ArtifactStore.MinimumPartSize - 1]);

        // A multipart object's ETag ends in "-<number of parts>"; a single PutObject's is the body's MD5.
        metadata.ETag.Trim('"').ShouldEndWith("-3");
        metadata.ContentLength.ShouldBe(size);
        small.ShouldNotContain('-');
        onePart.ShouldNotContain('-');
        await using (var expected = new GeneratedStream(size, seed: 11))
        await using (var content = (await Store.OpenReadAsync(Path("model/weights.bin"), Ct))!)
        {
            content.Length.ShouldBe(size);
            (await SHA256.HashDataAsync(content.Stream, Ct)).ShouldBe(await SHA256.HashDataAsync(expected, Ct));
        }
        (await TestS3.PendingUploadsAsync(Admin, _bucket)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Takes_a_body_of_exactly_one_part_and_of_exactly_two()
    {
        foreach (var size in new long[] { S3ArtifactStore.MinimumPartSize, 2L * S3ArtifactStore.MinimumPartSize })
        {
            await using var source = new GeneratedStream(size, seed: 12);
            await Store.WriteAsync(Path($"exact/{size}.bin"), source, Ct);
        }

        (await ListAsync("exact")).ShouldBe(
        [
            new ArtifactEntry($"{2L * S3ArtifactStore.MinimumPartSize}.bin", false, 2L * S3ArtifactStore.MinimumPartSize),
            new ArtifactEntry($"{S3ArtifactStore.MinimumPartSize}.bin", false, S3ArtifactStore.MinimumPartSize),
        ]);
        (await TestS3.PendingUploadsAsync(Admin, _bucket)).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_body_that_fails_after_some_parts_aborts_the_upload_and_leaves_no_object()
    {
        await using var failing = new GeneratedStream(40_000_000, seed: 13, failAfter: 2L * S3ArtifactStore.MinimumPartSize + 100_000);

        await Should.ThrowAsync<IOException>(() => Store.WriteAsync(Path("uploads/big.bin"), failing, Ct));

        (await TestS3.PendingUploadsAsync(Admin, _bucket)).ShouldBeEmpty();
        (await TestS3.KeysAsync(Admin, _bucket)).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_cancelled_multipart_upload_is_aborted_and_leaves_no_object()
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        await using var source = new GeneratedStream(40_000_000, seed: 14, onRead: position =>
        {
            if (position > 2L * S3ArtifactStore.MinimumPartSize)
            {
                cancel.Cancel();
            }
        });

        await Should.ThrowAsync<OperationCanceledException>(() => Store.WriteAsync(Path("cancelled.bin"), source, cancel.Token));

        (await TestS3.PendingUploadsAsync(Admin, _bucket)).ShouldBeEmpty();
        (await TestS3.KeysAsync(Admin, _bucket)).ShouldBeEmpty();
    }

    [Fact]
    public async Task An_interrupted_multipart_overwrite_keeps_the_previous_object()
    {
        await WriteAsync("model/model.pdiparams", "previous"u8.ToArray());
        await using var failing = new GeneratedStream(30_000_000, seed: 15, failAfter: 20_000_000);

        await Should.ThrowAsync<IOException>(() => Store.WriteAsync(Path("model/model.pdiparams"), failing, Ct));

        (await ReadAsync("model/model.pdiparams")).ShouldBe("previous"u8.ToArray());
        (await TestS3.PendingUploadsAsync(Admin, _bucket)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Stores_with_different_prefixes_in_one_bucket_do_not_see_each_other()
    {
        using var team = new S3ArtifactStore(Admin, _bucket, "team");
        using var namesake = new S3ArtifactStore(Admin, _bucket, "team-2");
        using var nested = new S3ArtifactStore(Admin, _bucket, "teams/vision");
        foreach (var store in new IArtifactStore[] { team, namesake, nested, Store })
        {
            await store.WriteAsync(Path("shared/name.txt"), new MemoryStream("x"u8.ToArray()), Ct);
        }

        await team.DeleteAsync(Path("shared"), Ct);

        (await team.ListAsync(ArtifactPath.Root, Ct)).ShouldBeEmpty();
        (await namesake.ListAsync(Path("shared"), Ct)).ShouldBe([new ArtifactEntry("name.txt", false, 1)]);
        (await nested.ListAsync(Path("shared"), Ct)).ShouldBe([new ArtifactEntry("name.txt", false, 1)]);
        (await ListAsync("")).ShouldBe([new ArtifactEntry("shared", true, null)]);
        (await TestS3.KeysAsync(Admin, _bucket)).ShouldBe(
            ["artifacts/shared/name.txt", "team-2/shared/name.txt", "teams/vision/shared/name.txt"], ignoreOrder: true);
    }

    [Fact]
    public async Task A_store_at_the_root_of_the_bucket_uses_the_path_as_the_key()
    {
        using var whole = new S3ArtifactStore(Admin, _bucket, "");

        await whole.WriteAsync(Path("a/b.txt"), new MemoryStream("x"u8.ToArray()), Ct);
        await WriteAsync("c.txt", "y"u8.ToArray());

        (await TestS3.KeysAsync(Admin, _bucket)).ShouldBe(["a/b.txt", "artifacts/c.txt"], ignoreOrder: true);
        (await whole.ListAsync(ArtifactPath.Root, Ct)).ShouldBe([new ArtifactEntry("a", true, null), new ArtifactEntry("artifacts", true, null)]);
        whole.Description.ShouldBe($"s3://{_bucket}/");
    }

    [Fact]
    public async Task Lists_and_deletes_folders_of_more_than_one_page_of_keys()
    {
        // ListObjectsV2 and DeleteObjects stop at 1000 keys.
        const int count = 1003;
        var keys = Enumerable.Range(0, count).Select(i => $"artifacts/many/f{i:D4}.txt").ToList();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct },
            async (key, ct) => await Admin.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = key, ContentBody = "1" }, ct));
        await WriteAsync("many-kept.txt", "k"u8.ToArray());

        var listed = await ListAsync("many");
        await Store.DeleteAsync(Path("many"), Ct);

        listed.Count.ShouldBe(count);
        listed[^1].ShouldBe(new ArtifactEntry("f1002.txt", false, 1));
        (await TestS3.KeysAsync(Admin, _bucket)).ShouldBe(["artifacts/many-kept.txt"]);
    }

    [Fact]
    public async Task Deletes_one_object_at_a_time_where_the_service_refuses_batch_deletes()
    {
        S3.BatchDelete = false;
        await WriteAsync("a/x.txt", "1"u8.ToArray());
        await WriteAsync("a/b/y.txt", "2"u8.ToArray());
        await WriteAsync("ab.txt", "3"u8.ToArray());

        await Store.DeleteAsync(Path("a"), Ct);

        (await TestS3.KeysAsync(Admin, _bucket)).ShouldBe(["artifacts/ab.txt"]);
    }

    [Fact]
    public async Task Hides_folder_markers_and_keys_that_no_request_could_name()
    {
        await WriteAsync("run/ok.txt", "x"u8.ToArray());
        foreach (var key in new[] { "artifacts/run/", "artifacts/run/empty/", "artifacts/run/bad#name.txt", "artifacts/run/a%20b",
            "artifacts/run//double.txt", "artifacts/run/dot/../x", "artifacts-other/x.txt" })
        {
            await Admin.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = key, ContentBody = "" }, Ct);
        }

        // A console's folder marker ("run/empty/") makes an empty folder, as in a file system.
        (await ListAsync("run")).ShouldBe(
            [new ArtifactEntry("dot", true, null), new ArtifactEntry("empty", true, null), new ArtifactEntry("ok.txt", false, 1)]);
        (await ListAsync("run/empty")).ShouldBeEmpty();
        (await ListAsync("")).ShouldBe([new ArtifactEntry("run", true, null)]);
    }

    [Fact]
    public async Task A_name_can_be_a_file_and_a_folder_at_once_on_s3_and_lists_as_both()
    {
        // A file system refuses the second write (LocalArtifactStoreTests); S3 keys are independent, as in MLflow's
        // S3 repository. Checking every ancestor on each upload would cost a request per segment.
        await WriteAsync("model", "file"u8.ToArray());
        await WriteAsync("model/MLmodel", "inside"u8.ToArray());

        (await ListAsync("")).ShouldBe([new ArtifactEntry("model", true, null), new ArtifactEntry("model", false, 4)]);
        (await ReadAsync("model")).ShouldBe("file"u8.ToArray());
        await Store.DeleteAsync(Path("model"), Ct);
        (await ListAsync("")).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_missing_bucket_is_an_error_not_an_empty_store()
    {
        using var store = new S3ArtifactStore(Admin, $"missing-{Guid.NewGuid():N}", "artifacts");

        var read = await Should.ThrowAsync<ArtifactStoreException>(() => store.OpenReadAsync(Path("a.txt"), Ct));
        var list = await Should.ThrowAsync<ArtifactStoreException>(() => store.ListAsync(ArtifactPath.Root, Ct));
        await Should.ThrowAsync<ArtifactStoreException>(() => store.WriteAsync(Path("a.txt"), new MemoryStream([1]), Ct));
        await Should.ThrowAsync<ArtifactStoreException>(() => store.DeleteAsync(Path("a.txt"), Ct));

        read.Message.ShouldContain("the bucket does not exist");
        list.Message.ShouldStartWith($"The artifact store {store.Description} could not list '': ");
    }

    [Fact]
    public async Task An_unreachable_service_is_a_clear_error_that_shows_no_secret()
    {
        const string secret = "fake-secret-for-the-leak-test";
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = new AmazonS3Client(new Amazon.Runtime.BasicAWSCredentials("fake-key-id", secret), new AmazonS3Config
        {
            ServiceURL = $"http://127.0.0.1:{port}",
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = 0,
        });
        using var store = new S3ArtifactStore(client, "bucket", "artifacts", $"http://127.0.0.1:{port}");

        var errors = new List<ArtifactStoreException>
        {
            await Should.ThrowAsync<ArtifactStoreException>(() => store.OpenReadAsync(Path("a.txt"), Ct)),
            await Should.ThrowAsync<ArtifactStoreException>(() => store.ListAsync(Path("a"), Ct)),
            await Should.ThrowAsync<ArtifactStoreException>(() => store.WriteAsync(Path("a.txt"), new MemoryStream([1]), Ct)),
            await Should.ThrowAsync<ArtifactStoreException>(() => store.WriteAsync(Path("big.bin"), new GeneratedStream(20_000_000, seed: 16), Ct)),
            await Should.ThrowAsync<ArtifactStoreException>(() => store.DeleteAsync(Path("a"), Ct)),
        };

        errors[0].Message.ShouldBe($"The artifact store s3://bucket/artifacts at http://127.0.0.1:{port} could not read 'a.txt': " +
            "the service could not be reached (HttpRequestException).");
        foreach (var error in errors)
        {
            error.ToString().ShouldNotContain(secret);
        }
    }

    private async Task<string> WriteAndGetETagAsync(string path, byte[] content)
    {
        await WriteAsync(path, content);
        return (await Admin.GetObjectMetadataAsync(_bucket, $"{StorePrefix}/{path}", Ct)).ETag.Trim('"');
    }
}
