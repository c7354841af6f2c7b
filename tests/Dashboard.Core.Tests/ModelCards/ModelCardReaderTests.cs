using System.Text;
using Dashboard.Artifacts;
using Dashboard.ModelCards;
using static Dashboard.Core.Tests.ModelCards.ModelFixtures;

namespace Dashboard.Core.Tests.ModelCards;

public class ModelCardReaderTests
{
    private const string Folder = "1/0123456789abcdef0123456789abcdef/artifacts/model";

    private readonly MemoryArtifactStore _store = new();

    private Task<ModelCard?> ReadAsync(string folder = Folder) =>
        new ModelCardReader(_store).ReadAsync(ArtifactPath.Parse(folder, "folder"), new ModelCardOrigin($"mlflow-artifacts:/{folder}"),
            TestContext.Current.CancellationToken);

    private async Task<ModelCard> ReadFixtureAsync(string fixture, Action<Dictionary<string, byte[]>>? change = null)
    {
        var files = Files(fixture);
        change?.Invoke(files);
        _store.PutAll(Folder, files);
        return (await ReadAsync()).ShouldNotBeNull();
    }

    [Fact]
    public async Task The_card_of_the_recorded_mlflow_2_17_paddle_model_shows_its_paddle_and_python_versions()
    {
        var card = await ReadFixtureAsync(Paddle217);

        card.Problems.ShouldBeEmpty();
        card.ArtifactUri.ShouldBe($"mlflow-artifacts:/{Folder}");
        card.ArtifactPath.ShouldBe("model");
        card.RunId.ShouldBe("cb2792467a294b26bd8c61868cf5d191");
        card.ModelId.ShouldBeNull();
        card.ModelUuid.ShouldBe("512900d078be463583017cced21441a0");
        card.UtcTimeCreated.ShouldBe("2026-11-27 20:24:57.606235");
        card.MlflowVersion.ShouldBe("2.17.0");

        card.Versions.Paddle.ShouldBe(new DerivedVersion("2.6.1", "MLmodel flavors.paddle.paddle_version"));
        card.Versions.Python.ShouldBe(new DerivedVersion("3.11.2", "MLmodel flavors.python_function.python_version"));
        card.Versions.Mlflow.ShouldBe(new DerivedVersion("2.17.0", "MLmodel mlflow_version"));

        card.Flavors!.Keys.ShouldBe(["paddle", "python_function"]);
        card.Flavors["paddle"]!.ToJsonString().ShouldBe("""{"code":null,"paddle_version":"2.6.1","pickled_model":"model"}""");
        card.Flavors["python_function"]!.ToJsonString().ShouldBe(
            """{"env":{"conda":"conda.yaml","virtualenv":"python_env.yaml"},"loader_module":"mlflow.paddle","model_path":"model","python_version":"3.11.2"}""");
        card.Paddle.ShouldBe(new PaddleFlavor("2.6.1", "model", null));
        card.PythonFunction!.LoaderModule.ShouldBe("mlflow.paddle");
        card.PythonFunction.PythonVersion.ShouldBe("3.11.2");
        card.PythonFunction.Env.ShouldBe(new Dictionary<string, string> { ["conda"] = "conda.yaml", ["virtualenv"] = "python_env.yaml" });

        var input = card.Signature!.Inputs.ShouldNotBeNull().ShouldHaveSingleItem();
        (input.Kind, input.Type).ShouldBe(("tensor", "float32"));
        input.Shape.ShouldBe([-1L, 4L]);
        card.Signature.Outputs.ShouldNotBeNull().ShouldHaveSingleItem().Shape.ShouldBe([-1L]);
        card.Signature.Params.ShouldBeNull();
        card.InputExample.ShouldBeNull();

        card.Requirements!.Text.ShouldBe("mlflow==2.17.0\npaddlepaddle==2.6.1");
        card.Requirements.Packages.Select(p => $"{p.Package}{p.Specifier}").ShouldBe(["mlflow==2.17.0", "paddlepaddle==2.6.1"]);
        card.Conda!.Name.ShouldBe("mlflow-env");
        card.Conda.Channels.ShouldBe(["conda-forge"]);
        card.Conda.Dependencies.Select(d => $"{d.Package}{d.Specifier}").ShouldBe(["python=3.11.2", "pip<=23.0.1"]);
        card.Conda.PipDependencies.Select(d => d.Version).ShouldBe(["2.17.0", "2.6.1"]);
        card.PythonEnv!.Python.ShouldBe("3.11.2");
        card.PythonEnv.BuildDependencies.Select(d => $"{d.Package}{d.Specifier}").ShouldBe(["pip==23.0.1", "setuptools==66.1.1", "wheel==0.38.4"]);
        card.PythonEnv.Dependencies.ShouldBeEmpty();
        card.PythonEnv.Other.ShouldBe(["-r requirements.txt"]);

        // The recorded listing of the model folder: 630 + 135 + 59 + 35 + 99 + 122 + 34 bytes in 7 files.
        card.Size.ShouldBe(new ModelSize(1114, 7, Complete: true));
    }

