using ReplayVm.Core.Devices.Storage;

namespace ReplayVm.Cli.Hosting;

/// <summary>
/// The <c>--drive</c> files. By default each is opened read-only behind an in-memory
/// copy-on-write overlay, so a run never changes the user's image; with <c>--persist</c> the guest
/// writes to the file itself.
/// </summary>
internal sealed class DiskImages : IDisposable
{
    private readonly List<FileBlockStorage> _files = [];

    public DiskImages(IEnumerable<string> paths, bool persist)
    {
        try
        {
            foreach (var path in paths)
            {
                var file = Open(path, persist);
                _files.Add(file);
                Disks.Add(persist ? file : new CopyOnWriteOverlay(file));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>What the guest sees, in command-line order.</summary>
    public List<IBlockStorage> Disks { get; } = [];

    private static FileBlockStorage Open(string path, bool persist)
    {
        if (Directory.Exists(path)) throw new UsageException($"{path}: is a directory, not a disk image");
        if (!File.Exists(path)) throw new UsageException($"{path}: no such disk image");
        // root may open any file for writing; a file with no write permission at all was still
        // meant to be read-only, so --persist refuses it for everyone.
        if (persist && !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & WriteBits) == 0)
            throw new UsageException($"{path}: the disk image is read-only, so --persist cannot write to it (drop --persist to keep writes in memory)");
        try
        {
            return FileBlockStorage.Open(path, readOnly: !persist);
        }
        catch (UnauthorizedAccessException) when (persist)
        {
            throw new UsageException($"{path}: cannot open the disk image for writing, as --persist needs (drop --persist to keep writes in memory)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{path}: cannot open the disk image: {e.Message}");
        }
    }

    private const UnixFileMode WriteBits = UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    /// <summary>Makes --persist writes durable; the overlays have nothing to write.</summary>
    public void Flush()
    {
        foreach (var disk in Disks) disk.Flush();
    }

    public void Dispose()
    {
        foreach (var file in _files) file.Dispose();
    }
}
