using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Dashboard.Core.Tests.Support;

/// <summary>
/// The S3 emulator that ./test.sh starts (moto's server; DASHBOARD_TEST_S3 holds its endpoint) and fresh buckets on
/// it. The emulator takes any credentials: these are the obviously fake "test"/"test".
/// </summary>
public static class TestS3
{
    public const string Variable = "DASHBOARD_TEST_S3";

    /// <summary>Set to 1 by ./test.sh: then a missing emulator fails the S3 tests instead of skipping them.</summary>
    public const string RequireVariable = "DASHBOARD_REQUIRE_S3";

    public const string AccessKeyId = "test";

    public const string SecretAccessKey = "test";

    public static string? Endpoint => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } url ? url : null;

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>
    /// The endpoint, or: a failure when ./test.sh requires the emulator, a skip when a developer runs the tests
    /// without it (./test.sh counts a skip as a failure too).
    /// </summary>
    public static string RequireEndpoint()
    {
        if (Endpoint is { } endpoint)
        {
            return endpoint;
        }
        if (Required)
        {
            throw new InvalidOperationException($"{RequireVariable}=1 but {Variable} is not set: ./test.sh starts the S3 emulator.");
        }
        Assert.Skip($"No S3 emulator: {Variable} is not set (./test.sh starts one).");
        return "";
    }

    /// <summary>A client for the emulator, configured as the store configures its own (path style, signed bodies).</summary>
    public static AmazonS3Client CreateClient(string endpoint, int maxErrorRetry = 2) =>
        new(new BasicAWSCredentials(AccessKeyId, SecretAccessKey), new AmazonS3Config
        {
            ServiceURL = endpoint,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = maxErrorRetry,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });

    /// <summary>A new, empty bucket with a unique name.</summary>
    public static async Task<string> CreateBucketAsync(IAmazonS3 client)
    {
        var bucket = $"dashboard-test-{Guid.NewGuid():N}";
        await client.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        return bucket;
    }

    /// <summary>Every key in the bucket, in S3's order.</summary>
    public static async Task<List<string>> KeysAsync(IAmazonS3 client, string bucket, string? prefix = null)
    {
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = prefix, ContinuationToken = token });
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return keys;
    }

    /// <summary>The keys of the multipart uploads begun and neither completed nor aborted.</summary>
    public static async Task<List<string>> PendingUploadsAsync(IAmazonS3 client, string bucket)
    {
        var response = await client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket });
        return [.. (response.MultipartUploads ?? []).Select(u => u.Key)];
    }

    /// <summary>Empties the bucket (objects and pending uploads) and deletes it.</summary>
    public static async Task DeleteBucketAsync(IAmazonS3 client, string bucket)
    {
        var uploads = await client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket });
        foreach (var upload in uploads.MultipartUploads ?? [])
        {
            await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = upload.Key, UploadId = upload.UploadId });
        }
        foreach (var batch in (await KeysAsync(client, bucket)).Chunk(1000))
        {
            await client.DeleteObjectsAsync(new DeleteObjectsRequest
            {
                BucketName = bucket,
                Objects = [.. batch.Select(k => new KeyVersion { Key = k })],
            });
        }
        await client.DeleteBucketAsync(new DeleteBucketRequest { BucketName = bucket });
    }
}
