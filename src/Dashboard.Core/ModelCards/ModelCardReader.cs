using System.Text;
using System.Text.Json.Nodes;
using Dashboard.Artifacts;

namespace Dashboard.ModelCards;

/// <summary>What the caller knows of a model before its files are read (from the run's history tag or the logged model).</summary>
public sealed record ModelCardOrigin(string ArtifactUri, string? ArtifactPath = null, string? RunId = null, string? ModelId = null);

/// <summary>
/// Builds a <see cref="ModelCard"/> from the files in a model's folder of the artifact store. Only text files that
/// MLflow writes to describe a model are opened (MLmodel, requirements.txt, conda.yaml, python_env.yaml, the input
/// example), each under a size limit; the model's own files are only listed for their size. Paths that MLmodel names
/// go through <see cref="ArtifactPath"/> like any request path and stay inside the model's folder.
/// </summary>
public sealed class ModelCardReader(IArtifactStore store)
{
    public const string MlmodelFile = "MLmodel";
    public const string RequirementsFileName = "requirements.txt";
    public const string CondaFileName = "conda.yaml";
    public const string PythonEnvFileName = "python_env.yaml";

    /// <summary>The largest MLmodel file that is read (MLflow's are about 1 KB; a large signature reaches tens of KB).</summary>
    public const long MaxMlmodelBytes = 1024 * 1024;

    /// <summary>The largest requirements.txt, conda.yaml or python_env.yaml that is read.</summary>
    public const long MaxEnvironmentFileBytes = 256 * 1024;

    /// <summary>The largest input example whose content the card shows; a larger one is listed with its size.</summary>
    public const long MaxExampleBytes = 64 * 1024;

    /// <summary>How many files and folders under the model's folder are counted for its size.</summary>
    public const int MaxListedEntries = 10_000;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The card of the model in <paramref name="folder"/>; null when the folder has no MLmodel file.</summary>
    public async Task<ModelCard?> ReadAsync(ArtifactPath folder, ModelCardOrigin origin, CancellationToken ct)
    {
        var problems = new List<CardProblem>();
        var mlmodel = await ReadTextAsync(folder, MlmodelFile, MaxMlmodelBytes, problems, namedBy: null, noteContent: true, ct);
        if (mlmodel.Status == ReadStatus.Missing)
        {
            return null;
        }
        var model = ParseMlmodel(mlmodel.Text, problems);

        var envNames = model.PythonFunction?.Env;
        var requirements = await ReadEnvironmentFileAsync(folder, (RequirementsFileName, null), problems, ParseRequirements, ct);
        var conda = await ReadEnvironmentFileAsync(folder, EnvFile(envNames, "conda", CondaFileName), problems, ParseConda, ct);
        var pythonEnv = await ReadEnvironmentFileAsync(folder, EnvFile(envNames, "virtualenv", PythonEnvFileName), problems, ParsePythonEnv, ct);
        var example = model.ExampleInfo is null ? null : await ReadExampleAsync(folder, model.ExampleInfo, problems, ct);
        var size = await SizeAsync(folder, ct);

        return new ModelCard
        {
            ArtifactUri = origin.ArtifactUri,
            ArtifactPath = origin.ArtifactPath ?? model.Map?.Text("artifact_path"),
            RunId = origin.RunId ?? model.Map?.Text("run_id"),
            ModelId = origin.ModelId ?? model.Map?.Text("model_id"),
            ModelUuid = model.Map?.Text("model_uuid"),
            UtcTimeCreated = model.Map?.Text("utc_time_created"),
            MlflowVersion = model.Map?.Text("mlflow_version"),
            Flavors = model.Flavors,
            Paddle = model.Paddle,
            PythonFunction = model.PythonFunction,
            Signature = model.Signature,
            InputExample = example,
            Requirements = requirements,
            Conda = conda,
            PythonEnv = pythonEnv,
            Versions = Versions(model, requirements, conda, pythonEnv),
            Size = size,
            Problems = problems,
        };
    }

    /// <summary>The parts of MLmodel the card shows; whatever could not be read is null and noted in the problems.</summary>
    internal sealed record MlmodelContent(YamlMap? Map, IReadOnlyDictionary<string, JsonNode?>? Flavors, PaddleFlavor? Paddle,
        PythonFunctionFlavor? PythonFunction, ModelSignature? Signature, YamlMap? ExampleInfo);

