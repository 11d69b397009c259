namespace ReplayVm.Core.Hart;

/// <summary>
/// A page-walk cache, as hardware has one: for each recently walked 2 MiB of virtual address space,
/// the physical address of the table holding the leaf entry and that table's level, so that the
/// next walk there reads one entry instead of three to five (Linux runs with Sv57 on this board:
/// five levels). Like the TLB it caches only what the page tables say now: every table the entries
/// came from stays marked (Hart.PageTableCoherence.cs), and whatever could change them — a store
/// changing a valid entry, satp, PMP, a restore — clears it. Skipping the upper levels skips nothing
/// a walk does there: their reads are PMP-checked as S-mode accesses (the same for every mode) and
/// non-leaf entries get no A/D updates (privileged spec 4.3.1).
/// Direct-mapped; entries from before the last <see cref="Clear"/> are told apart by generation.
/// </summary>
internal sealed class PageWalkCache
{
    private const int Bits = 6;
    private const int RegionShift = 21;

    private struct Entry
    {
        public ulong Region;
        public ulong Table;
        public uint Generation;
        public int Level;
    }

    private readonly Entry[] _entries = new Entry[1 << Bits];
    /// <summary>Entries of this generation are valid; never 0, which every entry starts with.</summary>
    private uint _generation = 1;

    public bool TryFind(ulong address, out ulong table, out int level)
    {
        ulong region = address >> RegionShift;
        ref Entry e = ref _entries[region & ((1 << Bits) - 1)];
        if (e.Generation == _generation && e.Region == region)
        {
            table = e.Table;
            level = e.Level;
            return true;
        }
        table = 0;
        level = 0;
        return false;
    }

    /// <summary>The walk of <paramref name="address"/> found its leaf in <paramref name="table"/>, at <paramref name="level"/>.</summary>
    public void Note(ulong address, ulong table, int level)
    {
        ulong region = address >> RegionShift;
        ref Entry e = ref _entries[region & ((1 << Bits) - 1)];
        e.Region = region;
        e.Table = table;
        e.Level = level;
        e.Generation = _generation;
    }

    /// <summary>
    /// Forgets every entry but those for addresses whose top-level index (the address's bits from
    /// <paramref name="topShift"/>, nine of them) has its bit set in <paramref name="keptIndexes"/>.
    /// </summary>
    public void KeepOnly(ReadOnlySpan<ulong> keptIndexes, int topShift)
    {
        for (int i = 0; i < _entries.Length; i++)
        {
            ref Entry e = ref _entries[i];
            if (e.Generation != _generation) continue;
            int index = (int)((e.Region >> (topShift - RegionShift)) & 511);
            if ((keptIndexes[index >> 6] & (1UL << index)) == 0) e.Generation = 0;
        }
    }

    public void Clear()
    {
        if (++_generation != 0) return;
        // After 2^32 clears the generations would come round again: start from empty.
        Array.Clear(_entries);
        _generation = 1;
    }
}
