using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Dashboard.Bench;

/// <summary>
/// The tracking server in its own process, as an operator runs it: the built Release assembly on a free loopback
/// port. The assembly is started with <c>dotnet Dashboard.dll</c> rather than <c>dotnet run</c> so that the
/// process id is the server's own (for its resident set) and no build step sits in the timing.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly string _pidFile;

    private ServerProcess(Process process, StreamWriter log, string pidFile, Uri baseUri)
    {
        _process = process;
        _log = log;
        _pidFile = pidFile;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }
    public int Pid => _process.Id;
    public string LogPath => ((FileStream)_log.BaseStream).Name;

    public static async Task<ServerProcess> StartAsync(BenchOptions options, string workDir, Provider provider, string connectionString)
    {
        Directory.CreateDirectory(workDir);
        var port = FreePort();
        var url = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     options.ServerDll, "--urls", url, "--contentRoot", options.ContentRoot,
                     $"--Dashboard:Database:Provider={provider}",
                     // The search seeding writes 100,000 runs behind the server's back in seconds; a short interval lets
                     // the server notice (SQLite statistics) before the queries are measured. See SearchBench.
                     $"--Dashboard:Database:StatisticsInterval={SearchBench.StatisticsInterval}",
                 })
        {
            start.ArgumentList.Add(a);
        }
        // Through the environment, so the connection string never shows in a process listing.
        start.Environment["ConnectionStrings__Dashboard"] = connectionString;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        var log = new StreamWriter(Path.Combine(workDir, "server.log")) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException("The server process did not start.");
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var pidFile = Path.Combine(workDir, "server.pid");
        await File.WriteAllTextAsync(pidFile, process.Id.ToString(CultureInfo.InvariantCulture));
        var server = new ServerProcess(process, log, pidFile, new Uri(url + "/"));
        Running.Add(server);
        try
        {
            await server.WaitHealthyAsync(TimeSpan.FromSeconds(90));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (log)
        {
            log.WriteLine(line);
        }
    }

    private async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"The server exited with code {_process.ExitCode.ToString(CultureInfo.InvariantCulture)} before it answered; see {LogPath}.");
            }
            try
            {
                using var response = await http.GetAsync(new Uri(BaseUri, "health"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"The server did not answer /health within {timeout.TotalSeconds} s; see {LogPath}.");
    }

    /// <summary>A resident-set figure of the server from /proc/PID/status, in bytes (VmRSS now, VmHWM the peak).</summary>
    public long? ReadStatus(string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_process.Id.ToString(CultureInfo.InvariantCulture)}/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    var kb = line[(field.Length + 1)..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        Running.Remove(this);
        Kill();
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                await Console.Error.WriteLineAsync($"The server (pid {Pid}) did not exit within 10 s of being killed.");
            }
        }
        _process.Dispose();
        await _log.DisposeAsync();
        File.Delete(_pidFile);
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>Servers still running; killed if the bench is interrupted (Ctrl-C, SIGTERM) or fails.</summary>
    private static readonly List<ServerProcess> Running = [];

    public static void KillAll()
    {
        foreach (var s in Running.ToArray())
        {
            s.Kill();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
