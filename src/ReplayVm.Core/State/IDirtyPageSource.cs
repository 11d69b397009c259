using ReplayVm.Core.Memory;

namespace ReplayVm.Core.State;

/// <summary>
/// Tells the state hasher which RAM pages may have changed since it last asked, so that a periodic
/// hash re-reads only those. A source may over-report (a page marked dirty whose bytes are
/// unchanged costs time, not correctness) but must never miss a written page.
/// </summary>
public interface IDirtyPageSource
{
    /// <summary>
    /// ORs into <paramref name="bitmap"/> (bit <c>p % 64</c> of word <c>p / 64</c> = page p of RAM,
    /// <see cref="MainMemory.PageSize"/> bytes each) every page written since the previous call,
    /// and forgets them, so the next call reports only later writes.
    /// </summary>
    void TakeDirtyPages(ulong[] bitmap);
}

/// <summary>
/// Every page counts as written, so each hash re-reads all of RAM (about 5 ms per 128 MiB): the
/// reference the incremental sources are checked against.
/// </summary>
public sealed class AllPagesDirty : IDirtyPageSource
{
    public static readonly AllPagesDirty Instance = new();

    public void TakeDirtyPages(ulong[] bitmap) => Array.Fill(bitmap, ulong.MaxValue);
}

/// <summary>
/// Dirty pages from RAM's write epochs (<see cref="MainMemory.PageEpochs"/>): every call starts a
/// new epoch, and the next call reports the pages stamped with that epoch or a later one. Other
/// consumers advancing the epoch in between only raise the stamps, so nothing is missed.
/// </summary>
public sealed class PageEpochDirtyPages(MainMemory ram) : IDirtyPageSource
{
    /// <summary>Pages stamped with this epoch or later were written since the previous call; 1 the first
    /// time means every page ever written (the others still hold their initial zeros).</summary>
    private uint _since = 1;

    /// <summary>Pages per step of the scan: a stretch without any new stamp is skipped with a few vector compares.</summary>
    private const int Stretch = 64;

    public void TakeDirtyPages(ulong[] bitmap)
    {
        ReadOnlySpan<uint> epochs = ram.PageEpochs;
        uint since = _since;
        for (int first = 0; first < epochs.Length; first += Stretch)
        {
            int length = Math.Min(Stretch, epochs.Length - first);
            if (!ram.AnyWrittenSince(first, length, since)) continue;
            for (int page = first; page < first + length; page++)
                if (epochs[page] >= since) bitmap[page >> 6] |= 1UL << (page & 63);
        }
        _since = ram.AdvanceEpoch();
    }
}