    internal static MlmodelContent ParseMlmodel(string? text, List<CardProblem> problems)
    {
        var empty = new MlmodelContent(null, null, null, null, null, null);
        if (text is null)
        {
            return empty;
        }
        YamlNode? root;
        try
        {
            root = SafeYaml.Parse(text);
        }
        catch (YamlFileException e)
        {
            problems.Add(new CardProblem(MlmodelFile, e.Message));
            return empty;
        }
        if (root is not YamlMap map)
        {
            problems.Add(new CardProblem(MlmodelFile, "not a YAML mapping of the model's fields."));
            return empty;
        }

        Dictionary<string, JsonNode?>? flavors = null;
        PaddleFlavor? paddle = null;
        PythonFunctionFlavor? pyfunc = null;
        switch (map["flavors"])
        {
            case YamlMap f:
                flavors = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
                foreach (var (name, settings) in f.Entries)
                {
                    flavors[name] = SafeYaml.ToJson(settings);
                }
                if (f["paddle"] is YamlMap p)
                {
                    paddle = new PaddleFlavor(p.Text("paddle_version"), p.Text("pickled_model"), p.Text("code"));
                }
                if (f["python_function"] is YamlMap py)
                {
                    pyfunc = new PythonFunctionFlavor(py.Text("loader_module"), py.Text("python_version"), py.Text("model_path"),
                        py.Text("code"), py.Text("data"), Env(py["env"]));
                }
                break;
            case null:
            case YamlScalar { IsNull: true }:
                break;
            default:
                problems.Add(new CardProblem(MlmodelFile, "'flavors' is not a mapping of flavor names to their settings."));
                break;
        }

        var exampleInfo = map["saved_input_example_info"] as YamlMap;
        return new MlmodelContent(map, flavors, paddle, pyfunc, Signature(map["signature"], problems), exampleInfo);
    }

    /// <summary>
    /// The env files the python_function flavor names: a mapping (<c>conda</c>, <c>virtualenv</c>) since MLflow 2.0, or
    /// the conda file's name alone before it.
    /// </summary>
    private static Dictionary<string, string>? Env(YamlNode? env) => env switch
    {
        YamlMap m => m.Entries.Where(e => e.Value is YamlScalar { IsNull: false })
            .ToDictionary(e => e.Key, e => ((YamlScalar)e.Value).Text, StringComparer.Ordinal),
        YamlScalar { IsNull: false } s => new Dictionary<string, string>(StringComparer.Ordinal) { ["conda"] = s.Text },
        _ => null,
    };

    /// <summary>The name of an env file, and the MLmodel field that named it (null for MLflow's default name).</summary>
    private static (string Name, string? NamedBy) EnvFile(IReadOnlyDictionary<string, string>? env, string key, string fallback) =>
        env is not null && env.TryGetValue(key, out var name) && name.Length > 0
            ? (name, $"flavors.python_function.env.{key}")
            : (fallback, null);

    private static ModelSignature? Signature(YamlNode? node, List<CardProblem> problems)
    {
        if (node is null or YamlScalar { IsNull: true })
        {
            return null;
        }
        if (node is not YamlMap signature)
        {
            problems.Add(new CardProblem(MlmodelFile, "'signature' is not a mapping of inputs, outputs and params."));
            return null;
        }
        List<SignatureField>? Part(string key)
        {
            if (signature.Text(key) is not { } json)
            {
                return null;
            }
            try
            {
                return SignatureParser.Parse(json, isParams: key == "params");
            }
            catch (FormatException e)
            {
                problems.Add(new CardProblem(MlmodelFile, $"signature.{key}: {e.Message}"));
                return null;
            }
        }
        var inputs = Part("inputs");
        var outputs = Part("outputs");
        var @params = Part("params");
        return inputs is null && outputs is null && @params is null ? null : new ModelSignature(inputs, outputs, @params);
    }

    private async Task<InputExample> ReadExampleAsync(ArtifactPath folder, YamlMap info, List<CardProblem> problems, CancellationToken ct)
    {
        async Task<ExampleFile?> FileAsync(string key)
        {
            if (info.Text(key) is not { } name)
            {
                return null;
            }
            // An example too large to show, or not text, is no problem: the card lists it with its size.
            var read = await ReadTextAsync(folder, name, MaxExampleBytes, problems, $"saved_input_example_info.{key}", noteContent: false, ct);
            return read.Status switch
            {
                ReadStatus.Missing or ReadStatus.Refused => null,
                _ => new ExampleFile(name, read.Size, read.Text),
            };
        }
        return new InputExample(SafeYaml.ToJson(info), info.Text("type"), await FileAsync("artifact_path"), await FileAsync("serving_input_path"));
    }

