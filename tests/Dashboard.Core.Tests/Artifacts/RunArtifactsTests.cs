using System.Text;
using Dashboard.Artifacts;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Errors;
using Dashboard.Tracking;

namespace Dashboard.Core.Tests.Artifacts;

public sealed class RunArtifactsTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateDirectory(Path.Join(Path.GetTempPath(), $"run-artifacts-{Guid.NewGuid():N}")).FullName;
    private TestDatabase? _db;
    private LocalArtifactStore? _store;
    private RunArtifacts? _artifacts;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private Run? _run;

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        _store = new LocalArtifactStore(Path.Join(_root, "store"));
        _artifacts = new RunArtifacts(_db.Factory, _store);
        _run = await new RunService(_db.Factory, TimeProvider.System).CreateRunAsync("0", "me", "r", 1, null, TestContext.Current.CancellationToken);
        // A file beside the store's root that no path may reach.
        await File.WriteAllTextAsync(Path.Join(_root, "secret.txt"), "secret", TestContext.Current.CancellationToken);
    }

    private Task WriteAsync(string path, string text) => WriteAsync(path, Encoding.UTF8.GetBytes(text));

    private async Task WriteAsync(string path, byte[] bytes)
    {
        var root = ArtifactLocations.StorePath(_run!.ArtifactUri)!.Value;
        await _store!.WriteAsync(root.Append(ArtifactPath.Parse(path, "path")), new MemoryStream(bytes), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Lists_folders_first_and_previews_text_json_csv_and_images_by_kind()
    {
        await WriteAsync("notes.txt", "<script>alert(1)</script>");
        await WriteAsync("data/metrics.json", "{\"a\":[1,2],\"b\":\"ü\"}");
        await WriteAsync("data/table.csv", "name,comment\r\nx,\"a, \"\"quoted\"\"\nline\"\ny,2\n");
        await WriteAsync("plot.png", [0x89, 0x50, 0x4E, 0x47]);
        await WriteAsync("model/MLmodel", "flavors: {}\n");
        await WriteAsync("page.svg", "<svg onload=\"alert(1)\"/>");

        var entries = await _artifacts!.ListAsync(_run!.Id, "", Ct);
        entries.Select(e => e.Name).ShouldBe(["data", "model", "notes.txt", "page.svg", "plot.png"]);
        (await _artifacts.ListAsync(_run.Id, "data/", Ct)).Select(e => e.Name).ShouldBe(["metrics.json", "table.csv"]);

        (await _artifacts.PreviewAsync(_run.Id, "notes.txt", Ct)).ShouldSatisfyAllConditions(
            p => p.Kind.ShouldBe(PreviewKind.Text), p => p.Text.ShouldBe("<script>alert(1)</script>"));
        (await _artifacts.PreviewAsync(_run.Id, "data/metrics.json", Ct)).Text.ShouldBe("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": \"ü\"\n}");
        var csv = await _artifacts.PreviewAsync(_run.Id, "data/table.csv", Ct);
        csv.Kind.ShouldBe(PreviewKind.Csv);
        csv.Rows.ShouldBe([["name", "comment"], ["x", "a, \"quoted\"\nline"], ["y", "2"]]);
        (await _artifacts.PreviewAsync(_run.Id, "plot.png", Ct)).ShouldSatisfyAllConditions(p => p.Kind.ShouldBe(PreviewKind.Image), p => p.Text.ShouldBeNull());
        (await _artifacts.PreviewAsync(_run.Id, "model/MLmodel", Ct)).Kind.ShouldBe(PreviewKind.Model);
        // An SVG is text: its source is shown, never rendered.
        (await _artifacts.PreviewAsync(_run.Id, "page.svg", Ct)).Kind.ShouldBe(PreviewKind.Text);
    }

    [Fact]
    public async Task Previews_at_most_a_megabyte_of_text_and_the_first_rows_of_a_csv_file()
    {
        var big = new string('a', RunArtifacts.MaxPreviewBytes - 1) + "é and more";
        await WriteAsync("big.log", big);
        var text = await _artifacts!.PreviewAsync(_run!.Id, "big.log", Ct);
        text.Truncated.ShouldBeTrue();
        // The cut fell inside "é": the half character is dropped, not shown as garbage.
        text.Text!.Length.ShouldBe(RunArtifacts.MaxPreviewBytes - 1);

        await WriteAsync("rows.csv", "i\n" + string.Join("\n", Enumerable.Range(0, 10_000)));
        var rows = (await _artifacts.PreviewAsync(_run.Id, "rows.csv", Ct)).Rows!;
        rows.Count.ShouldBe(RunArtifacts.MaxCsvRows);

        await WriteAsync("binary.txt", [0xFF, 0xFE, 0x00, 0x01]);
        (await _artifacts.PreviewAsync(_run.Id, "binary.txt", Ct)).Kind.ShouldBe(PreviewKind.Binary);
    }

    [Theory]
    [InlineData("../secret.txt")]
    [InlineData("..%2Fsecret.txt")]
    [InlineData("%252e%252e/secret.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../../secret.txt")]
    [InlineData("C:\\secret.txt")]
    [InlineData("a\\..\\secret.txt")]
    public async Task Refuses_every_path_that_could_leave_the_run(string path)
    {
        var e = await Should.ThrowAsync<MlflowException>(() => _artifacts!.PreviewAsync(_run!.Id, path, Ct));
        e.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
        e.Message.ShouldNotContain(_root);
        (await Should.ThrowAsync<MlflowException>(() => _artifacts!.ListAsync(_run!.Id, path, Ct))).ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE);
    }

    [Fact]
    public async Task A_missing_file_or_run_is_not_found()
    {
        (await Should.ThrowAsync<MlflowException>(() => _artifacts!.PreviewAsync(_run!.Id, "nope.txt", Ct))).ErrorCode.ShouldBe(ErrorCode.RESOURCE_DOES_NOT_EXIST);
        (await Should.ThrowAsync<MlflowException>(() => _artifacts!.ListAsync("nope", "", Ct))).ErrorCode.ShouldBe(ErrorCode.RESOURCE_DOES_NOT_EXIST);
    }

    [Fact]
    public void Csv_rows_follow_RFC_4180_and_drop_a_record_cut_by_the_preview()
    {
        RunArtifacts.CsvRows("a,b\r\n1,2").ShouldBe([["a", "b"], ["1", "2"]]);
        RunArtifacts.CsvRows("a,b\n1,\"2\n3", truncated: true).ShouldBe([["a", "b"]]);
        RunArtifacts.CsvRows("a\tb\n1\t2\n", '\t').ShouldBe([["a", "b"], ["1", "2"]]);
    }

    public async ValueTask DisposeAsync()
    {
        if (_db is not null)
        {
            await _db.DisposeAsync();
        }
        Directory.Delete(_root, recursive: true);
    }
}
