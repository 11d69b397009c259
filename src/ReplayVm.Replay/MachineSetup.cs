using System.Security.Cryptography;
using ReplayVm.Core;
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
    /// <summary>Firmware (ELF or flat binary at the load address) that the hart starts in.</summary>
    Bios = 3,
    /// <summary>A payload the firmware jumps to: placed in RAM (ELF segments, or flat at the load address), not started.</summary>
    Kernel = 4,
}

/// <summary>One guest image: its bytes, what it is, and where it went.</summary>
public sealed record GuestImage(ImageRole Role, string Name, ulong LoadAddress, byte[] Bytes)
{
    private byte[]? _sha256;

    /// <summary>SHA-256 of <see cref="Bytes"/>, as stored in the trace header.</summary>
    public byte[] Sha256 => _sha256 ??= SHA256.HashData(Bytes);

    public bool Equals(GuestImage? other) =>
        other is not null && Role == other.Role && Name == other.Name && LoadAddress == other.LoadAddress && Bytes.AsSpan().SequenceEqual(other.Bytes);

    public override int GetHashCode() => HashCode.Combine(Role, Name, LoadAddress, Bytes.Length);
}

/// <summary>
/// Everything needed to build the same machine again: its configuration and its images in load
/// order. A trace header carries one, so a trace replays with nothing else.
/// </summary>
public sealed record MachineSetup(MachineConfig Config, IReadOnlyList<GuestImage> Images)
{
    /// <summary>The common case: one ELF run as QEMU's <c>-bios none -kernel FILE</c> would.</summary>
    public static MachineSetup ForElf(MachineConfig config, string name, byte[] elf) =>
        new(config, [new GuestImage(ImageRole.Elf, name, 0, elf)]);

    /// <summary>A flat binary started at <paramref name="address"/>.</summary>
    public static MachineSetup ForRaw(MachineConfig config, string name, byte[] data, ulong address) =>
        new(config, [new GuestImage(ImageRole.Raw, name, address, data)]);

    /// <summary>
    /// Builds the machine and loads the images with Core's public API. Kernels are placed first and
    /// the one started image (ELF, raw or bios) last, because loading that one resets the hart.
    /// Throws <see cref="GuestImageException"/> for an image that does not fit or parse.
    /// </summary>
    public Machine Build(IInputPort input, Action<byte> consoleOutput)
    {
        var started = Images.Where(i => i.Role != ImageRole.Kernel).ToList();
        if (started.Count != 1)
            throw new GuestImageException($"a machine setup needs exactly one image to start (elf, raw or bios), not {started.Count}");

        var machine = new Machine(Config, input, consoleOutput);
        foreach (var kernel in Images.Where(i => i.Role == ImageRole.Kernel)) Place(machine, kernel);

        var boot = started[0];
        switch (boot.Role)
        {
            case ImageRole.Elf: machine.LoadElf(ElfImage.Parse(boot.Bytes)); break;
            case ImageRole.Raw: machine.LoadRaw(boot.Bytes, boot.LoadAddress); break;
            case ImageRole.Bios when IsElfImage(boot.Bytes): machine.LoadElf(ElfImage.Parse(boot.Bytes)); break;
            case ImageRole.Bios: machine.LoadRaw(boot.Bytes, boot.LoadAddress); break;
        }
        return machine;
    }

    /// <summary>Copies a kernel into RAM without starting it: ELF segments at their addresses, else flat.</summary>
    private static void Place(Machine machine, GuestImage kernel)
    {
        if (!IsElfImage(kernel.Bytes))
        {
            if (!machine.Ram.Contains(kernel.LoadAddress, (ulong)Math.Max(kernel.Bytes.Length, 1)))
                throw new GuestImageException($"kernel '{kernel.Name}' of {kernel.Bytes.Length} bytes at 0x{kernel.LoadAddress:x} does not fit in RAM");
            machine.Ram.Write(kernel.LoadAddress, kernel.Bytes);
            return;
        }
        foreach (var segment in ElfImage.Parse(kernel.Bytes).Segments)
        {
            if (segment.MemorySize == 0) continue;
            if (!machine.Ram.Contains(segment.LoadAddress, segment.MemorySize))
                throw new GuestImageException($"kernel '{kernel.Name}': segment at 0x{segment.LoadAddress:x} lies outside RAM");
            var bytes = new byte[segment.MemorySize];
            segment.FileBytes.CopyTo(bytes, 0);
            machine.Ram.Write(segment.LoadAddress, bytes);
        }
    }

    private static bool IsElfImage(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 4 && bytes[0] == 0x7F && bytes[1] == (byte)'E' && bytes[2] == (byte)'L' && bytes[3] == (byte)'F';

    public bool Equals(MachineSetup? other) => other is not null && Config == other.Config && Images.SequenceEqual(other.Images);

    public override int GetHashCode() => HashCode.Combine(Config, Images.Count);
}
