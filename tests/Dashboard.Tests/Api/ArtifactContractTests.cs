using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Dashboard.Core.Tests.Support;
using Dashboard.Data;
using Dashboard.Tests.Support;
using static Dashboard.Tests.Support.Make;

namespace Dashboard.Tests.Api;

/// <summary>
/// The artifact proxy of mlflow_artifacts.proto and service.proto's listArtifacts, over real HTTP. Each test works
/// in a folder of its own (a new run's, or a random one) on the shared servers.
/// </summary>
public class ArtifactContractTests(SharedServers servers)
{
    public const string Artifacts = "/api/2.0/mlflow-artifacts/artifacts";

    public static TheoryData<DatabaseProvider> Providers => TestDatabase.Providers;

    /// <summary>
    /// Every database with the local store, and SQLite with the S3 store (the emulator): the artifact endpoints
    /// do not touch the database, so one database is enough to run them on the second store.
    /// </summary>
    public static TheoryData<DatabaseProvider, ArtifactBackend> Servers
    {
        get
        {
            var data = new TheoryData<DatabaseProvider, ArtifactBackend>();
            foreach (var (provider, artifacts) in ServerKinds)
            {
                data.Add(provider, artifacts);
            }
            return data;
        }
    }

    public static TheoryData<ArtifactBackend> Backends => [ArtifactBackend.Local, ArtifactBackend.S3];

