namespace Dashboard.Api.Mlflow;

/// <summary>
/// The Content-Type of a downloaded artifact, as MLflow's server chooses it (mlflow/utils/mime_type_utils.py:
/// text/plain for text files and MLmodel, the platform's type for the rest, octet-stream when unknown), except
/// that nothing a browser would run or render as a page gets its own type: HTML, SVG and XML-based documents are
/// sent as text/plain (MLflow sends text/html and image/svg+xml), so an artifact cannot script this origin.
/// </summary>
public static class ArtifactContentTypes
{
    public const string Text = "text/plain";

    public const string Binary = "application/octet-stream";

    // MLflow's get_text_extensions(), and the names of MLmodel and MLproject files.
    private static readonly HashSet<string> TextExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        "txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon", "toml", "yaml", "yml",
        "xml", "json", "js", "py", "py3", "csv", "tsv", "md", "rst", "MLmodel", "MLproject",
        // Pages and scriptable images: their text, never their rendering.
        "html", "htm", "xhtml", "xht", "shtml", "mht", "mhtml", "svg", "svgz", "hta", "xsl", "xslt",
    };

    // Types a browser shows without running anything, and the ones the recorded MLflow server sent.
    private static readonly Dictionary<string, string> KnownTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["png"] = "image/png",
        ["jpg"] = "image/jpeg",
        ["jpeg"] = "image/jpeg",
        ["gif"] = "image/gif",
        ["bmp"] = "image/bmp",
        ["webp"] = "image/webp",
        ["tif"] = "image/tiff",
        ["tiff"] = "image/tiff",
        ["info"] = "application/x-info",
        ["zip"] = "application/zip",
        ["tar"] = "application/x-tar",
        ["pdf"] = "application/pdf",
    };

    /// <summary>The type for a file named <paramref name="name"/> (its last path segment).</summary>
    public static string For(string name)
    {
        var dot = name.LastIndexOf('.');
        // As Python's os.path.splitext: a leading dot is not an extension, and a name without one is its own.
        var extension = dot > 0 ? name[(dot + 1)..] : name;
        if (TextExtensions.Contains(extension))
        {
            return Text;
        }
        return KnownTypes.GetValueOrDefault(extension, Binary);
    }
}