    private async Task<T?> ReadEnvironmentFileAsync<T>(ArtifactPath folder, (string Name, string? NamedBy) file, List<CardProblem> problems,
        Func<string, string, List<CardProblem>, T?> parse, CancellationToken ct) where T : class
    {
        var read = await ReadTextAsync(folder, file.Name, MaxEnvironmentFileBytes, problems, file.NamedBy, noteContent: true, ct);
        return read.Text is null ? null : parse(file.Name, read.Text, problems);
    }

    internal static RequirementsFile ParseRequirements(string name, string text, List<CardProblem> problems)
    {
        _ = problems;
        var (packages, other) = Requirements.ParseFile(text);
        return new RequirementsFile(name, text, packages, other);
    }

    internal static CondaEnvironment? ParseConda(string name, string text, List<CardProblem> problems)
    {
        if (ParseYamlMap(name, text, problems, "a conda environment (name, channels, dependencies)") is not { } map)
        {
            return null;
        }
        var channels = Strings(map["channels"]);
        var dependencies = new List<Requirement>();
        var pip = new List<Requirement>();
        var pipOther = new List<string>();
        if (map["dependencies"] is YamlList deps)
        {
            foreach (var item in deps.Items)
            {
                switch (item)
                {
                    case YamlScalar { IsNull: false } s when Requirements.ParseConda(s.Text) is { } r:
                        dependencies.Add(r);
                        break;
                    case YamlMap m when m["pip"] is YamlList pipList:
                        foreach (var line in Strings(pipList))
                        {
                            if (Requirements.ParseLine(line) is { } requirement)
                            {
                                pip.Add(requirement);
                            }
                            else
                            {
                                pipOther.Add(line);
                            }
                        }
                        break;
                }
            }
        }
        return new CondaEnvironment(name, text, map.Text("name"), channels, dependencies, pip, pipOther);
    }

    internal static PythonEnvironment? ParsePythonEnv(string name, string text, List<CardProblem> problems)
    {
        if (ParseYamlMap(name, text, problems, "a python environment (python, build_dependencies, dependencies)") is not { } map)
        {
            return null;
        }
        var build = new List<Requirement>();
        var dependencies = new List<Requirement>();
        var other = new List<string>();
        foreach (var line in Strings(map["build_dependencies"]))
        {
            if (Requirements.ParseLine(line) is { } r)
            {
                build.Add(r);
            }
            else
            {
                other.Add(line);
            }
        }
        foreach (var line in Strings(map["dependencies"]))
        {
            if (Requirements.ParseLine(line) is { } r)
            {
                dependencies.Add(r);
            }
            else
            {
                other.Add(line);
            }
        }
        return new PythonEnvironment(name, text, map.Text("python"), build, dependencies, other);
    }

    private static YamlMap? ParseYamlMap(string name, string text, List<CardProblem> problems, string what)
    {
        try
        {
            if (SafeYaml.Parse(text) is YamlMap map)
            {
                return map;
            }
            problems.Add(new CardProblem(name, $"not a YAML mapping of {what}."));
        }
        catch (YamlFileException e)
        {
            problems.Add(new CardProblem(name, e.Message));
        }
        return null;
    }

    private static List<string> Strings(YamlNode? node) =>
        node is YamlList list ? [.. list.Items.OfType<YamlScalar>().Where(s => !s.IsNull).Select(s => s.Text)] : [];

    private static readonly string[] PaddlePackages = ["paddlepaddle", "paddlepaddle-gpu"];
    private static readonly string[] MlflowPackages = ["mlflow", "mlflow-skinny"];

    internal static ModelVersions Versions(MlmodelContent model, RequirementsFile? requirements, CondaEnvironment? conda,
        PythonEnvironment? pythonEnv)
    {
        static DerivedVersion? From(string? value, string source) => string.IsNullOrEmpty(value) ? null : new DerivedVersion(value, source);

        static DerivedVersion? Pin(IEnumerable<Requirement>? list, string[] packages, string source) =>
            list?.Where(r => packages.Contains(Requirements.Normalize(r.Package)) && r.Version is not null)
                .Select(r => new DerivedVersion(r.Version!, source)).FirstOrDefault();

        var condaFile = conda?.Path ?? CondaFileName;
        var python = From(model.PythonFunction?.PythonVersion, "MLmodel flavors.python_function.python_version")
            ?? From(pythonEnv?.Python, pythonEnv?.Path ?? PythonEnvFileName)
            ?? Pin(conda?.Dependencies, ["python"], condaFile);
        var paddle = From(model.Paddle?.PaddleVersion, "MLmodel flavors.paddle.paddle_version")
            ?? Pin(requirements?.Packages, PaddlePackages, RequirementsFileName)
            ?? Pin(conda?.PipDependencies, PaddlePackages, $"{condaFile} (pip)")
            ?? Pin(conda?.Dependencies, PaddlePackages, condaFile);
        var mlflow = From(model.Map?.Text("mlflow_version"), "MLmodel mlflow_version")
            ?? Pin(requirements?.Packages, MlflowPackages, RequirementsFileName)
            ?? Pin(conda?.PipDependencies, MlflowPackages, $"{condaFile} (pip)");
        return new ModelVersions(python, paddle, mlflow);
    }

