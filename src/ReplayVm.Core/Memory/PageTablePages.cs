namespace ReplayVm.Core.Memory;

/// <summary>
/// The RAM pages the page walker has read entries from since the TLB was last flushed: the pages
/// whose contents the TLB's translations were derived from. A store into one of them may change a
/// cached translation, so the hart refuses them its store fast path and drops what the store
/// changed (see Hart.PageTableCoherence.cs).
/// <para>
/// Each page also records how it was read (<see cref="PageTableUse"/>): as a root table, or below the
/// root on the way to an address in the lower or the upper half of the address space (a process's
/// or the kernel's, on Linux). A changed pointer in a table can only have led to addresses it was
/// read for, so the hart drops only those.
/// </para>
/// <para>
/// Each page holds the generation in which it was last marked (above its <see cref="PageTableUse"/>
/// bits), and a flush starts a new generation, so forgetting every mark costs nothing, however many
/// pages were marked. The generations live in memory reserved lazily, 4 bytes a page like the
/// write epochs: only pages that held page tables cost anything.
/// </para>
/// </summary>
internal sealed unsafe class PageTablePages
{
    private const int UseBits = 3;
    private const uint UseMask = (1u << UseBits) - 1;
    private readonly LazyZeroedRegion _generations, _lowerGenerations;
    private readonly ulong _pageCount;
    /// <summary>Marks of this generation are current; never 0, which every page starts with.</summary>
    private uint _generation = 1;
    /// <summary>A page's <see cref="PageTableUse.LowerHalf"/> use counts while its lower generation is this one (see <see cref="ForgetLowerHalf"/>).</summary>
    private uint _lowerGeneration = 1;

    public PageTablePages(ulong pageCount)
    {
        _pageCount = pageCount;
        _generations = new LazyZeroedRegion(pageCount * sizeof(uint));
        _lowerGenerations = new LazyZeroedRegion(pageCount * sizeof(uint));
    }

    private uint* Generations => (uint*)_generations.Pointer;
    private uint* LowerGenerations => (uint*)_lowerGenerations.Pointer;

    /// <summary>Whether RAM page <paramref name="page"/> (an index, below the page count) holds entries the TLB may have used.</summary>
    public bool Contains(ulong page) => UseOf(page) != PageTableUse.None;

    /// <summary>How RAM page <paramref name="page"/> was read since the last flush (none if not marked).</summary>
    public PageTableUse UseOf(ulong page)
    {
        uint mark = Generations[page];
        if (mark >> UseBits != _generation) return PageTableUse.None;
        var use = (PageTableUse)(mark & UseMask);
        if (LowerGenerations[page] != _lowerGeneration) use &= ~PageTableUse.LowerHalf;
        return use;
    }

    /// <summary>Marks RAM page <paramref name="page"/> as read for <paramref name="use"/>; true if it was not marked yet.</summary>
    public bool Mark(ulong page, PageTableUse use)
    {
        var before = UseOf(page);
        Generations[page] = _generation << UseBits | (uint)(before | use);
        if ((use & PageTableUse.LowerHalf) != 0) LowerGenerations[page] = _lowerGeneration;
        return before == PageTableUse.None;
    }

    /// <summary>Forgets that RAM page <paramref name="page"/> was read as a root table (satp moved to another root).</summary>
    public void ForgetRoot(ulong page)
    {
        var use = UseOf(page);
        if ((use & PageTableUse.Root) != 0) Generations[page] = _generation << UseBits | (uint)(use & ~PageTableUse.Root);
    }

    /// <summary>Forgets every mark (the TLB was flushed).</summary>
    public void Clear()
    {
        if (++_generation < 1u << (32 - UseBits)) return;
        // The generations would come round again: start from zeros.
        _generations.Discard(0, _pageCount * sizeof(uint));
        _generation = 1;
    }

    /// <summary>
    /// Forgets every page's <see cref="PageTableUse.LowerHalf"/> use (the hart dropped every cached
    /// translation of a lower-half address): a page read only for those is no longer marked.
    /// </summary>
    public void ForgetLowerHalf()
    {
        if (++_lowerGeneration != 0) return;
        _lowerGenerations.Discard(0, _pageCount * sizeof(uint));
        _lowerGeneration = 1;
    }
}

/// <summary>How the walker read a page-table page (<see cref="PageTablePages"/>).</summary>
[Flags]
internal enum PageTableUse : uint
{
    None = 0,
    /// <summary>Below the root, for an address in the lower half of the address space.</summary>
    LowerHalf = 1,
    /// <summary>Below the root, for an address in the upper half.</summary>
    UpperHalf = 2,
    /// <summary>As the root table: entry i led only to addresses whose top-level index is i.</summary>
    Root = 4,
}
