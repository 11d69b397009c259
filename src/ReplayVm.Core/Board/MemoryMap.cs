namespace ReplayVm.Core.Board;

/// <summary>
/// Addresses of QEMU's <c>virt</c> board (hw/riscv/virt.c), kept in one place: devices know only
/// offsets, the board places them here.
/// </summary>
public static class MemoryMap
{
    public const ulong TestFinisherBase = 0x0010_0000, TestFinisherSize = 0x1000;
    public const ulong RtcBase = 0x0010_1000, RtcSize = 0x1000;
    public const ulong ClintBase = 0x0200_0000, ClintSize = 0x1_0000;
    public const ulong PlicBase = 0x0c00_0000, PlicSize = 0x60_0000;
    public const ulong UartBase = 0x1000_0000, UartSize = 0x100;
    public const ulong VirtioBase = 0x1000_1000, VirtioSlotSize = 0x1000, VirtioSlots = 8;
    public const ulong RamBase = 0x8000_0000;
    public const ulong DefaultRamSize = 128UL << 20;

    /// <summary>Guest time runs at 10 MHz, as on QEMU's virt (timebase-frequency).</summary>
    public const ulong TimebaseHz = 10_000_000;
}
