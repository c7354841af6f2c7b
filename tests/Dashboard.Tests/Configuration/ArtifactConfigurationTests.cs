using Dashboard.Artifacts;
using Microsoft.Extensions.Configuration;

namespace Dashboard.Tests.Configuration;

/// <summary><c>Dashboard:Artifacts:*</c> as the server reads it (appsettings.example.json lists the keys).</summary>
public class ArtifactConfigurationTests
{
    private const string Secret = "fake-secret-for-the-leak-test";

    [Fact]
    public void Defaults_to_the_local_folder_with_no_s3_settings()
    {
        var options = DashboardConfiguration.ReadArtifacts(Configuration([]));

        options.ShouldBe(new ArtifactOptions());
        options.Root.ShouldBe("data/artifacts");
        options.S3.ShouldBe(new S3ArtifactOptions());
    }

    [Fact]
    public void Reads_every_s3_key_as_environment_variables_name_them()
    {
        var options = DashboardConfiguration.ReadArtifacts(Configuration(new()
        {
            // Dashboard__Artifacts__S3__SecretAccessKey and so on, in the environment.
            ["Dashboard:Artifacts:Root"] = "s3://bucket/team",
            ["Dashboard:Artifacts:S3:ServiceUrl"] = "https://s3.oss-cn-hangzhou.aliyuncs.com",
            ["Dashboard:Artifacts:S3:Region"] = "cn-hangzhou",
            ["Dashboard:Artifacts:S3:ForcePathStyle"] = "True",
            ["Dashboard:Artifacts:S3:AccessKeyId"] = "fake-key-id",
            ["Dashboard:Artifacts:S3:SecretAccessKey"] = Secret,
        }));

        options.Root.ShouldBe("s3://bucket/team");
        options.S3.ShouldBe(new S3ArtifactOptions
        {
            ServiceUrl = "https://s3.oss-cn-hangzhou.aliyuncs.com",
            Region = "cn-hangzhou",
            ForcePathStyle = true,
            AccessKeyId = "fake-key-id",
            SecretAccessKey = Secret,
        });
    }

    [Fact]
    public void Treats_empty_s3_values_as_absent()
    {
        var options = DashboardConfiguration.ReadArtifacts(Configuration(new()
        {
            ["Dashboard:Artifacts:S3:ServiceUrl"] = "",
            ["Dashboard:Artifacts:S3:AccessKeyId"] = " ",
            ["Dashboard:Artifacts:S3:ForcePathStyle"] = "",
        }));

        options.S3.ShouldBe(new S3ArtifactOptions());
    }

    [Fact]
    public void Refuses_a_path_style_that_is_not_a_boolean()
    {
        Should.Throw<InvalidOperationException>(() => DashboardConfiguration.ReadArtifacts(Configuration(new()
        {
            ["Dashboard:Artifacts:S3:ForcePathStyle"] = "yes",
        }))).Message.ShouldBe("Dashboard:Artifacts:S3:ForcePathStyle must be true or false.");
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
