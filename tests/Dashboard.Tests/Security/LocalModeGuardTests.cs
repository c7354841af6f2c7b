using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Dashboard.Auth;
using Microsoft.Extensions.Configuration;

namespace Dashboard.Tests.Security;

/// <summary>
/// Local mode makes every request the local Admin, so the server refuses to start in it on an address other machines
/// reach. The refusals are checked on the real program (dotnet Dashboard.dll) as an operator starts it: it exits
/// non-zero, before it listens, with a message that says how to configure sign-in.
/// </summary>
public sealed class LocalModeGuardTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _folder = Directory.CreateDirectory(Path.Join(Path.GetTempPath(), $"dashboard-guard-{Guid.NewGuid():N}")).FullName;

    public static TheoryData<string[], Dictionary<string, string>> ExposedStarts => new()
    {
        { ["--urls", "http://0.0.0.0:0"], new() },
        { ["--urls", "http://127.0.0.1:0;http://[::]:0"], new() },
        { [], new() { ["ASPNETCORE_URLS"] = "http://+:0" } },
        { [], new() { ["ASPNETCORE_URLS"] = "http://*:0" } },
        { ["--urls", "http://127.0.0.1:0"], new() { ["Kestrel__Endpoints__Public__Url"] = "http://0.0.0.0:0" } },
        { ["--urls", "http://dashboard.example.com:0"], new() },
    };

    [Theory, MemberData(nameof(ExposedStarts))]
    public async Task Refuses_to_start_in_local_mode_beyond_loopback_and_says_how_to_configure_sign_in(string[] args,
        Dictionary<string, string> environment)
    {
        var (process, output, errors) = Start(args, environment);
        using var _ = process;

        await WaitForExitAsync(process);
        var (stdout, stderr) = (output.ToString(), errors.ToString());

        process.ExitCode.ShouldBe(LocalModeGuard.ExitCode, stdout + stderr);
        stderr.ShouldContain("Dashboard refuses to start: Local mode on ");
        stderr.ShouldContain("which is not a loopback address");
        stderr.ShouldContain("Dashboard__Auth__Mode=Oidc");
        stderr.ShouldContain("Dashboard__Auth__Oidc__Authority");
        stderr.ShouldContain("docs/operations.md");
        stdout.ShouldNotContain("Now listening on");
        // Refused before the database was touched.
        File.Exists(Path.Join(_folder, "dashboard.db")).ShouldBeFalse();
    }

    [Fact]
    public async Task Starts_in_local_mode_on_loopback_and_answers()
    {
        var port = FreeLoopbackPort();
        var (process, _, errors) = Start(["--urls", $"http://127.0.0.1:{port}"], []);
        using var __ = process;
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var deadline = DateTime.UtcNow.AddSeconds(60);
            HttpResponseMessage? health = null;
            while (health is null && DateTime.UtcNow < deadline && !process.HasExited)
            {
                try
                {
                    health = await client.GetAsync("/health", Ct);
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(200, Ct);
                }
            }
            process.HasExited.ShouldBeFalse(errors.ToString());
            health.ShouldNotBeNull();
            health.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await health.Content.ReadAsStringAsync(Ct)).ShouldBe("OK");
            health.Dispose();
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            await process.WaitForExitAsync(Ct);
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000", true)]
    [InlineData("http://127.1.2.3:5000", true)]
    [InlineData("https://localhost:5001", true)]
    [InlineData("http://LOCALHOST", true)]
    [InlineData("http://[::1]:5000", true)]
    [InlineData("http://0.0.0.0:5000", false)]
    [InlineData("http://[::]:5000", false)]
    [InlineData("http://+:5000", false)]
    [InlineData("http://*:5000", false)]
    [InlineData("http://192.168.1.10:5000", false)]
    [InlineData("http://localhost.example.com:5000", false)]
    [InlineData("http://dashboard:5000", false)]
    public void Knows_which_listen_urls_are_loopback(string url, bool loopback) =>
        LocalModeGuard.IsLoopbackUrl(url).ShouldBe(loopback);

    [Fact]
    public void Oidc_mode_may_listen_anywhere()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = "http://0.0.0.0:5000",
            ["Kestrel:Endpoints:Public:Url"] = "http://+:5001",
        }).Build();

        LocalModeGuard.Refusal(configuration, new AuthOptions { Mode = AuthMode.Oidc }).ShouldBeNull();
        LocalModeGuard.Refusal(configuration, new AuthOptions { Mode = AuthMode.Local })
            .ShouldBe(LocalModeGuard.RefusalFor("http://0.0.0.0:5000"));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a process that is being killed; it is in the temporary folder.
        }
    }

    /// <summary>Starts the program; its output and error streams are collected as they come (a full pipe would block it).</summary>
    private (Process Process, System.Text.StringBuilder Output, System.Text.StringBuilder Errors) Start(string[] args,
        Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet")
        {
            WorkingDirectory = _folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Join(AppContext.BaseDirectory, "Dashboard.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        // Nothing of the test run's own settings: the program as an operator starts it, in its own folder.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)
                     || k.StartsWith("DOTNET_URLS", StringComparison.Ordinal) || k.StartsWith("Dashboard__", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }
        start.Environment["ConnectionStrings__Dashboard"] = $"Data Source={Path.Join(_folder, "dashboard.db")}";
        start.Environment["Dashboard__Artifacts__Root"] = Path.Join(_folder, "artifacts");
        start.Environment["HostOptions__ShutdownTimeout"] = "00:00:02";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        var output = new System.Text.StringBuilder();
        var errors = new System.Text.StringBuilder();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (errors) { errors.AppendLine(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, output, errors);
    }

    private static async Task WaitForExitAsync(Process process)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The server did not exit: it started where it should have refused.");
        }
        // The streams' last lines arrive after the exit; WaitForExit() without a timeout waits for them.
        process.WaitForExit();
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
