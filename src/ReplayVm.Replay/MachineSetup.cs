using System.Security.Cryptography;
using ReplayVm.Core;
using ReplayVm.Core.Devices.Storage;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;

namespace ReplayVm.Replay;

/// <summary>How an image was put into the machine; the numbers are the bytes in a trace header.</summary>
public enum ImageRole : byte
{
    /// <summary>An ELF loaded at its own physical addresses and started at its entry (<c>-bios none -kernel X.elf</c>).</summary>
    Elf = 1,
    /// <summary>A flat binary copied to <see cref="GuestImage.LoadAddress"/> and started there.</summary>
    Raw = 2,
    /// <summary>Firmware the hart starts in (<c>-bios</c>): an ELF, or flat at the start of RAM.</summary>
    Bios = 3,
    /// <summary>The payload the firmware starts (<c>-kernel</c> with <c>-bios</c>): an ELF, or flat at the first 2 MiB boundary after the firmware.</summary>
    Kernel = 4,
    /// <summary>An initial RAM disk for the kernel (<c>-initrd</c>), placed where QEMU 7.2 places it (see <see cref="Machine.LoadFirmware"/>).</summary>
    Initrd = 5,
}

/// <summary>
/// One guest image: what it is, where it went, its size and SHA-256, and its bytes. An image read
/// from a trace keeps its compressed bytes and decompresses them on first use (checked against the
/// SHA-256 then), so describing a trace never inflates its images.
/// </summary>
public sealed class GuestImage : IEquatable<GuestImage>
{
    private byte[]? _bytes;
    private byte[]? _sha256;
    private readonly Func<byte[]>? _load;
    private readonly Lock _lock = new();

    public GuestImage(ImageRole role, string name, ulong loadAddress, byte[] bytes)
    {
        (Role, Name, LoadAddress, _bytes, Size) = (role, name, loadAddress, bytes, bytes.LongLength);
    }

    /// <summary>An image whose bytes come from <paramref name="load"/> when first needed; it must return <paramref name="size"/> bytes with this SHA-256.</summary>
    internal GuestImage(ImageRole role, string name, ulong loadAddress, long size, byte[] sha256, Func<byte[]> load)
    {
        (Role, Name, LoadAddress, Size, _sha256, _load) = (role, name, loadAddress, size, sha256, load);
    }

    public ImageRole Role { get; }
    public string Name { get; }
    public ulong LoadAddress { get; }

    /// <summary>Uncompressed size in bytes (known without decompressing).</summary>
    public long Size { get; }

    /// <summary>The image's bytes; for an image from a trace, decompressed (and checked) on first use.</summary>
    public byte[] Bytes
    {
        get
        {
            if (_bytes is { } bytes) return bytes;
            lock (_lock) return _bytes ??= _load!();
        }
    }

    /// <summary>SHA-256 of <see cref="Bytes"/>, as stored in the trace header.</summary>
    public byte[] Sha256 => _sha256 ??= SHA256.HashData(Bytes);

    public bool Equals(GuestImage? other) =>
        other is not null && Role == other.Role && Name == other.Name && LoadAddress == other.LoadAddress && Size == other.Size
        && Sha256.AsSpan().SequenceEqual(other.Sha256);

    public override bool Equals(object? obj) => Equals(obj as GuestImage);

    public override int GetHashCode() => HashCode.Combine(Role, Name, LoadAddress, Size);

    public override string ToString() => $"{Role} '{Name}' ({Size} bytes)";
}

/// <summary>
/// Everything needed to build the same machine again: its configuration, its images in load
/// order and its virtio-blk disks in attach order. A trace header carries one, so a trace replays
/// with nothing else (a disk too large to embed is named by its SHA-256 and supplied at replay).
/// </summary>
public sealed record MachineSetup(MachineConfig Config, IReadOnlyList<GuestImage> Images)
{
    /// <summary>The disks, in attach order: the first sits in virtio slot 0 (0x1000_1000, IRQ 1).</summary>
    public IReadOnlyList<GuestDisk> Disks { get; init; } = [];

    /// <summary>The common case: one ELF run as QEMU's <c>-bios none -kernel FILE</c> would.</summary>
    public static MachineSetup ForElf(MachineConfig config, string name, byte[] elf) =>
        new(config, [new GuestImage(ImageRole.Elf, name, 0, elf)]);

    /// <summary>QEMU's <c>-bios FIRMWARE [-kernel KERNEL]</c>; Core places both (their load addresses are recorded as 0).</summary>
    public static MachineSetup ForFirmware(MachineConfig config, string firmwareName, byte[] firmware, string? kernelName = null, byte[]? kernel = null,
        string? initrdName = null, byte[]? initrd = null)
    {
        if (initrd is not null && kernel is null) throw new ArgumentException("an initrd needs a kernel", nameof(initrd));
        var images = new List<GuestImage> { new(ImageRole.Bios, firmwareName, 0, firmware) };
        if (kernel is not null) images.Add(new GuestImage(ImageRole.Kernel, kernelName ?? "kernel", 0, kernel));
        if (initrd is not null) images.Add(new GuestImage(ImageRole.Initrd, initrdName ?? "initrd", 0, initrd));
        return new(config, images);
    }

