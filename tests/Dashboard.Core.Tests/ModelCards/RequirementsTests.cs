using Dashboard.ModelCards;

namespace Dashboard.Core.Tests.ModelCards;

public class RequirementsTests
{
    [Theory]
    [InlineData("paddlepaddle==2.6.1", "paddlepaddle", "==2.6.1", "2.6.1")]
    [InlineData("mlflow==3.9.0rc0", "mlflow", "==3.9.0rc0", "3.9.0rc0")]
    [InlineData("numpy>=1.24,<2", "numpy", ">=1.24,<2", null)]
    [InlineData("numpy >= 1.24 , < 2", "numpy", ">=1.24,<2", null)]
    [InlineData("torch==2.*", "torch", "==2.*", null)]
    [InlineData("pkg===1.0+local", "pkg", "===1.0+local", "1.0+local")]
    [InlineData("pkg~=1.4", "pkg", "~=1.4", null)]
    [InlineData("pkg!=1.5", "pkg", "!=1.5", null)]
    [InlineData("setuptools", "setuptools", null, null)]
    [InlineData("Paddle_Paddle-GPU==2.6.1  # pinned", "Paddle_Paddle-GPU", "==2.6.1", "2.6.1")]
    [InlineData("pkg (==1.0)", "pkg", "==1.0", "1.0")]
    public void Splits_a_pip_requirement_into_package_specifier_and_pinned_version(string line, string package, string? specifier, string? version)
    {
        var r = Requirements.ParseLine(line).ShouldNotBeNull();
        r.Package.ShouldBe(package);
        r.Specifier.ShouldBe(specifier);
        r.Version.ShouldBe(version);
    }

    [Fact]
    public void Keeps_extras_markers_and_urls()
    {
        var r = Requirements.ParseLine("scikit-learn[alldeps, tests]==1.5.2 ; python_version >= \"3.9\"").ShouldNotBeNull();
        r.Extras.ShouldBe(["alldeps", "tests"]);
        r.Markers.ShouldBe("python_version >= \"3.9\"");
        r.Version.ShouldBe("1.5.2");

        var url = Requirements.ParseLine("mypkg @ https://files.example.org/mypkg-1.0.tar.gz").ShouldNotBeNull();
        url.Package.ShouldBe("mypkg");
        url.Url.ShouldBe("https://files.example.org/mypkg-1.0.tar.gz");
        url.Specifier.ShouldBeNull();
    }

    [Theory]
    [InlineData("-r requirements.txt")]
    [InlineData("--index-url https://pypi.example.org/simple")]
    [InlineData("-e .")]
    [InlineData("./dist/pkg-1.0-py3-none-any.whl")]
    [InlineData("# a comment")]
    [InlineData("")]
    public void Options_paths_and_comments_are_no_requirement(string line)
    {
        Requirements.ParseLine(line).ShouldBeNull();
    }

    [Fact]
    public void Reads_a_requirements_file_with_comments_continuations_and_options()
    {
        var (packages, other) = Requirements.ParseFile("""
            # generated
            mlflow==2.17.0
            numpy>=1.24,\
            <2

            -r extra.txt
            paddlepaddle==2.6.1 # the framework
            """);

        packages.Select(p => $"{p.Package}|{p.Specifier}|{p.Version}").ShouldBe(
            ["mlflow|==2.17.0|2.17.0", "numpy|>=1.24,<2|", "paddlepaddle|==2.6.1|2.6.1"]);
        other.ShouldBe(["-r extra.txt"]);
    }

    [Theory]
    [InlineData("python=3.11.2", "python", "=3.11.2", "3.11.2")]
    [InlineData("python==3.11.2", "python", "==3.11.2", "3.11.2")]
    [InlineData("python=3.11", "python", "=3.11", "3.11")]
    [InlineData("python=3.11.*", "python", "=3.11.*", null)]
    [InlineData("python=3.11.2=h2755cc3_0_cpython", "python", "=3.11.2=h2755cc3_0_cpython", "3.11.2")]
    [InlineData("pip<=23.0.1", "pip", "<=23.0.1", null)]
    [InlineData("python>=3.9,<3.12", "python", ">=3.9,<3.12", null)]
    [InlineData("conda-forge::numpy 1.26.4 py311h64a7726_0", "numpy", "1.26.4", "1.26.4")]
    [InlineData("numpy 1.26.*", "numpy", "1.26.*", null)]
    [InlineData("paddlepaddle", "paddlepaddle", null, null)]
    public void Splits_a_conda_match_spec(string spec, string package, string? specifier, string? version)
    {
        var r = Requirements.ParseConda(spec).ShouldNotBeNull();
        r.Package.ShouldBe(package);
        r.Specifier.ShouldBe(specifier);
        r.Version.ShouldBe(version);
    }

    [Fact]
    public void Normalizes_names_as_pip_compares_them()
    {
        Requirements.Normalize("Paddle_Paddle..GPU").ShouldBe("paddle-paddle-gpu");
    }

    [Fact]
    public void A_long_hostile_line_is_read_in_linear_time()
    {
        var line = "a" + string.Concat(Enumerable.Repeat("==1 ,", 20_000)) + "!";
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Requirements.ParseLine(line);
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));
    }
}
