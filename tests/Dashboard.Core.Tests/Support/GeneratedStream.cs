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
        var output = buffer[..count];
        var i = 0;
        // Eight bytes per step of xorshift64 (cheap, deterministic, not a pattern a store could shortcut); byte k of
        // the stream is byte k % 8 of the state after step k / 8 + 1, whatever the sizes of the reads.
        while (i < count && (_position + i) % 8 != 0)
        {
            output[i] = Byte(_position + i);
            i++;
        }
        var whole = (count - i) / 8;
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(output.Slice(i, whole * 8));
        for (var w = 0; w < words.Length; w++)
        {
            words[w] = BitConverter.IsLittleEndian ? Next() : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(Next());
        }
        i += whole * 8;
        while (i < count)
        {
            output[i] = Byte(_position + i);
            i++;
        }
        _position += count;
        return count;
    }

    private ulong Next()
    {
        _state ^= _state << 13;
        _state ^= _state >> 7;
        _state ^= _state << 17;
        return _state;
    }

    // A byte outside whole words: advances the state at the start of each word.
    private byte Byte(long position)
    {
        if (position % 8 == 0)
        {
            Next();
        }
        return (byte)(_state >> (int)(position % 8 * 8));
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
