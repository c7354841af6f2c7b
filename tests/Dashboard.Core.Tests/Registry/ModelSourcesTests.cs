using Dashboard.Core.Tests.Support;
using Dashboard.Errors;
using Dashboard.Registry;

namespace Dashboard.Core.Tests.Registry;

/// <summary>
/// The source rules of model-versions/create (docs/adr/0009-model-registry.md, "Sources"): every case runs on every
/// database of the test run (SQLite, and PostgreSQL under ./test.sh). The rules take no tags, so no tag (such as
/// <c>mlflow.prompt.is_prompt</c>) can loosen them; the API's contract tests assert that for the endpoint.
/// </summary>
public sealed class ModelSourcesTests(SeededRegistry seeded) : IClassFixture<SeededRegistry>
{
    private const string R217 = SeededRegistry.Run217;
    private const string R39 = SeededRegistry.Run39;
    private const string M39 = SeededRegistry.Model39;
    private const string Other = SeededRegistry.OtherRun;
    private const string Deleted = SeededRegistry.DeletedRun;
    private const string FileRun = SeededRegistry.FileRun;
    private const string Metadata = SeededRegistry.MetadataRun;
    private const string Https = SeededRegistry.PublicHttpsRun;
    private const string Bucket = SeededRegistry.BucketRun;
    private const string Shared = SeededRegistry.SharedModel;
    private const string DeletedModel = SeededRegistry.DeletedModel;
    private const string Name = SeededRegistry.Registered;

    private const string Loc217 = "mlflow-artifacts:/1/" + R217 + "/artifacts";
    private const string Loc39 = "mlflow-artifacts:/1/" + R39 + "/artifacts";
    private const string LocM39 = "mlflow-artifacts:/1/models/" + M39 + "/artifacts";
    private const string Missing = "ffffffffffffffffffffffffffffffff";

    // ---- the recorded sessions

    [Fact]
    public async Task Resolves_the_runs_uri_an_MLflow_2_client_registers()
    {
        // real-mlflow-2.17.0 #228: {"source": "runs:/<run>/model", "run_id": "<run>"}.
        await Resolves($"runs:/{R217}/model", R217, null, new ResolvedModelSource($"runs:/{R217}/model", Loc217 + "/model", R217, null));
    }

    [Fact]
    public async Task Takes_the_artifact_location_an_MLflow_2_client_registers_with_its_run()
    {
        // real-mlflow-2.17.0 #103 and #144: the run's artifact URI and "/model", with run_id.
        await Resolves(Loc217 + "/model", R217, "", new ResolvedModelSource(Loc217 + "/model", Loc217 + "/model", R217, null));
    }

    [Theory]
    // real-mlflow-3.9.0rc0-nanstep1 #124: model_id without run_id; MLflow answers the model's source run.
    [InlineData(null, M39)]
    // #192: both.
    [InlineData(R39, M39)]
    // #297: run_id without model_id.
    [InlineData(R39, null)]
    [InlineData("", "")]
    public async Task Resolves_the_logged_model_uri_an_MLflow_3_client_registers(string? runId, string? modelId)
    {
        await Resolves($"models:/{M39}", runId, modelId, new ResolvedModelSource($"models:/{M39}", LocM39, R39, M39));
    }

    // ---- locations that are taken

    [Theory]
    [InlineData(Loc217, R217, null, Loc217, R217, null)]
    [InlineData(Loc217 + "/", R217, null, Loc217, R217, null)]
    [InlineData("mlflow-artifacts:///1/" + R217 + "/artifacts/model", R217, null, Loc217 + "/model", R217, null)]
    [InlineData("MLFLOW-ARTIFACTS:/1/" + R217 + "/artifacts/model", R217, null, Loc217 + "/model", R217, null)]
    [InlineData(Loc217 + "/my%20model/v%C3%A9", R217, null, Loc217 + "/my model/vé", R217, null)]
    [InlineData(Loc217 + "%2Fmodel", R217, null, Loc217 + "/model", R217, null)]
    [InlineData("runs:/" + R217, R217, null, Loc217, R217, null)]
    [InlineData("RUNS:/" + R217 + "/model/", null, null, Loc217 + "/model", R217, null)]
    [InlineData("runs:/" + R39 + "/model", null, Shared, Loc39 + "/model", R39, Shared)]
    [InlineData(LocM39 + "/model", null, M39, LocM39 + "/model", R39, M39)]
    [InlineData(LocM39, R39, M39, LocM39, R39, M39)]
    // A run and a model that it logged (through its outputs): inside either location.
    [InlineData(Loc39 + "/extra", R39, Shared, Loc39 + "/extra", R39, Shared)]
    // Locations an older version may have left, which no check loosens.
    [InlineData("s3://bucket/mlruns/1/" + Bucket + "/artifacts/model", Bucket, null, "s3://bucket/mlruns/1/" + Bucket + "/artifacts/model", Bucket, null)]
    [InlineData("S3://bucket/mlruns/1/" + Bucket + "/artifacts", Bucket, null, "s3://bucket/mlruns/1/" + Bucket + "/artifacts", Bucket, null)]
    [InlineData("https://Storage.Example.COM/mlruns/" + Https + "/artifacts/model", Https, null, "https://storage.example.com/mlruns/" + Https + "/artifacts/model", Https, null)]
    public async Task Takes_a_location_at_or_inside_the_named_artifact_location_in_its_canonical_form(
        string source, string? runId, string? modelId, string storage, string? expectedRun, string? expectedModel)
    {
        await Resolves(source, runId, modelId, new ResolvedModelSource(source, storage, expectedRun, expectedModel));
    }