    [Fact]
    public async Task The_card_of_the_recorded_mlflow_3_9_logged_model_names_its_model_id()
    {
        var card = await ReadFixtureAsync(Paddle39);

        card.Problems.ShouldBeEmpty();
        card.ModelId.ShouldBe("m-2c0d51e31fcc4e35869cfe99019cd3c4");
        card.ModelUuid.ShouldBe("m-2c0d51e31fcc4e35869cfe99019cd3c4");
        card.ArtifactPath.ShouldBe("mlflow-artifacts:/1/models/m-2c0d51e31fcc4e35869cfe99019cd3c4/artifacts");
        card.RunId.ShouldBe("85da055535464083ae3a3c0fe3810007");
        card.MlflowVersion.ShouldBe("3.9.0rc0");
        card.Versions.Paddle!.Value.ShouldBe("2.6.1");
        card.Versions.Python!.Value.ShouldBe("3.11.2");
        card.Requirements!.Packages[0].Version.ShouldBe("3.9.0rc0");
        card.Signature!.Inputs!.Single().Shape.ShouldBe([-1L, 4L]);
        card.Size.ShouldBe(new ModelSize(824 + 137 + 59 + 35 + 99 + 122 + 36, 7, Complete: true));
    }

    [Fact]
    public async Task Never_opens_the_models_own_files()
    {
        await ReadFixtureAsync(Paddle217);

        _store.Opened.Select(p => p[(Folder.Length + 1)..]).Order(StringComparer.Ordinal)
            .ShouldBe(["MLmodel", "conda.yaml", "python_env.yaml", "requirements.txt"]);
    }

    [Fact]
    public async Task A_column_signature_with_params_and_an_input_example()
    {
        var card = await ReadFixtureAsync(ColumnsWithExample);

        card.Problems.ShouldBeEmpty();
        card.Signature!.Inputs!.Select(f => $"{f.Name}:{f.Type}:{f.Optional}").ShouldBe(
            ["sepal length (cm):double:False", "sepal width (cm):double:False", "note:string:True", "tags:array<string>:False"]);
        card.Signature.Outputs!.Single().Type.ShouldBe("long");
        card.Signature.Params!.Select(p => $"{p.Name}:{p.Type}:{p.Default!.ToJsonString()}").ShouldBe(["threshold:double:0.5", "classes:long:[0,1]"]);

        var example = card.InputExample.ShouldNotBeNull();
        example.Type.ShouldBe("dataframe");
        example.Info["pandas_orient"]!.GetValue<string>().ShouldBe("split");
        example.Example!.Path.ShouldBe("input_example.json");
        example.Example.Content.ShouldBe(Text(ColumnsWithExample, "input_example.json"));
        example.ServingExample!.Path.ShouldBe("serving_input_example.json");
        example.ServingExample.SizeBytes.ShouldBe(Files(ColumnsWithExample)["serving_input_example.json"].Length);
        example.ServingExample.Content.ShouldNotBeNull().ShouldContain("dataframe_split");

        card.Paddle.ShouldBeNull();
        card.Flavors!["sklearn"]!["sklearn_version"]!.GetValue<string>().ShouldBe("1.5.2");
        card.Versions.Paddle.ShouldBeNull();
        card.Versions.Python.ShouldBe(new DerivedVersion("3.10.12", "MLmodel flavors.python_function.python_version"));

        card.Requirements!.Packages.Select(p => $"{p.Package}|{p.Specifier}|{p.Version}|{p.Url}").ShouldBe([
            "mlflow|==2.17.0|2.17.0|", "cloudpickle|==3.1.0|3.1.0|", "numpy|>=1.24,<2||", "scikit-learn|==1.5.2|1.5.2|",
            "mypkg|||https://files.example.org/mypkg-1.0.tar.gz"]);
        card.Requirements.Other.ShouldBe(["-r extra-requirements.txt", "--index-url https://pypi.example.org/simple"]);
        card.PythonEnv!.BuildDependencies.Select(d => $"{d.Package}|{d.Specifier}").ShouldBe(["pip|==24.2", "setuptools|", "wheel|==0.44.0"]);
    }

