using System.Text.Json.Nodes;

namespace Dashboard.ModelCards;

/// <summary>
/// What the server can tell about a logged model from the files it stores: the MLmodel file (flavors, signature,
/// input example), the environment snapshot (requirements.txt, conda.yaml, python_env.yaml) and the folder's size.
/// Read, never executed: no model file is opened. A file that is missing is absent here; a file that could not be
/// read leaves a <see cref="CardProblem"/> and the rest of the card (docs/adr/0008-model-cards.md).
/// </summary>
public sealed record ModelCard
{
    /// <summary>The model's folder as a proxy URI: <c>mlflow-artifacts:/1/&lt;run&gt;/artifacts/model</c>.</summary>
    public required string ArtifactUri { get; init; }

    /// <summary>
    /// The model's path as MLflow names it: relative to the run's artifacts for an MLflow 2 model (<c>model</c>);
    /// for an MLflow 3 logged model, what its MLmodel says (the model's artifact URI).
    /// </summary>
    public string? ArtifactPath { get; init; }

    public string? RunId { get; init; }

    /// <summary>The MLflow 3 logged model (<c>m-...</c>); absent for an MLflow 2 model.</summary>
    public string? ModelId { get; init; }

    public string? ModelUuid { get; init; }

    /// <summary>As MLmodel writes it (<c>2026-11-27 20:24:57.606235</c>, UTC).</summary>
    public string? UtcTimeCreated { get; init; }

    /// <summary>The MLflow version that wrote the MLmodel file.</summary>
    public string? MlflowVersion { get; init; }

    /// <summary>Every flavor with all its settings as MLmodel has them (name → settings), in file order.</summary>
    public IReadOnlyDictionary<string, JsonNode?>? Flavors { get; init; }

    /// <summary>The <c>paddle</c> flavor's settings, typed.</summary>
    public PaddleFlavor? Paddle { get; init; }

    /// <summary>The <c>python_function</c> flavor's settings, typed.</summary>
    public PythonFunctionFlavor? PythonFunction { get; init; }

    public ModelSignature? Signature { get; init; }

    public InputExample? InputExample { get; init; }

    public RequirementsFile? Requirements { get; init; }

    public CondaEnvironment? Conda { get; init; }

    public PythonEnvironment? PythonEnv { get; init; }

    /// <summary>The versions that matter at a glance, each with the file it came from.</summary>
    public required ModelVersions Versions { get; init; }

    /// <summary>The sum of the sizes of the files under the model's folder.</summary>
    public ModelSize? Size { get; init; }

    /// <summary>Files that are there but could not be read, and why. Empty for a healthy model.</summary>
    public required IReadOnlyList<CardProblem> Problems { get; init; }
}

/// <param name="PickledModel">The flavor's <c>pickled_model</c>: the file name prefix of the saved Paddle program.</param>
public sealed record PaddleFlavor(string? PaddleVersion, string? PickledModel, string? Code);

/// <param name="Env">The environment files the flavor names: <c>conda</c> and <c>virtualenv</c> (python_env.yaml).</param>
public sealed record PythonFunctionFlavor(string? LoaderModule, string? PythonVersion, string? ModelPath, string? Code, string? Data,
    IReadOnlyDictionary<string, string>? Env);

/// <summary>A model signature, parsed from the JSON strings MLmodel keeps for it.</summary>
public sealed record ModelSignature(IReadOnlyList<SignatureField>? Inputs, IReadOnlyList<SignatureField>? Outputs,
    IReadOnlyList<SignatureField>? Params);

/// <summary>
/// A column, tensor or parameter of a signature. <see cref="Kind"/> is <c>column</c>, <c>tensor</c> or <c>param</c>;
/// <see cref="Type"/> is the column type, the tensor's dtype or the parameter's type (nested types written out:
/// <c>array&lt;string&gt;</c>, <c>object{a: long, b?: string}</c>, <c>map&lt;string, double&gt;</c>); <see cref="Shape"/>
/// is a tensor's or a parameter's shape, -1 for a free dimension.
/// </summary>
public sealed record SignatureField(string Kind, string? Name, string Type, IReadOnlyList<long>? Shape, bool Optional, JsonNode? Default);

/// <summary>
/// The input example MLmodel describes (<c>saved_input_example_info</c>, all of it in <see cref="Info"/>) and the
/// example files themselves when they are small text.
/// </summary>
public sealed record InputExample(JsonObject Info, string? Type, ExampleFile? Example, ExampleFile? ServingExample);

/// <param name="Content">The file's text; absent when it is larger than the card shows, or not UTF-8 text.</param>
public sealed record ExampleFile(string Path, long SizeBytes, string? Content);

/// <summary>
/// One requirement line (PEP 508 as pip reads it, or a conda match spec). <see cref="Specifier"/> is the version
/// constraint as written (<c>==2.6.1</c>, <c>&gt;=1,&lt;2</c>, conda's <c>=3.11.2</c>); <see cref="Version"/> is the one
/// version it pins, when it pins exactly one (<c>==</c>, <c>===</c>, conda's <c>=</c> and <c>==</c> without a wildcard).
/// </summary>
public sealed record Requirement(string Package, string? Specifier, string? Version, IReadOnlyList<string>? Extras, string? Markers,
    string? Url);

/// <param name="Other">Lines that are no requirement of a package: options (<c>-r</c>, <c>--index-url</c>), paths.</param>
public sealed record RequirementsFile(string Path, string Text, IReadOnlyList<Requirement> Packages, IReadOnlyList<string> Other);

/// <param name="Dependencies">Conda packages; <paramref name="PipDependencies"/> the <c>pip:</c> list.</param>
public sealed record CondaEnvironment(string Path, string Text, string? Name, IReadOnlyList<string> Channels,
    IReadOnlyList<Requirement> Dependencies, IReadOnlyList<Requirement> PipDependencies, IReadOnlyList<string> PipOther);

/// <summary>python_env.yaml: the Python version, pip's build tools, and the dependencies (usually <c>-r requirements.txt</c>).</summary>
public sealed record PythonEnvironment(string Path, string Text, string? Python, IReadOnlyList<Requirement> BuildDependencies,
    IReadOnlyList<Requirement> Dependencies, IReadOnlyList<string> Other);

public sealed record ModelVersions(DerivedVersion? Python, DerivedVersion? Paddle, DerivedVersion? Mlflow);

/// <param name="Source">Where it was read: <c>MLmodel flavors.paddle.paddle_version</c>, <c>requirements.txt</c>, ...</param>
public sealed record DerivedVersion(string Value, string Source);

/// <param name="Complete">False when the folder had more entries than the server counts; the size is then a lower bound.</param>
public sealed record ModelSize(long Bytes, int Files, bool Complete);

/// <summary>A file of the model that is there but could not be read (too large, not text, malformed), and why.</summary>
public sealed record CardProblem(string File, string Message);
