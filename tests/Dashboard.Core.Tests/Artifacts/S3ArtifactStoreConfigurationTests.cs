using Dashboard.Artifacts;

namespace Dashboard.Core.Tests.Artifacts;

/// <summary>How <c>s3://bucket/prefix</c> and <c>Dashboard:Artifacts:S3:*</c> become a store (no service needed).</summary>
public sealed class S3ArtifactStoreConfigurationTests
{
    private const string Secret = "fake-secret-for-the-leak-test";

    [Theory]
    [InlineData("s3://bucket/prefix", "bucket", "prefix")]
    [InlineData("S3://bucket", "bucket", "")]
    [InlineData("s3://bucket/", "bucket", "")]
    [InlineData("s3://my.bucket-1/team/vision models/", "my.bucket-1", "team/vision models")]
    public void Chooses_the_s3_store_for_an_s3_root(string root, string bucket, string prefix)
    {
        using var store = ArtifactStores.Create(new ArtifactOptions
        {
            Root = root,
            S3 = new S3ArtifactOptions { ServiceUrl = "http://127.0.0.1:9000", ForcePathStyle = true, AccessKeyId = "test", SecretAccessKey = Secret },
        }).ShouldBeOfType<S3ArtifactStore>();

        store.Bucket.ShouldBe(bucket);
        store.Prefix.ShouldBe(prefix);
        store.Description.ShouldBe($"s3://{bucket}/{prefix} at http://127.0.0.1:9000");
    }

    [Fact]
    public void Describes_an_aws_store_without_an_endpoint()
    {
        using var store = (S3ArtifactStore)ArtifactStores.Create(new ArtifactOptions
        {
            Root = "s3://bucket/prefix",
            S3 = new S3ArtifactOptions { Region = "eu-west-1", AccessKeyId = "test", SecretAccessKey = Secret },
        });

        store.Description.ShouldBe("s3://bucket/prefix");
    }

    [Theory]
    [InlineData("s3://")]
    [InlineData("s3://b")]
    [InlineData("s3://key:fake-secret-for-the-leak-test@bucket/prefix")]
    [InlineData("s3://bucket:9000/prefix")]
    [InlineData("s3://bucket?region=x")]
    [InlineData("s3://bucket/../prefix")]
    [InlineData("s3://bucket/a//b")]
    [InlineData("s3://bucket/a/%2e%2e/b")]
    [InlineData("s3://bucket/a%20b")]
    [InlineData("s3://bucket/prefix?x=1")]
    [InlineData("s3://bucket/prefix#f")]
    [InlineData("s3://bucket/C:/x")]
    public void Refuses_a_malformed_root_without_repeating_it(string root)
    {
        var ex = Should.Throw<InvalidOperationException>(() => ArtifactStores.Create(new ArtifactOptions { Root = root }));

        ex.Message.ShouldStartWith("Dashboard:Artifacts:Root");
        ex.Message.ShouldNotContain(Secret);
        ex.Message.ShouldNotContain("prefix?");
    }

    [Theory]
    [InlineData("ftp://minio:9000")]
    [InlineData("minio:9000")]
    [InlineData("http://user:fake-secret-for-the-leak-test@minio:9000")]
    [InlineData("http://minio:9000/?secret=fake-secret-for-the-leak-test")]
    public void Refuses_a_service_url_that_is_not_a_plain_http_url(string serviceUrl)
    {
        var ex = Should.Throw<InvalidOperationException>(() => ArtifactStores.Create(new ArtifactOptions
        {
            Root = "s3://bucket/prefix",
            S3 = new S3ArtifactOptions { ServiceUrl = serviceUrl },
        }));

        ex.Message.ShouldStartWith("Dashboard:Artifacts:S3:ServiceUrl must be an http:// or https:// URL");
        ex.Message.ShouldNotContain(Secret);
    }

    [Theory]
    [InlineData("test", null)]
    [InlineData(null, Secret)]
    public void Refuses_half_a_pair_of_keys(string? accessKeyId, string? secretAccessKey)
    {
        var ex = Should.Throw<InvalidOperationException>(() => ArtifactStores.Create(new ArtifactOptions
        {
            Root = "s3://bucket/prefix",
            S3 = new S3ArtifactOptions { ServiceUrl = "http://127.0.0.1:9000", AccessKeyId = accessKeyId, SecretAccessKey = secretAccessKey },
        }));

        ex.Message.ShouldContain("go together");
        ex.Message.ShouldNotContain(Secret);
    }

    [Fact]
    public void Prints_options_without_the_keys()
    {
        var options = new ArtifactOptions
        {
            Root = "s3://bucket/prefix",
            S3 = new S3ArtifactOptions { ServiceUrl = "http://127.0.0.1:9000", AccessKeyId = "fake-key-id", SecretAccessKey = Secret },
        };

        options.ToString().ShouldNotContain(Secret);
        options.ToString().ShouldNotContain("fake-key-id");
        options.ToString().ShouldContain("SecretAccessKey = (set)");
        options.ToString().ShouldContain("ServiceUrl = http://127.0.0.1:9000");
    }

    [Fact]
    public void Part_sizes_start_at_8_MB_and_double_every_1000_parts_up_to_512_MB()
    {
        S3ArtifactStore.PartSize(1).ShouldBe(8 * 1024 * 1024);
        S3ArtifactStore.PartSize(1000).ShouldBe(8 * 1024 * 1024);
        S3ArtifactStore.PartSize(1001).ShouldBe(16 * 1024 * 1024);
        S3ArtifactStore.PartSize(6001).ShouldBe(512 * 1024 * 1024);
        S3ArtifactStore.PartSize(S3ArtifactStore.MaxParts).ShouldBe(512 * 1024 * 1024);
        // Every part but the last must be at least 5 MB (S3), at most 5 GB.
        (S3ArtifactStore.MaxUploadBytes / 1024 / 1024 / 1024).ShouldBe(2492);
    }
}
