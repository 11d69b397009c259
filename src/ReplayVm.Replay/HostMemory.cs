using ReplayVm.Core.Loading;
using ReplayVm.Replay.Format;

namespace ReplayVm.Replay;

/// <summary>
/// Whether this host can give a machine setup the memory it declares, checked before anything is
/// allocated: a trace that asks for more RAM than the host has is refused with one line saying how
/// much it needs, rather than failing somewhere inside the run (or, with lazily committed RAM, being
/// killed once the guest touches too much of it).
/// </summary>
public static class HostMemory
{
    /// <summary>Bytes this process may use: the host's physical memory, or the container's limit when lower.</summary>
    public static long Available => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>
    /// What the setup may need at most: its RAM, its images (decompressed once into RAM) and any
    /// format-2 embedded disk (held whole once read). Disks of format 3 are read block by block and
    /// a supplied disk stays in its file, so they need only what the guest writes to them.
    /// </summary>
    public static ulong Needed(MachineSetup setup)
    {
        ulong needed = setup.Config.RamSize;
        foreach (var image in setup.Images) needed += (ulong)image.Size;
        foreach (var disk in setup.Disks)
            if (disk.Content is LazyDiskStorage) needed += (ulong)disk.Size;
        return needed;
    }

    /// <summary>Throws <see cref="GuestImageException"/> when <see cref="Needed"/> exceeds <paramref name="available"/> (default: <see cref="Available"/>).</summary>
    public static void EnsureFits(MachineSetup setup, long? available = null)
    {
        ulong needed = Needed(setup);
        long have = available ?? Available;
        if (needed > (ulong)Math.Max(have, 0))
            throw new GuestImageException(
                $"it needs {Describe(needed)} of memory (RAM {Describe(setup.Config.RamSize)}" +
                (needed > setup.Config.RamSize ? $", images and disks {Describe(needed - setup.Config.RamSize)}" : "") +
                $"), but this host has {Describe((ulong)have)}; run it on a larger host");
    }

    public static string Describe(ulong bytes) =>
        bytes >= 1UL << 40 ? $"{bytes / (double)(1UL << 40):0.#} TiB" : bytes >= 1UL << 30 ? $"{bytes / (double)(1UL << 30):0.#} GiB" : bytes >= 1UL << 20 ? $"{bytes / (double)(1UL << 20):0.#} MiB" : $"{bytes} bytes";
}
