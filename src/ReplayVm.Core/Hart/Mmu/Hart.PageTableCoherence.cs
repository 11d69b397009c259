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
/// marked page never gets a TLB write entry the fast path can use (only a SlowPathOnly one, which spares
/// the slow path its walk), so each guest store into it takes the slow path, which
/// flushes the TLB if the store changed the bytes of a valid entry (an invalid one gave no cached
/// translation); a host-side write (DMA) into one flushes through
/// <see cref="MainMemory.PageTablesWritten"/>. Untranslated M-mode stores bypass the TLB, and need
/// not: M-mode uses no translation without MPRV, and a change of mode or of MPRV flushes the TLB
/// before one is used again. A/D updates by the walker itself change no cached translation (a
/// write entry is only made once D is set), so they flush nothing. The same holds for the page-walk
/// cache, whose tables stay marked as long as it holds them. Because the TLB is always coherent,
/// SFENCE.VMA has nothing left to flush.
/// </summary>
public sealed unsafe partial class Hart
{
    /// <summary>The walker read a page-table entry at physical address <paramref name="pteAddress"/>, as <paramref name="use"/> says.</summary>
    private void NotePageTableRead(ulong pteAddress, PageTableUse use)
    {
        ulong offset = pteAddress - _ramBase;
        // Entries outside RAM (a table in ROM) cannot be changed by a store that skips the slow path.
        if (offset >= _ramSize || !_ram.PageTables.Mark(offset >> MainMemory.PageShift, use)) return;
        // Entries made before the page became a table must stop letting stores into it skip the check.
        ulong page = pteAddress & ~PageMask;
        if (!_writablePages.MayContain(page)) return; // (after a flush, tables are read before anything writes them)
        var downgrade = new DowngradeWrites(page);
        ForEachFilledEntry(ref downgrade); // every bank
    }

