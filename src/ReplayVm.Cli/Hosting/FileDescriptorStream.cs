using System.Runtime.InteropServices;

namespace ReplayVm.Cli.Hosting;

/// <summary>
/// A process's stdin, stdout or stderr as a plain stream over read(2) and write(2).
/// </summary>
/// <remarks>
/// .NET's own console streams are avoided on purpose: their first write initialises .NET's
/// terminal support, which sends the terminal "keypad transmit" mode (ESC [ ? 1 h ESC =) — bytes
/// on stdout that are not the guest's and make arrow keys send different codes to the guest — and
/// their stdin stream does its own line editing and echo when stdin is a terminal. A FileStream
/// would not do either, but for a regular file it writes at positions it tracks itself and leaves
/// the shared file offset behind, so a shell writing to the same file afterwards would overwrite
/// our output. write(2) on the descriptor behaves exactly like any other Unix program.
/// </remarks>
internal sealed partial class FileDescriptorStream(int fd) : Stream
{
    public const int Stdin = 0, Stdout = 1, Stderr = 2;
    private const int EINTR = 4;
    private const short POLLOUT = 4;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    public override bool CanRead => fd == Stdin;
    public override bool CanWrite => fd != Stdin;
    public override bool CanSeek => false;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override unsafe int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = read(fd, p, (nuint)buffer.Length);
                if (n >= 0) return (int)n;
                int errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR) throw new IOException($"reading file descriptor {fd} failed (errno {errno})");
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override unsafe void Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            byte* p = start;
            nuint left = (nuint)buffer.Length;
            while (left > 0)
            {
                nint n = write(fd, p, left);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == EINTR) continue;
                    // EPIPE among others: the reader went away. .NET ignores SIGPIPE, so this is how it shows.
                    throw new IOException($"writing file descriptor {fd} failed (errno {errno})");
                }
                p += n;
                left -= (nuint)n;
            }
        }
    }

    /// <summary>
    /// Writes all of <paramref name="buffer"/>, like <see cref="Write(ReadOnlySpan{byte})"/>, but waits
    /// for room with poll(2) rather than inside write(2), so that once <paramref name="abandon"/> is
    /// cancelled a descriptor nobody drains (a pipe to a reader that stopped reading) can be given up:
    /// after <paramref name="grace"/> without progress the rest is dropped with an <see cref="IOException"/>.
    /// A blocked write(2) cannot be interrupted from another thread, so without this a stop signal
    /// would never end a run whose stdout is full.
    /// </summary>
    public unsafe void Write(ReadOnlySpan<byte> buffer, CancellationToken abandon, TimeSpan grace)
    {
        // Writes of at most PIPE_BUF bytes after POLLOUT do not block on a pipe (Linux: a free buffer
        // slot holds a page); a terminal or file takes them at once.
        const int Chunk = 4096;
        long lastProgress = Environment.TickCount64;
        fixed (byte* start = buffer)
        {
            byte* p = start;
            int left = buffer.Length;
            while (left > 0)
            {
                var poll = new PollFd { Fd = fd, Events = POLLOUT };
                int ready = FileDescriptorStream.poll(&poll, 1, 100);
                if (ready < 0 && Marshal.GetLastPInvokeError() is var pollErrno && pollErrno != EINTR)
                    throw new IOException($"waiting to write file descriptor {fd} failed (errno {pollErrno})");
                if (ready <= 0)
                {
                    if (abandon.IsCancellationRequested && Environment.TickCount64 - lastProgress >= (long)grace.TotalMilliseconds)
                        throw new IOException($"gave up writing file descriptor {fd}: nobody reads it and the run is stopping");
                    continue;
                }
                // Ready, or an error/hang-up that write(2) reports (EPIPE) below.
                nint n = write(fd, p, (nuint)Math.Min(left, Chunk));
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == EINTR) continue;
                    throw new IOException($"writing file descriptor {fd} failed (errno {errno})");
                }
                p += n;
                left -= (int)n;
                lastProgress = Environment.TickCount64;
            }
        }
    }

    public override void Flush() { }
    // A terminal or pipe has no length or position (CanSeek is false, as Stream's contract requires).
    public override long Length => throw new NotSupportedException(NotSeekable);
    public override long Position { get => throw new NotSupportedException(NotSeekable); set => throw new NotSupportedException(NotSeekable); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException(NotSeekable);
    public override void SetLength(long value) => throw new NotSupportedException(NotSeekable);
    private const string NotSeekable = "a console file descriptor cannot seek";

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint write(int fd, byte* buffer, nuint count);
}
