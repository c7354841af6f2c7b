using System.Buffers;
using System.Net;
using System.Text.RegularExpressions;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Dashboard.Errors;

namespace Dashboard.Artifacts;

/// <summary>
/// Artifacts as objects of an S3-compatible bucket (AWS S3, MinIO, Alibaba OSS, Ceph), under a key prefix:
/// the file <c>a/b.txt</c> of the store <c>s3://bucket/prefix</c> is the object <c>prefix/a/b.txt</c>. Folders exist
/// only through the objects below them. Uploads stream: a body that fits in one part (<see cref="MinimumPartSize"/>)
/// is one PutObject; a larger one is a multipart upload with at most two parts in memory (one uploading, one being
/// read), aborted when the body fails or is cancelled, so an interrupted upload leaves no object. Both are atomic:
/// readers see the old object or the whole new one. docs/adr/0006-artifact-paths-and-stores.md has the reasons.
/// </summary>
public sealed partial class S3ArtifactStore : IArtifactStore, IDisposable
{
    /// <summary>The size of the parts of a multipart upload, and the largest body sent as one PutObject.</summary>
    public const int MinimumPartSize = 8 * 1024 * 1024;

    /// <summary>After this many parts the part size doubles, so that S3's 10,000 parts hold about 2.4 TiB.</summary>
    public const int PartsPerSize = 1000;

    /// <summary>S3's limit on the parts of one upload.</summary>
    public const int MaxParts = 10_000;

    // 8 MB doubled at most 6 times: parts of 512 MB at most, two of them in memory for an upload past a terabyte.
    private const int MaxPartSizeDoublings = 6;

    // A small file is read into this much first; only a body that fills it takes a part-sized buffer.
    private const int FirstBufferSize = 256 * 1024;

    // DeleteObjects takes at most 1000 keys, as ListObjectsV2 answers at most 1000.
    private const int DeleteBatchSize = 1000;

    private static readonly TimeSpan AbortTimeout = TimeSpan.FromSeconds(30);

    private readonly IAmazonS3 _client;
    private readonly bool _ownsClient;

    // "" for a store at the bucket's root, otherwise the prefix and a '/': every key starts with it.
    private readonly string _keyPrefix;

    // Cleared when the service refuses DeleteObjects (see DeleteKeysAsync); deletes go one by one after that.
    private volatile bool _batchDelete = true;

    /// <summary>
    /// A store over <paramref name="bucket"/> below <paramref name="prefix"/> ("" for the whole bucket), using a
    /// client configured elsewhere (tests). <see cref="Create"/> makes one from the configuration.
    /// </summary>
    public S3ArtifactStore(IAmazonS3 client, string bucket, string prefix, string? endpoint = null)
        : this(client, bucket, prefix, endpoint, ownsClient: false)
    {
    }

    private S3ArtifactStore(IAmazonS3 client, string bucket, string prefix, string? endpoint, bool ownsClient)
    {
        if (!BucketName().IsMatch(bucket))
        {
            throw new ArgumentException("Not an S3 bucket name.", nameof(bucket));
        }
        if (ProblemOfPrefix(prefix) is { } problem)
        {
            throw new ArgumentException(problem, nameof(prefix));
        }
        _client = client;
        _ownsClient = ownsClient;
        Bucket = bucket;
        Prefix = prefix;
        _keyPrefix = prefix.Length == 0 ? "" : prefix + "/";
        Description = $"s3://{bucket}/{prefix}" + (endpoint is null ? "" : $" at {endpoint}");
    }

    public string Description { get; }

    public string Bucket { get; }

    /// <summary>The key prefix of the store's root, without a trailing '/'; "" for the bucket's root.</summary>
    public string Prefix { get; }

    /// <summary>
    /// The store that <c>Dashboard:Artifacts:Root = s3://bucket/prefix</c> and <c>Dashboard:Artifacts:S3:*</c>
    /// name. Refuses a malformed root or settings with an InvalidOperationException that repeats no value (a root
    /// or an endpoint with credentials pasted into it must not reach a log).
    /// </summary>
    public static S3ArtifactStore Create(string root, S3ArtifactOptions options)
    {
        var (bucket, prefix) = ParseRoot(root);
        var endpoint = ParseServiceUrl(options.ServiceUrl);
        var client = CreateClient(options, endpoint);
        return new S3ArtifactStore(client, bucket, prefix, endpoint?.GetLeftPart(UriPartial.Path).TrimEnd('/'), ownsClient: true);
    }

