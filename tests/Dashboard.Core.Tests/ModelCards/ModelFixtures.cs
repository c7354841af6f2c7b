namespace Dashboard.Core.Tests.ModelCards;

/// <summary>The model files under ModelCards/Fixtures (README.md there says where each comes from).</summary>
public static class ModelFixtures
{
    public const string Paddle217 = "mlflow-2.17.0-paddle";
    public const string Paddle39 = "mlflow-3.9.0rc0-paddle";
    public const string ColumnsWithExample = "columns-with-example";

    public static string Folder(string fixture) => Path.Join(AppContext.BaseDirectory, "ModelCards", "Fixtures", fixture);

    public static string Text(string fixture, string name) => File.ReadAllText(Path.Join(Folder(fixture), name));

    /// <summary>The files of a fixture, plus the recorded sessions' binary Paddle files at their sizes, for a model folder.</summary>
    public static Dictionary<string, byte[]> Files(string fixture)
    {
        var files = Directory.GetFiles(Folder(fixture))
            .Where(f => Path.GetFileName(f) is not ("model_json.json" or "README.md"))
            .ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        if (fixture is Paddle217 or Paddle39)
        {
            files["model.pdiparams"] = Bytes(59);
            files["model.pdiparams.info"] = Bytes(35);
        }
        return files;
    }

    /// <summary>The total size of <see cref="Files"/>: the recorded listings' sum for the Paddle fixtures.</summary>
    public static long Size(string fixture) => Files(fixture).Values.Sum(b => (long)b.Length);

    private static byte[] Bytes(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 37 % 256))];
}