    [Fact]
    public async Task A_model_without_a_signature_has_none_on_its_card()
    {
        var card = await ReadFixtureAsync(Paddle217, files => files["MLmodel"] = Encoding.UTF8.GetBytes(
            string.Join('\n', Text(Paddle217, "MLmodel").Split('\n').Where(l => !l.StartsWith("signature:", StringComparison.Ordinal) && !l.StartsWith("  inputs:", StringComparison.Ordinal)
                && !l.StartsWith("  outputs:", StringComparison.Ordinal) && !l.StartsWith("  params:", StringComparison.Ordinal)))));

        card.Problems.ShouldBeEmpty();
        card.Signature.ShouldBeNull();
        card.Versions.Paddle!.Value.ShouldBe("2.6.1");
    }

    [Fact]
    public async Task Without_a_paddle_flavor_the_versions_come_from_the_environment_files()
    {
        var card = await ReadFixtureAsync(Paddle217, files => files["MLmodel"] = Encoding.UTF8.GetBytes("artifact_path: model\nflavors: {}\n"));

        card.Versions.Paddle.ShouldBe(new DerivedVersion("2.6.1", "requirements.txt"));
        card.Versions.Python.ShouldBe(new DerivedVersion("3.11.2", "python_env.yaml"));
        card.Versions.Mlflow.ShouldBe(new DerivedVersion("2.17.0", "requirements.txt"));

        _store.Remove($"{Folder}/requirements.txt");
        _store.Remove($"{Folder}/python_env.yaml");
        var fromConda = (await ReadAsync())!;
        fromConda.Requirements.ShouldBeNull();
        fromConda.Versions.Paddle.ShouldBe(new DerivedVersion("2.6.1", "conda.yaml (pip)"));
        fromConda.Versions.Python.ShouldBe(new DerivedVersion("3.11.2", "conda.yaml"));
        fromConda.Problems.ShouldBeEmpty();
    }

    [Fact]
    public async Task No_MLmodel_file_is_no_card()
    {
        _store.Put($"{Folder}/requirements.txt", "x==1");
        (await ReadAsync()).ShouldBeNull();
    }

    [Fact]
    public async Task Malformed_MLmodel_gives_a_card_with_a_problem_note_and_the_environment()
    {
        var card = await ReadFixtureAsync(Paddle217, files => files["MLmodel"] = Encoding.UTF8.GetBytes("flavors:\n  paddle: [unclosed\n"));

        var problem = card.Problems.ShouldHaveSingleItem();
        problem.File.ShouldBe("MLmodel");
        problem.Message.ShouldStartWith("not valid YAML");
        card.Flavors.ShouldBeNull();
        card.Versions.Paddle.ShouldBe(new DerivedVersion("2.6.1", "requirements.txt"));
        card.Size!.Files.ShouldBe(7);
    }

    [Theory]
    [InlineData("- just\n- a list\n", "MLmodel", "not a YAML mapping")]
    [InlineData("flavors: [a, b]\n", "MLmodel", "'flavors' is not a mapping")]
    [InlineData("flavors: {}\nsignature:\n  inputs: '[{\"type\": '\n", "MLmodel", "signature.inputs: not valid JSON")]
    [InlineData("flavors: {}\nsignature: text\n", "MLmodel", "'signature' is not a mapping")]
    public async Task Each_malformed_part_of_MLmodel_is_noted(string mlmodel, string file, string message)
    {
        _store.Put($"{Folder}/MLmodel", mlmodel);

        var card = (await ReadAsync())!;

        var problem = card.Problems.ShouldHaveSingleItem();
        problem.File.ShouldBe(file);
        problem.Message.ShouldContain(message);
    }

