using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ReplayVm.Cli.Hosting;

/// <summary>
/// An exclusive lock on a trace being recorded, so that a second <c>record -o SAME</c> is refused
/// instead of both writing into one file. It is an open-file-description record lock (Linux
/// <c>F_OFD_SETLK</c>): held as long as the recorder's handle is open, dropped by the kernel when
/// the recorder exits however it exits (SIGKILL included), and separate from the
/// <c>flock</c> locks .NET takes when opening files, so <c>info</c> and <c>replay</c> can still
/// read a recording in progress.
/// </summary>
internal static class TraceOutputLock
{
    /// <summary>Takes the lock on <paramref name="handle"/>; false when another process holds it.</summary>
    public static bool TryTake(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux()) return true;
        // struct flock on 64-bit Linux: l_type (2), l_whence (2), pad (4), l_start (8), l_len (8), l_pid (4), pad (4).
        var request = new byte[32];
        BitConverter.TryWriteBytes(request.AsSpan(0), WriteLock);
        // l_whence = SEEK_SET, l_start = 0, l_len = 0 (to the end, however long it grows), l_pid = 0 (required for OFD locks).
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