    [Theory]
    [InlineData("models:/" + Name + "/1", null, M39, LocM39, R39, M39)]
    [InlineData("models:/" + Name + "/1", R39, null, LocM39, R39, M39)]
    [InlineData("models:/" + Name + "/2", R217, null, Loc217 + "/model", R217, null)]
    [InlineData("models:/" + Name + "/0002", null, null, Loc217 + "/model", R217, null)]
    [InlineData("models:/" + Name + "/Production", null, null, Loc217 + "/model", R217, null)]
    [InlineData("models:/" + Name + "/staging", null, null, Loc39 + "/model", R39, null)]
    [InlineData("models:/" + Name + "/NONE", null, null, LocM39, R39, M39)]
    [InlineData("models:/" + Name + "/latest", null, null, Loc39 + "/model", R39, null)]
    [InlineData("models:/" + Name + "/LATEST", null, null, Loc39 + "/model", R39, null)]
    [InlineData("models:/" + Name + "@champion", null, null, Loc217 + "/model", R217, null)]
    [InlineData("models:/paddle-mnist-model-fixture%40champion", null, null, Loc217 + "/model", R217, null)]
    public async Task Registers_a_copy_of_a_registered_version_with_its_run_and_model(
        string source, string? runId, string? modelId, string storage, string? expectedRun, string? expectedModel)
    {
        await Resolves(source, runId, modelId, new ResolvedModelSource(source, storage, expectedRun, expectedModel));
    }

    // ---- refused: 400 INVALID_PARAMETER_VALUE

    [Theory]
    [InlineData(null, "Missing value for required parameter 'source'.")]
    [InlineData("", "Missing value for required parameter 'source'.")]
    public async Task Requires_a_source(string? source, string message)
    {
        await EveryDatabase(async resolver =>
        {
            var ex = await Should.ThrowAsync<MlflowException>(() => resolver.ResolveAsync(source, R217, null, Ct));
            (ex.ErrorCode, ex.Message).ShouldBe((ErrorCode.INVALID_PARAMETER_VALUE, message));
        });
    }

    [Fact]
    public async Task Refuses_a_source_longer_than_its_column()
    {
        var source = Loc217 + "/" + new string('m', 2064 - Loc217.Length);
        await Refuses(source, R217, null, "'source' exceeds the maximum length of 2064 characters");
        await Refuses(source[..^1], R217, null, "an artifact path is at most 1024 characters");
    }

    [Fact]
    public async Task Refuses_a_source_whose_storage_location_would_not_fit_its_column()
    {
        // The run's location and the path are each as long as a path may be; together they exceed the column.
        var path = string.Join("/", Enumerable.Repeat(new string('m', 255), 4));
        await Refuses($"runs:/{SeededRegistry.LongRun}/{path}", null, null, "resolves to a storage location longer than 2064 characters");
        await EveryDatabase(async resolver => (await resolver.ResolveAsync($"runs:/{SeededRegistry.LongRun}/{path[..^2]}", null, null, Ct))
            .StorageLocation.Length.ShouldBe(2064));
    }

