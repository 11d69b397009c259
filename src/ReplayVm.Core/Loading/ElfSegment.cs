namespace ReplayVm.Core.Loading;

/// <summary>
/// One PT_LOAD program header with its file bytes. Memory from <see cref="FileBytes"/>.Length up to
/// <see cref="MemorySize"/> is zero (the .bss part).
/// </summary>
public sealed record ElfSegment(
    ulong PhysicalAddress,
    ulong VirtualAddress,
    byte[] FileBytes,
    ulong MemorySize,
    bool Readable,
    bool Writable,
    bool Executable)
{
    /// <summary>
    /// Where the segment goes in guest memory. Like QEMU's <c>-kernel</c> loader for a bare-metal
    /// machine (no MMU on at reset), we place segments at their physical address.
    /// </summary>
    public ulong LoadAddress => PhysicalAddress;

    /// <summary>True when <paramref name="address"/> lies in this segment's memory image (virtual addresses).</summary>
    public bool ContainsVirtual(ulong address) => address >= VirtualAddress && address - VirtualAddress < MemorySize;
}
