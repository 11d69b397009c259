using ReplayVm.Core.Memory;

namespace ReplayVm.Replay.Diff;

/// <summary>Compares two RAMs of the same size page by page and describes the differing bytes as coalesced ranges.</summary>
internal static class MemoryComparison
{
    /// <summary>Differing bytes closer than this join one range, so a changed word reads as one range rather than four.</summary>
    private const int JoinGap = 8;

    /// <summary>True when every page whose bit is set in <paramref name="pages"/> holds the same bytes in both.</summary>
    public static bool PagesEqual(MainMemory a, MainMemory b, ulong[] pages)
    {
        for (int word = 0; word < pages.Length; word++)
        {
            ulong bits = pages[word];
            while (bits != 0)
            {
                int page = word * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                if (!Page(a, page).SequenceEqual(Page(b, page))) return false;
            }
        }
        return true;
    }

    /// <summary>True when both hold the same bytes; pages neither RAM ever wrote are zero in both and are not read.</summary>
    public static bool AllEqual(MainMemory a, MainMemory b)
    {
        for (ulong page = 0; page < a.PageCount; page++)
            if ((a.EverWritten(page) || b.EverWritten(page)) && !a.Page(page).SequenceEqual(b.Page(page))) return false;
        return true;
    }

    /// <summary>
    /// Every differing range, in address order (at most <paramref name="maxRanges"/>).
    /// <paramref name="before"/> supplies the common content before the divergent step for a
    /// range, or null when it is unknown.
    /// </summary>
    public static List<MemoryDifference> Ranges(MainMemory a, MainMemory b, Func<long, int, byte[]?> before, int maxRanges = 64)
    {
        var ranges = new List<MemoryDifference>();
        long pageCount = (long)a.PageCount;
        long start = -1, last = -1;
        for (long page = 0; page < pageCount && ranges.Count < maxRanges; page++)
        {
            if (!a.EverWritten((ulong)page) && !b.EverWritten((ulong)page)) continue; // zero in both
            var pa = Page(a, page);
            var pb = Page(b, page);
            int offset = 0;
            while (offset < MainMemory.PageSize)
            {
                int mismatch = pa[offset..].CommonPrefixLength(pb[offset..]);
                if (offset + mismatch >= MainMemory.PageSize) break;
                long at = page * MainMemory.PageSize + offset + mismatch;
                if (start >= 0 && at - last > JoinGap)
                {
                    ranges.Add(Describe(a, b, start, last, before));
                    start = -1;
                }
                if (start < 0) start = at;
                last = at;
                offset += mismatch + 1;
            }
        }
        if (start >= 0 && ranges.Count < maxRanges) ranges.Add(Describe(a, b, start, last, before));
        return ranges;
    }

    private static MemoryDifference Describe(MainMemory a, MainMemory b, long first, long last, Func<long, int, byte[]?> before)
    {
        long length = last - first + 1;
        int shown = (int)Math.Min(length, TraceDiff.MemoryBytesShown);
        ulong address = a.Base + (ulong)first;
        return new MemoryDifference(address, (ulong)length, before(first, shown),
            a.Read(address, shown).ToArray(), b.Read(address, shown).ToArray());
    }

    private static ReadOnlySpan<byte> Page(MainMemory ram, long page) => ram.Page((ulong)page);
}
