using Dashboard.Artifacts;
using Dashboard.Errors;

namespace Dashboard.Core.Tests.Artifacts;

/// <summary>
/// The path rules of every artifact path and location. The refused list follows MLflow's CVE history
/// (traversal, encoded and multiply-encoded traversal, '#', ';', absolute paths, file: sources) and adds what a
/// file system reads specially (drive letters, backslashes, device names, trailing dots).
/// </summary>
public class ArtifactPathTests
{
    public static TheoryData<string, string> AcceptedPaths => new()
    {
        { "a", "a" },
        { "a/b/c.txt", "a/b/c.txt" },
        { "1/cb2792467a294b26bd8c61868cf5d191/artifacts/model/MLmodel", "1/cb2792467a294b26bd8c61868cf5d191/artifacts/model/MLmodel" },
        { "outputs/report 1.txt", "outputs/report 1.txt" },
        { "outputs/report%201.txt", "outputs/report 1.txt" },
        { "éè中/文件.txt", "éè中/文件.txt" },
        { "%C3%A9%C3%A8%E4%B8%AD", "éè中" },
        { "🙂.png", "🙂.png" },
        { "dir/", "dir" },
        { "dir%2F", "dir" },
        { ".hidden", ".hidden" },
        { "a..b", "a..b" },
        { "..a", "..a" },
        { "model.pdiparams.info", "model.pdiparams.info" },
        { "a+b", "a+b" },
        { "~$x=1,2@[3]{4}!'()&", "~$x=1,2@[3]{4}!'()&" },
        // What does not decode stays as written: an invalid escape, an overlong UTF-8 form of '.'.
        { "100%.txt", "100%.txt" },
        { "%zz", "%zz" },
        { "%C0%AE%C0%AE", "%C0%AE%C0%AE" },
        { "CONSOLE.txt", "CONSOLE.txt" },
        { "com10", "com10" },
        { "nul-results", "nul-results" },
    };

    [Theory, MemberData(nameof(AcceptedPaths))]
    public void Accepts_relative_paths_and_normalizes_their_encoding(string raw, string expected)
    {
        var path = ArtifactPath.Parse(raw, "path");

        path.Value.ShouldBe(expected);
        ArtifactPath.Parse(path.Value, "path").ShouldBe(path);
    }

    [Fact]
    public void Reads_null_and_empty_as_the_root()
    {
        ArtifactPath.Parse(null, "path").IsRoot.ShouldBeTrue();
        ArtifactPath.Parse("", "path").ShouldBe(ArtifactPath.Root);
        default(ArtifactPath).ShouldBe(ArtifactPath.Root);
        ArtifactPath.Root.Segments.ShouldBeEmpty();
        ArtifactPath.Root.Value.ShouldBe("");
    }

    [Fact]
    public void Accepts_the_longest_path_and_segment_and_refuses_one_more()
    {
        var segment255 = new string('s', 255);
        var path1024 = string.Join('/', Enumerable.Repeat(new string('p', 200), 5)) + "/" + new string('q', 1024 - 1005);
        var chinese85 = string.Concat(Enumerable.Repeat("中", 85));

        ArtifactPath.Parse(segment255, "path").Value.ShouldBe(segment255);
        ArtifactPath.Parse(path1024, "path").Value.Length.ShouldBe(1024);
        ArtifactPath.Parse(chinese85, "path").Value.ShouldBe(chinese85);

        Refused(segment255 + "s").ShouldContain("255 bytes");
        Refused(path1024 + "q").ShouldContain("1024 characters");
        Refused(chinese85 + "中").ShouldContain("255 bytes");
        Refused(new string('%', 20_000)).ShouldContain("1024 characters");
    }