    public async Task<ArtifactContent?> OpenReadAsync(ArtifactPath path, CancellationToken ct)
    {
        if (path.IsRoot)
        {
            return null;
        }
        try
        {
            var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = Key(path) }, ct);
            // The response body streams from the connection; disposing it releases the connection.
            return new ArtifactContent(response.ResponseStream, response.ContentLength);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket")
        {
            // No object at the key: a missing file, or a "folder" (a prefix of other keys).
            return null;
        }
        catch (Exception ex) when (IsServiceFailure(ex, ct))
        {
            throw Failure("read", path, ex);
        }
    }

    public async Task WriteAsync(ArtifactPath path, Stream content, CancellationToken ct)
    {
        if (path.IsRoot)
        {
            throw new ArgumentException("The store's root is a folder; a file needs a name.", nameof(path));
        }
        var key = Key(path);
        var buffer = ArrayPool<byte>.Shared.Rent(FirstBufferSize);
        try
        {
            var length = await content.ReadAtLeastAsync(buffer.AsMemory(0, FirstBufferSize), FirstBufferSize, throwOnEndOfStream: false, ct);
            if (length == FirstBufferSize)
            {
                var part = ArrayPool<byte>.Shared.Rent(MinimumPartSize);
                buffer.AsSpan(0, length).CopyTo(part);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = part;
                length += await content.ReadAtLeastAsync(part.AsMemory(length, MinimumPartSize - length), MinimumPartSize - length,
                    throwOnEndOfStream: false, ct);
                if (length == MinimumPartSize)
                {
                    // More may follow: a multipart upload, which takes over the buffer.
                    buffer = null;
                    await WriteMultipartAsync(path, key, content, part, ct);
                    return;
                }
            }
            await PutAsync(path, key, buffer, length, ct);
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    public async Task<IReadOnlyList<ArtifactEntry>> ListAsync(ArtifactPath folder, CancellationToken ct)
    {
        var prefix = FolderPrefix(folder);
        var entries = new List<ArtifactEntry>();
        try
        {
            string? token = null;
            do
            {
                var page = await _client.ListObjectsV2Async(new ListObjectsV2Request
                {
                    BucketName = Bucket,
                    Prefix = prefix,
                    Delimiter = "/",
                    ContinuationToken = token,
                }, ct);
                foreach (var common in page.CommonPrefixes ?? [])
                {
                    if (common.Length > prefix.Length + 1 && common.StartsWith(prefix, StringComparison.Ordinal) && common.EndsWith('/')
                        && common[prefix.Length..^1] is var name && ArtifactPath.IsValidName(name))
                    {
                        entries.Add(new ArtifactEntry(name, true, null));
                    }
                }
                foreach (var item in page.S3Objects ?? [])
                {
                    // The folder's own marker ("prefix/", made by consoles and some tools) and names no request could
                    // give (placed by other tools) are not shown.
                    if (item.Key.StartsWith(prefix, StringComparison.Ordinal) && item.Key[prefix.Length..] is var name
                        && ArtifactPath.IsValidName(name))
                    {
                        entries.Add(new ArtifactEntry(name, false, item.Size ?? 0));
                    }
                }
                token = page.IsTruncated == true ? page.NextContinuationToken : null;
            }
            while (token is not null);
        }
        catch (Exception ex) when (IsServiceFailure(ex, ct))
        {
            throw Failure("list", folder, ex);
        }
        // S3 sorts by UTF-8 bytes, which differs from ordinal UTF-16 order past U+D7FF; a name that is both a file
        // and a folder (possible on S3 only) lists twice, the folder first.
        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name) is var byName and not 0 ? byName : b.IsDirectory.CompareTo(a.IsDirectory));
        return entries;
    }

    public async Task DeleteAsync(ArtifactPath path, CancellationToken ct)
    {
        if (path.IsRoot)
        {
            throw new ArgumentException("The store's root cannot be deleted.", nameof(path));
        }
        var key = Key(path);
        var below = key + "/";
        try
        {
            // The file of that name, if there is one, and every object below the folder of that name.
            var keys = new List<string> { key };
            string? token = null;
            do
            {
                var page = await _client.ListObjectsV2Async(new ListObjectsV2Request
                {
                    BucketName = Bucket,
                    Prefix = below,
                    ContinuationToken = token,
                }, ct);
                keys.AddRange((page.S3Objects ?? []).Select(o => o.Key).Where(k => k.StartsWith(below, StringComparison.Ordinal)));
                foreach (var batch in keys.Chunk(DeleteBatchSize))
                {
                    await DeleteKeysAsync(batch, ct);
                }
                keys.Clear();
                token = page.IsTruncated == true ? page.NextContinuationToken : null;
            }
            while (token is not null);
        }
        catch (Exception ex) when (IsServiceFailure(ex, ct))
        {
            throw Failure("delete", path, ex);
        }
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    /// <summary>The size of part <paramref name="partNumber"/> (from 1): 8 MB, doubling every 1,000 parts up to 512 MB.</summary>
    internal static int PartSize(int partNumber) =>
        MinimumPartSize << Math.Min((partNumber - 1) / PartsPerSize, MaxPartSizeDoublings);

    /// <summary>The largest file one upload can hold: the sum of <see cref="PartSize"/> over S3's 10,000 parts.</summary>
    internal static long MaxUploadBytes => Enumerable.Range(1, MaxParts).Sum(n => (long)PartSize(n));

    /// <summary>Whether a DeleteObjects request goes out (true) or deletes go one by one (after a refusal, or for tests).</summary>
    internal bool BatchDelete
    {
        get => _batchDelete;
        set => _batchDelete = value;
    }

    private string Key(ArtifactPath path) => _keyPrefix + path.Value;

    private string FolderPrefix(ArtifactPath folder) => folder.IsRoot ? _keyPrefix : _keyPrefix + folder.Value + "/";

    private async Task PutAsync(ArtifactPath path, string key, byte[] buffer, int length, CancellationToken ct)
    {
        using var body = new MemoryStream(buffer, 0, length, writable: false);
        try
        {
            await _client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = Bucket,
                Key = key,
                InputStream = body,
                AutoCloseStream = false,
                // A plain body with its length, signed with its SHA-256 (which S3 checks): understood by every
                // S3-compatible service, where aws-chunked bodies with trailing checksums are not.
                UseChunkEncoding = false,
            }, ct);
        }
        catch (Exception ex) when (IsServiceFailure(ex, ct))
        {
            throw Failure("write", path, ex);
        }
    }

    /// <summary>
    /// Uploads <paramref name="firstPart"/> (full) and the rest of <paramref name="content"/> as a multipart upload:
    /// each part is uploaded while the next is read, so at most two part buffers exist. On any failure (the body's,
    /// the service's, a cancellation) the upload is aborted: no object appears, and no parts are left to pay for.
    /// </summary>
    private async Task WriteMultipartAsync(ArtifactPath path, string key, Stream content, byte[] firstPart, CancellationToken ct)
    {
        string uploadId;
        try
        {
            uploadId = (await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = Bucket, Key = key }, ct)).UploadId;
        }
        catch (Exception ex) when (IsServiceFailure(ex, ct))
        {
            ArrayPool<byte>.Shared.Return(firstPart);
            throw Failure("write", path, ex);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(firstPart);
            throw;
        }

        using var uploads = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pending = new Queue<(Task<PartETag> Upload, byte[] Buffer)>();
        var parts = new List<PartETag>();
        byte[]? filling = firstPart;
        var length = MinimumPartSize;
        var number = 1;
        try
        {
            while (true)
            {
                pending.Enqueue((UploadPartAsync(key, uploadId, number, filling, length, uploads.Token), filling));
                filling = null;
                if (pending.Count > 1)
                {
                    await CompleteOldestAsync(pending, parts);
                }
                if (length < PartSize(number))
                {
                    break;
                }
                if (number == MaxParts)
                {
                    if (await content.ReadAsync(new byte[1], ct) > 0)
                    {
                        throw MlflowException.InvalidParameter(
                            $"An artifact on this S3 store is at most {MaxUploadBytes} bytes (S3's {MaxParts} parts).");
                    }
                    break;
                }
                var size = PartSize(number + 1);
                filling = ArrayPool<byte>.Shared.Rent(size);
                length = await content.ReadAtLeastAsync(filling.AsMemory(0, size), size, throwOnEndOfStream: false, ct);
                if (length == 0)
                {
                    break;
                }
                number++;
            }
            while (pending.Count > 0)
            {
                await CompleteOldestAsync(pending, parts);
            }
            await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = Bucket,
                Key = key,
                UploadId = uploadId,
                PartETags = parts,
            }, ct);
        }
        catch (Exception ex)
        {
            await uploads.CancelAsync();
            while (pending.Count > 0)
            {
                var (upload, buffer) = pending.Dequeue();
                try
                {
                    await upload;
                }
                catch (Exception)
                {
                    // Cancelled or failed: either way it is over, and the abort below discards what it sent.
                }
                ArrayPool<byte>.Shared.Return(buffer);
            }
            await AbortAsync(key, uploadId);
            if (IsServiceFailure(ex, ct))
            {
                throw Failure("write", path, ex);
            }
            throw;
        }
        finally
        {
            if (filling is not null)
            {
                ArrayPool<byte>.Shared.Return(filling);
            }
        }
    }

    private static async Task CompleteOldestAsync(Queue<(Task<PartETag> Upload, byte[] Buffer)> pending, List<PartETag> parts)
    {
        var (upload, buffer) = pending.Peek();
        // Stays queued if it failed, so that the clean-up waits for it before its buffer goes back to the pool.
        parts.Add(await upload);
        pending.Dequeue();
        ArrayPool<byte>.Shared.Return(buffer);
    }

    private async Task<PartETag> UploadPartAsync(string key, string uploadId, int number, byte[] buffer, int length, CancellationToken ct)
    {
        // Off the reading flow: signing hashes the whole part before it is sent.
        await Task.Yield();
        using var body = new MemoryStream(buffer, 0, length, writable: false);
        var response = await _client.UploadPartAsync(new UploadPartRequest
        {
            BucketName = Bucket,
            Key = key,
            UploadId = uploadId,
            PartNumber = number,
            InputStream = body,
            PartSize = length,
            UseChunkEncoding = false,
        }, ct);
        return new PartETag { PartNumber = number, ETag = response.ETag };
    }

    /// <summary>
    /// Best effort: the parts of an upload that cannot be aborted (the service is gone) stay until the bucket's
    /// lifecycle rule removes incomplete uploads (docs/operations.md); they never become an object.
    /// </summary>
    private async Task AbortAsync(string key, string uploadId)
    {
        using var timeout = new CancellationTokenSource(AbortTimeout);
        try
        {
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = Bucket, Key = key, UploadId = uploadId }, timeout.Token);
        }
        catch (Exception ex) when (IsServiceFailure(ex, CancellationToken.None))
        {
        }
    }

    private async Task DeleteKeysAsync(IReadOnlyList<string> keys, CancellationToken ct)
    {
        if (_batchDelete)
        {
            try
            {
                var response = await _client.DeleteObjectsAsync(new DeleteObjectsRequest
                {
                    BucketName = Bucket,
                    Objects = keys.Select(k => new KeyVersion { Key = k }).ToList(),
                    Quiet = true,
                }, ct);
                if (response.DeleteErrors is { Count: > 0 } errors)
                {
                    throw new ArtifactStoreException(
                        $"The artifact store {Description} could not delete {errors.Count} object(s): {errors[0].Code}.");
                }
                return;
            }
            catch (AmazonS3Exception ex) when (RefusesBatchDelete(ex))
            {
                // Since early 2025 AWS SDKs send DeleteObjects with a CRC32 checksum where older S3-compatible
                // services (Alibaba OSS, older MinIO and Ceph) require Content-MD5, and the SDK offers no way to send
                // that; some services have no DeleteObjects at all. Single deletes need neither.
                _batchDelete = false;
            }
        }
        foreach (var key in keys)
        {
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = key }, ct);
        }
    }

    private static bool RefusesBatchDelete(AmazonS3Exception ex) =>
        ex.StatusCode == HttpStatusCode.NotImplemented
        || ex.ErrorCode is "NotImplemented" or "MissingContentMD5" or "InvalidDigest"
        || (ex.StatusCode == HttpStatusCode.BadRequest && (ex.Message ?? "").Contains("Content-MD5", StringComparison.OrdinalIgnoreCase));

    /// <summary>An error of the service or of reaching it (not of the caller's stream, not a cancellation by the caller).</summary>
    private static bool IsServiceFailure(Exception ex, CancellationToken ct) => ex switch
    {
        AmazonServiceException or AmazonClientException or HttpRequestException => true,
        // A timeout of the SDK's HTTP client, not the caller's cancellation.
        OperationCanceledException => !ct.IsCancellationRequested,
        _ => false,
    };

    private ArtifactStoreException Failure(string action, ArtifactPath path, Exception ex)
    {
        var what = ex switch
        {
            AmazonS3Exception { ErrorCode: "NoSuchBucket" } => "the bucket does not exist",
            AmazonServiceException { StatusCode: HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized } s =>
                $"access was refused ({s.ErrorCode}, HTTP {(int)s.StatusCode}); check the credentials and what they may do",
            AmazonServiceException s => $"the service answered {s.ErrorCode ?? "an error"} (HTTP {(int)s.StatusCode})",
            OperationCanceledException => "the request timed out",
            AmazonClientException when ex.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase) =>
                "no credentials were found (Dashboard:Artifacts:S3:AccessKeyId and SecretAccessKey, or the AWS SDK's credential chain)",
            _ => $"the service could not be reached ({ex.GetType().Name})",
        };
        return new ArtifactStoreException($"The artifact store {Description} could not {action} '{path}': {what}.", ex);
    }

    private static (string Bucket, string Prefix) ParseRoot(string root)
    {
        var rest = root[(root.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..];
        if (!BucketName().IsMatch(bucket))
        {
            throw new InvalidOperationException(
                "Dashboard:Artifacts:Root must be s3://bucket/prefix with a bucket name of 3 to 63 letters, digits, dots, " +
                "hyphens or underscores (no credentials, port or query in it).");
        }
        if (prefix.EndsWith('/'))
        {
            prefix = prefix[..^1];
        }
        if (ProblemOfPrefix(prefix) is { } problem)
        {
            throw new InvalidOperationException($"Dashboard:Artifacts:Root: {problem}");
        }
        return (bucket, prefix);
    }

    private static string? ProblemOfPrefix(string prefix) =>
        prefix.Length == 0 || (ArtifactPath.TryParse(prefix, out var path, out _) && path.Value == prefix)
            ? null
            : "the prefix after the bucket must be a plain relative path such as 'team/artifacts': the rules of artifact " +
              "paths apply (no '.', '..' or empty segments, no '%', ':', '#', '?', ';', '\\').";

    private static Uri? ParseServiceUrl(string? serviceUrl)
    {
        if (string.IsNullOrWhiteSpace(serviceUrl))
        {
            return null;
        }
        if (!Uri.TryCreate(serviceUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
            || uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new InvalidOperationException(
                "Dashboard:Artifacts:S3:ServiceUrl must be an http:// or https:// URL such as https://minio.example.com:9000, " +
                "with no credentials, query or fragment in it (credentials go in AccessKeyId and SecretAccessKey).");
        }
        return uri;
    }

    private static AmazonS3Client CreateClient(S3ArtifactOptions options, Uri? endpoint)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // Checksums only where the API demands them: S3-compatible services do not all understand the trailing
            // checksums that AWS SDKs send by default since 2025. Uploads are still checked: their bodies are signed
            // with their SHA-256, which the service verifies.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint.ToString();
            // Most S3-compatible services accept (or ignore) us-east-1 in the signature; AWS itself needs the bucket's region.
            config.AuthenticationRegion = string.IsNullOrWhiteSpace(options.Region) ? "us-east-1" : options.Region;
        }
        else if (!string.IsNullOrWhiteSpace(options.Region))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }
        var hasKey = !string.IsNullOrEmpty(options.AccessKeyId);
        var hasSecret = !string.IsNullOrEmpty(options.SecretAccessKey);
        if (hasKey != hasSecret)
        {
            throw new InvalidOperationException(
                "Dashboard:Artifacts:S3:AccessKeyId and Dashboard:Artifacts:S3:SecretAccessKey go together: set both, or " +
                "neither to use the AWS SDK's credential chain (environment, profile, container or instance role).");
        }
        try
        {
            return hasKey
                ? new AmazonS3Client(new BasicAWSCredentials(options.AccessKeyId, options.SecretAccessKey), config)
                : new AmazonS3Client(config);
        }
        catch (AmazonClientException ex)
        {
            throw new InvalidOperationException(
                "The S3 artifact store could not be set up: without Dashboard:Artifacts:S3:ServiceUrl it needs a region " +
                "(Dashboard:Artifacts:S3:Region, AWS_REGION or a profile) and credentials the AWS SDK can find.", ex);
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$")]
    private static partial Regex BucketName();
}
