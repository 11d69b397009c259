using System.IO.Hashing;
using ReplayVm.Core.State;

namespace ReplayVm.Core.Devices.Storage;

/// <summary>
/// A writable view of a base storage whose writes stay in memory, page by page, and never reach
/// the base. Recording and replaying from the same image therefore see the same disk, and the
/// image on the host is never modified by a session.
/// </summary>
public sealed class CopyOnWriteOverlay(IBlockStorage baseStorage) : IBlockStorage, IDeviceState
{
    public const int PageSize = 4096;

    private readonly Dictionary<long, byte[]> _pages = new();

    public long Length => baseStorage.Length;
    public bool IsReadOnly => false;

    /// <summary>Number of pages written so far (each holds <see cref="PageSize"/> bytes of host memory).</summary>
    public int DirtyPageCount => _pages.Count;

    public void Read(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        while (!destination.IsEmpty)
        {
            long page = offset / PageSize;
            int within = (int)(offset % PageSize);
            int chunk = Math.Min(destination.Length, PageSize - within);
            if (_pages.TryGetValue(page, out var data)) data.AsSpan(within, chunk).CopyTo(destination);
            else baseStorage.Read(offset, destination[..chunk]);
            offset += chunk;
            destination = destination[chunk..];
        }
    }

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        CheckRange(offset, source.Length);
        while (!source.IsEmpty)
        {
            long page = offset / PageSize;
            int within = (int)(offset % PageSize);
            int chunk = Math.Min(source.Length, PageSize - within);
            source[..chunk].CopyTo(PageFor(page).AsSpan(within, chunk));
            offset += chunk;
            source = source[chunk..];
        }
    }

    /// <summary>The overlay pages are the disk's whole state (the base never changes); written in page order.</summary>
    public void SaveState(BinaryWriter w)
    {
        w.Write(_pages.Count);
        foreach (var (page, data) in _pages.OrderBy(p => p.Key))
        {
            w.Write(page);
            w.Write(data);
        }
    }

    /// <summary>The overlay for the state hash: page numbers in order, each with a digest of its bytes. Digests are
    /// computed afresh every time rather than cached per write: a cache would let a page changed by any path other
    /// than <see cref="Write"/> (a restore, a host bug) hash as before, which is what the hash exists to catch.</summary>
    public void WriteHashState(BinaryWriter w)
    {
        w.Write(_pages.Count);
        foreach (var (page, data) in _pages.OrderBy(p => p.Key))
        {
            w.Write(page);
            w.Write(XxHash3.HashToUInt64(data));
        }
    }

    public void LoadState(BinaryReader r)
    {
        _pages.Clear();
        for (int n = r.ReadInt32(); n > 0; n--)
        {
            long page = r.ReadInt64();
            _pages[page] = r.ReadBytes(PageSize);
        }
    }

    /// <summary>Nothing to make durable: the overlay lives and dies with the session.</summary>
    public void Flush() { }

    /// <summary>The overlay page, filled from the base on first write (the base may end mid-page).</summary>
    private byte[] PageFor(long page)
    {
        if (_pages.TryGetValue(page, out var data)) return data;
        data = new byte[PageSize];
        long start = page * PageSize;
        int available = (int)Math.Min(PageSize, Length - start);
        baseStorage.Read(start, data.AsSpan(0, available));
        _pages[page] = data;
        return data;
    }

    private void CheckRange(long offset, int length)
    {
        if (offset < 0 || offset > Length || length > Length - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), $"0x{offset:x}+{length} outside a disk of {Length} bytes");
    }
}
