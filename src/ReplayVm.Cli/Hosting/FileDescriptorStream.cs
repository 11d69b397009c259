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
    private static unsafe partial nint write(int fd, byte* buffer, nuint count);
}
