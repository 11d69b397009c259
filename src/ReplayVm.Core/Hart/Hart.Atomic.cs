using System.Runtime.CompilerServices;

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
            if (!TranslateStore(address, size, out ulong physical) || !AtomicRead(address, physical, size, out ulong current)) return false;
            if (word) current = (ulong)(int)current;
            if (current != _reservationValue) { X(d.Rd) = 1; return true; }
            if (!AtomicWrite(address, physical, size, X(d.Rs2))) return false;
            X(d.Rd) = 0;
            return true;
        }

        if (misaligned) { RaiseException(ExceptionCause.StoreMisaligned, address); return false; }
        {
            if (!TranslateStore(address, size, out ulong physical) || !AtomicRead(address, physical, size, out ulong old)) return false;
            if (word) old = (ulong)(int)old;
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
            if (!AtomicWrite(address, physical, size, result)) return false;
            X(d.Rd) = old;
            return true;
        }
    }

    // The memory halves of SC and AMOs, on an already translated address. An AMO counts as a store
    // for fault reporting, so even its read half reports a store/AMO access fault.
    private bool AtomicRead(ulong address, ulong physical, int size, out ulong value)
    {
        if (AtomicTriggerFires(address, size))
        {
            value = 0;
            return false;
        }
        ulong offset = physical - _ramBase;
        if (offset <= _ramSize - (ulong)size)
        {
            value = size == 4 ? Unsafe.ReadUnaligned<uint>(_ramPointer + offset) : Unsafe.ReadUnaligned<ulong>(_ramPointer + offset);
            return true;
        }
        if (_bus.Read(physical, size, out value)) return true;
        RaiseException(ExceptionCause.StoreAccessFault, address);
        return false;
    }

    private bool AtomicWrite(ulong address, ulong physical, int size, ulong value)
    {
        ulong offset = physical - _ramBase;
        if (offset <= _ramSize - (ulong)size)
        {
            // Linux changes page-table entries with AMOs (clearing A to age a page, swapping one out).
            var overwritten = StoresIntoPageTable(offset, size) ? EntriesUnder(offset, size) : OverwrittenEntry.Invalid;
            ulong before = overwritten == OverwrittenEntry.Invalid ? 0 : size == 4 ? Unsafe.ReadUnaligned<uint>(_ramPointer + offset) : Unsafe.ReadUnaligned<ulong>(_ramPointer + offset);
            if (size == 4) Unsafe.WriteUnaligned(_ramPointer + offset, (uint)value);
            else Unsafe.WriteUnaligned(_ramPointer + offset, value);
            NoteCodeWrite(offset, size);
            if (overwritten != OverwrittenEntry.Invalid && before != (size == 4 ? (uint)value : value)) EntriesChanged(overwritten, offset, size);
            return true;
        }
        if (_bus.Write(physical, size, value)) return true;
        RaiseException(ExceptionCause.StoreAccessFault, address);
        return false;
    }
}
