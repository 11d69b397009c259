using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ReplayVm.Core.Memory;

namespace ReplayVm.Core.Hart;

/// <summary>
/// Address translation: Sv39, Sv48 and Sv57 page walks (privileged spec 4.3–4.5) with hardware A/D
/// updates as QEMU does them, PMP checks (3.7), a page-walk cache and a software TLB so that a hit
/// costs a compare. A change of mode or of mstatus's translation bits switches TLB banks; satp,
/// PMP and page-table changes that could make a cached translation wrong flush what they affect,
/// and the fast-path switches below are recomputed.
/// </summary>
public sealed unsafe partial class Hart
{
    /// <summary>2048 entries a bank: Linux's kernel and a process's pages conflicted in 256 and 512
    /// (0.49 M walks in 1.2×10⁸ steps of boot + spawn 200 with 256, 0.29 M with 512, 0.21 M with 2048).
    /// A bank's scans visit only its filled entries (<see cref="_tlbFilled"/>), so its size costs them nothing.</summary>
    private const int TlbBits = 11;
    private const ulong TlbMask = (1 << TlbBits) - 1;
    private const ulong PageMask = 0xFFF;

    // PTE bits (4.3.1)
    private const ulong PteV = 1, PteR = 2, PteW = 4, PteX = 8, PteU = 16, PteA = 64, PteD = 128;
    private const ulong PpnMask = (1UL << 44) - 1;

    /// <summary>
    /// The TLB, in banks of 2^<see cref="TlbBits"/> direct-mapped entries, one bank per
    /// <see cref="TranslationKey"/> in recent use (a bank's tags say what its key may do). A system
    /// call or page fault moves between U-mode's bank and S-mode's, and back, keeping both: Linux
    /// running processes traps thousands of times a second, and refilling the TLB after every trap
    /// and return was most of its walks. Entries hold only what the page tables give now (see
    /// Hart.PageTableCoherence.cs), whichever bank they sit in.
    /// </summary>
    private const int TlbBanks = 4;
    private readonly TlbEntry[] _tlb = GC.AllocateArray<TlbEntry>(TlbBanks << TlbBits, pinned: true);
    /// <summary>The current bank's first entry.</summary>
    private TlbEntry* _tlbPointer;
    /// <summary>Index of the current bank's first entry in <see cref="_tlb"/> and <see cref="_tlbLeaf"/>.</summary>
    private int _tlbBankBase;
    private readonly ulong[] _bankKey = new ulong[TlbBanks];
    /// <summary>A bank is valid while its generation is <see cref="_tlbGeneration"/>; a full flush moves that on.</summary>
    private readonly ulong[] _bankGeneration = new ulong[TlbBanks];
    private readonly ulong[] _bankLastUsed = new ulong[TlbBanks];
    private ulong _tlbGeneration = 1, _bankClock;

    /// <summary>
    /// One bit per TLB entry (every bank) that may hold a tag: set where <see cref="Translate"/> fills
    /// an entry, cleared where a bank is emptied. What scans the TLB — emptying a bank, the walker's
    /// downgrade of a new table page's write tags, forgetting a superpage's leaf — visits only these:
    /// between flushes a bank's few hundred filled entries, not its 2^<see cref="TlbBits"/>.
    /// </summary>
    private readonly ulong[] _tlbFilled = new ulong[(TlbBanks << TlbBits) / 64];

