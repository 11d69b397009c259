using ReplayVm.Cli.Hosting;
using ReplayVm.Replay;

namespace ReplayVm.Cli.Commands;

/// <summary>Whether <c>record</c> embeds its <c>--drive</c> images in the trace.</summary>
internal enum DiskEmbedding
{
    /// <summary>Embed images up to <see cref="GuestDisk.DefaultEmbedLimit"/>; name larger ones by hash.</summary>
    Auto,
    /// <summary><c>--embed-disks</c>: embed every image (up to what the format holds).</summary>
    Always,
    /// <summary><c>--no-embed-disks</c>: name every image by hash; <c>replay --drive</c> supplies it.</summary>
    Never,
}

/// <summary>
/// The disk images of a recording or a replay: for <c>record</c>, the <c>--drive</c> files turned
/// into the trace's <see cref="GuestDisk"/>s (embedded, or named by size and SHA-256); for
/// <c>replay</c>, the <c>--drive</c> files that supply, in order, the disks a trace names only by
/// hash. Files are opened read-only and stay open until disposed; the guest always sees them
/// behind a copy-on-write overlay (<see cref="MachineSetup.Build"/>), so they never change.
/// </summary>
internal sealed class TraceDrives : IDisposable
{
    /// <summary>The largest disk a trace holds (embedded block by block, or named by hash).</summary>
    private const long MaxEmbeddedSize = ReplayVm.Replay.Format.TraceFormat.MaxDiskSize;

    private readonly List<(string Path, FileBlockStorage File)> _files = [];

    private TraceDrives() { }

    /// <summary>The disks for the trace header, in --drive order.</summary>
    public List<GuestDisk> Disks { get; } = [];

    /// <summary>Reads the --drive files of a recording.</summary>
    public static TraceDrives ForRecording(IEnumerable<string> paths, DiskEmbedding embedding)
    {
        var drives = new TraceDrives { _recording = true };
        try
        {
            foreach (var path in paths)
            {
                var file = Open(path);
                string name = Path.GetFileName(path);
                bool embed = embedding == DiskEmbedding.Always || (embedding == DiskEmbedding.Auto && file.Length <= GuestDisk.DefaultEmbedLimit);
                drives._files.Add((path, file));
                if (file.Length > MaxEmbeddedSize)
                    throw new UsageException($"{path}: {file.Length} bytes is larger than a trace holds (1 TiB)");
                // An embedded image is read from its file block by block as the trace is written, never whole into memory.
                drives.Disks.Add(embed ? GuestDisk.Embedded(name, file) : GuestDisk.ByHash(name, file.Length, GuestDisk.HashOf(file)));
            }
            return drives;
        }
        catch
        {
            drives.Dispose();
            throw;
        }
    }

    /// <summary>Opens the --drive files of a replay, to be matched with the trace's disks that are not embedded.</summary>
    public static TraceDrives ForReplay(IEnumerable<string> paths, TraceHeader header)
    {
        var drives = new TraceDrives();
        try
        {
            foreach (var path in paths) drives._files.Add((path, Open(path)));
            int needed = header.Setup.Disks.Count(d => !d.IsEmbedded);
            if (drives._files.Count > needed)
                throw new UsageException(needed == 0
                    ? "the trace embeds its disks (or has none): replay it without --drive"
                    : $"the trace names {needed} disks by hash, but {drives._files.Count} --drive files were given");
            return drives;
        }
        catch
        {
            drives.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Supplies <paramref name="setup"/>'s disks that are not embedded from the --drive files of a
    /// replay, in order: embedded disks take no file, so the n-th disk named by hash gets the n-th
    /// file. <see cref="MachineSetup.Build"/> checks size and hash. (A recording's files are already
    /// the disks' contents or supplies: each file belongs to the disk at its own position.)
    /// </summary>
    public DiskSupply For(MachineSetup setup) => (disk, index) =>
    {
        if (_recording) return index < _files.Count ? new SuppliedDisk(_files[index].File, _files[index].Path) : null;
        int position = setup.Disks.Take(index).Count(d => !d.IsEmbedded);
        return position < _files.Count ? new SuppliedDisk(_files[position].File, _files[position].Path) : null;
    };

    private bool _recording;

    private static FileBlockStorage Open(string path)
    {
        if (Directory.Exists(path)) throw new UsageException($"{path}: is a directory, not a disk image");
        if (!File.Exists(path)) throw new UsageException($"{path}: no such disk image");
        try
        {
            return FileBlockStorage.Open(path, readOnly: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{path}: cannot open the disk image: {e.Message}");
        }
    }

    public void Dispose()
    {
        foreach (var (_, file) in _files) file.Dispose();
    }
}