    [Theory]
    [InlineData(Loc217 + "/../../" + R39 + "/artifacts", "'.' and '..' segments")]
    [InlineData(Loc217 + "/model/../../../" + R39 + "/artifacts", "'.' and '..' segments")]
    [InlineData(Loc217 + "/./model", "'.' and '..' segments")]
    [InlineData(Loc217 + "/%2e%2e/%2e%2e/" + R39 + "/artifacts", "'.' and '..' segments")]
    [InlineData(Loc217 + "/%2E%2e/%2e%2E/" + R39 + "/artifacts", "'.' and '..' segments")]
    [InlineData(Loc217 + "/%2e%2e%2f%2e%2e%2f" + R39 + "/artifacts", "'.' and '..' segments")]
    [InlineData(Loc217 + "/%252e%252e/%252e%252e/" + R39 + "/artifacts", "'.' and '..' segments")]
    [InlineData(Loc217 + "/%25252e%25252e%25252f" + R39, "'.' and '..' segments")]
    [InlineData(Loc217 + "/.%2e/x", "'.' and '..' segments")]
    [InlineData("runs:/" + R217 + "/../" + R39 + "/model", "'.' and '..' segments")]
    [InlineData("runs:/" + R217 + "/%252e%252e/" + R39 + "/model", "'.' and '..' segments")]
    [InlineData("runs:/..", "'.' and '..' segments")]
    [InlineData("models:/../1", "'.' and '..' segments")]
    [InlineData("https://storage.example.com/mlruns/" + Https + "/artifacts/../../x", "'.' and '..' segments")]
    [InlineData(Loc217 + "/model\\..\\..\\x", "'\\' is not allowed")]
    [InlineData(Loc217 + "/model%5C..%5Cx", "'\\' is not allowed")]
    [InlineData(Loc217 + "/model%255c..%255cx", "'\\' is not allowed")]
    [InlineData(Loc217 + "/model\u0000", "control characters")]
    [InlineData(Loc217 + "/model%00.txt", "control characters")]
    [InlineData(Loc217 + "/model%2500", "control characters")]
    [InlineData(Loc217 + "/model%0a", "control characters")]
    [InlineData(Loc217 + "/model\u0085", "control characters")]
    [InlineData(Loc217 + "/model#/../../x", "'#' is not allowed")]
    [InlineData(Loc217 + "/model%23x", "'#' is not allowed")]
    [InlineData(Loc217 + "/model?versionId=1", "'?' is not allowed")]
    [InlineData(Loc217 + "/model%3Fx", "'?' is not allowed")]
    [InlineData(Loc217 + "/model;/../x", "';' is not allowed")]
    [InlineData(Loc217 + "/model%3b.txt", "';' is not allowed")]
    [InlineData(Loc217 + "/%25252525252525252525252e", "still percent-encoded after 10 rounds")]
    [InlineData(Loc217 + "//model", "an empty segment")]
    [InlineData(Loc217 + "/mo:del", "':' is not allowed")]
    [InlineData(Loc217 + "/CON", "Windows device name")]
    public async Task Refuses_traversal_and_characters_with_a_meaning_in_any_encoding(string source, string message)
    {
        await Refuses(source, R217, null, message);
    }

    [Fact]
    public async Task Refuses_a_source_or_id_that_no_database_can_take()
    {
        await Refuses(Loc217 + "/model\uD800", R217, null, "unpaired surrogate");
        await Refuses($"models:/{Name}\uDC00/1", null, null, "unpaired surrogate");
        await Refuses(Loc217, R217[..31] + "\uD800", null, "Invalid value for parameter 'run_id' supplied: it is not valid Unicode");
        await Refuses(Loc217, R217[..31] + "\0", null, "Invalid value for parameter 'run_id' supplied: the NUL character");
        await Refuses(LocM39, null, M39 + "\0", "Invalid value for parameter 'model_id' supplied: the NUL character");
    }

    [Theory]
    [InlineData("file:///etc/passwd", R217)]
    [InlineData("FILE:/etc/passwd", R217)]
    [InlineData("file:%2F%2F%2Fetc%2Fpasswd", R217)]
    [InlineData("file://localhost/etc/passwd", R217)]
    [InlineData("file:///srv/mlruns/1/" + FileRun + "/artifacts/model", FileRun)]
    [InlineData("file:///srv/mlruns/1/" + FileRun + "/artifacts", FileRun)]
    [InlineData("/etc/passwd", R217)]
    [InlineData("/srv/mlruns/1/" + FileRun + "/artifacts/model", FileRun)]
    [InlineData("%2Fetc%2Fpasswd", R217)]
    [InlineData("etc/passwd", R217)]
    [InlineData("model", R217)]
    [InlineData("C:/Windows/win.ini", R217)]
    [InlineData("c:model", R217)]
    [InlineData(":/etc/passwd", R217)]
    [InlineData("dummy-source", null)]
    public async Task Refuses_local_paths_and_file_uris_even_inside_a_runs_local_location(string source, string? runId)
    {
        var ex = await Refuses(source, runId, null, "local paths and file: URIs are never sources here");
        ex.Message.ShouldNotContain("/etc");
        ex.Message.ShouldNotContain("/srv");
    }