    [Fact]
    public async Task Malformed_environment_files_are_noted_per_file()
    {
        var card = await ReadFixtureAsync(Paddle217, files =>
        {
            files["conda.yaml"] = Encoding.UTF8.GetBytes("dependencies: [python=3.11\n");
            files["python_env.yaml"] = Encoding.UTF8.GetBytes("just text\n");
            files["requirements.txt"] = [0xff, 0xfe, 0x00, 0x41];
        });

        card.Problems.Select(p => p.File).ShouldBe(["requirements.txt", "conda.yaml", "python_env.yaml"]);
        card.Problems[0].Message.ShouldBe("not UTF-8 text.");
        card.Problems[1].Message.ShouldStartWith("not valid YAML");
        card.Problems[2].Message.ShouldContain("not a YAML mapping");
        card.Conda.ShouldBeNull();
        card.PythonEnv.ShouldBeNull();
        card.Requirements.ShouldBeNull();
        card.Versions.Paddle!.Value.ShouldBe("2.6.1");
    }

    [Fact]
    public async Task Refuses_to_read_an_MLmodel_over_the_limit()
    {
        var huge = "flavors: {}\n# " + new string('x', (int)ModelCardReader.MaxMlmodelBytes) + "\n";
        _store.Put($"{Folder}/MLmodel", huge);

        var card = (await ReadAsync())!;

        var problem = card.Problems.ShouldHaveSingleItem();
        problem.File.ShouldBe("MLmodel");
        problem.Message.ShouldBe($"{huge.Length} bytes; files over {ModelCardReader.MaxMlmodelBytes} bytes are not read.");
        _store.Opened.ShouldBe([$"{Folder}/MLmodel"]);
    }

    [Fact]
    public async Task Reads_no_more_than_the_limit_when_a_store_under_reports_a_length()
    {
        _store.Put($"{Folder}/MLmodel", "flavors: {}\n# " + new string('x', 2 * (int)ModelCardReader.MaxMlmodelBytes));
        _store.ReportedLength = 10;

        var card = (await ReadAsync())!;

        card.Problems.ShouldHaveSingleItem().Message.ShouldBe($"over {ModelCardReader.MaxMlmodelBytes} bytes; files over {ModelCardReader.MaxMlmodelBytes} bytes are not read.");
    }

