using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ReplayVm.Replay.Format;

/// <summary>
/// What kind of file a path names, asked before opening it: a trace must be a regular file. A
/// character device such as /dev/zero never ends, and opening a FIFO blocks until a writer comes,
/// so both are refused up front. .NET reports neither, so on Linux this asks statx(2), whose
/// result layout is the same on every architecture.
/// </summary>
public static class HostFile
{
    /// <summary>Null for a regular file (or one that does not exist); otherwise what it is, e.g. "a directory".</summary>
    public static string? NotRegular(string path)
    {
        if (Directory.Exists(path)) return "a directory";
        if (!OperatingSystem.IsLinux()) return null;
        var buffer = new byte[256];
        int result;
        try
        {
            result = statx(AtFdCwd, path, 0, StatxType, buffer);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        if (result != 0) return null; // missing or unreadable: opening it says why
        ushort mode = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(StxModeOffset));
        return (mode & 0xF000) switch
        {
            0x8000 => null,
            0x4000 => "a directory",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0x1000 => "a FIFO (named pipe)",
            0xC000 => "a socket",
            _ => "not a regular file",
        };
    }

    /// <summary>
    /// The file's identity (device and inode), following symbolic links; null when it does not
    /// exist or the host cannot tell. Two paths name the same file exactly when these are equal.
    /// </summary>
    public static (ulong Device, ulong Inode)? Identity(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var buffer = new byte[256];
        try
        {
            if (statx(AtFdCwd, path, 0, StatxIno, buffer) != 0) return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        ulong inode = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(StxInoOffset));
        ulong device = (ulong)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(StxDevMajorOffset)) << 32
                       | BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(StxDevMajorOffset + 4));
        return (device, inode);
    }

    private const uint StatxIno = 0x100;
    private const int StxInoOffset = 32;
    private const int StxDevMajorOffset = 136; // stx_dev_major, then stx_dev_minor

    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;
    private const int StxModeOffset = 28; // struct statx: mask(4) blksize(4) attributes(8) nlink(4) uid(4) gid(4) mode(2)

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string pathname, int flags, uint mask, byte[] buffer);
}