    [Theory]
    [InlineData("C:\\Windows\\win.ini")]
    [InlineData("..\\..\\etc\\passwd")]
    public async Task Refuses_windows_paths(string source)
    {
        await Refuses(source, R217, null, "'\\' is not allowed");
    }

    [Theory]
    [InlineData("runs:/" + FileRun + "/model", "the run's artifact location is not one that versions can be registered from")]
    [InlineData("runs:/" + Metadata + "/model", "the run's artifact location is not one that versions can be registered from")]
    public async Task Refuses_a_runs_uri_whose_run_stores_its_artifacts_on_a_local_path_or_an_internal_host(string source, string message)
    {
        var ex = await Refuses(source, null, null, message);
        ex.Message.ShouldNotContain("/srv/mlruns");
        ex.Message.ShouldNotContain("169.254");
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/" + Metadata + "/artifacts/model", Metadata, "internal address")]
    [InlineData("http://169.254.169.254/latest/meta-data/iam/security-credentials/", R217, "internal address")]
    [InlineData("http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/x", R217, "internal address")]
    [InlineData("http://127.0.0.1./x", R217, "internal address")]
    [InlineData("http://0.0.0.0/x", R217, "internal address")]
    [InlineData("http://10.1.2.3/x", R217, "internal address")]
    [InlineData("http://172.16.0.1/x", R217, "internal address")]
    [InlineData("http://172.31.255.255/x", R217, "internal address")]
    [InlineData("http://192.168.1.1/x", R217, "internal address")]
    [InlineData("http://100.64.0.1/x", R217, "internal address")]
    [InlineData("http://224.0.0.1/x", R217, "internal address")]
    [InlineData("http://255.255.255.255/x", R217, "internal address")]
    [InlineData("http://%31%36%39.254.169.254/x", R217, "internal address")]
    [InlineData("http://[::1]/x", R217, "internal address")]
    [InlineData("http://[::]/x", R217, "internal address")]
    [InlineData("http://[0:0:0:0:0:0:0:1]:8080/x", R217, "internal address")]
    [InlineData("http://[::ffff:127.0.0.1]/x", R217, "internal address")]
    [InlineData("http://[::ffff:a9fe:a9fe]/x", R217, "internal address")]
    [InlineData("http://[::127.0.0.1]/x", R217, "internal address")]
    [InlineData("http://[64:ff9b::a9fe:a9fe]/x", R217, "internal address")]
    [InlineData("http://[2002:a9fe:a9fe::1]/x", R217, "internal address")]
    [InlineData("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x", R217, "internal address")]
    [InlineData("http://[fd00::1]/x", R217, "internal address")]
    [InlineData("http://[fc00::1]/x", R217, "internal address")]
    [InlineData("http://[fe80::1]/x", R217, "internal address")]
    [InlineData("http://[FEC0::1]/x", R217, "internal address")]
    [InlineData("http://[ff02::1]/x", R217, "internal address")]
    [InlineData("http://[fe80::1%25eth0]/x", R217, "not an IPv6 address")]
    [InlineData("http://[127.0.0.1]/x", R217, "not an IPv6 address")]
    [InlineData("http://[::1/x", R217, "closing ']'")]
    [InlineData("http://2130706433/x", R217, "four decimal numbers")]
    [InlineData("http://0x7f.1/x", R217, "four decimal numbers")]
    [InlineData("http://0x7f000001/x", R217, "four decimal numbers")]
    [InlineData("http://0177.0.0.1/x", R217, "four decimal numbers")]
    [InlineData("http://017700000001/x", R217, "four decimal numbers")]
    [InlineData("http://127.1/x", R217, "four decimal numbers")]
    [InlineData("http://169.254.43518/x", R217, "four decimal numbers")]
    [InlineData("http://0xA9.0xFE.0xA9.0xFE/x", R217, "four decimal numbers")]
    [InlineData("http://256.1.1.1/x", R217, "four decimal numbers")]
    [InlineData("http://localhost/x", R217, "internal name")]
    [InlineData("http://LOCALHOST:5000/x", R217, "internal name")]
    [InlineData("http://localhost./x", R217, "internal name")]
    [InlineData("http://api.localhost/x", R217, "internal name")]
    [InlineData("http://metadata/computeMetadata/v1/", R217, "internal name")]
    [InlineData("http://metadata.google.internal/computeMetadata/v1/", R217, "internal name")]
    [InlineData("http://printer.local/x", R217, "internal name")]
    [InlineData("http://nas.home.arpa/x", R217, "internal name")]
    [InlineData("http://\uFF11\uFF12\uFF17.\uFF10.\uFF10.\uFF11/x", R217, "ASCII letters")]
    [InlineData("http://127%E3%80%820%E3%80%820%E3%80%821/x", R217, "ASCII letters")]
    [InlineData("http://evil_host.example.com/x", R217, "ASCII letters")]
    [InlineData("http://a..example.com/x", R217, "ASCII letters")]
    [InlineData("http:///x", R217, "needs a host")]
    [InlineData("http://:80/x", R217, "needs a host")]
    [InlineData("http://storage.example.com:99999/x", R217, "a port is a number")]
    [InlineData("http://storage.example.com:80x/x", R217, "a port is a number")]
    [InlineData("https://user:secret@storage.example.com/mlruns/" + Https + "/artifacts/model", Https, "credentials")]
    [InlineData("https://169.254.169.254%40storage.example.com/x", R217, "credentials")]
    [InlineData("ftp://10.0.0.1/x", R217, "internal address")]
    [InlineData("hdfs://localhost:8020/x", R217, "internal name")]
    public async Task Refuses_network_sources_that_reach_internal_hosts_even_inside_a_runs_location(string source, string runId, string message)
    {
        await Refuses(source, runId, null, message);
    }

    [Theory]
    [InlineData("storage.example.com", null)]
    [InlineData("storage.example.com.", null)]
    [InlineData("Storage.Example.com:8443", null)]
    [InlineData("xn--bcher-kva.example", null)]
    [InlineData("93.184.215.14", null)]
    [InlineData("8.8.8.8:443", null)]
    [InlineData("11.0.0.1", null)]
    [InlineData("126.255.255.255", null)]
    [InlineData("128.0.0.1", null)]
    [InlineData("169.253.255.255", null)]
    [InlineData("169.255.0.1", null)]
    [InlineData("172.15.255.255", null)]
    [InlineData("172.32.0.0", null)]
    [InlineData("100.63.255.255", null)]
    [InlineData("100.128.0.0", null)]
    [InlineData("192.169.0.1", null)]
    [InlineData("198.17.255.255", null)]
    [InlineData("198.20.0.0", null)]
    [InlineData("223.255.255.255", null)]
    [InlineData("[2001:4860:4860::8888]", null)]
    [InlineData("[2a00:1450:4001::1]:443", null)]
    [InlineData("[2400::1]", null)]
    [InlineData("9.255.255.255", null)]
    [InlineData("100.127.255.255", "internal address")]
    [InlineData("198.19.255.255", "internal address")]
    [InlineData("192.0.0.8", "internal address")]
    [InlineData("192.0.2.1", "internal address")]
    [InlineData("203.0.113.9", "internal address")]
    [InlineData("240.0.0.1", "internal address")]
    [InlineData("[2001:db8::1]", "internal address")]
    [InlineData("[2001:1ff::1]", "internal address")]
    [InlineData("[3fff::1]", "internal address")]
    [InlineData("[100::1]", "internal address")]
    [InlineData("[::ffff:8.8.8.8]", "internal address")]
    [InlineData("[2001:4860:4860::8888]x", "only a port may follow")]
    public void Takes_public_hosts_and_no_internal_ones(string authority, string? problem)
    {
        var answer = NetworkHosts.Problem(authority);
        if (problem is null)
        {
            answer.ShouldBeNull();
        }
        else
        {
            answer.ShouldNotBeNull().ShouldContain(problem);
        }
    }

    [Theory]
    [InlineData("mlflow-artifacts://evil.example.com/1/" + R217 + "/artifacts/model", "without a host")]
    [InlineData("mlflow-artifacts://localhost:5000/1/" + R217 + "/artifacts/model", "without a host")]
    [InlineData("mlflow-artifacts:1/" + R217 + "/artifacts/model", "without a host")]
    [InlineData("s3:///mlruns", "a bucket name")]
    [InlineData("s3://bucket:1/mlruns", "a bucket name")]
    public async Task Refuses_locations_that_are_not_this_servers_or_a_buckets(string source, string message)
    {
        await Refuses(source, R217, null, message);
    }

    [Theory]
    [InlineData("mlflow-artifacts:/1/" + R39 + "/artifacts/model", R217, null, "the artifact location of run '" + R217 + "'")]
    [InlineData("mlflow-artifacts:/1/" + Other + "/artifacts", R217, null, "the artifact location of run '" + R217 + "'")]
    [InlineData(Loc217 + "2/model", R217, null, "the artifact location of run")]
    [InlineData("mlflow-artifacts:/1/" + R217 + "/artifactsX", R217, null, "the artifact location of run")]
    [InlineData("mlflow-artifacts:/1/" + R217 + "/artifact", R217, null, "the artifact location of run")]
    [InlineData("mlflow-artifacts:/1/" + R217, R217, null, "the artifact location of run")]
    [InlineData("mlflow-artifacts:/1", R217, null, "the artifact location of run")]
    [InlineData("mlflow-artifacts:/", R217, null, "the artifact location of run")]
    [InlineData("mlflow-artifacts:/1/CB2792467A294B26BD8C61868CF5D191/artifacts", R217, null, "the artifact location of run")]
    [InlineData(Loc217 + "/model", null, M39, "the artifact location of logged model '" + M39 + "'")]
    [InlineData(LocM39 + "X", null, M39, "the artifact location of logged model")]
    [InlineData("mlflow-artifacts:/1/models/" + Shared + "/artifacts", R39, M39, "the artifact location of run '" + R39 + "' or of logged model '" + M39 + "'")]
    [InlineData("s3://BUCKET/mlruns/1/" + Bucket + "/artifacts/model", Bucket, null, "the artifact location of run")]
    [InlineData("s3://bucket/mlruns/1/" + Bucket + "/artifacts2", Bucket, null, "the artifact location of run")]
    [InlineData("s3://bucket/mlruns/1/" + Bucket + "/artifacts/model", R217, null, "the artifact location of run")]
    [InlineData("https://storage.example.com:443/mlruns/" + Https + "/artifacts/model", Https, null, "the artifact location of run")]
    [InlineData("http://storage.example.com/mlruns/" + Https + "/artifacts/model", Https, null, "the artifact location of run")]
    [InlineData("https://storage.example.com/mlruns/" + Https + "/artifacts2", Https, null, "the artifact location of run")]
    [InlineData("https://evil.example.com/mlruns/" + Https + "/artifacts", Https, null, "the artifact location of run")]
    [InlineData(Loc217 + "/model", null, null, "give run_id or model_id")]
    [InlineData("s3://bucket/mlruns/1/" + Bucket + "/artifacts/model", "", "", "give run_id or model_id")]
    [InlineData("https://storage.example.com/mlruns/" + Https + "/artifacts/model", null, null, "give run_id or model_id")]
    public async Task Refuses_a_location_that_is_not_at_or_inside_the_named_artifact_location(
        string source, string? runId, string? modelId, string message)
    {
        await Refuses(source, runId, modelId, message);
    }

    [Theory]
    [InlineData("runs:/", null, null, "'runs:/<run_id>'")]
    [InlineData("runs://" + R217 + "/model", null, null, "'runs:/<run_id>'")]
    [InlineData("runs:" + R217 + "/model", null, null, "'runs:/<run_id>'")]
    [InlineData("runs:/" + R217 + "/model", R39, null, "the source names run '" + R217 + "', not '" + R39 + "'")]
    [InlineData("runs:/" + Deleted + "/model", null, null, "The run " + Deleted + " must be in the 'active' state")]
    [InlineData("runs:/" + R217 + "/model", null, M39, "run '" + R217 + "' did not log logged model '" + M39 + "'")]
    [InlineData("runs:/" + R217 + "/mo:del", null, null, "':' is not allowed")]
    [InlineData("models:/" + M39, null, Shared, "the source names logged model '" + M39 + "', not '" + Shared + "'")]
    [InlineData("models:/" + M39, R217, null, "run '" + R217 + "' did not log logged model '" + M39 + "'")]
    [InlineData("models:/" + M39, Deleted, null, "must be in the 'active' state")]
    [InlineData("models:/" + Shared, Other, null, null)]
    [InlineData(Loc217 + "/model", Deleted, null, "must be in the 'active' state")]
    [InlineData(LocM39, R217, M39, "run '" + R217 + "' did not log logged model '" + M39 + "'")]
    [InlineData("models:/" + Name + "/1", R217, null, "version 1 of '" + Name + "', which was not registered from run '" + R217 + "'")]
    [InlineData("models:/" + Name + "/2", null, M39, "version 2 of '" + Name + "', which was not registered from logged model '" + M39 + "'")]
    [InlineData("models:/" + Name + "/Bogus", null, null, "Invalid Model Version stage: Bogus. Value must be one of None, Staging, Production, Archived.")]
    [InlineData("models:/" + Name + "@nobody", null, null, "Registered model alias nobody not found.")]
    [InlineData("models:/not-an-id", null, null, "A model ID is 'm-' and 32 hexadecimal digits.")]
    [InlineData("models:/m-123", null, null, "A model ID is 'm-' and 32 hexadecimal digits.")]
    [InlineData("models:/", null, null, "'models:/<model_id>'")]
    [InlineData("models:/" + M39 + "/", null, null, "'models:/<model_id>'")]
    [InlineData("models:/" + Name + "/1/extra", null, null, "'models:/<model_id>'")]
    [InlineData("models:/@champion", null, null, "'models:/<model_id>'")]
    [InlineData("models:/" + Name + "@", null, null, "'models:/<model_id>'")]
    [InlineData("models:/%20/1", null, null, "'models:/<model_id>'")]
    [InlineData("models://" + Name + "/1", null, null, "'models:/<model_id>'")]
    [InlineData("models:" + Name + "/1", null, null, "'models:/<model_id>'")]
    public async Task Refuses_runs_and_models_uris_that_do_not_name_what_the_request_says(
        string source, string? runId, string? modelId, string? message)
    {
        if (message is null)
        {
            // The control case: the run that logged the model (its source run) is taken.
            await EveryDatabase(async resolver => (await resolver.ResolveAsync(source, runId, modelId, Ct)).RunId.ShouldBe(runId));
            return;
        }
        await Refuses(source, runId, modelId, message);
    }

    [Fact]
    public async Task Refuses_run_and_model_ids_longer_than_their_columns()
    {
        await Refuses(Loc217, new string('a', 33), null, "'run_id' exceeds the maximum length of 32 characters");
        await Refuses(Loc217, null, "m-" + new string('a', 35), "'model_id' exceeds the maximum length of 36 characters");
    }

    // ---- refused: 404 RESOURCE_DOES_NOT_EXIST, in MLflow's words

    [Theory]
    [InlineData("runs:/" + Missing + "/model", null, null, "Run with id=" + Missing + " not found")]
    [InlineData(Loc217, Missing, null, "Run with id=" + Missing + " not found")]
    [InlineData("models:/" + M39, Missing, null, "Run with id=" + Missing + " not found")]
    [InlineData("models:/m-" + Missing, null, null, "Logged model with ID 'm-" + Missing + "' not found.")]
    [InlineData("models:/" + DeletedModel, null, null, "Logged model with ID '" + DeletedModel + "' not found.")]
    [InlineData(LocM39, null, "m-" + Missing, "Logged model with ID 'm-" + Missing + "' not found.")]
    [InlineData("runs:/" + R39 + "/model", null, DeletedModel, "Logged model with ID '" + DeletedModel + "' not found.")]
    [InlineData("models:/nobody/1", null, null, "Registered Model with name=nobody not found")]
    [InlineData("models:/nobody@champion", null, null, "Registered Model with name=nobody not found")]
    [InlineData("models:/nobody/Bogus", null, null, "Registered Model with name=nobody not found")]
    [InlineData("models:/" + Name + "/9", null, null, "Model Version (name=" + Name + ", version=9) not found")]
    [InlineData("models:/" + Name + "/3", null, null, "Model Version (name=" + Name + ", version=3) not found")]
    [InlineData("models:/" + Name + "/99999999999", null, null, "Model Version (name=" + Name + ", version=99999999999) not found")]
    [InlineData("models:/" + Name + "@ghost", null, null, "Model Version (name=" + Name + ", version=5) not found")]
    [InlineData("models:/" + Name + "/Archived", null, null, "No versions of model with name '" + Name + "' and stage 'Archived' found")]
    [InlineData("models:/empty/latest", null, null, "No versions of model with name 'empty' found")]
    public async Task Answers_404_for_what_does_not_exist(string source, string? runId, string? modelId, string message)
    {
        await EveryDatabase(async resolver =>
        {
            var ex = await Should.ThrowAsync<MlflowException>(() => resolver.ResolveAsync(source, runId, modelId, Ct));
            (ex.ErrorCode, ex.Message).ShouldBe((ErrorCode.RESOURCE_DOES_NOT_EXIST, message));
        });
    }

    // ---- models:/ URIs for the registry API

    [Fact]
    public async Task Resolves_model_uris_to_a_registered_version_or_a_logged_model()
    {
        foreach (var db in seeded.Databases)
        {
            var resolver = new ModelSourceResolver(db.Factory);
            var id = seeded.RegisteredIds[db];

            (await resolver.ResolveModelUriAsync($"models:/{M39}", Ct)).ShouldBe(new LoggedModelTarget(M39, LocM39, R39));
            (await resolver.ResolveModelUriAsync($"models:/{Name}/1", Ct)).ShouldBe(new RegisteredVersionTarget(id, Name, 1, LocM39, R39, M39));
            (await resolver.ResolveModelUriAsync($"models:/{Name}@champion", Ct))
                .ShouldBe(new RegisteredVersionTarget(id, Name, 2, Loc217 + "/model", R217, null));
            (await resolver.ResolveModelUriAsync($"models:/{Name}/latest", Ct)).ShouldBeOfType<RegisteredVersionTarget>().Version.ShouldBe(4);
            (await resolver.ResolveModelUriAsync($"models:/{Name}/production", Ct)).ShouldBeOfType<RegisteredVersionTarget>().Version.ShouldBe(2);
        }
    }

    [Theory]
    [InlineData("", ErrorCode.INVALID_PARAMETER_VALUE, "Missing value for required parameter 'uri'.")]
    [InlineData("runs:/" + R217 + "/model", ErrorCode.INVALID_PARAMETER_VALUE, "Invalid value for parameter 'uri' supplied: a models: URI is")]
    [InlineData(Loc217, ErrorCode.INVALID_PARAMETER_VALUE, "Invalid value for parameter 'uri' supplied: a models: URI is")]
    [InlineData("/etc/passwd", ErrorCode.INVALID_PARAMETER_VALUE, "Invalid value for parameter 'uri' supplied: a models: URI is")]
    [InlineData("models:/" + Name + "/%252e%252e", ErrorCode.INVALID_PARAMETER_VALUE, "'.' and '..' segments")]
    [InlineData("models:/" + Name + "/1#x", ErrorCode.INVALID_PARAMETER_VALUE, "'#' is not allowed")]
    [InlineData("models:/m-xyz", ErrorCode.INVALID_PARAMETER_VALUE, "A model ID is")]
    [InlineData("models:/nobody/1", ErrorCode.RESOURCE_DOES_NOT_EXIST, "Registered Model with name=nobody not found")]
    [InlineData("models:/" + Name + "@nobody", ErrorCode.INVALID_PARAMETER_VALUE, "Registered model alias nobody not found.")]
    public async Task Refuses_model_uris_as_sources_are_refused(string uri, ErrorCode code, string message)
    {
        await EveryDatabase(async resolver =>
        {
            var ex = await Should.ThrowAsync<MlflowException>(() => resolver.ResolveModelUriAsync(uri, Ct));
            ex.ErrorCode.ShouldBe(code);
            ex.Message.ShouldContain(message);
        });
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task EveryDatabase(Func<ModelSourceResolver, Task> test)
    {
        seeded.Databases.ShouldNotBeEmpty();
        foreach (var db in seeded.Databases)
        {
            try
            {
                await test(new ModelSourceResolver(db.Factory));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"On {db.Provider}: {ex.Message}", ex);
            }
        }
    }

    private Task Resolves(string source, string? runId, string? modelId, ResolvedModelSource expected) =>
        EveryDatabase(async resolver => (await resolver.ResolveAsync(source, runId, modelId, Ct)).ShouldBe(expected));

    /// <summary>Asserts a 400 INVALID_PARAMETER_VALUE on every database whose message says why and never repeats the source.</summary>
    private async Task<MlflowException> Refuses(string source, string? runId, string? modelId, string message)
    {
        MlflowException? last = null;
        await EveryDatabase(async resolver =>
        {
            var ex = await Should.ThrowAsync<MlflowException>(() => resolver.ResolveAsync(source, runId, modelId, Ct));
            ex.ErrorCode.ShouldBe(ErrorCode.INVALID_PARAMETER_VALUE, ex.Message);
            ex.Message.ShouldContain(message);
            if (source.Length > 12)
            {
                ex.Message.ShouldNotContain(source);
            }
            last = ex;
        });
        return last!;
    }
}
