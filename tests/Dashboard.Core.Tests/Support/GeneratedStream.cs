namespace Dashboard.Core.Tests.Support;

/// <summary>
/// A read-only stream of <c>length</c> pseudo-random bytes from a seed, made as it is read (nothing is held), that
/// can fail with an IOException after some bytes, as a dropped upload does, and report its progress.
/// </summary>
public sealed class GeneratedStream(
    long length,
    int seed,
    long failAfter = -1,
    Action<long>? onRead = null,
    Func<long, Task>? onReadAsync = null) : Stream
{
    private ulong _state = (ulong)seed * 0x9E3779B97F4A7C15UL + 1;
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        onRead?.Invoke(_position);
        if (failAfter >= 0 && _position >= failAfter)
        {
            throw new IOException("The connection dropped (a test stream).");
        }
        var count = (int)Math.Min(buffer.Length, length - _position);
        if (failAfter >= 0)
        {
            count = (int)Math.Min(count, Math.Max(1, failAfter - _position));
        }
        for (var i = 0; i < count; i++)
        {
            // xorshift64: cheap, deterministic, and not compressible into a pattern a store could shortcut.
            _state ^= _state << 13;
            _state ^= _state >> 7;
            _state ^= _state << 17;
            buffer[i] = (byte)_state;
        }
        _position += count;
        return count;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (onReadAsync is not null)
        {
            await onReadAsync(_position);
        }
        cancellationToken.ThrowIfCancellationRequested();
        return Read(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