    public static TheoryData<string, string> RefusedPaths => new()
    {
        // Traversal, plain and in every encoding (MLflow CVE-2023-2356, CVE-2023-6831, and CVE-2024-1560's double encoding).
        { "..", "'..'" },
        { ".", "'..'" },
        { "../escape.txt", "'..'" },
        { "a/../../escape.txt", "'..'" },
        { "a/..", "'..'" },
        { "./a", "'..'" },
        { "a/./b", "'..'" },
        { "%2e%2e/escape.txt", "'..'" },
        { "%2E%2E%2Fescape.txt", "'..'" },
        { "..%2fescape.txt", "'..'" },
        { ".%2e/escape.txt", "'..'" },
        { "a%2F..%2F..%2Fescape.txt", "'..'" },
        { "%252e%252e%252fescape.txt", "'..'" },
        { "%25252e%25252e%25252fescape.txt", "'..'" },
        { "%2525252e%2525252e/escape.txt", "'..'" },
        { Encode("..", 11), "rounds of decoding" },
        // Absolute paths.
        { "/etc/passwd", "must not start with '/'" },
        { "%2fetc%2fpasswd", "must not start with '/'" },
        { "%252fetc%252fpasswd", "must not start with '/'" },
        { "//server/share/x", "must not start with '/'" },
        { "/", "must not start with '/'" },
        // Backslashes and drive letters (Windows).
        { "a\\b.txt", "'\\'" },
        { "..\\escape.txt", "'\\'" },
        { "%5c..%5cescape.txt", "'\\'" },
        { "C:/Windows/win.ini", "':'" },
        { "c:escape.txt", "':'" },
        { "C%3A%5CWindows", "':'" },
        { "a/file.txt:stream", "':'" },
        // Sources and locations given as URIs (file: sources, CVE-2023-1177).
        { "file:///etc/passwd", "':'" },
        { "file:/etc/passwd", "':'" },
        { "file%3A%2F%2F%2Fetc%2Fpasswd", "':'" },
        { "runs:/0123/artifacts", "':'" },
        { "s3://bucket/key", "':'" },
        { "http://169.254.169.254/latest", "':'" },
        { "mlflow-artifacts:/1/x", "':'" },
        // Fragments, parameters and queries (';' smuggling, CVE-2024-1593; '#', which MLflow refuses too).
        { "a#b", "'#'" },
        { "a%23b", "'#'" },
        { "a%2523/../b", "'#'" },
        { "#", "'#'" },
        { "a;b", "';'" },
        { "a%3Bb", "';'" },
        { "..;/escape.txt", "';'" },
        { "a?b", "'?'" },
        { "a%3Fb=1", "'?'" },
        // NUL and other control characters.
        { "a\0b", "control characters" },
        { "a%00b", "control characters" },
        { "a%2500b", "control characters" },
        { "a%0Ab", "control characters" },
        { "%0d%0aSet-Cookie", "control characters" },
        { "a\tb", "control characters" },
        { "a%7Fb", "control characters" },
        { "a%C2%85b", "control characters" },
        // Empty segments.
        { "a//b", "empty segment" },
        { "a//", "empty segment" },
        { "a%2F%2Fb", "empty segment" },
        // Names that Windows reads specially.
        { "CON", "device name" },
        { "con.txt", "device name" },
        { "a/NUL", "device name" },
        { "aux.tar.gz", "device name" },
        { "LPT9.log", "device name" },
        { "COM1", "device name" },
        { "a.", "end with '.'" },
        { "...", "end with '.'" },
        { "a/b./c", "end with '.'" },
        { "a ", "end with '.' or a space" },
        { "a<b", "'<'" },
        { "a>b", "'>'" },
        { "a\"b", "'\"'" },
        { "a|b", "'|'" },
        { "a*b", "'*'" },
    };

    [Theory, MemberData(nameof(RefusedPaths))]
    public void Refuses_paths_that_could_leave_the_root_or_mean_something_else(string raw, string why)
    {
        var message = Refused(raw);

        message.ShouldStartWith("Invalid path in parameter 'path': ");
        message.ShouldContain(why);
    }

    [Theory, MemberData(nameof(RefusedPaths))]
    public void Never_repeats_the_refused_path_in_its_message(string raw, string why)
    {
        _ = why;
        var message = Refused(raw);

        if (raw.Length > 3)
        {
            message.ShouldNotContain(raw);
        }
        message.ShouldNotContain("/etc");
    }

    [Fact]
    public void Refuses_text_that_is_not_valid_unicode()
    {
        // Not theory data: xunit's serialization of a theory's arguments would repair the lone surrogate.
        Refused("a\ud800b").ShouldContain("unpaired surrogate");
        Refused("\udc00").ShouldContain("unpaired surrogate");
    }

    [Fact]
    public void Names_the_parameter_in_its_message()
    {
        var ex = Should.Throw<MlflowException>(() => ArtifactPath.Parse("../x", "artifact_location"));

        ex.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        ex.Message.ShouldStartWith("Invalid path in parameter 'artifact_location': ");
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("report 1.txt", true)]
    [InlineData("éè中", true)]
    [InlineData(LocalArtifactStore.UploadFolderName, false)]
    [InlineData("a/b", false)]
    [InlineData("..", false)]
    [InlineData("a%20b", false)]
    [InlineData("", false)]
    public void Tells_which_names_a_request_can_give_unchanged(string name, bool valid) =>
        ArtifactPath.IsValidName(name).ShouldBe(valid);

    [Fact]
    public void Appends_paths_and_names_their_last_segment()
    {
        var run = ArtifactPath.Parse("1/run/artifacts", "path");

        run.Append(ArtifactPath.Parse("model/MLmodel", "path")).Value.ShouldBe("1/run/artifacts/model/MLmodel");
        run.Append(ArtifactPath.Root).ShouldBe(run);
        ArtifactPath.Root.Append(run).ShouldBe(run);
        run.Name.ShouldBe("artifacts");
        run.Segments.ShouldBe(["1", "run", "artifacts"]);
        ArtifactPath.Root.Name.ShouldBe("");
    }

    private static string Refused(string raw)
    {
        var ex = Should.Throw<MlflowException>(() => ArtifactPath.Parse(raw, "path"));
        ex.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        ArtifactPath.TryParse(raw, out _, out var problem).ShouldBeFalse();
        ex.Message.ShouldEndWith(problem!);
        return ex.Message;
    }

    private static string Encode(string text, int times)
    {
        for (var i = 0; i < times; i++)
        {
            text = string.Concat(text.Select(c => c == '%' ? "%25" : c == '.' ? "%2E" : c.ToString()));
        }
        return text;
    }
}
