using Microsoft.Win32.SafeHandles;
using ReplayVm.Core.Devices.Storage;

namespace ReplayVm.Cli.Hosting;

/// <summary>
/// A raw disk image file as virtio-blk storage. Positioned reads and writes through
/// <see cref="RandomAccess"/>, so no stream position is shared. Open read-only and wrap it in a
/// <see cref="CopyOnWriteOverlay"/> for recorded sessions: the image then never changes and a
/// replay sees the same disk.
/// </summary>
public sealed class FileBlockStorage : IBlockStorage, IDisposable
{
    private readonly SafeFileHandle _handle;

    private FileBlockStorage(SafeFileHandle handle, long length, bool readOnly)
    {
        _handle = handle;
        Length = length;
        IsReadOnly = readOnly;
    }

    /// <summary>Opens <paramref name="path"/>; throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> with the OS's reason.</summary>
    public static FileBlockStorage Open(string path, bool readOnly)
    {
        var handle = File.OpenHandle(path, FileMode.Open, readOnly ? FileAccess.Read : FileAccess.ReadWrite,
            readOnly ? FileShare.Read : FileShare.None);
        return new FileBlockStorage(handle, RandomAccess.GetLength(handle), readOnly);
    }

    public long Length { get; }
    public bool IsReadOnly { get; }

    public void Read(long offset, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int n = RandomAccess.Read(_handle, destination, offset);
            if (n == 0) throw new IOException($"disk image ended at byte {offset}, before its recorded length {Length}");
            destination = destination[n..];
            offset += n;
        }
    }

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        if (IsReadOnly) throw new IOException("disk image is open read-only");
        RandomAccess.Write(_handle, source, offset);
    }

    public void Flush()
    {
        if (!IsReadOnly) RandomAccess.FlushToDisk(_handle);
    }

    public void Dispose() => _handle.Dispose();
}
