namespace Dashboard.Artifacts;

/// <summary>
/// A path inside the artifact store, relative to its root, in '/'-separated normalized segments. The only way to
/// make one is <see cref="Parse"/>, which refuses everything that could leave the root or mean something else to
/// a file system or a URL (see docs/adr and the path-safety tests). <see cref="Root"/> is the store's root itself.
/// </summary>
public readonly record struct ArtifactPath
{
    private ArtifactPath(string value) => Value = value;

    /// <summary>The normalized relative path; "" for the root.</summary>
    public string Value { get; }

    public static ArtifactPath Root => new("");

    public bool IsRoot => Value.Length == 0;

    public IEnumerable<string> Segments => IsRoot ? [] : Value.Split('/');

    /// <summary>
    /// Validates a path taken from a request (URL path, query string or JSON), decoding percent-encoding
    /// repeatedly first. Throws MlflowException INVALID_PARAMETER_VALUE naming <paramref name="parameter"/>.
    /// </summary>
    public static ArtifactPath Parse(string? raw, string parameter) => throw new NotImplementedException(
        "Implemented by the artifacts work (issue 3).");

    /// <summary>This path followed by a child path (already valid, as both sides are).</summary>
    public ArtifactPath Append(ArtifactPath child) =>
        IsRoot ? child : child.IsRoot ? this : new ArtifactPath($"{Value}/{child.Value}");

    public override string ToString() => Value;
}