    /// <summary>A flat binary started at <paramref name="address"/>.</summary>
    public static MachineSetup ForRaw(MachineConfig config, string name, byte[] data, ulong address) =>
        new(config, [new GuestImage(ImageRole.Raw, name, address, data)]);

    /// <summary>
    /// Builds the machine and loads the images with Core's public API: an <c>elf</c> or <c>raw</c>
    /// image alone, or a <c>bios</c> with at most one <c>kernel</c> (QEMU's <c>-bios F -kernel K</c>,
    /// placed by <see cref="Machine.LoadFirmware"/>), with an <c>initrd</c> when there is a kernel. Throws <see cref="GuestImageException"/> for a
    /// combination that is not one of these, or an image that does not fit or parse.
    /// Disks are attached first (the device tree lists them), each behind a fresh
    /// <see cref="CopyOnWriteOverlay"/> over its embedded bytes or, for a disk the trace names only
    /// by hash, over what <paramref name="supply"/> returns — checked against the recorded size and
    /// SHA-256 (a missing or different image is a <see cref="GuestImageException"/>).
    /// </summary>
    public Machine Build(IInputPort input, Action<byte> consoleOutput, DiskSupply? supply = null)
    {
        var bios = Images.Where(i => i.Role == ImageRole.Bios).ToList();
        var kernels = Images.Where(i => i.Role == ImageRole.Kernel).ToList();
        var initrds = Images.Where(i => i.Role == ImageRole.Initrd).ToList();
        var direct = Images.Where(i => i.Role is ImageRole.Elf or ImageRole.Raw).ToList();
        bool valid = (direct.Count == 1 && bios.Count == 0 && kernels.Count == 0 && initrds.Count == 0)
            || (direct.Count == 0 && bios.Count == 1 && kernels.Count <= 1 && initrds.Count <= kernels.Count);
        if (!valid)
            throw new GuestImageException(
                $"a machine setup needs one elf or raw image, or one bios with at most one kernel and at most one initrd with it; this one has {Describe()}");

        // Before anything is allocated: a setup asking for more memory than the host has is refused in one line.
        HostMemory.EnsureFits(this);
        var disks = Disks.Select((disk, index) => OpenDisk(disk, index, supply)).ToList();
        if (disks.Count > 0 && Config.Board != BoardKind.Virt)
            throw new GuestImageException("disks need the virt board");

        var machine = new Machine(Config, input, consoleOutput);
        try
        {
            foreach (var disk in disks) machine.AttachDisk(new CopyOnWriteOverlay(disk));
        }
        catch (InvalidOperationException e)
        {
            throw new GuestImageException($"cannot attach {disks.Count} disks: {e.Message}");
        }
        if (direct.Count == 1)
        {
            var image = direct[0];
            if (image.Role == ImageRole.Elf) machine.LoadElf(ElfImage.Parse(image.Bytes));
            else machine.LoadRaw(image.Bytes, image.LoadAddress);
        }
        else
        {
            machine.LoadFirmware(BootImage.FromBytes(bios[0].Bytes), kernels.Count == 1 ? BootImage.FromBytes(kernels[0].Bytes) : null,
                initrds.Count == 1 ? initrds[0].Bytes : null);
        }
        return machine;
    }

    private static IBlockStorage OpenDisk(GuestDisk disk, int index, DiskSupply? supply)
    {
        // Embedded contents are checked as they are read (per block, or against the SHA-256 for a format-2 disk).
        if (disk.Content is { } content)
        {
            if (content is Format.TraceDiskStorage blocks) blocks.VerifyOnce(disk.Sha256);
            return content;
        }
        var image = supply?.Invoke(disk, index)
            ?? throw new GuestImageException(
                $"disk {index + 1} '{disk.Name}' ({disk.Size} bytes, sha256 {disk.Sha256Hex}) is not embedded in the trace: supply the image with --drive FILE");
        disk.Verify(image.Storage, image.Source, index);
        return image.Storage;
    }

    /// <summary>
    /// Checks every image and embedded disk against its SHA-256 (decompressing each image once and
    /// reading each disk a block at a time); throws <see cref="Format.TraceFormatException"/> on a mismatch.
    /// </summary>
    public void VerifyContents()
    {
        foreach (var image in Images) _ = image.Bytes;
        foreach (var disk in Disks)
            if (disk.Content is Format.TraceDiskStorage blocks) blocks.VerifyOnce(disk.Sha256);
            else if (disk.Content is Format.LazyDiskStorage whole) whole.Read(0, new byte[Math.Min(1, disk.Size)]);
    }

    private string Describe() => Images.Count == 0 ? "no images" : string.Join(", ", Images.Select(i => $"{i.Role.ToString().ToLowerInvariant()} '{i.Name}'"));

    public bool Equals(MachineSetup? other) =>
        other is not null && Config == other.Config && Images.SequenceEqual(other.Images) && Disks.SequenceEqual(other.Disks);

    public override int GetHashCode() => HashCode.Combine(Config, Images.Count, Disks.Count);
}
