using ReplayVm.Replay.Format;

namespace ReplayVm.Replay.TraceIndex;

/// <summary>
/// A virtual-page list of a sidecar record (docs/index-format.md): the pages the hart fetched
/// instructions from, or stored to, during the stretch of steps the record closes, so that a
/// breakpoint or watchpoint search can pass over stretches that cannot hold a hit. Encoded as
/// varint <c>count + 1</c> (0: not recorded, every page may have been touched), then the pages
/// ascending: the first as is, each next as the gap to the previous minus one.
/// </summary>
internal static class VirtualPageList
{
    /// <summary>Highest virtual page number: 64-bit addresses, 4 KiB pages.</summary>
    private const ulong MaxPage = (1UL << 52) - 1;

    public static void Write(ByteWriter w, ulong[]? pages)
    {
        if (pages is null || pages.Length > TraceIndexFormat.MaxExecutedPages)
        {
            w.VarUInt(0);
            return;
        }
        w.VarUInt((ulong)pages.Length + 1);
        for (int i = 0; i < pages.Length; i++) w.VarUInt(i == 0 ? pages[0] : pages[i] - pages[i - 1] - 1);
    }

    /// <summary>The list, checked (ascending pages, a count the bytes can hold); null when the record says it was not kept.</summary>
    public static ulong[]? Read(ref ByteReader r, string where, string kind)
    {
        ulong countPlusOne = r.VarUInt();
        if (countPlusOne == 0) return null;
        ulong count = countPlusOne - 1;
        if (count > TraceIndexFormat.MaxExecutedPages || count > (ulong)r.Remaining)
            throw new TraceIndexException($"{where} has an impossible {kind} count ({count})");
        var pages = new ulong[count];
        ulong page = 0;
        for (int i = 0; i < pages.Length; i++)
        {
            ulong v = r.VarUInt();
            ulong next = i == 0 ? v : page + 1 + v;
            if (v > MaxPage || next > MaxPage || (i > 0 && next <= page)) throw new TraceIndexException($"{where} has a malformed {kind} list");
            pages[i] = page = next;
        }
        return pages;
    }

    /// <summary>Whether any of <paramref name="pages"/> (ascending) holds one of <paramref name="pcs"/>.</summary>
    public static bool HoldsAny(ulong[] pages, IEnumerable<ulong> pcs)
    {
        foreach (ulong pc in pcs)
            if (Array.BinarySearch(pages, pc >> 12) >= 0) return true;
        return false;
    }

    /// <summary>Whether any of <paramref name="pages"/> (ascending) holds a byte of one of <paramref name="ranges"/>.</summary>
    public static bool OverlapsAny(ulong[] pages, IEnumerable<Core.Hart.WatchRange> ranges)
    {
        foreach (var range in ranges)
        {
            if (range.Length == 0) continue;
            ulong first = range.Address >> 12;
            ulong last = (range.Address + Math.Min(range.Length - 1, ulong.MaxValue - range.Address)) >> 12;
            int i = Array.BinarySearch(pages, first);
            if (i < 0) i = ~i;
            if (i < pages.Length && pages[i] <= last) return true;
        }
        return false;
    }
}