    private static List<(DatabaseProvider Provider, ArtifactBackend Artifacts)> ServerKinds
    {
        get
        {
            var kinds = new List<(DatabaseProvider, ArtifactBackend)>();
            foreach (var provider in TestDatabase.Providers)
            {
                kinds.Add((provider, ArtifactBackend.Local));
            }
            kinds.Add((DatabaseProvider.Sqlite, ArtifactBackend.S3));
            return kinds;
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory, MemberData(nameof(Servers))]
    public async Task Uploads_and_downloads_a_file_byte_for_byte(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var dir = Folder();
        var bytes = new byte[300_000];
        new Random(3).NextBytes(bytes);

        var put = await PutAsync(server, $"{dir}/outputs/bin/weights.bin", bytes, "application/octet-stream");
        using var download = await server.Client.GetAsync($"{Artifacts}/{dir}/outputs/bin/weights.bin", Ct);

        put.ShouldBeOk().Text.ShouldBe("{}");
        download.StatusCode.ShouldBe(HttpStatusCode.OK);
        download.Content.Headers.ContentType!.MediaType.ShouldBe("application/octet-stream");
        download.Content.Headers.ContentLength.ShouldBe(300_000);
        download.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        download.Content.Headers.ContentDisposition.FileName.ShouldBe("weights.bin");
        download.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
        (await download.Content.ReadAsByteArrayAsync(Ct)).ShouldBe(bytes);
    }

    [Theory, MemberData(nameof(Servers))]
    public async Task Uploads_an_empty_file_sent_as_a_chunked_body(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var dir = Folder();
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{Artifacts}/{dir}/outputs/empty.txt")
        {
            Content = new StreamContent(new MemoryStream()),
        };
        request.Headers.TransferEncodingChunked = true;

        (await server.SendAsync(request)).ShouldBeOk();
        using var download = await server.Client.GetAsync($"{Artifacts}/{dir}/outputs/empty.txt", Ct);

        download.StatusCode.ShouldBe(HttpStatusCode.OK);
        download.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        download.Content.Headers.ContentLength.ShouldBe(0);
        (await ListAsync(server, $"{dir}/outputs")).Text.ShouldBe("""{"files":[{"path":"empty.txt","is_dir":false}]}""");
    }

    [Theory, MemberData(nameof(Servers))]
    public async Task Keeps_names_with_spaces_and_unicode(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var dir = Folder();
        var text = "space in name, unicode: éè中\n";

        (await PutAsync(server, $"{dir}/outputs/report%201.txt", Encoding.UTF8.GetBytes(text))).ShouldBeOk();
        (await PutAsync(server, $"{dir}/{Uri.EscapeDataString("éè中")}/{Uri.EscapeDataString("文件 1.txt")}", Encoding.UTF8.GetBytes(text))).ShouldBeOk();

        (await DownloadTextAsync(server, $"{dir}/outputs/report%201.txt")).ShouldBe(text);
        (await DownloadTextAsync(server, $"{dir}/%C3%A9%C3%A8%E4%B8%AD/%E6%96%87%E4%BB%B6%201.txt")).ShouldBe(text);
        (await ListAsync(server, $"{dir}/outputs")).Text.ShouldBe("""{"files":[{"path":"report 1.txt","is_dir":false,"file_size":32}]}""");
        (await ListAsync(server, $"{dir}/éè中")).Text.ShouldBe("""{"files":[{"path":"文件 1.txt","is_dir":false,"file_size":32}]}""");
    }

    [Theory, MemberData(nameof(Servers))]
    public async Task Lists_a_folder_as_mlflow_does_sorted_with_sizes_of_non_empty_files(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var dir = Folder();
        foreach (var (path, size) in new[] { ("model/MLmodel", 630), ("model/conda.yaml", 135), ("labels.txt", 20), ("outputs/empty.txt", 0), ("config/a.json", 2) })
        {
            (await PutAsync(server, $"{dir}/{path}", new byte[size])).ShouldBeOk();
        }

        var root = await ListAsync(server, dir);
        var model = await ListAsync(server, $"{dir}/model/");

        root.Text.ShouldBe("""{"files":[{"path":"config","is_dir":true},{"path":"labels.txt","is_dir":false,"file_size":20},{"path":"model","is_dir":true},{"path":"outputs","is_dir":true}]}""");
        root.Text.ShouldBe((await server.GetAsync($"{Artifacts}?path={dir}/")).Text);
        model.Text.ShouldBe("""{"files":[{"path":"MLmodel","is_dir":false,"file_size":630},{"path":"conda.yaml","is_dir":false,"file_size":135}]}""");
    }

    [Theory, MemberData(nameof(Servers))]
    public async Task Lists_a_missing_folder_or_a_file_as_an_empty_message(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var dir = Folder();
        (await PutAsync(server, $"{dir}/tables/epoch_metrics.json", "{}"u8.ToArray())).ShouldBeOk();

        (await ListAsync(server, $"{dir}/missing")).ShouldBeOk().Text.ShouldBe("{}");
        (await ListAsync(server, $"{dir}/tables/epoch_metrics.json")).ShouldBeOk().Text.ShouldBe("{}");
    }

    [Theory, MemberData(nameof(Servers))]
    public async Task Replaces_a_file_on_a_second_upload(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var dir = Folder();

        (await PutAsync(server, $"{dir}/notes/summary.txt", "first, longer"u8.ToArray())).ShouldBeOk();
        (await PutAsync(server, $"{dir}/notes/summary.txt", "second"u8.ToArray())).ShouldBeOk();

        (await DownloadTextAsync(server, $"{dir}/notes/summary.txt")).ShouldBe("second");
        (await ListAsync(server, $"{dir}/notes")).Text.ShouldBe("""{"files":[{"path":"summary.txt","is_dir":false,"file_size":6}]}""");
    }

    [Theory, MemberData(nameof(Servers))]
    public async Task Deletes_a_file_and_a_folder_and_answers_an_empty_message(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var dir = Folder();
        foreach (var path in new[] { "a/x.txt", "a/b/y.txt", "ab/z.txt", "keep.txt" })
        {
            (await PutAsync(server, $"{dir}/{path}", "1"u8.ToArray())).ShouldBeOk();
        }

        var file = await DeleteAsync(server, $"{dir}/keep.txt");
        var folder = await DeleteAsync(server, $"{dir}/a");
        var missing = await DeleteAsync(server, $"{dir}/never-there");

        file.ShouldBeOk().Text.ShouldBe("{}");
        folder.ShouldBeOk().Text.ShouldBe("{}");
        missing.ShouldBeOk().Text.ShouldBe("{}");
        (await server.GetAsync($"{Artifacts}/{dir}/keep.txt")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.GetAsync($"{Artifacts}/{dir}/a/b/y.txt")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await ListAsync(server, dir)).Text.ShouldBe("""{"files":[{"path":"ab","is_dir":true}]}""");
    }

    [Theory, MemberData(nameof(Servers))]
    public async Task Refuses_to_delete_the_artifact_root(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var dir = Folder();
        (await PutAsync(server, $"{dir}/kept.txt", "x"u8.ToArray())).ShouldBeOk();

        foreach (var root in new[] { "", ".", "%2e", "./", "%2E/", "%252e" })
        {
            var reply = await SendRawAsync(server, HttpMethod.Delete, $"{Artifacts}/{root}");
            reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        }

        (await DownloadTextAsync(server, $"{dir}/kept.txt")).ShouldBe("x");
    }

    [Theory, MemberData(nameof(Servers))]
    public async Task Answers_404_for_a_missing_file_or_a_folder_never_500(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var dir = Folder();
        (await PutAsync(server, $"{dir}/model/MLmodel", "x"u8.ToArray())).ShouldBeOk();

        foreach (var path in new[] { $"{dir}/model/missing.txt", $"{dir}/model", $"{dir}/model/", $"{dir}/model/MLmodel/below", $"{dir}/nothing/at/all" })
        {
            var reply = await server.GetAsync($"{Artifacts}/{path}");
            reply.ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
            reply.Json.ShouldHaveShape(Shapes.Error);
        }
        (await server.GetAsync($"{Artifacts}/{dir}/model/missing.txt")).Message.ShouldBe($"No artifact file at '{dir}/model/missing.txt'.");
    }

    public static TheoryData<DatabaseProvider, ArtifactBackend, string, string> ContentTypes
    {
        get
        {
            var data = new TheoryData<DatabaseProvider, ArtifactBackend, string, string>();
            foreach (var (provider, artifacts) in ServerKinds)
            {
                foreach (var (name, type) in new[]
                {
                    ("summary.txt", "text/plain"), ("train_config.json", "text/plain"), ("conda.yaml", "text/plain"),
                    ("loss_curve.csv", "text/plain"), ("readme.md", "text/plain"), ("MLmodel", "text/plain"),
                    ("model.pdmodel", "application/octet-stream"), ("weights.bin", "application/octet-stream"),
                    ("model.pdiparams", "application/octet-stream"), ("model.pdiparams.info", "application/x-info"),
                    ("noextension", "application/octet-stream"), ("plot.png", "image/png"), ("photo.JPG", "image/jpeg"),
                    // What a browser would run or render as a page of this origin is sent as its text.
                    ("report.html", "text/plain"), ("page.htm", "text/plain"), ("page.xhtml", "text/plain"),
                    ("icon.svg", "text/plain"), ("app.js", "text/plain"), ("data.xml", "text/plain"),
                })
                {
                    data.Add(provider, artifacts, name, type);
                }
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(ContentTypes))]
    public async Task Sends_mlflows_content_types_but_none_a_browser_would_run(DatabaseProvider provider, ArtifactBackend artifacts, string name, string type)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var dir = Folder();
        (await PutAsync(server, $"{dir}/{name}", "<script>alert(1)</script>"u8.ToArray())).ShouldBeOk();

        using var download = await server.Client.GetAsync($"{Artifacts}/{dir}/{name}", Ct);

        download.StatusCode.ShouldBe(HttpStatusCode.OK);
        download.Content.Headers.ContentType!.MediaType.ShouldBe(type);
        download.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
        download.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
    }

    [Theory, MemberData(nameof(Servers))]
    public async Task Answers_multipart_uploads_with_mlflows_not_implemented_so_clients_send_one_put(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var dir = Folder();

        foreach (var (action, body) in new[]
        {
            ("create", """{"path": "model.bin", "num_parts": 2}"""),
            ("complete", """{"path": "model.bin", "upload_id": "u", "parts": [{"part_number": 1, "etag": "e"}]}"""),
            ("abort", """{"path": "model.bin", "upload_id": "u"}"""),
        })
        {
            var reply = await server.PostAsync($"/api/2.0/mlflow-artifacts/mpu/{action}/{dir}/model.bin", body);
            reply.Status.ShouldBe(HttpStatusCode.NotImplemented, reply.Text);
            reply.ErrorCode.ShouldBe("NOT_IMPLEMENTED");
            reply.Message.ShouldBe("Multipart upload is not supported for the current artifact repository");
        }
        (await SendRawAsync(server, HttpMethod.Post, $"/api/2.0/mlflow-artifacts/mpu/create/{dir}/%2e%2e/%2e%2e/x.bin", new StringContent("{}")))
            .ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.PostAsync($"/api/2.0/mlflow-artifacts/mpu/create/{dir}/", "{}")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
    }

    [Theory, MemberData(nameof(Servers))]
    public async Task Serves_the_artifact_api_under_the_ajax_prefix_too(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var dir = Folder();

        (await PutAsync(server, $"{dir}/a.txt", "ajax"u8.ToArray(), prefix: "/ajax-api/2.0/mlflow-artifacts/artifacts")).ShouldBeOk();

        (await server.GetAsync($"/ajax-api/2.0/mlflow-artifacts/artifacts/{dir}/a.txt")).Text.ShouldBe("ajax");
        (await server.GetAsync($"/ajax-api/2.0/mlflow-artifacts/artifacts?path={dir}")).Text
            .ShouldBe("""{"files":[{"path":"a.txt","is_dir":false,"file_size":4}]}""");
        (await server.PostAsync($"/ajax-api/2.0/mlflow-artifacts/mpu/abort/{dir}/a.txt", "{}")).Status.ShouldBe(HttpStatusCode.NotImplemented);
        (await SendRawAsync(server, HttpMethod.Delete, $"/ajax-api/2.0/mlflow-artifacts/artifacts/{dir}/a.txt")).ShouldBeOk();
        (await server.GetAsync($"{Artifacts}/{dir}/a.txt")).Status.ShouldBe(HttpStatusCode.NotFound);
    }

    [Theory, MemberData(nameof(Backends))]
    public async Task Takes_an_upload_larger_than_the_limit_of_json_bodies(ArtifactBackend artifacts)
    {
        // On S3 also a multipart upload of five parts.
        var server = await servers.GetAsync(DatabaseProvider.Sqlite, artifacts);
        var dir = Folder();
        const long size = 40L * 1024 * 1024;
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{Artifacts}/{dir}/checkpoint.bin")
        {
            Content = new StreamContent(new GeneratedStream(size, seed: 9)),
        };
        request.Content.Headers.ContentLength = size;

        (await server.SendAsync(request)).ShouldBeOk();

        (await ListAsync(server, dir)).Text.ShouldBe($$"""{"files":[{"path":"checkpoint.bin","is_dir":false,"file_size":{{size}}}]}""");
    }

    [Theory, MemberData(nameof(Backends))]
    public async Task A_client_that_disconnects_mid_upload_leaves_nothing_behind(ArtifactBackend artifacts)
    {
        // A server of its own: its upload folder (or bucket) holds this test's uploads only.
        await using var server = await DashboardServer.StartAsync(artifacts: artifacts);
        var dir = Folder();
        (await PutAsync(server, $"{dir}/model/model.pdiparams", "previous"u8.ToArray())).ShouldBeOk();
        // On S3, bodies past one part (8 MB) become multipart uploads: drop the connection after two parts went up.
        var (sent, declared) = artifacts == ArtifactBackend.S3 ? (20 << 20, 40 << 20) : (1 << 20, 8 << 20);

        await AbortedUploadAsync(server, $"{Artifacts}/{dir}/outputs/big.bin", reset: true, sent, declared);
        await AbortedUploadAsync(server, $"{Artifacts}/{dir}/outputs/other.bin", reset: false, sent, declared);
        await AbortedUploadAsync(server, $"{Artifacts}/{dir}/model/model.pdiparams", reset: true, sent, declared);

        await Eventually(async () => (await ListAsync(server, $"{dir}/outputs")).Text == "{}");
        (await server.GetAsync($"{Artifacts}/{dir}/outputs/big.bin")).Status.ShouldBe(HttpStatusCode.NotFound);
        (await DownloadTextAsync(server, $"{dir}/model/model.pdiparams")).ShouldBe("previous");
        if (artifacts == ArtifactBackend.S3)
        {
            await Eventually(async () => (await server.PendingS3UploadsAsync()).Count == 0);
            (await server.S3KeysAsync()).ShouldBe([$"{DashboardServer.S3Prefix}/{dir}/model/model.pdiparams"]);
            Directory.EnumerateFileSystemEntries(server.ArtifactSandbox).ShouldBeEmpty();
        }
        else
        {
            await Eventually(() => Task.FromResult(!Directory.EnumerateFileSystemEntries(Path.Join(server.ArtifactRoot, "#uploads")).Any()));
            Directory.EnumerateFileSystemEntries(server.ArtifactSandbox).ShouldBe([server.ArtifactRoot]);
        }
    }

    // service.proto's listArtifacts.

    [Theory, MemberData(nameof(Servers))]
    public async Task Lists_a_runs_artifacts_with_paths_relative_to_its_artifact_root(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var experimentId = await ExperimentAsync(server);
        var runId = await RunAsync(server, experimentId);
        var root = $"mlflow-artifacts:/{experimentId}/{runId}/artifacts";
        var empty = await server.GetAsync($"{Mlflow}/artifacts/list?run_id={runId}");
        foreach (var path in new[] { "model/MLmodel", "model/data/weights.bin", "notes.txt", "outputs/empty.txt" })
        {
            (await PutAsync(server, $"{experimentId}/{runId}/artifacts/{path}", path == "outputs/empty.txt" ? [] : "12345"u8.ToArray())).ShouldBeOk();
        }

        var top = await server.GetAsync($"{Mlflow}/artifacts/list?run_id={runId}");
        var model = await server.GetAsync($"/ajax-api/2.0/mlflow/artifacts/list?run_uuid={runId}&path=model");
        var outputs = await server.GetAsync($"{Mlflow}/artifacts/list?run_id={runId}&path=outputs/");

        empty.ShouldBeOk().Text.ShouldBe($$"""{"root_uri":"{{root}}"}""");
        top.ShouldBeOk().Text.ShouldBe($$"""{"root_uri":"{{root}}","files":[{"path":"model","is_dir":true},{"path":"notes.txt","is_dir":false,"file_size":5},{"path":"outputs","is_dir":true}]}""");
        model.ShouldBeOk().Text.ShouldBe($$"""{"root_uri":"{{root}}","files":[{"path":"model/MLmodel","is_dir":false,"file_size":5},{"path":"model/data","is_dir":true}]}""");
        outputs.ShouldBeOk().Text.ShouldBe($$"""{"root_uri":"{{root}}","files":[{"path":"outputs/empty.txt","is_dir":false}]}""");
    }

    [Theory, MemberData(nameof(Servers))]
    public async Task Lists_the_artifacts_of_a_run_in_an_experiment_with_its_own_location(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var location = $"team-{Guid.NewGuid():N}/vision models";
        var experimentId = (await server.PostAsync($"{Mlflow}/experiments/create",
            $$"""{"name": {{J(Name())}}, "artifact_location": {{J($"mlflow-artifacts:/{location.Replace(" ", "%20", StringComparison.Ordinal)}/")}}}"""))
            .ShouldBeOk().Json!["experiment_id"]!.GetValue<string>();
        var runId = await RunAsync(server, experimentId);

        (await PutAsync(server, $"{location.Replace(" ", "%20", StringComparison.Ordinal)}/{runId}/artifacts/x.txt", "x"u8.ToArray())).ShouldBeOk();

        (await GetExperimentAsync(server, experimentId))["artifact_location"]!.GetValue<string>().ShouldBe($"mlflow-artifacts:/{location}");
        (await GetRunAsync(server, runId))["info"]!["artifact_uri"]!.GetValue<string>().ShouldBe($"mlflow-artifacts:/{location}/{runId}/artifacts");
        (await server.GetAsync($"{Mlflow}/artifacts/list?run_id={runId}")).ShouldBeOk().Json!["files"]!.ToJsonString()
            .ShouldBe("""[{"path":"x.txt","is_dir":false,"file_size":1}]""");
    }

    [Theory, MemberData(nameof(Servers))]
    public async Task Refuses_to_list_for_an_unknown_or_missing_run_or_a_page_token(DatabaseProvider provider, ArtifactBackend artifacts)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var runId = await RunAsync(server);

        (await server.GetAsync($"{Mlflow}/artifacts/list?run_id={new string('0', 32)}")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        (await server.GetAsync($"{Mlflow}/artifacts/list")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE")
            .Message.ShouldBe("Missing value for required parameter 'run_id'.");
        (await server.GetAsync($"{Mlflow}/artifacts/list?run_id={runId}&page_token=abc")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        (await server.GetAsync($"{Mlflow}/artifacts/list?run_id={runId}&path=../../..")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
    }

    // Experiment artifact locations.

    public static TheoryData<DatabaseProvider, string> RefusedLocations
    {
        get
        {
            var data = new TheoryData<DatabaseProvider, string>();
            foreach (var provider in TestDatabase.Providers)
            {
                foreach (var location in new[]
                {
                    "file:///tmp/artifacts", "file:artifacts", "/var/lib/artifacts", "relative/folder", "./artifacts", "C:\\artifacts",
                    "\\\\server\\share", "s3://bucket/prefix", "gs://bucket/prefix", "http://169.254.169.254/latest/meta-data",
                    "https://example.com/artifacts", "hdfs://namenode/x", "dbfs:/x", "runs:/0123456789abcdef/model", "models:/m/1",
                    "mlflow-artifacts://other-host:5000/x", "mlflow-artifacts:///x", "mlflow-artifacts:", "mlflow-artifacts:/",
                    "mlflow-artifacts:x", "MLFLOW-ARTIFACTS:/x", "mlflow-artifacts:/x?query=1", "mlflow-artifacts:/x#fragment",
                    "mlflow-artifacts:/x;params", "mlflow-artifacts:/../x", "mlflow-artifacts:/a/../../x", "mlflow-artifacts:/%2e%2e/x",
                    "mlflow-artifacts:/a/%252e%252e/%252e%252e/x", "mlflow-artifacts:/a/%25252e%25252e/x", "mlflow-artifacts:/a//b",
                    "mlflow-artifacts:/a\\b", "mlflow-artifacts:/C:/x", "mlflow-artifacts:/a%00b", "mlflow-artifacts:/a%23b",
                })
                {
                    data.Add(provider, location);
                }
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(RefusedLocations))]
    public async Task Refuses_an_experiment_location_the_proxy_does_not_serve(DatabaseProvider provider, string location)
    {
        var server = await servers.GetAsync(provider);
        var name = Name();

        var reply = await server.PostAsync($"{Mlflow}/experiments/create", $$"""{"name": {{J(name)}}, "artifact_location": {{J(location)}}}""");

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Message!.ShouldNotContain("/tmp/");
        (await server.GetAsync($"{Mlflow}/experiments/get-by-name?experiment_name={name}")).Status.ShouldBe(HttpStatusCode.NotFound);
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Keeps_mlflows_message_for_a_runs_uri_location(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);

        var reply = await server.PostAsync($"{Mlflow}/experiments/create", $$"""{"name": {{J(Name())}}, "artifact_location": "runs:/abc/model"}""");

        reply.ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
        reply.Message.ShouldBe("Artifact location cannot be a runs:/ URI. Given: 'runs:/abc/model'");
    }

    // Path safety: every case of MLflow's CVE list in every place a path travels (URL path, ?path=, artifact_location).

    public static TheoryData<DatabaseProvider, ArtifactBackend, string> UnsafePaths
    {
        get
        {
            var data = new TheoryData<DatabaseProvider, ArtifactBackend, string>();
            foreach (var (provider, artifacts) in ServerKinds)
            {
                foreach (var template in new[]
                {
                    "../{m}", "a/../../{m}", "x/../../../../../../../../tmp/{m}", "./{m}", "a/./../{m}",
                    "%2e%2e/{m}", "%2E%2E%2F{m}", "..%2f{m}", ".%2e/{m}", "%2e%2e%2f%2e%2e%2f{m}",
                    "%252e%252e%252f{m}", "%25252e%25252e%25252f{m}", "%2525252e%2525252e%2525252f{m}",
                    "..%5c{m}", "..%255c{m}", "a%5c..%5c..%5c{m}",
                    "/{m}", "%2f{m}", "%2ftmp%2f{m}", "%252ftmp%252f{m}",
                    "C:/{m}", "C:%5c{m}", "c:{m}",
                    "file:///tmp/{m}", "file:/tmp/{m}", "file%3A%2F%2F%2Ftmp%2F{m}", "runs:/0123/{m}", "s3://bucket/{m}",
                    "http://127.0.0.1:9/{m}",
                    "a%23/../../{m}", "{m}%23.txt", "{m}%2523.txt", "a;/../../{m}", "{m}%3Bx=1", "{m}%3F.txt",
                    "{m}%00.txt", "{m}%2500.txt", "{m}%0a.txt", "{m}%0d%0aX-Injected:%201",
                    "a//{m}", "{m}/CON", "{m}/nul.txt", "{m}.", "{m}%20",
                    "{m}/" + new string('x', 256), "{m}/" + string.Join('/', Enumerable.Repeat(new string('x', 200), 6)),
                })
                {
                    data.Add(provider, artifacts, template);
                }
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(UnsafePaths))]
    public async Task Refuses_an_unsafe_path_wherever_it_is_given_and_writes_nothing_outside_the_root(DatabaseProvider provider,
        ArtifactBackend artifacts, string template)
    {
        var server = await servers.GetAsync(provider, artifacts);
        var runId = await RunAsync(server);
        var marker = $"escape-{Guid.NewGuid():N}";
        var payload = template.Replace("{m}", marker, StringComparison.Ordinal);
        var escaped = Uri.EscapeDataString(payload);
        // Where a one-level traversal from the root lands: a file to read and to (fail to) overwrite; on S3 also the
        // object beside the store's prefix.
        var planted = Path.Join(server.ArtifactSandbox, marker);
        await File.WriteAllTextAsync(planted, "planted outside the root", Ct);
        if (artifacts == ArtifactBackend.S3)
        {
            await server.S3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = server.S3Bucket, Key = marker, ContentBody = "planted outside the root" }, Ct);
        }
        var replies = new List<(string Where, Reply Reply)>();

        try
        {
            foreach (var prefix in new[] { "/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts" })
            {
                replies.Add(("PUT", await SendRawAsync(server, HttpMethod.Put, $"{prefix}/artifacts/{payload}", new StringContent("pwned"))));
                replies.Add(("GET", await SendRawAsync(server, HttpMethod.Get, $"{prefix}/artifacts/{payload}")));
                replies.Add(("DELETE", await SendRawAsync(server, HttpMethod.Delete, $"{prefix}/artifacts/{payload}")));
                replies.Add(("mpu", await SendRawAsync(server, HttpMethod.Post, $"{prefix}/mpu/create/{payload}", new StringContent("{}"))));
                replies.Add(("?path= raw", await SendRawAsync(server, HttpMethod.Get, $"{prefix}/artifacts?path={payload}")));
                replies.Add(("?path=", await SendRawAsync(server, HttpMethod.Get, $"{prefix}/artifacts?path={escaped}")));
            }
            replies.Add(("list raw", await SendRawAsync(server, HttpMethod.Get, $"{Mlflow}/artifacts/list?run_id={runId}&path={payload}")));
            replies.Add(("list", await SendRawAsync(server, HttpMethod.Get, $"{Mlflow}/artifacts/list?run_id={runId}&path={escaped}")));
            foreach (var location in new[] { "mlflow-artifacts:/" + payload, payload })
            {
                replies.Add(("artifact_location", await server.PostAsync($"{Mlflow}/experiments/create",
                    $$"""{"name": {{J(Name())}}, "artifact_location": {{J(location)}}}""")));
            }

            foreach (var (where, reply) in replies)
            {
                reply.Status.ShouldBeOneOf([HttpStatusCode.BadRequest, HttpStatusCode.NotFound], $"{where}: {reply.Text}");
                // Kestrel answers a NUL in a URL path itself, before any endpoint: a 400 without a body.
                if (reply.Status == HttpStatusCode.BadRequest && reply.Text.Length > 0)
                {
                    reply.ErrorCode.ShouldBe("INVALID_PARAMETER_VALUE", $"{where}: {reply.Text}");
                }
                reply.Text.ShouldNotContain("planted outside", Case.Sensitive, where);
                reply.Text.ShouldNotContain(server.ArtifactSandbox, Case.Sensitive, where);
            }
            (await File.ReadAllTextAsync(planted, Ct)).ShouldBe("planted outside the root");
            // The root's folder holds the root (once the store has been used) and the planted file, nothing new.
            Directory.EnumerateFileSystemEntries(server.ArtifactSandbox).Where(e => e != server.ArtifactRoot).ShouldBe([planted]);
            File.Exists(Path.Join(Path.GetTempPath(), marker)).ShouldBeFalse();
            Directory.Exists(Path.Join(Path.GetTempPath(), marker)).ShouldBeFalse();
            EntriesNamed(server.ArtifactRoot, marker).ShouldBeEmpty();
            if (artifacts == ArtifactBackend.S3)
            {
                using var outside = await server.S3.GetObjectAsync(server.S3Bucket, marker, Ct);
                (await new StreamReader(outside.ResponseStream).ReadToEndAsync(Ct)).ShouldBe("planted outside the root");
                var keys = await server.S3KeysAsync();
                keys.Where(k => k.Contains(marker, StringComparison.Ordinal)).ShouldBe([marker]);
                keys.Where(k => k != marker && !k.StartsWith($"{DashboardServer.S3Prefix}/", StringComparison.Ordinal)).ShouldBeEmpty();
            }
        }
        finally
        {
            File.Delete(planted);
            if (artifacts == ArtifactBackend.S3)
            {
                await server.S3.DeleteObjectAsync(server.S3Bucket, marker, Ct);
            }
        }
    }

    [Theory, MemberData(nameof(Providers))]
    public async Task Does_not_follow_a_symbolic_link_planted_in_the_root(DatabaseProvider provider)
    {
        var server = await servers.GetAsync(provider);
        var dir = Folder();
        (await PutAsync(server, $"{dir}/inside.txt", "x"u8.ToArray())).ShouldBeOk();
        var outside = Directory.CreateDirectory(Path.Join(server.ArtifactSandbox, $"outside-{Guid.NewGuid():N}")).FullName;
        await File.WriteAllTextAsync(Path.Join(outside, "secret.txt"), "outside the root", Ct);
        Directory.CreateSymbolicLink(Path.Join(server.ArtifactRoot, dir, "link"), outside);

        try
        {
            (await server.GetAsync($"{Artifacts}/{dir}/link/secret.txt")).ShouldFail(HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
            (await PutAsync(server, $"{dir}/link/planted.txt", "x"u8.ToArray())).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
            (await PutAsync(server, $"{dir}/link/secret.txt", "x"u8.ToArray())).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
            (await DeleteAsync(server, $"{dir}/link")).ShouldFail(HttpStatusCode.BadRequest, "INVALID_PARAMETER_VALUE");
            (await ListAsync(server, $"{dir}/link")).Text.ShouldBe("{}");
            (await ListAsync(server, dir)).Text.ShouldBe("""{"files":[{"path":"inside.txt","is_dir":false,"file_size":1}]}""");

            Directory.EnumerateFileSystemEntries(outside).Select(Path.GetFileName).ShouldBe(["secret.txt"]);
            (await File.ReadAllTextAsync(Path.Join(outside, "secret.txt"), Ct)).ShouldBe("outside the root");
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    /// <summary>Entries below <paramref name="folder"/> whose name contains <paramref name="part"/> (other tests may be deleting meanwhile).</summary>
    private static List<string> EntriesNamed(string folder, string part)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return Directory.Exists(folder)
                    ? [.. Directory.EnumerateFileSystemEntries(folder, $"*{part}*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })]
                    : [];
            }
            catch (DirectoryNotFoundException) when (attempt < 5)
            {
            }
        }
    }

    internal static string Folder() => $"tests/{Guid.NewGuid():N}";

    internal static async Task<Reply> PutAsync(DashboardServer server, string path, byte[] body, string contentType = "text/plain",
        string prefix = Artifacts)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{prefix}/{path}") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return await server.SendAsync(request);
    }

    internal static Task<Reply> ListAsync(DashboardServer server, string path) =>
        server.GetAsync($"{Artifacts}?path={Uri.EscapeDataString(path)}");

    internal static Task<Reply> DeleteAsync(DashboardServer server, string path) =>
        SendRawAsync(server, HttpMethod.Delete, $"{Artifacts}/{path}");

    private static async Task<string> DownloadTextAsync(DashboardServer server, string path) =>
        (await server.GetAsync($"{Artifacts}/{path}")).ShouldBeOk().Text;

    /// <summary>Sends the path exactly as written: no client-side removal of "." and ".." segments, no re-encoding.</summary>
    internal static Task<Reply> SendRawAsync(DashboardServer server, HttpMethod method, string pathAndQuery, HttpContent? content = null)
    {
        var uri = new Uri(server.Address.GetLeftPart(UriPartial.Authority) + pathAndQuery,
            new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        return server.SendAsync(new HttpRequestMessage(method, uri) { Content = content });
    }

    /// <summary>
    /// Starts an upload of <paramref name="declared"/> bytes over a socket of its own, sends <paramref name="sent"/>
    /// of them, then drops the connection: with a reset (a killed client) or a plain close (a client that gave up).
    /// </summary>
    private static async Task AbortedUploadAsync(DashboardServer server, string path, bool reset, int sent, int declared)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Address.Host, server.Address.Port, Ct);
        var head = $"PUT {path} HTTP/1.1\r\nHost: {server.Address.Authority}\r\nContent-Type: application/octet-stream\r\nContent-Length: {declared}\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head), Ct);
        var chunk = new byte[64 * 1024];
        for (var done = 0; done < sent; done += chunk.Length)
        {
            await socket.SendAsync(chunk, Ct);
        }
        if (reset)
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        else
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        socket.Close();
    }

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the condition did not hold within 20 s");
            await Task.Delay(50, Ct);
        }
    }
}

[CollectionDefinition(ArtifactStreamingTests.RunsAlone, DisableParallelization = true)]
public sealed class ArtifactStreamingRunsAlone;

/// <summary>
/// Memory stays flat while a large artifact goes up and down through the server. It runs alone (after the parallel
/// tests) because it reads the process's allocation counter, and the server runs in this process.
/// </summary>
[Collection(RunsAlone)]
public class ArtifactStreamingTests
{
    public const string RunsAlone = "Artifact streaming (runs alone: it measures the process's allocations)";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// What the whole process (server and client) may allocate while the file goes up and comes down: an eighth of
    /// the file. Holding the file once, anywhere on the way, allocates at least its size (a growing MemoryStream
    /// about twice that). Streaming to a folder allocates the copy buffers (128 KB, pooled), Kestrel's and the
    /// client's pooled socket blocks, and some bytes of bookkeeping per chunk: about 22 MB here for 512 MB up and
    /// down. Streaming to S3 adds two pooled 8 MB part buffers and the SDK's objects per part.
    /// </summary>
    [Theory]
    [InlineData(ArtifactBackend.Local, 512)]
    [InlineData(ArtifactBackend.S3, 256)]
    public async Task Streams_a_large_file_up_and_down_without_holding_it_in_memory(ArtifactBackend artifacts, int megabytes)
    {
        var size = megabytes * 1024L * 1024;
        await using var server = await DashboardServer.StartAsync(artifacts: artifacts);
        var path = $"{ArtifactContractTests.Artifacts}/large/checkpoint.bin";
        await UploadAsync(server, path, 1024 * 1024);
        await DownloadAsync(server, path);
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        var workingSetBefore = process.WorkingSet64;
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);

        await UploadAsync(server, path, size);
        var (length, hash) = await DownloadAsync(server, path);

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        process.Refresh();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"allocated {allocated / 1024.0 / 1024:F1} MB for 2 x {megabytes} MB; working set {workingSetBefore / 1024 / 1024} MB before, " +
            $"{process.WorkingSet64 / 1024 / 1024} MB after");
        length.ShouldBe(size);
        hash.ShouldBe(await ExpectedHashAsync(size));
        allocated.ShouldBeLessThan(size / 8);
        if (artifacts == ArtifactBackend.S3)
        {
            (await server.S3.GetObjectMetadataAsync(server.S3Bucket, $"{DashboardServer.S3Prefix}/large/checkpoint.bin", Ct)).ContentLength.ShouldBe(size);
        }
        else
        {
            new FileInfo(Path.Join(server.ArtifactRoot, "large", "checkpoint.bin")).Length.ShouldBe(size);
        }
    }

    private static async Task UploadAsync(DashboardServer server, string path, long size)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = new StreamContent(new GeneratedStream(size, seed: 42), 128 * 1024) };
        request.Content.Headers.ContentLength = size;
        using var response = await server.Client.SendAsync(request, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private static async Task<(long Length, byte[] Hash)> DownloadAsync(DashboardServer server, string path)
    {
        using var response = await server.Client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        await using var body = await response.Content.ReadAsStreamAsync(Ct);
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var buffer = new byte[128 * 1024];
        long length = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, Ct)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            length += read;
        }
        return (length, hash.GetHashAndReset());
    }

    private static async Task<byte[]> ExpectedHashAsync(long size)
    {
        await using var source = new GeneratedStream(size, seed: 42);
        return await System.Security.Cryptography.SHA256.HashDataAsync(source, Ct);
    }
}
