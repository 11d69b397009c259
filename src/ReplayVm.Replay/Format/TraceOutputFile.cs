using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ReplayVm.Replay.Format;

/// <summary>
/// Opens the file a recorder writes its trace to (<c>record</c>, <c>gdb --live</c>, <c>debug GUEST</c>,
/// and both replicas), refusing a path that names one of the recording's inputs (the same file by
/// device and inode, so links count) and one another recorder is writing. The file is locked
/// exclusively before it is emptied, so a second recorder of the same file fails without touching the
/// first one's trace; an existing file that no one is recording to is replaced.
/// <para>The lock is an open-file-description record lock (Linux <c>F_OFD_SETLK</c>): held as long as
/// the recorder's handle is open, dropped by the kernel when the recorder exits however it exits
/// (SIGKILL included), and separate from the <c>flock</c> locks .NET takes when opening files, so
/// <c>info</c> and <c>replay</c> can still read a recording in progress.</para>
/// </summary>
public static class TraceOutputFile
{
    /// <summary>Opens <paramref name="path"/> for writing, locked and empty; throws <see cref="TraceOutputException"/> with a one-line reason.</summary>
    public static FileStream Open(string path, IEnumerable<string> inputs)
    {
        if (HostFile.NotRegular(path) is { } kind && kind != "a character device")
            throw new TraceOutputException($"{path}: is {kind}, not a file a trace can be written to");
        string full = Path.GetFullPath(path);
        var identity = HostFile.Identity(path);
        foreach (var input in inputs)
            if (Path.GetFullPath(input) == full || (identity is not null && HostFile.Identity(input) == identity))
                throw new TraceOutputException($"{path}: is also an input of this recording ({input}); write the trace to another file");
        FileStream stream;
        try
        {
            // Opened without truncating: the file is emptied only once the lock is ours. FileShare.ReadWrite
            // keeps .NET's own flock out of the way, so `info` or `replay` may look at a recording in progress.
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TraceOutputException($"{path}: cannot create the trace: {e.Message}");
        }
        if (!TryLock(stream.SafeFileHandle))
        {
            stream.Dispose();
            throw new TraceOutputException($"{path}: another replayvm is recording to this file; wait for it to finish or give another -o");
        }
        if (stream.CanSeek) stream.SetLength(0);
        return stream;
    }

    /// <summary>Takes the write lock on the whole file (however long it grows); false when another process holds it.</summary>
    private static bool TryLock(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux()) return true;
        // struct flock on 64-bit Linux: l_type (2), l_whence (2), pad (4), l_start (8), l_len (8), l_pid (4), pad (4).
        var request = new byte[32];
        BitConverter.TryWriteBytes(request.AsSpan(0), WriteLock);
        // l_whence = SEEK_SET, l_start = 0, l_len = 0 (to the end), l_pid = 0 (required for OFD locks).
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return fcntl(handle.DangerousGetHandle().ToInt32(), OfdSetLock, request) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return true;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    private const short WriteLock = 1; // F_WRLCK
    private const int OfdSetLock = 37; // F_OFD_SETLK

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int command, byte[] request);
}

/// <summary>A trace output that cannot be opened: its one-line message says why and what to do.</summary>
public sealed class TraceOutputException(string message) : IOException(message);
