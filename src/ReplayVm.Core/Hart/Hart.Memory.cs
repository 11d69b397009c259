using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ReplayVm.Core.Memory;

namespace ReplayVm.Core.Hart;

public sealed unsafe partial class Hart
{
    // Loads and stores. Untranslated M-mode accesses go straight to RAM through a pointer; with
    // translation or PMP in force they first hit the TLB (one compare, which also proves the page
    // RAM: see TlbEntry.SlowPathOnly), and anything unusual — a miss, a page-crossing access, MMIO —
    // takes the slow path. Misaligned accesses succeed, as on QEMU (the spec lets an implementation
    // handle them in hardware, 2.6). A failed access raises its exception and returns false; the
    // caller then leaves rd and pc alone. The fast paths (TryLoadFast, TryStoreFast) read no hart
    // state but the TLB, so the interpreter stores its step count and pc only before a slow path.

    private bool Load8(ulong address, out byte value) => Load(address, out value);
    private bool Load16(ulong address, out ushort value) => Load(address, out value);
    private bool Load32(ulong address, out uint value) => Load(address, out value);
    private bool Load64(ulong address, out ulong value) => Load(address, out value);
    private bool Store8(ulong address, byte value) => Store(address, value);
    private bool Store16(ulong address, ushort value) => Store(address, value);
    private bool Store32(ulong address, uint value) => Store(address, value);
    private bool Store64(ulong address, ulong value) => Store(address, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Load<T>(ulong address, out T value) where T : unmanaged =>
        TryLoadFast(address, out value) || LoadSlow(address, out value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Store<T>(ulong address, T value) where T : unmanaged =>
        TryStoreFast(address, value) || StoreSlow(address, value);

    /// <summary>
    /// A load from RAM through a TLB hit or, untranslated, a RAM address; false (nothing done) for
    /// anything else. The hit is one compare: the tag against the page of the access's last byte. An
    /// entry sits at its own page's index, so it can only hold that page when the first byte is on it
    /// too, and a page-crossing access misses.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryLoadFast<T>(ulong address, out T value) where T : unmanaged
    {
        ulong offset;
        if (_dataViaTlb)
        {
            ref TlbEntry e = ref _tlbPointer[(address >> 12) & TlbMask];
            if (e.ReadTag != (address + (ulong)(sizeof(T) - 1)) >> 12)
            {
                value = default;
                return false;
            }
            offset = (e.PhysicalPage | (address & PageMask)) - _ramBase;
        }
        else
        {
            offset = address - _ramBase;
            if (offset > _ramSize - (ulong)sizeof(T))
            {
                value = default;
                return false;
            }
        }
        value = Unsafe.ReadUnaligned<T>(_ramPointer + offset);
        return true;
    }

    /// <summary>A store to RAM through a TLB hit or, untranslated, to a RAM address (as <see cref="TryLoadFast"/>); false (nothing done) for anything else.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryStoreFast<T>(ulong address, T value) where T : unmanaged
    {
        ulong offset;
        if (_dataViaTlb)
        {
            ref TlbEntry e = ref _tlbPointer[(address >> 12) & TlbMask];
            if (e.WriteTag != (address + (ulong)(sizeof(T) - 1)) >> 12) return false;
            offset = (e.PhysicalPage | (address & PageMask)) - _ramBase;
            Unsafe.WriteUnaligned(_ramPointer + offset, value);
            NoteCodeWriteInPage(offset);
            return true;
        }
        offset = address - _ramBase;
        if (offset > _ramSize - (ulong)sizeof(T)) return false;
        Unsafe.WriteUnaligned(_ramPointer + offset, value);
        NoteCodeWrite(offset, sizeof(T));
        return true;
    }

    /// <summary>Value of the last out-of-line load (see <see cref="LoadSlow"/>), zero-extended.</summary>
    private ulong _slowLoadValue;

    /// <summary>
    /// The slow path of <see cref="Load"/>, for what <see cref="TryLoadFast"/> left. The value comes
    /// back through a field rather than an out parameter: an out parameter passed to a call that is
    /// not inlined would give the caller's variable a stack home, and every load on the fast path
    /// would then go through memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool LoadSlow<T>(ulong address, out T value) where T : unmanaged
    {
        bool ok = LoadOutOfLine(address, sizeof(T));
        value = Unsafe.As<ulong, T>(ref _slowLoadValue);
        return ok;
    }

    /// <summary>The slow path of <see cref="Store"/>, for what <see cref="TryStoreFast"/> left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool StoreSlow<T>(ulong address, T value) where T : unmanaged =>
        StoreOutOfLine(address, Widen(value), sizeof(T));

    // The slow paths below take the access size as a value rather than a type parameter: generic
    // methods instantiated over primitive types are not precompiled (ReadyToRun), so each size of each
    // was JIT-compiled, fully optimized for its loops, by every run whose guest pages or touches a device.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool LoadOutOfLine(ulong address, int size)
    {
        bool ok = _dataViaTlb ? LoadTranslated(address, size, out ulong value) : LoadFromBus(address, address, size, out value);
        _slowLoadValue = value;
        return ok;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool StoreOutOfLine(ulong address, ulong raw, int size) =>
        _dataViaTlb ? StoreTranslated(address, raw, size) : StoreToBus(address, address, raw, size);

    /// <summary>
    /// Every RAM store comes here: it stamps the page's write epoch (see <see cref="MainMemory.PageEpochs"/>)
    /// and drops cached decodes of a page holding code (self-modifying code, loaders). Callers have
    /// checked <c>offset + size &lt;= RAM size</c>, which bounds both page indexes, so they are
    /// taken without the JIT's checks. The second page is looked at only when the store runs into
    /// it, which a store through the TLB never does: on the hot path, one stamp and one lookup.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void NoteCodeWrite(ulong offset, int size)
    {
        ulong first = offset >> MainMemory.PageShift;
        uint epoch = _ram.Epoch;
        _pageEpochs[first] = epoch;
        bool holdsCode = first != _codeFreePage && HoldsCode(offset);
        if ((offset & PageMask) > (ulong)(MainMemory.PageSize - size))
        {
            _pageEpochs[first + 1] = epoch;
            holdsCode |= MainMemory.DecodedPageAt(_decodedChunks, offset + (ulong)size - 1) is not null;
        }
        if (holdsCode) InvalidateWrittenCode(offset, size);
    }

    /// <summary><see cref="NoteCodeWrite"/> for a store known not to leave its page (a TLB hit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void NoteCodeWriteInPage(ulong offset)
    {
        ulong page = offset >> MainMemory.PageShift;
        _pageEpochs[page] = _ram.Epoch;
        if (page != _codeFreePage && HoldsCode(offset)) InvalidateWrittenCode(offset, 1);
    }

    /// <summary>
    /// The RAM page (an index) the last store found without decoded code, or all ones: stores come in
    /// runs to one page (a stack frame, a page being cleared or copied — a kernel's most frequent
    /// instruction is sd), and the run skips the decode cache's two-level lookup. A page gains decoded
    /// code only through <see cref="FetchUncached"/>, which forgets this first.
    /// </summary>
    private ulong _codeFreePage = ulong.MaxValue;

    /// <summary>Whether the page holding RAM offset <paramref name="offset"/> holds decoded code; if not, it becomes <see cref="_codeFreePage"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool HoldsCode(ulong offset)
    {
        if (MainMemory.DecodedPageAt(_decodedChunks, offset) is not null) return true;
        _codeFreePage = offset >> MainMemory.PageShift;
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void InvalidateWrittenCode(ulong offset, int size)
    {
        _ram.InvalidateCode(offset);
        _ram.InvalidateCode(offset + (ulong)size - 1);
    }

    /// <summary><paramref name="value"/> zero-extended to 64 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Widen<T>(T value) where T : unmanaged
    {
        ulong raw = 0;
        Unsafe.As<ulong, T>(ref raw) = value;
        return raw;
    }

    /// <summary>The low <paramref name="size"/> bytes of <paramref name="raw"/> (1, 2, 4 or 8), zero-extended.</summary>
    private static ulong Truncate(ulong raw, int size) => size == 8 ? raw : raw & ((1UL << (8 * size)) - 1);

    /// <summary>Reads <paramref name="size"/> bytes at RAM offset <paramref name="offset"/>, which the caller has checked.</summary>
    private ulong ReadRam(ulong offset, int size) => size switch
    {
        1 => _ramPointer[offset],
        2 => Unsafe.ReadUnaligned<ushort>(_ramPointer + offset),
        4 => Unsafe.ReadUnaligned<uint>(_ramPointer + offset),
        _ => Unsafe.ReadUnaligned<ulong>(_ramPointer + offset),
    };

    /// <summary>Writes the low <paramref name="size"/> bytes of <paramref name="raw"/> at RAM offset <paramref name="offset"/>, which the caller has checked.</summary>
    private void WriteRam(ulong offset, ulong raw, int size)
    {
        switch (size)
        {
            case 1: _ramPointer[offset] = (byte)raw; break;
            case 2: Unsafe.WriteUnaligned(_ramPointer + offset, (ushort)raw); break;
            case 4: Unsafe.WriteUnaligned(_ramPointer + offset, (uint)raw); break;
            default: Unsafe.WriteUnaligned(_ramPointer + offset, raw); break;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool LoadFromBus(ulong address, ulong physical, int size, out ulong value)
    {
        bool ok = _bus.Read(physical, size, out ulong raw);
        value = Truncate(raw, size);
        if (!ok) RaiseException(ExceptionCause.LoadAccessFault, address);
        return ok;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool StoreToBus(ulong address, ulong physical, ulong raw, int size)
    {
        if (_bus.Write(physical, size, raw)) return true;
        RaiseException(ExceptionCause.StoreAccessFault, address);
        return false;
    }

    /// <summary>TLB miss or page-crossing load: translate (each byte separately when crossing). A
    /// load trigger is checked after translation, as QEMU checks watchpoints after its TLB fill.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool LoadTranslated(ulong address, int size, out ulong value)
    {
        value = 0;
        if ((address & PageMask) + (ulong)size <= MainMemory.PageSize)
        {
            // A device page the TLB holds (for the slow path only): straight to the bus, as a hit.
            ref TlbEntry e = ref _tlbPointer[(address >> 12) & TlbMask];
            if (e.ReadTag == (address >> 12 | TlbEntry.SlowPathOnly))
                return LoadFromBus(address, e.PhysicalPage | (address & PageMask), size, out value);
            if (!Translate(address, size, AccessType.Load, out ulong physical)) return false;
            if (LoadTriggerFires(address, size)) return false;
            ulong offset = physical - _ramBase;
            if (offset <= _ramSize - (ulong)size)
            {
                value = ReadRam(offset, size);
                return true;
            }
            return LoadFromBus(address, physical, size, out value);
        }
        Span<ulong> physicals = stackalloc ulong[8];
        for (int i = 0; i < size; i++)
            if (!Translate(address + (ulong)i, 1, AccessType.Load, out physicals[i])) return false;
        if (LoadTriggerFires(address, size)) return false;
        ulong raw = 0;
        for (int i = 0; i < size; i++)
        {
            if (!_bus.Read(physicals[i], 1, out ulong b))
            {
                RaiseException(ExceptionCause.LoadAccessFault, address);
                return false;
            }
            raw |= b << (8 * i);
        }
        value = raw;
        return true;
    }

    /// <summary>
    /// TLB miss or page-crossing store of the low <paramref name="size"/> bytes of <paramref name="raw"/>
    /// (zero-extended). A store that faults leaves memory unchanged (precise
    /// exceptions, privileged spec 1.6): when it crosses a page, every byte is translated and its
    /// target checked to exist before any is written, and device bytes are written before RAM
    /// bytes, so that a device refusing its part leaves RAM as it was. A store trigger is checked
    /// after translation, as QEMU checks watchpoints after its TLB fill.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool StoreTranslated(ulong address, ulong raw, int size)
    {
        if ((address & PageMask) + (ulong)size <= MainMemory.PageSize)
        {
            if (!TranslateStore(address, size, out ulong physical)) return false;
            if (StoreTriggerFires(address, size)) return false;
            ulong offset = physical - _ramBase;
            if (offset <= _ramSize - (ulong)size)
            {
                bool table = StoresIntoPageTable(offset, size);
                if (!table) RestoreStoreFastPath(address);
                var overwritten = table ? EntriesUnder(offset, size) : OverwrittenEntry.Invalid;
                ulong before = overwritten != OverwrittenEntry.Invalid ? ReadRam(offset, size) : 0;
                WriteRam(offset, raw, size);
                NoteCodeWrite(offset, size);
                if (overwritten != OverwrittenEntry.Invalid && before != raw) EntriesChanged(overwritten, offset, size);
                return true;
            }
            return StoreToBus(address, physical, raw, size);
        }
        Span<ulong> physicals = stackalloc ulong[8];
        for (int i = 0; i < size; i++)
            if (!Translate(address + (ulong)i, 1, AccessType.Store, out physicals[i])) return false;
        if (StoreTriggerFires(address, size)) return false;
        for (int i = 0; i < size; i++)
        {
            if (!IsRam(physicals[i]) && !_bus.Maps(physicals[i], 1))
            {
                RaiseException(ExceptionCause.StoreAccessFault, address);
                return false;
            }
        }
        for (int i = 0; i < size; i++)
        {
            if (!IsRam(physicals[i]) && !_bus.Write(physicals[i], 1, (raw >> (8 * i)) & 0xFF))
            {
                RaiseException(ExceptionCause.StoreAccessFault, address);
                return false;
            }
        }
        bool pageTablesChanged = false;
        for (int i = 0; i < size; i++)
        {
            if (!IsRam(physicals[i])) continue;
            ulong offset = physicals[i] - _ramBase;
            byte b = (byte)(raw >> (8 * i));
            pageTablesChanged |= _ramPointer[offset] != b && StoresIntoPageTable(offset, 1) && EntriesUnder(offset, 1) != OverwrittenEntry.Invalid;
            _ramPointer[offset] = b;
            NoteCodeWrite(offset, 1);
        }
        if (pageTablesChanged) PageTablesChanged();
        return true;
    }

    /// <summary>
    /// A store through a write tag marked <see cref="TlbEntry.SlowPathOnly"/> found its RAM page no
    /// longer holding page tables the TLB used (they were dropped with the translations read through
    /// them, see <see cref="LowerHalfDropped"/>): the tag becomes what <see cref="Translate"/> would make
    /// now, so the next stores into the page — Linux reusing a freed table page — take the fast path.
    /// </summary>
    private void RestoreStoreFastPath(ulong address)
    {
        ulong vpn = address >> 12;
        ref TlbEntry e = ref _tlbPointer[vpn & TlbMask];
        if (e.WriteTag != (vpn | TlbEntry.SlowPathOnly) || e.PhysicalPage - _ramBase > _ramSize - (PageMask + 1)) return;
        e.WriteTag = vpn;
        _writablePages.Add(e.PhysicalPage);
    }

    private bool IsRam(ulong physical) => physical - _ramBase < _ramSize;

    /// <summary>Reads guest physical memory for a debugger or tool, without side effects (<see cref="Bus.Peek(ulong, Span{byte})"/>); false if unmapped.</summary>
    public bool DebugRead(ulong address, Span<byte> destination) => _bus.Peek(address, destination);
}