    private readonly struct DowngradeWrites(ulong page) : ITlbEntryVisitor
    {
        public void Visit(Hart hart, int index)
        {
            ref TlbEntry e = ref hart._tlb[index];
            if (e.PhysicalPage == page) e.WriteTag |= TlbEntry.SlowPathOnly;
        }
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

    /// <summary>What a store into a page-table page is about to overwrite, by what was cached from it.</summary>
    private enum OverwrittenEntry { Invalid, Leaf, Pointer }

    /// <summary>
    /// The most a store of <paramref name="size"/> bytes (at most 8) at RAM <paramref name="offset"/>
    /// can make stale, read before it writes: nothing (invalid entries: a walk that meets one faults
    /// and caches nothing, and Linux fills empty entries on every page fault and fork), the
    /// translations made from one leaf, or a pointer to a table (whole subtrees, and the walk cache).
    /// </summary>
    private OverwrittenEntry EntriesUnder(ulong offset, int size)
    {
        ulong first = offset & ~7UL, last = (offset + (ulong)size - 1) & ~7UL;
        var kind = KindOf(Unsafe.ReadUnaligned<ulong>(_ramPointer + first));
        if (last != first) kind = (OverwrittenEntry)Math.Max((int)kind, (int)KindOf(Unsafe.ReadUnaligned<ulong>(_ramPointer + last)));
        return kind;

        static OverwrittenEntry KindOf(ulong pte) =>
            (pte & PteV) == 0 ? OverwrittenEntry.Invalid : (pte & (PteR | PteW | PteX)) != 0 ? OverwrittenEntry.Leaf : OverwrittenEntry.Pointer;
    }

    /// <summary>A store at RAM <paramref name="offset"/> changed the bytes of entries that were <paramref name="kind"/> before it.</summary>
    private void EntriesChanged(OverwrittenEntry kind, ulong offset, int size)
    {
        ulong first = _ramBase + (offset & ~7UL), last = _ramBase + ((offset + (ulong)size - 1) & ~7UL);
        if (kind == OverwrittenEntry.Pointer)
        {
            // A pointer led only to addresses its table was read for (PageTableUse): Linux frees and
            // clears a process's tables at every exit and exec, and its kernel's translations stay.
            var halves = HalvesReachedThrough(first) | HalvesReachedThrough(last);
            if (halves == (PageTableUse.LowerHalf | PageTableUse.UpperHalf))
            {
                PageTablesChanged();
                return;
            }
            if ((halves & _cachedHalves) != PageTableUse.None)
            {
                Span<ulong> kept = stackalloc ulong[512 / 64];
                // An address's bit 63 (and up, none) is its half: "index" 0 is the lower half, 1 the upper.
                kept[0] = halves == PageTableUse.LowerHalf ? 2UL : 1UL;
                KeepTranslationsOnly(kept, topShift: 63);
                if (halves == PageTableUse.LowerHalf) LowerHalfDropped();
                else _cachedHalves &= ~halves;
                SliceEnd = 0; // the interpreter may be running on through a code page in the dropped half
            }
            // A store over two entries may have changed a leaf too: forget what was made from it, as below.
        }
        // Forget the translations made from it, in every bank. A superpage's leaf gives one entry per
        // 4 KiB page touched, in any slot; a 4 KiB page's, only the slot its index picks, which is all
        // there is to look at unless the leaf may have made an entry elsewhere (Linux rewrites user
        // pages' leaves on every fork, fault and exit, and scanning every bank for each was 2% of its time).
        if (_offSlotLeaves.MayContain(first) || _offSlotLeaves.MayContain(last))
        {
            var forget = new ForgetMadeFrom(first, last);
            ForEachFilledEntry(ref forget);
        }
        else
        {
            for (int slots = 0; slots < _tlb.Length; slots += 512) // each bank's slots, 512 at a time
            {
                ForgetIfMadeFrom(slots + TlbSlotOfLeaf(first), first, last);
                ForgetIfMadeFrom(slots + TlbSlotOfLeaf(last), first, last);
            }
        }
        if (_fetchedLeaves.MayContain(first) || _fetchedLeaves.MayContain(last))
        {
            // Code may have been found through it: so were translated regions and their links, and
            // the interpreter may be running on through the page as it was mapped.
            _fetchVirtualPage = TlbEntry.Invalid;
            InvalidateRegionLookups();
            SliceEnd = 0;
        }
    }

    private readonly struct ForgetMadeFrom(ulong first, ulong last) : ITlbEntryVisitor
    {
        public void Visit(Hart hart, int index) => hart.ForgetIfMadeFrom(index, first, last);
    }

    /// <summary>
    /// The halves of the address space whose translations may have been read through the entry at
    /// physical address <paramref name="entryAddress"/>: those its page was read for below the root
    /// and, if it was read as a root, the half its own index leads to.
    /// </summary>
    private PageTableUse HalvesReachedThrough(ulong entryAddress)
    {
        ulong offset = entryAddress - _ramBase;
        if (offset >= _ramSize) return PageTableUse.None;
        var use = _ram.PageTables.UseOf(offset >> MainMemory.PageShift);
        var halves = use & (PageTableUse.LowerHalf | PageTableUse.UpperHalf);
        if ((use & PageTableUse.Root) != 0) halves |= ((entryAddress >> 3) & 511) >= 256 ? PageTableUse.UpperHalf : PageTableUse.LowerHalf;
        return halves;
    }

    /// <summary>Drops TLB entry <paramref name="i"/> if it was made from the leaf at <paramref name="first"/> or <paramref name="last"/>.</summary>
    private void ForgetIfMadeFrom(int i, ulong first, ulong last)
    {
        if (_tlbLeaf[i] != first && _tlbLeaf[i] != last) return;
        ref TlbEntry e = ref _tlb[i];
        e.ReadTag = e.WriteTag = e.ExecuteTag = TlbEntry.Invalid;
    }

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