    /// <summary>Calls <paramref name="visit"/> with the index (in <see cref="_tlb"/>) of every filled entry in words [<paramref name="fromWord"/>, <paramref name="toWord"/>) of <see cref="_tlbFilled"/>.</summary>
    private void ForEachFilledEntry<TVisitor>(ref TVisitor visit, int fromWord = 0, int toWord = (TlbBanks << TlbBits) / 64)
        where TVisitor : struct, ITlbEntryVisitor
    {
        for (int w = fromWord; w < toWord; w++)
            for (ulong bits = _tlbFilled[w]; bits != 0; bits &= bits - 1)
                visit.Visit(this, w * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits));
    }

    /// <summary>What <see cref="ForEachFilledEntry"/> does with each entry (a struct, so that the visit is inlined).</summary>
    private interface ITlbEntryVisitor
    {
        void Visit(Hart hart, int index);
    }

    private struct EmptyEntry : ITlbEntryVisitor
    {
        public readonly void Visit(Hart hart, int index)
        {
            ref TlbEntry e = ref hart._tlb[index];
            e.ReadTag = e.WriteTag = e.ExecuteTag = TlbEntry.Invalid;
        }
    }

    /// <summary>
    /// For each TLB entry, the physical address of the leaf page-table entry it was made from
    /// (<see cref="NoLeaf"/> without translation), so that a store changing one leaf forgets only
    /// the translations made from it (Hart.PageTableCoherence.cs).
    /// </summary>
    private readonly ulong[] _tlbLeaf = new ulong[TlbBanks << TlbBits];
    private const ulong NoLeaf = ulong.MaxValue;

    /// <summary>
    /// The leaf entries instructions were fetched through since the last full flush (by any bank):
    /// changing one of those must also drop the translated regions found through it (a false yes
    /// only drops more).
    /// </summary>
    private readonly AddressFilter _fetchedLeaves = new(shift: 3, bits: 12);

    /// <summary>
    /// The leaf entries behind TLB entries sitting in another slot than the leaf's own index picks
    /// (<see cref="TlbSlotOfLeaf"/>), since the last full flush: superpage leaves, whose pages fill
    /// any slot. Changing a leaf outside this set can only have made entries in its own slot of
    /// each bank, so only those are looked at (Hart.PageTableCoherence.cs).
    /// </summary>
    private readonly AddressFilter _offSlotLeaves = new(shift: 3, bits: 12);

    /// <summary>
    /// The physical pages given a write tag the fast path uses, since the last full flush: only those
    /// need their tags downgraded when the walker first reads a table from one (NotePageTableRead).
    /// One bit per page of the first 128 MiB (more RAM shares bits).
    /// </summary>
    private readonly AddressFilter _writablePages = new(shift: 12, bits: 15);

    /// <summary>
    /// The TLB slot of the pages a 4 KiB leaf at <paramref name="leafAddress"/> maps: its index in its
    /// table is VPN[0] (privileged spec 4.3.2), whose low bits pick the slot.
    /// </summary>
    private static int TlbSlotOfLeaf(ulong leafAddress) => (int)((leafAddress >> 3) & 511);

    /// <summary>Whether TLB slot <paramref name="slot"/> is one a 4 KiB leaf at <paramref name="leafAddress"/> can fill:
    /// a bank has 2^<see cref="TlbBits"/> slots, and the leaf's index (VPN[0]) gives the low nine bits of its pages' slot.</summary>
    private static bool IsSlotOfLeaf(ulong leafAddress, int slot) => (slot & 511) == TlbSlotOfLeaf(leafAddress);

    /// <summary>
    /// The halves of the address space (by bit 63) the TLB and the walk cache may hold entries for:
    /// a process's tables are cleared entry by entry at its exit, and each cleared pointer drops the
    /// lower half's translations; once they are gone, the next clears need not look for them.
    /// </summary>
    private PageTableUse _cachedHalves;

    /// <summary>Where walks of recently translated regions start (see <see cref="PageWalkCache"/>).</summary>
    private readonly PageWalkCache _walkCache = new();

    public PhysicalMemoryProtection Pmp { get; } = new();

    /// <summary>Data (and fetch) accesses go through the TLB: translation or PMP applies to them.</summary>
    private bool _dataViaTlb, _fetchViaTlb;

    /// <summary>One-entry fetch cache in front of the TLB: the page pc is on.</summary>
    private ulong _fetchVirtualPage = TlbEntry.Invalid, _fetchPhysicalPage;

    /// <summary>The privilege data accesses are made with: MPRV lets M-mode borrow MPP's (3.1.6.3).</summary>
    private PrivilegeLevel DataMode =>
        Mode == PrivilegeLevel.Machine && (_mstatus & Mstatus.Mprv) != 0
            ? (PrivilegeLevel)((_mstatus & Mstatus.Mpp) >> Mstatus.MppShift)
            : Mode;

    private void SetMode(PrivilegeLevel mode)
    {
        Mode = mode;
        StatusChanged();
    }

    /// <summary>What the TLB's entries and the fast-path switches depend on besides satp, PMP, watches
    /// and the stored-page log (whose changes flush on their own): the fetch and data modes, SUM and MXR.</summary>
    private ulong TranslationKey => (ulong)Mode | (ulong)DataMode << 2 | (_mstatus & (Mstatus.Sum | Mstatus.Mxr));

    /// <summary>The <see cref="TranslationKey"/> the current TLB bank was selected for (all ones before the first).</summary>
    private ulong _translationKey = ulong.MaxValue;

    /// <summary>
    /// The mode or mstatus changed (a trap, a return, a status write): the TLB is flushed only if what
    /// it caches depends on what changed. Linux writes sstatus.SIE around every lock that masks
    /// interrupts and switches within S-mode on every interrupt; flushing on those made it walk its
    /// five-level page tables again after each. The TLB is a cache of the page tables: keeping
    /// entries that are still right changes no result. Between S and U (every system call and page
    /// fault) the TLB's permissions change but the page tables do not, so the walk cache and the
    /// page-table marks stay; a change involving M-mode drops them too, because M-mode's stores
    /// skip the coherence check (see Hart.PageTableCoherence.cs).
    /// </summary>
    private void StatusChanged()
    {
        ulong key = TranslationKey;
        if (key == _translationKey) return;
        FlushTlb(keepWalks: !InvolvesMachineMode(key) && !InvolvesMachineMode(_translationKey));
    }

    /// <summary>Whether a <see cref="TranslationKey"/> fetches or accesses data in M-mode.</summary>
    private static bool InvolvesMachineMode(ulong key) =>
        (key & 3) == (ulong)PrivilegeLevel.Machine || ((key >> 2) & 3) == (ulong)PrivilegeLevel.Machine;

    /// <summary>Flushes the TLB (every bank), the walk cache and the page-table marks, and recomputes which accesses need the TLB.</summary>
    internal void TranslationChanged() => FlushTlb(keepWalks: false);

    /// <summary>
    /// Makes the bank for the current <see cref="TranslationKey"/> current; without
    /// <paramref name="keepWalks"/> every bank, the walk cache and the page-table marks are dropped
    /// first (the page tables, satp, PMP or a debugger's view changed). Either way translated
    /// regions are found again, and the fast-path switches are recomputed.
    /// </summary>
    private void FlushTlb(bool keepWalks)
    {
        int leaving = (int)(_translationKey & 3); // the mode fetches were made in (3, M, before the first flush)
        if (!keepWalks)
        {
            InvalidateRegionLookups(); // the page tables, satp, PMP or a debugger's view changed
            _tlbGeneration++;
            _ram.PageTables.Clear(); // no entry is left that a page table's change could make stale
            _cachedHalves = PageTableUse.None;
            _walkCache.Clear();
            _fetchedLeaves.Clear();
            _offSlotLeaves.Clear();
            _writablePages.Clear();
        }
        SelectBank(TranslationKey);
        _fetchVirtualPage = TlbEntry.Invalid;
        _translationKey = TranslationKey;
        EnterModeEpoch(leaving, (int)Mode); // translated regions are found again through the new translation, unless found in it before
        _fetchViaTlb = Mode != PrivilegeLevel.Machine || Pmp.AnyActive;
        _dataViaTlb = DataMode != PrivilegeLevel.Machine || Pmp.AnyActive || _watches is not null || _dataTriggersArmed || _storedPages is not null || _loadedPages is not null;
    }

    /// <summary>
    /// satp was written; <paramref name="old"/> is its value before. A process switch changes the root
    /// table, but every process's root points at the same kernel tables (Linux copies the kernel's
    /// top-level entries into each), and after each switch Linux walked its five-level tables again for
    /// ~500 kernel pages. A TLB entry made through a top-level entry that the new root holds too, bit
    /// for bit, and that points to a table, is what a walk from the new root would make: the same
    /// tables below, the same leaf (whose A and D bits the first walk set, and whose changes reach
    /// the entry as before, the tables staying marked), the same faults. So such entries, and the
    /// walk cache's entries for them, stay; the rest are dropped. The new root's page is marked as
    /// read by the walker, so a store into it is checked like one into any table the TLB used.
    /// A leaf at the top level is never kept: the new root's copy is another entry, whose A/D bits
    /// a walk would set. Anything else (a change of mode, a root outside RAM or not readable under
    /// PMP) empties the TLB as before.
    /// </summary>
    internal void SatpWritten(ulong old)
    {
        if (!KeepSharedTranslations(old, _satp)) TranslationChanged();
    }

    private bool KeepSharedTranslations(ulong old, ulong now)
    {
        ulong mode = now >> 60;
        if (mode == 0 || old >> 60 != mode) return false;
        const ulong TableSize = PageMask + 1;
        ulong oldRoot = (old & PpnMask) << 12, newRoot = (now & PpnMask) << 12;
        if (oldRoot - _ramBase > _ramSize - TableSize || newRoot - _ramBase > _ramSize - TableSize) return false;
        // The walker's reads of the new root are S-mode loads under PMP (3.7.1): one it would refuse must still fault.
        if (!Pmp.Allows(newRoot, TableSize, AccessType.Load, PrivilegeLevel.Supervisor)) return false;
        ulong* oldEntries = (ulong*)(_ramPointer + (oldRoot - _ramBase)), newEntries = (ulong*)(_ramPointer + (newRoot - _ramBase));
        Span<ulong> shared = stackalloc ulong[512 / 64]; // one bit per top-level index
        for (int i = 0; i < 512; i++)
        {
            ulong pte = newEntries[i];
            if (pte == oldEntries[i] && (pte & (PteV | PteR | PteW | PteX)) == PteV) shared[i >> 6] |= 1UL << i;
        }
        KeepTranslationsOnly(shared, topShift: 12 + 9 * ((int)mode - 6)); // Sv39's top index is bits 38..30, each mode adds nine
        if (shared[0] == 0 && shared[1] == 0 && shared[2] == 0 && shared[3] == 0) LowerHalfDropped();
        // What is cached now is what walks from the new root give: a store into the old one (Linux
        // frees a process's root at its exit, and reuses the page) changes none of it.
        _ram.PageTables.ForgetRoot((oldRoot - _ramBase) >> MainMemory.PageShift);
        NotePageTableRead(newRoot, PageTableUse.Root);
        return true;
    }

    /// <summary>
    /// Drops every TLB entry (in every bank) and walk-cache entry for an address whose nine bits from
    /// <paramref name="topShift"/> up have no bit set in <paramref name="keptIndexes"/>; region lookups
    /// are made stale, as after any change of translation.
    /// </summary>
    private void KeepTranslationsOnly(ReadOnlySpan<ulong> keptIndexes, int topShift)
    {
        for (int w = 0; w < _tlbFilled.Length; w++)
        {
            for (ulong bits = _tlbFilled[w]; bits != 0; bits &= bits - 1)
            {
                int i = w * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                ref TlbEntry e = ref _tlb[i];
                // An entry's valid tags all name the same page (Translate resets the others when it changes).
                ulong tag = e.ReadTag != TlbEntry.Invalid ? e.ReadTag : e.WriteTag != TlbEntry.Invalid ? e.WriteTag : e.ExecuteTag;
                int index = (int)((((tag & ~TlbEntry.SlowPathOnly) << 12) >> topShift) & 511);
                if (tag != TlbEntry.Invalid && (keptIndexes[index >> 6] & (1UL << index)) != 0) continue;
                e.ReadTag = e.WriteTag = e.ExecuteTag = TlbEntry.Invalid;
                _tlbFilled[w] &= ~(1UL << i);
            }
        }
        _walkCache.KeepOnly(keptIndexes, topShift);
        _fetchVirtualPage = TlbEntry.Invalid;
        InvalidateRegionLookups();
    }

    /// <summary>
    /// No translation of a lower-half address is cached any more (the TLB and the walk cache dropped
    /// them all): the tables read only for them stop being marked, so that stores into them — a
    /// process's tables being torn down and their pages reused — take the store fast path again.
    /// </summary>
    private void LowerHalfDropped()
    {
        _cachedHalves &= ~PageTableUse.LowerHalf;
        _ram.PageTables.ForgetLowerHalf();
    }

    private ulong BankAge(int bank) => _bankGeneration[bank] != _tlbGeneration ? ulong.MaxValue : _bankClock - _bankLastUsed[bank];

    /// <summary>Switches to the valid bank made for <paramref name="key"/>, or empties the least recently used one for it.</summary>
    private void SelectBank(ulong key)
    {
        int bank = -1;
        for (int b = 0; b < TlbBanks; b++)
            if (_bankGeneration[b] == _tlbGeneration && _bankKey[b] == key) bank = b;
        if (bank < 0)
        {
            // An invalid bank if there is one, else the one unused longest.
            bank = 0;
            for (int b = 1; b < TlbBanks; b++)
                if (BankAge(b) > BankAge(bank)) bank = b;
            TranslatorStats.TlbFlushes++;
            int fromWord = (bank << TlbBits) / 64, toWord = ((bank + 1) << TlbBits) / 64;
            var empty = new EmptyEntry();
            ForEachFilledEntry(ref empty, fromWord, toWord);
            _tlbFilled.AsSpan(fromWord, toWord - fromWord).Clear();
            _bankKey[bank] = key;
            _bankGeneration[bank] = _tlbGeneration;
        }
        _bankLastUsed[bank] = ++_bankClock;
        _tlbBankBase = bank << TlbBits;
        _tlbPointer = (TlbEntry*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_tlb)) + _tlbBankBase;
    }

    /// <summary>
    /// Translates <paramref name="address"/> for an access of <paramref name="size"/> bytes (not
    /// crossing a page), checks PMP, refills the TLB; raises the exception and returns false on a fault.
    /// </summary>
    private bool Translate(ulong address, int size, AccessType type, out ulong physical)
    {
        var mode = type == AccessType.Fetch ? Mode : DataMode;
        TranslatorStats.PageWalks++;
        _cachedHalves |= (long)address < 0 ? PageTableUse.UpperHalf : PageTableUse.LowerHalf; // before the walk, which may note it in the walk cache
        if (type == AccessType.Store) _storedPages?.NoteAddress(address); // before it may fault: a superset is harmless
        else if (type == AccessType.Load) _loadedPages?.NoteAddress(address);
        if (!Walk(address, type, mode, out physical, out ulong pte, out ulong leafAddress, out bool bare))
            return false;
        CheckWatch(address, size, type);
        if (!Pmp.Allows(physical, (ulong)size, type, mode))
        {
            RaiseException(type.AccessFault(), address);
            return false;
        }
        ulong page = physical & ~PageMask;
        ulong vpn = address >> 12;
        ref TlbEntry e = ref _tlbPointer[vpn & TlbMask];
        if (e.PhysicalPage != page || !e.Holds(vpn))
        {
            e.ReadTag = e.WriteTag = e.ExecuteTag = TlbEntry.Invalid;
            e.PhysicalPage = page;
        }
        int index = _tlbBankBase + (int)(vpn & TlbMask);
        _tlbFilled[index >> 6] |= 1UL << index;
        _tlbLeaf[index] = leafAddress;
        if (leafAddress != NoLeaf && !IsSlotOfLeaf(leafAddress, (int)(vpn & TlbMask))) _offSlotLeaves.Add(leafAddress);
        // Cache only what is known to be allowed for the whole page; the rest keeps taking this path.
        bool wholePage(AccessType t) => Pmp.Allows(page, PageMask + 1, t, mode);
        if (type == AccessType.Fetch)
        {
            if (wholePage(AccessType.Fetch)) e.ExecuteTag = vpn;
            if (leafAddress != NoLeaf) _fetchedLeaves.Add(leafAddress);
        }
        else
        {
            ulong virtualPage = address & ~PageMask;
            // A page outside RAM (a device's) is cached for the slow path only, which sends its
            // accesses to the bus: so the fast paths' hits need no RAM bounds check.
            bool ram = page - _ramBase <= _ramSize - (PageMask + 1);
            ulong outsideRam = ram ? 0 : TlbEntry.SlowPathOnly;
            // Likewise reads, while loaded pages are logged: only by a load (noted above).
            if (type == AccessType.Load || (_loadedPages is null && (bare || LeafAllows(pte, AccessType.Load, mode))))
                if (wholePage(AccessType.Load) && !PageIsWatched(virtualPage, AccessType.Load)) e.ReadTag = vpn | outsideRam;
            // Writes are cached only once D is set, so the first store still walks and sets it; while
            // stored pages are logged, only by a store (noted above), so that every cached one was noted.
            if (type == AccessType.Store || (_storedPages is null && (bare || ((pte & PteD) != 0 && LeafAllows(pte, AccessType.Store, mode)))))
                if (wholePage(AccessType.Store) && !PageIsWatched(virtualPage, AccessType.Store))
                {
                    bool table = IsPageTablePage(page);
                    e.WriteTag = table || !ram ? vpn | TlbEntry.SlowPathOnly : vpn;
                    if (!table && ram) _writablePages.Add(page);
                }
        }
        return true;
    }

    /// <summary>The page walk (4.3.2). On success <paramref name="leaf"/> is the final PTE (after A/D update).</summary>
    private bool Walk(ulong address, AccessType type, PrivilegeLevel mode, out ulong physical, out ulong leaf, out ulong leafAddress, out bool bare)
    {
        physical = address;
        leaf = 0;
        leafAddress = NoLeaf;
        ulong satpMode = _satp >> 60;
        bare = mode == PrivilegeLevel.Machine || satpMode == 0;
        if (bare) return true;

        // satp only ever holds Bare, Sv39 (8), Sv48 (9) or Sv57 (10): each adds one 9-bit level (4.1.11).
        int levels = (int)satpMode - 5;
        int vaBits = 12 + 9 * levels;
        // Virtual addresses must be sign-extended from their top bit (4.3.1, 4.4.1, 4.5.1).
        if ((ulong)((long)(address << (64 - vaBits)) >> (64 - vaBits)) != address) return PageFault(address, type);

        // The walk cache knows, for this 2 MiB of address space, the table holding the leaf entry
        // and its level: the walk reads that one entry instead of one per level.
        ulong table = (_satp & PpnMask) << 12;
        int start = levels - 1;
        if (_walkCache.TryFind(address, out ulong cachedTable, out int cachedLevel))
        {
            table = cachedTable;
            start = cachedLevel;
        }
        for (int level = start; level >= 0; level--)
        {
            ulong pteAddress = table + ((address >> (12 + 9 * level)) & 511) * 8;
            // Implicit page-table reads are checked by PMP as S-mode accesses (3.7.1).
            if (!Pmp.Allows(pteAddress, 8, AccessType.Load, PrivilegeLevel.Supervisor) || !_bus.Read(pteAddress, 8, out ulong pte))
            {
                RaiseException(type.AccessFault(), address);
                return false;
            }
            NotePageTableRead(pteAddress, level == levels - 1 ? PageTableUse.Root : (long)address < 0 ? PageTableUse.UpperHalf : PageTableUse.LowerHalf);
            bool valid = (pte & PteV) != 0, r = (pte & PteR) != 0, w = (pte & PteW) != 0, x = (pte & PteX) != 0;
            // Bits 63:54 are reserved (no Svpbmt/Svnapot here) and must be zero.
            if (!valid || (!r && w) || (pte >> 54) != 0) return PageFault(address, type);
            if (!r && !x)
            {
                if (level == 0) return PageFault(address, type);
                table = ((pte >> 10) & PpnMask) << 12;
                continue;
            }
            // A leaf: the table it sits in is where the next walk of these 2 MiB can start.
            _walkCache.Note(address, table, level);
            if (!LeafAllows(pte, type, mode)) return PageFault(address, type);
            ulong ppn = (pte >> 10) & PpnMask;
            ulong superpageMask = (1UL << (9 * level)) - 1;
            if ((ppn & superpageMask) != 0) return PageFault(address, type); // misaligned superpage
            ulong wanted = pte | PteA | (type == AccessType.Store ? PteD : 0);
            if (wanted != pte)
            {
                // Hardware A/D update, as QEMU performs it (4.3.2 step 7); the PTE write is PMP-checked too.
                if (!Pmp.Allows(pteAddress, 8, AccessType.Store, PrivilegeLevel.Supervisor) || !WritePageTableEntry(pteAddress, wanted))
                {
                    RaiseException(type.AccessFault(), address);
                    return false;
                }
                pte = wanted;
            }
            leaf = pte;
            leafAddress = pteAddress;
            physical = ((ppn & ~superpageMask) << 12) | (address & ((1UL << (12 + 9 * level)) - 1));
            return true;
        }
        return PageFault(address, type);
    }

    /// <summary>Leaf permission check for one access type and mode (4.3.1, SUM and MXR from 3.1.6.3).</summary>
    private bool LeafAllows(ulong pte, AccessType type, PrivilegeLevel mode)
    {
        bool user = (pte & PteU) != 0;
        if (mode == PrivilegeLevel.User && !user) return false;
        if (mode == PrivilegeLevel.Supervisor && user && (type == AccessType.Fetch || (_mstatus & Mstatus.Sum) == 0)) return false;
        return type switch
        {
            AccessType.Fetch => (pte & PteX) != 0,
            AccessType.Load => (pte & PteR) != 0 || ((_mstatus & Mstatus.Mxr) != 0 && (pte & PteX) != 0),
            _ => (pte & PteW) != 0,
        };
    }

    private bool PageFault(ulong address, AccessType type)
    {
        RaiseException(type.PageFault(), address);
        return false;
    }

    /// <summary>Translates a fetch of the parcel at <paramref name="pc"/>; fills the one-entry fetch cache.</summary>
    private bool TranslateFetch(ulong pc, out ulong physical)
    {
        ulong vpn = pc >> 12;
        ref TlbEntry e = ref _tlbPointer[vpn & TlbMask];
        if (e.ExecuteTag != vpn)
        {
            if (!Translate(pc, 2, AccessType.Fetch, out physical)) return false;
            if (e.ExecuteTag != vpn)
            {
                // Not cacheable (PMP finer than a page): no fetch cache either.
                return true;
            }
        }
        _fetchVirtualPage = vpn;
        _fetchPhysicalPage = e.PhysicalPage;
        physical = e.PhysicalPage | (pc & PageMask);
        return true;
    }

    /// <summary>
    /// A 32-bit instruction in the last two bytes of a virtual page: its halves may live on
    /// different physical pages, so it is fetched in two translated parts and not cached.
    /// </summary>
    private bool FetchAcrossPage(ulong pc, ulong physicalLow, ref DecodedInstruction slot)
    {
        if (!_bus.Read(physicalLow, 2, out ulong low)) { RaiseException(ExceptionCause.InstructionAccessFault, pc); return false; }
        uint raw = (uint)low;
        if ((raw & 3) == 3)
        {
            if (!Translate(pc + 2, 2, AccessType.Fetch, out ulong physicalHigh)) return false;
            if (!_bus.Read(physicalHigh, 2, out ulong high)) { RaiseException(ExceptionCause.InstructionAccessFault, pc + 2); return false; }
            raw |= (uint)high << 16;
        }
        slot = Decoder.Decode(raw);
        return true;
    }

    /// <summary>
    /// Translates for a store that is known not to cross a page, for callers that check what it
    /// overwrites in a page table themselves (SC, AMOs, the slow path of plain stores): so a page-table
    /// page's write tag (<see cref="TlbEntry.SlowPathOnly"/>) spares the walk, as a device page's does. Linux's fork, faults
    /// and exits store into page tables tens of thousands of times, each a walk before.
    /// </summary>
    private bool TranslateStore(ulong address, int size, out ulong physical)
    {
        if (!_dataViaTlb) { physical = address; return true; }
        ulong vpn = address >> 12;
        ref TlbEntry e = ref _tlbPointer[vpn & TlbMask];
        if ((e.WriteTag & ~TlbEntry.SlowPathOnly) == vpn) { physical = e.PhysicalPage | (address & PageMask); return true; }
        return Translate(address, size, AccessType.Store, out physical);
    }
}
