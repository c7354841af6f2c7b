using System.Globalization;
using System.Runtime.InteropServices;

namespace Dashboard.Bench;

/// <summary>What the figures were measured on.</summary>
public sealed record MachineInfo(int Cores, string Cpu, string Memory, string Os, string Runtime)
{
    public static MachineInfo Read()
    {
        var cpu = Lines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var memKb = Lines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))?
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var memory = memKb is null ? "?" : $"{(long.Parse(memKb, CultureInfo.InvariantCulture) / 1024.0 / 1024.0).ToString("0.0", CultureInfo.InvariantCulture)} GiB";
        var os = Lines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?
            .Split('=', 2)[1].Trim('"') ?? RuntimeInformation.OSDescription;
        return new MachineInfo(Environment.ProcessorCount, cpu, memory, $"{os} (kernel {Environment.OSVersion.Version})",
            RuntimeInformation.FrameworkDescription);
    }

    public static string LoadAverage() => File.Exists("/proc/loadavg")
        ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))
        : "?";

    private static IEnumerable<string> Lines(string path) => File.Exists(path) ? File.ReadLines(path) : [];
}

/// <summary>Samples the server's resident set every 100 ms while it is switched on.</summary>
public sealed class RssSampler : IAsyncDisposable
{
    private readonly ServerProcess _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private volatile bool _on;
    private readonly List<long> _samples = [];

    public RssSampler(ServerProcess server)
    {
        _server = server;
        _loop = Task.Run(LoopAsync);
    }

    public bool On { set => _on = value; }

    public IReadOnlyList<long> Samples
    {
        get
        {
            lock (_samples)
            {
                return [.. _samples];
            }
        }
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            if (_on && _server.ReadStatus("VmRSS") is { } rss)
            {
                lock (_samples)
                {
                    _samples.Add(rss);
                }
            }
            try
            {
                await Task.Delay(100, _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
