using Dashboard.Artifacts;
using Dashboard.Errors;
using Dashboard.Tracking;

namespace Dashboard.Core.Tests.Tracking;

public class ArtifactLocationsTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("mlflow-artifacts:/team/models", "mlflow-artifacts:/team/models")]
    [InlineData("mlflow-artifacts:/team/models/", "mlflow-artifacts:/team/models")]
    [InlineData("mlflow-artifacts:/team%20a/%C3%A9", "mlflow-artifacts:/team a/é")]
    [InlineData("mlflow-artifacts:/7", "mlflow-artifacts:/7")]
    public void Takes_a_proxy_location_and_answers_its_canonical_form(string? location, string? expected)
    {
        ArtifactLocations.ValidateExperimentLocation(location).ShouldBe(expected);
    }

    [Theory]
    [InlineData("file:///tmp/x", "artifacts are stored behind this server's proxy")]
    [InlineData("/var/lib/x", "artifacts are stored behind this server's proxy")]
    [InlineData("relative/x", "artifacts are stored behind this server's proxy")]
    [InlineData("s3://bucket/x", "artifacts are stored behind this server's proxy")]
    [InlineData("mlflow-artifacts://host:5000/x", "artifacts are stored behind this server's proxy")]
    [InlineData("mlflow-artifacts:x", "artifacts are stored behind this server's proxy")]
    [InlineData("runs:/abc/model", "Artifact location cannot be a runs:/ URI. Given: 'runs:/abc/model'")]
    [InlineData("RUNS:/abc/model", "cannot be a runs:/ URI")]
    [InlineData("mlflow-artifacts:/", "needs a path after it")]
    [InlineData("mlflow-artifacts:/x?y=1", "'?'")]
    [InlineData("mlflow-artifacts:/x#y", "'#'")]
    [InlineData("mlflow-artifacts:/a/../../b", "'..'")]
    [InlineData("mlflow-artifacts:/a/%252e%252e/%252e%252e/b", "'..'")]
    public void Refuses_every_other_location(string location, string message)
    {
        var ex = Should.Throw<MlflowException>(() => ArtifactLocations.ValidateExperimentLocation(location));

        ex.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        ex.Message.ShouldContain(message);
    }

    [Theory]
    [InlineData("mlflow-artifacts:/1/0123456789abcdef0123456789abcdef/artifacts", "1/0123456789abcdef0123456789abcdef/artifacts")]
    [InlineData("mlflow-artifacts:/team a/run/artifacts", "team a/run/artifacts")]
    public void Finds_the_store_path_of_a_proxy_uri(string uri, string path)
    {
        ArtifactLocations.StorePath(uri).ShouldBe(ArtifactPath.Parse(path, "path"));
    }

    [Theory]
    [InlineData("s3://bucket/1/run/artifacts")]
    [InlineData("file:///tmp/run/artifacts")]
    [InlineData("mlflow-artifacts://host/1/run/artifacts")]
    [InlineData("mlflow-artifacts:/../run/artifacts")]
    public void Finds_no_store_path_for_other_uris(string uri)
    {
        ArtifactLocations.StorePath(uri).ShouldBeNull();
    }
}
