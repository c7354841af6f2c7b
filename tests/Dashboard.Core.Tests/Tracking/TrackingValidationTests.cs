using Dashboard.Errors;
using Dashboard.Tracking;

namespace Dashboard.Core.Tests.Tracking;

public class TrackingValidationTests
{
    [Theory]
    [InlineData("", ".")]
    [InlineData("a/b", "a/b")]
    [InlineData("a//b", "a/b")]
    [InlineData("a/./b", "a/b")]
    [InlineData("a/b/..", "a")]
    [InlineData("../a", "../a")]
    [InlineData("/a/../..", "/")]
    [InlineData("a/", "a")]
    [InlineData("//a", "//a")]
    [InlineData("///a", "/a")]
    public void Normalizes_paths_as_python_posixpath(string path, string expected) =>
        TrackingValidation.PosixNormPath(path).ShouldBe(expected);

    [Theory]
    [InlineData("loss")]
    [InlineData("val/acc")]
    [InlineData("train loss.mean-1")]
    [InlineData("epoch:3")]
    [InlineData("Genauigkeit_ä")]
    public void Accepts_keys_of_mlflows_charset(string key) =>
        Should.NotThrow(() => TrackingValidation.Key(key, "key", "Param key"));

    [Theory]
    [InlineData("bad key!*")]
    [InlineData("a/../b")]
    [InlineData("../etc")]
    [InlineData("/abs")]
    [InlineData("a/")]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("a\\b")]
    public void Rejects_keys_outside_the_charset_or_that_are_not_unique_paths(string key)
    {
        var ex = Should.Throw<MlflowException>(() => TrackingValidation.Key(key, "key", "Param key"));
        ex.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        ex.Message.ShouldStartWith("Invalid value ");
    }

    [Fact]
    public void Rejects_a_key_over_250_characters_with_mlflows_message()
    {
        var ex = Should.Throw<MlflowException>(() => TrackingValidation.Key(new string('k', 251), "key", "Param key"));
        ex.Message.ShouldBe("'Param key' exceeds the maximum length of 250 characters");
    }
}
