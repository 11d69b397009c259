namespace ReplayVm.Core.Hart;

/// <summary>
/// A set of virtual pages the hart touched in some way since the log was last cleared, for an index
/// that must say whether a stretch of a recording could hold a debugger hit (breakpoints and
/// watchpoints are virtual addresses, so virtual pages are what decides). A superset is harmless
/// (it only makes a reader look where nothing is); a missing page is a bug.
/// </summary>
public abstract class VirtualPageLog
{
    /// <summary>A small direct-mapped memory of pages already noted: a hot loop crossing between a few pages adds nothing to the set.</summary>
    private const int RecentSlots = 256;
    private readonly ulong[] _recent = new ulong[RecentSlots];
    private readonly HashSet<ulong> _pages = [];

    protected VirtualPageLog() => Array.Fill(_recent, ulong.MaxValue);

    /// <summary>Pages noted since the last <see cref="Clear"/>.</summary>
    public int Count => _pages.Count;

    /// <summary>Notes the page holding <paramref name="address"/>.</summary>
    public void NoteAddress(ulong address)
    {
        ulong page = address >> 12;
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
