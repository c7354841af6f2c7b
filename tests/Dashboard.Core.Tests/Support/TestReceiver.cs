using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Dashboard.Core.Tests.Support;

/// <summary>One request a <see cref="TestReceiver"/> got.</summary>
public sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTimeOffset Time)
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";

    public string Text => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A webhook receiver for tests: a minimal HTTP/1.1 server on 127.0.0.1 and a free port (one request per connection,
/// Content-Length bodies, which is what the dispatcher sends). It records every request and answers each with the
/// status <see cref="Respond"/> picks for its number (1 = the first request), after an optional delay.
/// </summary>
public sealed class TestReceiver : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private int _count;

    private TestReceiver()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = Task.Run(AcceptAsync);
    }

    public static TestReceiver Start() => new();

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/hooks";

    /// <summary>The status of the n-th request (1-based); 200 unless set.</summary>
    public Func<int, int> Respond { get; set; } = _ => 200;

    /// <summary>Extra response headers (e.g. a Location for a redirect).</summary>
    public IReadOnlyDictionary<string, string> ResponseHeaders { get; set; } = new Dictionary<string, string>();

    /// <summary>How long to wait before answering.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.Zero;

    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    /// <summary>Waits until <paramref name="done"/> holds of the requests so far; fails after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<ReceivedRequest>> WaitForAsync(Func<IReadOnlyList<ReceivedRequest>, bool> done, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var requests = Requests;
            if (done(requests))
            {
                return requests;
            }
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"The receiver got {requests.Count} request(s) in {timeout}, not what the test waits for.");
            }
            await Task.Delay(50);
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var buffer = new List<byte>();
                var chunk = new byte[8192];
                int headerEnd;
                while ((headerEnd = IndexOfBlankLine(buffer)) < 0)
                {
                    var n = await stream.ReadAsync(chunk, _stop.Token);
                    if (n == 0)
                    {
                        return;
                    }
                    buffer.AddRange(chunk.AsSpan(0, n));
                }
                var head = Encoding.ASCII.GetString([.. buffer.Take(headerEnd)]).Split("\r\n");
                var requestLine = head[0].Split(' ');
                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var line in head.Skip(1))
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon > 0)
                    {
                        headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                    }
                }
                var length = headers.TryGetValue("Content-Length", out var cl) ? int.Parse(cl, CultureInfo.InvariantCulture) : 0;
                var body = buffer.Skip(headerEnd + 4).ToList();
                while (body.Count < length)
                {
                    var n = await stream.ReadAsync(chunk, _stop.Token);
                    if (n == 0)
                    {
                        return;
                    }
                    body.AddRange(chunk.AsSpan(0, n));
                }
                var number = Interlocked.Increment(ref _count);
                _requests.Enqueue(new ReceivedRequest(requestLine[0], requestLine.Length > 1 ? requestLine[1] : "", headers, [.. body.Take(length)],
                    DateTimeOffset.UtcNow));
                if (Delay > TimeSpan.Zero)
                {
                    await Task.Delay(Delay, _stop.Token);
                }
                var status = Respond(number);
                var response = new StringBuilder()
                    .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} Test\r\n")
                    .Append("Content-Length: 0\r\nConnection: close\r\n");
                foreach (var (name, value) in ResponseHeaders)
                {
                    response.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
                }
                response.Append("\r\n");
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response.ToString()), _stop.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // The client went away (a timeout on its side) or the receiver stopped.
            }
        }
    }

    private static int IndexOfBlankLine(List<byte> buffer)
    {
        for (var i = 0; i + 3 < buffer.Count; i++)
        {
            if (buffer[i] == '\r' && buffer[i + 1] == '\n' && buffer[i + 2] == '\r' && buffer[i + 3] == '\n')
            {
                return i;
            }
        }
        return -1;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}
