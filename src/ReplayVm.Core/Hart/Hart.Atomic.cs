namespace ReplayVm.Core.Hart;

public sealed unsafe partial class Hart
{
    private const ulong NoReservation = ulong.MaxValue;

    /// <summary>Address reserved by the last LR, or <see cref="NoReservation"/>.</summary>
    private ulong _reservationAddress;

    /// <summary>The value LR read. Like QEMU, SC succeeds only if memory still holds it (a compare-and-swap).</summary>
    private ulong _reservationValue;

    /// <summary>
    /// LR/SC and AMOs (unprivileged spec ch. 8). They need natural alignment: a misaligned LR raises
    /// a load address-misaligned exception, a misaligned SC or AMO a store/AMO one (8.4). An SC
    /// without a matching reservation fails without touching memory, as QEMU does.
    /// </summary>
    private bool ExecuteAtomic(ref DecodedInstruction d)
    {
        ulong address = X(d.Rs1);
        bool word = d.Op <= Opcode.AmomaxuW;
        int size = word ? 4 : 8;
        bool misaligned = (address & (ulong)(size - 1)) != 0;

        if (d.Op is Opcode.LrW or Opcode.LrD)
        {
            if (misaligned) { RaiseException(ExceptionCause.LoadMisaligned, address); return false; }
            ulong loaded;
            if (word) { if (!Load32(address, out uint w)) return false; loaded = (ulong)(int)w; }
            else if (!Load64(address, out loaded)) return false;
            _reservationAddress = address;
            _reservationValue = loaded;
            X(d.Rd) = loaded;
            return true;
        }

        if (d.Op is Opcode.ScW or Opcode.ScD)
        {
            bool reserved = _reservationAddress == address;
            _reservationAddress = NoReservation;
            if (!reserved) { X(d.Rd) = 1; return true; }
            if (misaligned) { RaiseException(ExceptionCause.StoreMisaligned, address); return false; }
            ulong current;
            if (word) { if (!AtomicLoad32(address, out uint w)) return false; current = (ulong)(int)w; }
            else if (!AtomicLoad64(address, out current)) return false;
            if (current != _reservationValue) { X(d.Rd) = 1; return true; }
            if (!(word ? Store32(address, (uint)X(d.Rs2)) : Store64(address, X(d.Rs2)))) return false;
            X(d.Rd) = 0;
            return true;
        }

        if (misaligned) { RaiseException(ExceptionCause.StoreMisaligned, address); return false; }
        ulong old;
        if (word) { if (!AtomicLoad32(address, out uint w)) return false; old = (ulong)(int)w; }
        else if (!AtomicLoad64(address, out old)) return false;
        ulong src = X(d.Rs2);
        ulong result = d.Op switch
        {
            Opcode.AmoswapW or Opcode.AmoswapD => src,
            Opcode.AmoaddW or Opcode.AmoaddD => old + src,
            Opcode.AmoxorW or Opcode.AmoxorD => old ^ src,
            Opcode.AmoandW or Opcode.AmoandD => old & src,
            Opcode.AmoorW or Opcode.AmoorD => old | src,
            Opcode.AmominW => (int)old < (int)src ? old : src,
            Opcode.AmomaxW => (int)old > (int)src ? old : src,
            Opcode.AmominuW => (uint)old < (uint)src ? old : src,
            Opcode.AmomaxuW => (uint)old > (uint)src ? old : src,
            Opcode.AmominD => (long)old < (long)src ? old : src,
            Opcode.AmomaxD => (long)old > (long)src ? old : src,
            Opcode.AmominuD => old < src ? old : src,
            _ => old > src ? old : src, // AmomaxuD
        };
        if (!(word ? Store32(address, (uint)result) : Store64(address, result))) return false;
        X(d.Rd) = old;
        return true;
    }

    // An AMO is a store for fault reporting: the read half of a failed AMO reports a store/AMO access fault.
    private bool AtomicLoad32(ulong address, out uint value)
    {
        ulong offset = address - _ramBase;
        if (offset < _ramSize - 3) return Load32(address, out value);
        bool ok = _bus.Read(address, 4, out ulong v);
        value = (uint)v;
        if (!ok) RaiseException(ExceptionCause.StoreAccessFault, address);
        return ok;
    }

    private bool AtomicLoad64(ulong address, out ulong value)
    {
        ulong offset = address - _ramBase;
        if (offset < _ramSize - 7) return Load64(address, out value);
        bool ok = _bus.Read(address, 8, out value);
        if (!ok) RaiseException(ExceptionCause.StoreAccessFault, address);
        return ok;
    }
}
