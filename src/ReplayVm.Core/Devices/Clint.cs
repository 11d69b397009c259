using ReplayVm.Core.Hart;
using ReplayVm.Core.Memory;
using ReplayVm.Core.State;

namespace ReplayVm.Core.Devices;

/// <summary>
/// SiFive CLINT as on QEMU's virt (one hart): msip at 0x0, mtimecmp at 0x4000, mtime at 0xBFF8.
/// mtime is the guest clock (<see cref="GuestClock"/>), never the host's.
/// </summary>
public sealed class Clint(GuestClock clock, Action interruptStateChanged) : IMmioDevice, IDeviceState
{
    private const ulong MsipOffset = 0x0, MtimecmpOffset = 0x4000, MtimeOffset = 0xBFF8;

    public bool SoftwareInterrupt { get; private set; }

    /// <summary>Reset value is all ones, as QEMU's: no timer interrupt until software programs one.</summary>
    public ulong Mtimecmp { get; private set; } = ulong.MaxValue;

    public bool TimerInterrupt => clock.Ticks >= Mtimecmp;

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (offset == MsipOffset && size == 4) { value = SoftwareInterrupt ? 1UL : 0; return true; }
        if (TryRegister64(offset, size, MtimecmpOffset, Mtimecmp, out value)) return true;
        if (TryRegister64(offset, size, MtimeOffset, clock.Ticks, out value)) return true;
        // Other offsets inside the CLINT read as zero (msip of absent harts, reserved space).
        return size is 4 or 8;
    }

    /// <summary>Reading the CLINT has no side effects.</summary>
    public bool Peek(ulong offset, int size, out ulong value) => Read(offset, size, out value);

    public bool Write(ulong offset, int size, ulong value)
    {
        if (offset == MsipOffset && size == 4)
        {
            SoftwareInterrupt = (value & 1) != 0;
            interruptStateChanged();
            return true;
        }
        if (offset >= MtimecmpOffset && offset < MtimecmpOffset + 8)
        {
            Mtimecmp = Merge(Mtimecmp, offset - MtimecmpOffset, size, value);
            interruptStateChanged();
            return true;
        }
        if (offset >= MtimeOffset && offset < MtimeOffset + 8)
        {
            clock.SetTicks(Merge(clock.Ticks, offset - MtimeOffset, size, value));
            interruptStateChanged();
            return true;
        }
        return size is 4 or 8;
    }

    public void Restore(bool softwareInterrupt, ulong mtimecmp)
    {
        SoftwareInterrupt = softwareInterrupt;
        Mtimecmp = mtimecmp;
    }

    public void SaveState(BinaryWriter w)
    {
        w.Write(SoftwareInterrupt);
        w.Write(Mtimecmp);
    }

    public void LoadState(BinaryReader r) => Restore(r.ReadBoolean(), r.ReadUInt64());

    /// <summary>64-bit registers may be accessed whole or as two 32-bit halves.</summary>
    private static bool TryRegister64(ulong offset, int size, ulong registerOffset, ulong register, out ulong value)
    {
        value = 0;
        if (offset == registerOffset && size == 8) { value = register; return true; }
        if (offset == registerOffset && size == 4) { value = (uint)register; return true; }
        if (offset == registerOffset + 4 && size == 4) { value = register >> 32; return true; }
        return false;
    }

    private static ulong Merge(ulong old, ulong byteOffset, int size, ulong value)
    {
        if (size == 8) return value;
        int shift = (int)byteOffset * 8;
        ulong mask = (size == 4 ? 0xFFFF_FFFFUL : (1UL << (size * 8)) - 1) << shift;
        return (old & ~mask) | ((value << shift) & mask);
    }
}
