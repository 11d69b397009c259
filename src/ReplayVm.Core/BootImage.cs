using ReplayVm.Core.Loading;

namespace ReplayVm.Core;

/// <summary>A firmware or kernel image as the user gave it: an ELF placed at its own addresses, or raw bytes placed by the board's rules.</summary>
public abstract record BootImage
{
    private BootImage() { }

    public sealed record Elf(ElfImage Image) : BootImage;

    public sealed record Raw(byte[] Bytes) : BootImage;

    /// <summary>An ELF when the bytes start with the ELF magic, else raw (as QEMU tries ELF first for -bios and -kernel).</summary>
    public static BootImage FromBytes(byte[] bytes) =>
        bytes.Length >= 4 && bytes[0] == 0x7F && bytes[1] == (byte)'E' && bytes[2] == (byte)'L' && bytes[3] == (byte)'F'
            ? new Elf(ElfImage.Parse(bytes))
            : new Raw(bytes);
}
