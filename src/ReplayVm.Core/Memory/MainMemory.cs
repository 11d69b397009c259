using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ReplayVm.Core.Hart;

namespace ReplayVm.Core.Memory;

/// <summary>
/// Guest RAM: one array, plus the decode cache that mirrors the pages holding code. Keeping both
/// here means every writer (the hart, later DMA from devices) invalidates stale decodes through
/// one path.
/// </summary>
public sealed class MainMemory
{
    public const int PageShift = 12;
    public const int PageSize = 1 << PageShift;
    /// <summary>One decode slot per 16-bit parcel: compressed instructions may start at any even offset.</summary>
    public const int SlotsPerPage = PageSize / 2;
    /// <summary>Length of a decode page: one slot more than <see cref="SlotsPerPage"/>. The extra slot is
    /// never filled, so the hart's straight-line fast path, stepping past the page's last instruction,
    /// lands on an empty slot and leaves the page through its full fetch path without testing the offset.</summary>
    public const int DecodePageLength = SlotsPerPage + 1;

    public readonly ulong Base;
    public readonly ulong Size;
    public readonly byte[] Bytes;

    /// <summary>Decoded instructions per page; null when nothing on the page has been executed since its last write.</summary>
    internal readonly DecodedInstruction[]?[] DecodedPages;

    /// <summary>
    /// Per page, the <see cref="Epoch"/> during which it was last written. Consumers that need
    /// "pages written since X" (incremental state hashes, checkpoints) call <see cref="AdvanceEpoch"/>
    /// and later compare: a page is dirty for them if its epoch is at least the one they got. Every
    /// write path stamps it — the hart's stores, <see cref="Write"/> for loaders and DMA — with a
    /// plain store, so it costs the hot path almost nothing and serves any number of consumers.
    /// </summary>
    public readonly uint[] PageEpochs;

    /// <summary>The current write epoch; starts at 1 so that 0 means "never written".</summary>
    public uint Epoch { get; private set; } = 1;

    /// <summary>Starts a new epoch and returns it: pages written from now on carry at least this value.</summary>
    public uint AdvanceEpoch() => ++Epoch;

    public ulong PageCount => Size >> PageShift;

    public MainMemory(ulong baseAddress, ulong size)
    {
        if (size == 0 || size % PageSize != 0 || size > (1UL << 40))
            throw new ArgumentOutOfRangeException(nameof(size), "RAM size must be a positive multiple of 4 KiB, at most 1 TiB");
        if (size > (ulong)Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(size), $"RAM size above {Array.MaxLength} bytes is not supported");
        Base = baseAddress;
        Size = size;
        Bytes = GC.AllocateUninitializedArray<byte>((int)size, pinned: true);
        Array.Clear(Bytes);
        DecodedPages = new DecodedInstruction[]?[size >> PageShift];
        PageEpochs = GC.AllocateArray<uint>((int)(size >> PageShift), pinned: true);
        Array.Fill(PageEpochs, Epoch);
    }

    public bool Contains(ulong address, ulong length) => address - Base < Size && length <= Size - (address - Base);

    /// <summary>Called whenever cached decodes are dropped: the hart ends its slice, because it may be
    /// walking the dropped page's slots.</summary>
    public Action? CodeInvalidated { get; set; }

    /// <summary>Drops cached decodes of the page holding <paramref name="offset"/>. (Instructions that
    /// span two pages are never cached, so no other page can hold a stale copy of these bytes.)</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void InvalidateCode(ulong offset)
    {
        ulong page = offset >> PageShift;
        // Writes to pages without cached code (data, page tables, DMA buffers) leave the hart's slice alone.
        if (DecodedPages[page] is null) return;
        DecodedPages[page] = null;
        CodeInvalidated?.Invoke();
    }

    /// <summary>Drops every cached decode (FENCE.I, loading an image).</summary>
    public void InvalidateAllCode()
    {
        Array.Clear(DecodedPages);
        CodeInvalidated?.Invoke();
    }

    /// <summary>Copies bytes into RAM from the host side (loaders, devices doing DMA).</summary>
    public void Write(ulong address, ReadOnlySpan<byte> data)
    {
        if (!Contains(address, (ulong)data.Length)) throw new ArgumentOutOfRangeException(nameof(address));
        ulong offset = address - Base;
        data.CopyTo(Bytes.AsSpan((int)offset, data.Length));
        for (ulong page = offset >> PageShift; page <= (offset + (ulong)Math.Max(data.Length, 1) - 1) >> PageShift; page++)
        {
            InvalidateCode(page << PageShift);
            PageEpochs[page] = Epoch;
        }
    }

    public ReadOnlySpan<byte> Read(ulong address, int length)
    {
        if (!Contains(address, (ulong)length)) throw new ArgumentOutOfRangeException(nameof(address));
        return Bytes.AsSpan((int)(address - Base), length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref byte At(ulong offset) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Bytes), (nint)offset);
}
