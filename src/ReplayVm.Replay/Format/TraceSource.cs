using Microsoft.Win32.SafeHandles;

namespace ReplayVm.Replay.Format;

/// <summary>
/// The bytes of a trace, read at any offset without holding the file in memory: the reader takes
/// the header and one chunk at a time from it, and an embedded disk reads its blocks from it when
/// the guest touches them. Thread-safe: every read is positional.
/// </summary>
internal abstract class TraceSource
{
    /// <summary>The length when the trace was opened; bytes a recorder appends later are not seen.</summary>
    public abstract long Length { get; }

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>; a short read is a <see cref="TraceFormatException"/>.</summary>
    public abstract void ReadExactly(long offset, Span<byte> destination, string what);

    public static TraceSource Of(byte[] bytes) => new MemorySource(bytes);

    private sealed class MemorySource(byte[] bytes) : TraceSource
    {
        public override long Length => bytes.LongLength;

        public override void ReadExactly(long offset, Span<byte> destination, string what)
        {
            if (offset < 0 || offset > bytes.LongLength || destination.Length > bytes.LongLength - offset)
                throw new TraceFormatException($"trace ends inside {what} (byte {offset})");
            bytes.AsSpan((int)offset, destination.Length).CopyTo(destination);
        }
    }
}

/// <summary>A trace file read through a handle with positional reads (<see cref="RandomAccess"/>), so it may exceed 2 GiB.</summary>
internal sealed class FileTraceSource(SafeFileHandle handle, long length, string path) : TraceSource
{
    public override long Length => length;

    public override void ReadExactly(long offset, Span<byte> destination, string what)
    {
        if (offset < 0 || offset > length || destination.Length > length - offset)
            throw new TraceFormatException($"trace ends inside {what} (byte {offset})");
        while (!destination.IsEmpty)
        {
            int read;
            try
            {
                read = RandomAccess.Read(handle, destination, offset);
            }
            catch (IOException e)
            {
                throw new TraceFormatException($"{path}: cannot read {what}: {e.Message}");
            }
            if (read <= 0) throw new TraceFormatException($"{path}: the file shrank while it was read ({what} at byte {offset})");
            destination = destination[read..];
            offset += read;
        }
    }
}