    /// <summary>The sum of the file sizes under the folder, listing at most <see cref="MaxListedEntries"/> entries.</summary>
    public async Task<ModelSize> SizeAsync(ArtifactPath folder, CancellationToken ct)
    {
        long bytes = 0;
        var files = 0;
        var seen = 0;
        var pending = new Queue<ArtifactPath>();
        pending.Enqueue(folder);
        while (pending.TryDequeue(out var current))
        {
            foreach (var entry in await store.ListAsync(current, ct))
            {
                if (++seen > MaxListedEntries)
                {
                    return new ModelSize(bytes, files, Complete: false);
                }
                if (entry.IsDirectory)
                {
                    pending.Enqueue(current.Append(ArtifactPath.Parse(entry.Name, "name")));
                }
                else
                {
                    files++;
                    bytes += entry.Size ?? 0;
                }
            }
        }
        return new ModelSize(bytes, files, Complete: true);
    }

    private enum ReadStatus
    {
        Missing,
        /// <summary>The name is no path inside the model's folder.</summary>
        Refused,
        TooLarge,
        NotText,
        Ok,
    }

    private sealed record FileText(ReadStatus Status, long Size, string? Text);

    /// <summary>
    /// A text file of the model's folder, read whole when it is at most <paramref name="limit"/> bytes of UTF-8. A name
    /// that is no path inside the folder is noted in <paramref name="problems"/> against <paramref name="namedBy"/>
    /// (the MLmodel field that named it) and nothing is read; a larger file or one that is not text is noted when
    /// <paramref name="noteContent"/>, and its text left out.
    /// </summary>
    private async Task<FileText> ReadTextAsync(ArtifactPath folder, string name, long limit, List<CardProblem> problems,
        string? namedBy, bool noteContent, CancellationToken ct)
    {
        if (!ArtifactPath.TryParse(name, out var relative, out var why) || relative.IsRoot)
        {
            problems.Add(new CardProblem(namedBy is null ? name : MlmodelFile,
                $"{namedBy ?? "the file name"} is no path inside the model's folder: {why ?? "it is empty."}"));
            return new FileText(ReadStatus.Refused, 0, null);
        }
        var contentProblems = noteContent ? problems : null;
        await using var content = await store.OpenReadAsync(folder.Append(relative), ct);
        if (content is null)
        {
            return new FileText(ReadStatus.Missing, 0, null);
        }
        if (content.Length > limit)
        {
            contentProblems?.Add(new CardProblem(relative.Value, $"{content.Length} bytes; files over {limit} bytes are not read."));
            return new FileText(ReadStatus.TooLarge, content.Length, null);
        }
        // The length a store reports is trusted only so far: never more than the limit (and one byte) is read.
        using var buffer = new MemoryStream((int)Math.Min(limit, Math.Max(content.Length, 0)) + 1);
        var chunk = new byte[16 * 1024];
        int n;
        while (buffer.Length <= limit
            && (n = await content.Stream.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, limit + 1 - buffer.Length)), ct)) > 0)
        {
            buffer.Write(chunk, 0, n);
        }
        var read = (int)buffer.Length;
        if (read > limit)
        {
            contentProblems?.Add(new CardProblem(relative.Value, $"over {limit} bytes; files over {limit} bytes are not read."));
            return new FileText(ReadStatus.TooLarge, Math.Max(content.Length, read), null);
        }
        var span = buffer.GetBuffer().AsSpan(0, read);
        if (span.StartsWith("\uFEFF"u8))
        {
            span = span[3..];
        }
        try
        {
            return new FileText(ReadStatus.Ok, read, StrictUtf8.GetString(span));
        }
        catch (DecoderFallbackException)
        {
            contentProblems?.Add(new CardProblem(relative.Value, "not UTF-8 text."));
            return new FileText(ReadStatus.NotText, read, null);
        }
    }
}
