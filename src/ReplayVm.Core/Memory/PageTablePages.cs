namespace ReplayVm.Core.Memory;

/// <summary>
/// The RAM pages the page walker has read entries from since the TLB was last flushed: the pages
/// whose contents the TLB's translations were derived from. A store into one of them may change a
/// cached translation, so the hart refuses them its store fast path and flushes the TLB when one is
/// written (see Hart.PageTableCoherence.cs).
/// <para>
/// Each page holds the generation in which it was last marked, and a flush starts a new generation,
/// so forgetting every mark costs nothing, however many pages were marked. The generations live in
/// memory reserved lazily, 4 bytes a page like the write epochs: only pages that held page tables
/// cost anything.
/// </para>
/// </summary>
internal sealed unsafe class PageTablePages
{
    private readonly LazyZeroedRegion _generations;
    private readonly ulong _pageCount;
    /// <summary>Marks equal to it are current; never 0, which every page starts with.</summary>
    private uint _generation = 1;

    public PageTablePages(ulong pageCount)
    {
        _pageCount = pageCount;
        _generations = new LazyZeroedRegion(pageCount * sizeof(uint));
    }

    private uint* Generations => (uint*)_generations.Pointer;

    /// <summary>Whether RAM page <paramref name="page"/> (an index, below the page count) holds entries the TLB may have used.</summary>
    public bool Contains(ulong page) => Generations[page] == _generation;

    /// <summary>Marks RAM page <paramref name="page"/>; true if it was not marked yet.</summary>
    public bool Mark(ulong page)
    {
        if (Generations[page] == _generation) return false;
        Generations[page] = _generation;
        return true;
    }

    /// <summary>Forgets every mark (the TLB was flushed).</summary>
    public void Clear()
    {
        if (++_generation != 0) return;
        // After 2^32 flushes the generations would come round again: start from zeros.
        _generations.Discard(0, _pageCount * sizeof(uint));
        _generation = 1;
    }
}
