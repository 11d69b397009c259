using ReplayVm.Core.Memory;

namespace ReplayVm.Core.Devices;

/// <summary>
/// The mask ROM at 0x1000 where QEMU's virt starts every hart. Its few instructions set
/// a0 = mhartid, a1 = device-tree address, a2 = the fw_dynamic info block, and jump to the
/// firmware or kernel entry, so guests see the same registers and instruction count as on QEMU.
/// </summary>
public sealed class BootRom : IMmioDevice
{
    public const ulong Base = 0x1000;
    public const ulong Size = 0xF000;

    // fw_dynamic_info (OpenSBI's include/sbi/fw_dynamic.h layout): magic, version, next_addr, next_mode, options, boot_hart.
    private const ulong FwDynamicMagic = 0x4942534f, FwDynamicVersion = 2, NextModeSupervisor = 1;
    private const int InfoOffset = 0x28;

    private readonly byte[] _bytes = new byte[Size];

    public BootRom(ulong entry, ulong deviceTreeAddress, ulong nextStageEntry)
    {
        uint[] code =
        [
            0x00000297, // auipc t0, 0          t0 = 0x1000
            0x02828613, // addi  a2, t0, 0x28   a2 = &fw_dynamic_info
            0xf1402573, // csrr  a0, mhartid
            0x0202b583, // ld    a1, 32(t0)     device tree
            0x0182b283, // ld    t0, 24(t0)     entry
            0x00028067, // jr    t0
        ];
        for (int i = 0; i < code.Length; i++) BitConverter.TryWriteBytes(_bytes.AsSpan(4 * i), code[i]);
        BitConverter.TryWriteBytes(_bytes.AsSpan(24), entry);
        BitConverter.TryWriteBytes(_bytes.AsSpan(32), deviceTreeAddress);
        ulong[] info = [FwDynamicMagic, FwDynamicVersion, nextStageEntry, NextModeSupervisor, 0, 0];
        for (int i = 0; i < info.Length; i++) BitConverter.TryWriteBytes(_bytes.AsSpan(InfoOffset + 8 * i), info[i]);
    }

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        for (int i = size - 1; i >= 0; i--) value = value << 8 | _bytes[(int)offset + i];
        return true;
    }

    public bool Peek(ulong offset, int size, out ulong value) => Read(offset, size, out value);

    public int RegisterWidth => 8;

    /// <summary>A ROM: writes are discarded, as QEMU discards them.</summary>
    public bool Write(ulong offset, int size, ulong value) => true;
}
