using System.Runtime.CompilerServices;
using ReplayVm.Core.Memory;

namespace ReplayVm.Core.Hart;

/// <summary>
/// Keeps the TLB coherent with the page tables in RAM. After a page-table entry changes and before
/// an SFENCE.VMA, the privileged spec (4.2.1) lets an access use the old translation or the new one.
/// Which one it gets must not depend on what the TLB happens to hold: its contents are not part of a
/// snapshot, and a restore, a watchpoint, the stored-page log or the other engine flush it, so a
/// guest that went on using a stale translation would replay from a checkpoint, or under a
/// debugger, differently from how it ran. So the TLB never holds a translation the page tables no
/// longer give: the walker marks every RAM page it reads an entry from (until the next flush); a
/// marked page never gets a TLB write entry, so each guest store into it takes the slow path, which
/// flushes the TLB if the store changed its bytes; a host-side write (DMA) into one flushes through
/// <see cref="MainMemory.PageTablesWritten"/>. Untranslated M-mode stores bypass the TLB, and need
/// not: M-mode uses no translation without MPRV, and a change of mode or of MPRV flushes the TLB
/// before one is used again. A/D updates by the walker itself change no cached translation (a
/// write entry is only made once D is set), so they flush nothing.
/// </summary>
public sealed unsafe partial class Hart
{
    /// <summary>The walker read a page-table entry at physical address <paramref name="pteAddress"/>.</summary>
    private void NotePageTableRead(ulong pteAddress)
    {
        ulong offset = pteAddress - _ramBase;
        // Entries outside RAM (a table in ROM) cannot be changed by a store that skips the slow path.
        if (offset >= _ramSize || !_ram.PageTables.Mark(offset >> MainMemory.PageShift)) return;
        // Entries made before the page became a table must stop letting stores into it skip the check.
        ulong page = pteAddress & ~PageMask;
        for (int i = 0; i < _tlb.Length; i++)
            if (_tlbPointer[i].PhysicalPage == page) _tlbPointer[i].WriteTag = TlbEntry.Invalid;
    }

    /// <summary>Whether physical page <paramref name="page"/> (an address) is RAM holding entries the TLB may have used.</summary>
    private bool IsPageTablePage(ulong page)
    {
        ulong offset = page - _ramBase;
        return offset < _ramSize && _ram.PageTables.Contains(offset >> MainMemory.PageShift);
    }

    /// <summary>Whether a RAM store at <paramref name="offset"/> of <paramref name="size"/> bytes (both pages checked by the caller to be RAM) lands on such a page.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool StoresIntoPageTable(ulong offset, int size) =>
        _ram.PageTables.Contains(offset >> MainMemory.PageShift) || _ram.PageTables.Contains((offset + (ulong)size - 1) >> MainMemory.PageShift);

    /// <summary>A store changed the bytes of a page the TLB's translations were read from.</summary>
    private void PageTablesChanged()
    {
        TranslationChanged();
        // The interpreter may be running on through the code page's translation as it was: like a
        // store into code, the change takes effect from the next instruction, in every engine.
        SliceEnd = 0;
    }

    /// <summary>The walker's A/D update of the entry at <paramref name="pteAddress"/>: stamped like any store, flushing nothing.</summary>
    private bool WritePageTableEntry(ulong pteAddress, ulong value)
    {
        ulong offset = pteAddress - _ramBase;
        if (offset > _ramSize - sizeof(ulong)) return _bus.Write(pteAddress, sizeof(ulong), value);
        Unsafe.WriteUnaligned(_ramPointer + offset, value);
        NoteCodeWrite(offset, sizeof(ulong));
        return true;
    }
}
