namespace ReplayVm.Core.Hart;

/// <summary>
/// The virtual pages the hart has fetched instructions from since the log was last cleared, for an
/// index that must say whether a stretch of a recording could have hit a breakpoint (breakpoints
/// are virtual pcs, so virtual pages are what decides). Filled by the interpreter where it enters a
/// page — the top of its fetch loop, which every instruction on a page it was not already on passes
/// (see Hart.BreakpointPages) — so it costs a compare per page entry, nothing per instruction.
/// A superset is harmless (it only makes a reader look where nothing is); a missing page is a bug.
/// </summary>
public sealed class ExecutedPageLog
{
    /// <summary>A small direct-mapped memory of pages already noted: a hot loop crossing between a few pages adds nothing to the set.</summary>
    private const int RecentSlots = 256;
    private readonly ulong[] _recent = new ulong[RecentSlots];
    private readonly HashSet<ulong> _pages = [];

    public ExecutedPageLog() => Array.Fill(_recent, ulong.MaxValue);

    /// <summary>Pages noted since the last <see cref="Clear"/>.</summary>
    public int Count => _pages.Count;

    /// <summary>Notes the page holding <paramref name="pc"/> (also for pcs the hart did not fetch from but a reader must count, such as an interrupted one).</summary>
    public void NotePc(ulong pc)
    {
        ulong page = pc >> 12;
        ref ulong slot = ref _recent[(int)(page & (RecentSlots - 1))];
        if (slot == page) return;
        slot = page;
        _pages.Add(page);
    }

    /// <summary>The pages noted, ascending.</summary>
    public ulong[] Pages()
    {
        var pages = _pages.ToArray();
        Array.Sort(pages);
        return pages;
    }

    public void Clear()
    {
        _pages.Clear();
        Array.Fill(_recent, ulong.MaxValue);
    }
}
