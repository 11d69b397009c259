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
/// The fallback while Core keeps no dirty-page record: every page counts as written, so each hash
/// re-reads all of RAM. Correct, only slower (about 20 ms per 128 MiB).
/// </summary>
public sealed class AllPagesDirty : IDirtyPageSource
{
    public static readonly AllPagesDirty Instance = new();

    public void TakeDirtyPages(ulong[] bitmap) => Array.Fill(bitmap, ulong.MaxValue);
}