    [Fact]
    public async Task Refuses_an_environment_file_over_its_limit()
    {
        var card = await ReadFixtureAsync(Paddle217, files =>
            files["requirements.txt"] = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("pkg==1.0\n", 40_000))));

        card.Problems.ShouldHaveSingleItem().File.ShouldBe("requirements.txt");
        card.Requirements.ShouldBeNull();
    }

    [Fact]
    public async Task A_yaml_bomb_in_conda_yaml_is_refused_and_the_rest_of_the_card_stays()
    {
        var bomb = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var i = 1; i < 12; i++)
        {
            bomb.Append(System.Globalization.CultureInfo.InvariantCulture, $"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n");
        }
        bomb.Append("dependencies: *a11\n");

        var card = await ReadFixtureAsync(Paddle217, files => files["conda.yaml"] = Encoding.UTF8.GetBytes(bomb.ToString()));

        card.Problems.ShouldHaveSingleItem().ShouldSatisfyAllConditions(
            p => p.File.ShouldBe("conda.yaml"), p => p.Message.ShouldContain("aliases are expanded"));
        card.Versions.Paddle!.Value.ShouldBe("2.6.1");
    }

    [Theory]
    [InlineData("../../../other/artifacts/secret.yaml")]
    [InlineData("/etc/passwd")]
    [InlineData("%2e%2e/%2e%2e/secret.yaml")]
    [InlineData("file:/etc/passwd")]
    public async Task Paths_that_MLmodel_names_stay_inside_the_models_folder(string path)
    {
        _store.Put("1/other/artifacts/secret.yaml", "python: 9.9.9\n");
        _store.Put($"{Folder}/MLmodel", $$"""
            flavors:
              python_function:
                env: {conda: 'x', virtualenv: '{{path}}'}
            saved_input_example_info: {artifact_path: '{{path}}', type: json_object}
            """);

        var card = (await ReadAsync())!;

        card.PythonEnv.ShouldBeNull();
        card.InputExample!.Example.ShouldBeNull();
        card.Problems.Select(p => p.File).ShouldBe(["MLmodel", "MLmodel"]);
        card.Problems[0].Message.ShouldStartWith("flavors.python_function.env.virtualenv is no path inside the model's folder");
        card.Problems[1].Message.ShouldStartWith("saved_input_example_info.artifact_path is no path inside the model's folder");
        _store.Opened.ShouldAllBe(p => p.StartsWith(Folder + "/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_input_example_too_large_to_show_is_listed_with_its_size_only()
    {
        var big = "[" + string.Join(",", Enumerable.Repeat("1.0", 30_000)) + "]";
        var card = await ReadFixtureAsync(ColumnsWithExample, files => files["input_example.json"] = Encoding.UTF8.GetBytes(big));

        card.Problems.ShouldBeEmpty();
        card.InputExample!.Example!.SizeBytes.ShouldBe(big.Length);
        card.InputExample.Example.Content.ShouldBeNull();
        card.InputExample.ServingExample!.Content.ShouldNotBeNull();
    }

    [Fact]
    public async Task An_input_example_that_is_not_text_is_listed_without_content()
    {
        var card = await ReadFixtureAsync(ColumnsWithExample, files => files["input_example.json"] = [0x89, 0x50, 0x4e, 0x47, 0xff]);

        card.Problems.ShouldBeEmpty();
        card.InputExample!.Example.ShouldBe(new ExampleFile("input_example.json", 5, null));
    }

    [Fact]
    public async Task The_size_counts_every_file_below_the_folder_and_nothing_beside_it()
    {
        _store.Put($"{Folder}/MLmodel", "flavors: {}\n");
        _store.Put($"{Folder}/data/weights.bin", new byte[1000]);
        _store.Put($"{Folder}/data/deeper/more/part-0", new byte[250]);
        _store.Put($"{Folder}/data/deeper/more/part-1", new byte[250]);
        _store.Put($"{Folder}/code/empty.py", []);
        _store.Put($"{Folder}-other/big.bin", new byte[5000]);
        _store.Put("1/0123456789abcdef0123456789abcdef/artifacts/beside.txt", new byte[77]);

        var size = await new ModelCardReader(_store).SizeAsync(ArtifactPath.Parse(Folder, "f"), TestContext.Current.CancellationToken);

        size.ShouldBe(new ModelSize(12 + 1000 + 250 + 250, 5, Complete: true));
    }

    [Fact]
    public async Task The_size_of_a_folder_with_more_entries_than_counted_is_a_lower_bound()
    {
        for (var i = 0; i <= ModelCardReader.MaxListedEntries; i++)
        {
            _store.Put($"{Folder}/shards/{i:D6}", [1, 2]);
        }

        var size = await new ModelCardReader(_store).SizeAsync(ArtifactPath.Parse(Folder, "f"), TestContext.Current.CancellationToken);

        size.Complete.ShouldBeFalse();
        size.Files.ShouldBe(ModelCardReader.MaxListedEntries - 1);
        size.Bytes.ShouldBe(2L * size.Files);
    }

    [Fact]
    public void The_history_tag_names_each_model_folder_once_in_the_order_last_logged()
    {
        var history = """
            [{"run_id": "r", "artifact_path": "model"}, {"artifact_path": "other"}, {"artifact_path": "model"},
             {"artifact_path": "../escape"}, {"artifact_path": 3}, "text", {"artifact_path": ""}]
            """;

        ModelCardService.HistoryPaths(history).Select(p => p.Value).ShouldBe(["other", "model"]);
        ModelCardService.HistoryPaths("not json").ShouldBeEmpty();
        ModelCardService.HistoryPaths("{}").ShouldBeEmpty();
        ModelCardService.HistoryPaths(null).ShouldBeEmpty();
    }
}
