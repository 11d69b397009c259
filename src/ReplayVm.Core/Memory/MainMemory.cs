using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ReplayVm.Core.Hart;

namespace ReplayVm.Core.Memory;

/// <summary>
/// Guest RAM, plus the decode cache that mirrors the pages holding code. Keeping both here means
/// every writer (the hart, DMA from devices, loaders, snapshot restores) invalidates stale decodes
/// through one path.
///
/// The bytes live in host memory reserved lazily (<see cref="LazyZeroedRegion"/>), as QEMU has
/// them: any size the board allows can be configured, and only pages the guest touches cost host
/// memory. The per-page write epochs live in such a region too. One invariant makes untouched
/// pages cheap for every consumer: <b>a page whose epoch is 0 has never been written and holds
/// zeros</b>, so snapshots, state hashes and comparisons skip it without reading it.
/// </summary>
public sealed unsafe class MainMemory
{
    public const int PageShift = 12;
    public const int PageSize = 1 << PageShift;
    /// <summary>One decode slot per 16-bit parcel: compressed instructions may start at any even offset.</summary>
    public const int SlotsPerPage = PageSize / 2;
    /// <summary>Length of a decode page: one slot more than <see cref="SlotsPerPage"/>. The extra slot is
    /// never filled, so the hart's straight-line fast path, stepping past the page's last instruction,
    /// lands on an empty slot and leaves the page through its full fetch path without testing the offset.</summary>
    public const int DecodePageLength = SlotsPerPage + 1;
    /// <summary>The largest RAM accepted: QEMU's virt board has no smaller limit of its own for RV64 and
    /// the device tree describes any size; this keeps the reservation within every 64-bit host's address space.</summary>
    public const ulong MaxSize = 1UL << 40;

    public readonly ulong Base;
    public readonly ulong Size;

    private readonly LazyZeroedRegion _bytes;
    private readonly LazyZeroedRegion _epochs;

    /// <summary>Pages per chunk of the decode cache's table (2 MiB of RAM).</summary>
    public const int DecodeChunkShift = 9;
    private const ulong DecodeChunkMask = (1 << DecodeChunkShift) - 1;

    /// <summary>
    /// Decoded instructions per page, in two levels so that the table costs what holds code rather than
    /// 8 bytes per page of RAM: chunk <c>page &gt;&gt; DecodeChunkShift</c>, then the page within it. A page
    /// is null when nothing on it has been executed since its last write; a chunk is null until one of
    /// its pages is. Read it with <see cref="DecodedPageAt"/>.
    /// </summary>
    internal readonly DecodedInstruction[]?[]?[] DecodedChunks;

    /// <summary>The current write epoch; starts at 1 so that 0 means "never written".</summary>
    public uint Epoch { get; private set; } = 1;

    /// <summary>Starts a new epoch and returns it: pages written from now on carry at least this value.</summary>
    public uint AdvanceEpoch() => ++Epoch;

    public ulong PageCount => Size >> PageShift;

    public MainMemory(ulong baseAddress, ulong size)
    {
        if (size == 0 || size % PageSize != 0 || size > MaxSize)
            throw new ArgumentOutOfRangeException(nameof(size), "RAM size must be a positive multiple of 4 KiB, at most 1 TiB");
        Base = baseAddress;
        Size = size;
        _bytes = new LazyZeroedRegion(size);
        _epochs = new LazyZeroedRegion(PageCount * sizeof(uint));
        PageTables = new PageTablePages(PageCount);
        DecodedChunks = new DecodedInstruction[]?[]?[(PageCount + DecodeChunkMask) >> DecodeChunkShift];
    }

    /// <summary>The decode page holding RAM offset <paramref name="offset"/>, or null. The caller has checked
    /// <c>offset &lt; Size</c>, which bounds both indexes, so they are taken without the JIT's checks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static DecodedInstruction[]? DecodedPageAt(DecodedInstruction[]?[]?[] chunks, ulong offset)
    {
        ulong page = offset >> PageShift;
        DecodedInstruction[]?[]? chunk = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(chunks), (nint)(page >> DecodeChunkShift));
        return chunk is null ? null : Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(chunk), (nint)(page & DecodeChunkMask));
    }

    /// <summary>Gives the page holding RAM offset <paramref name="offset"/> an empty decode page (a first execution).</summary>
    internal void CreateDecodedPage(ulong offset)
    {
        ulong page = offset >> PageShift;
        ref DecodedInstruction[]?[]? chunk = ref DecodedChunks[page >> DecodeChunkShift];
        chunk ??= new DecodedInstruction[]?[1 << DecodeChunkShift];
        DecodedInstruction[] decoded;
        if (_freeDecodePages.Count > 0)
        {
            decoded = _freeDecodePages.Pop();
            Array.Clear(decoded);
        }
        else
        {
            // On the pinned heap: decode pages live long, and in gen0 each was copied up the
            // generations by the collections a booting OS's thousand of them set off.
            decoded = GC.AllocateArray<DecodedInstruction>(DecodePageLength, pinned: true);
        }
        chunk[page & DecodeChunkMask] = decoded;
    }

    /// <summary>
    /// Decode pages dropped since, kept for reuse. A booting OS executes code on a thousand pages and
    /// rewrites many of them (freed memory reused for data, then for other code): allocating each
    /// decode page anew (32 KiB) cost gen0 collections that copied the live ones, and fresh memory's
    /// page faults. A dropped page is referenced by nothing that may still take it for current: the
    /// hart forgets what it keyed on it when told of the drop (see <see cref="CodeInvalidated"/>).
    /// </summary>
    private readonly Stack<DecodedInstruction[]> _freeDecodePages = new();
    /// <summary>Most decode pages kept for reuse (8 MiB).</summary>
    private const int MaxFreeDecodePages = 256;

    private void Recycle(DecodedInstruction[] decoded)
    {
        if (_freeDecodePages.Count < MaxFreeDecodePages) _freeDecodePages.Push(decoded);
    }

    /// <summary>RAM's first byte. Stable for the memory's lifetime: the hart and generated code keep it.</summary>
    public byte* Pointer => _bytes.Pointer;

    /// <summary>
    /// Per page, the <see cref="Epoch"/> during which it was last written (0: never). Consumers that need
    /// "pages written since X" (incremental state hashes, checkpoints) call <see cref="AdvanceEpoch"/>
    /// and later compare: a page is dirty for them if its epoch is at least the one they got. Every
    /// write path stamps it — the hart's stores, <see cref="Write"/> for loaders and DMA — with a
    /// plain store, so it costs the hot path almost nothing and serves any number of consumers.
    /// Stable for the memory's lifetime, like <see cref="Pointer"/>.
    /// </summary>
    public uint* EpochPointer => (uint*)_epochs.Pointer;

    /// <summary>The write epochs of every page, as <see cref="EpochPointer"/> describes them.</summary>
    public ReadOnlySpan<uint> PageEpochs => new(EpochPointer, checked((int)PageCount));

    /// <summary>Whether page <paramref name="page"/> was ever written; if not, it holds zeros.</summary>
    public bool EverWritten(ulong page) => EpochPointer[page] != 0;

    /// <summary>Whether any page in [first, first + count) carries an epoch of at least <paramref name="since"/>.</summary>
    public bool AnyWrittenSince(int first, int count, uint since)
    {
        ReadOnlySpan<uint> epochs = PageEpochs.Slice(first, count);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var limit = Vector256.Create(since);
            for (; i + Vector256<uint>.Count <= epochs.Length; i += Vector256<uint>.Count)
                if (Vector256.GreaterThanOrEqualAny(Vector256.Create(epochs.Slice(i, Vector256<uint>.Count)), limit)) return true;
        }
        for (; i < epochs.Length; i++)
            if (epochs[i] >= since) return true;
        return false;
    }

    /// <summary>The pages the hart's TLB translations were read from (see <see cref="PageTablePages"/>).</summary>
    internal PageTablePages PageTables { get; }

    /// <summary>Called when a host-side write (<see cref="Write"/>: DMA, loaders) lands on a page in
    /// <see cref="PageTables"/>: the hart's TLB may hold translations the write changed.</summary>
    internal Action? PageTablesWritten { get; set; }

    public bool Contains(ulong address, ulong length) => address - Base < Size && length <= Size - (address - Base);

    /// <summary>Called whenever cached decodes are dropped, with the index of the RAM page whose decode
    /// page was dropped (<see cref="AllPages"/>: all of them): the hart ends its slice, because it may
    /// be walking the dropped page's slots, and forgets whatever it keyed on the dropped decode page,
    /// which may be handed out again for other code.</summary>
    internal Action<ulong>? CodeInvalidated { get; set; }

    /// <summary>The page index <see cref="CodeInvalidated"/> is given when every decode page was dropped.</summary>
    internal const ulong AllPages = ulong.MaxValue;

    /// <summary>Drops cached decodes of the page holding <paramref name="offset"/>. (Instructions that
    /// span two pages are never cached, so no other page can hold a stale copy of these bytes.)</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void InvalidateCode(ulong offset)
    {
        ulong page = offset >> PageShift;
        // Writes to pages without cached code (data, page tables, DMA buffers) leave the hart's slice alone.
        DecodedInstruction[]?[]? chunk = DecodedChunks[page >> DecodeChunkShift];
        if (chunk?[page & DecodeChunkMask] is not { } dropped) return;
        chunk[page & DecodeChunkMask] = null;
        CodeInvalidated?.Invoke(page);
        Recycle(dropped);
    }

    /// <summary>Drops every cached decode (FENCE.I, loading an image).</summary>
    public void InvalidateAllCode()
    {
        CodeInvalidated?.Invoke(AllPages);
        foreach (var chunk in DecodedChunks)
        {
            if (chunk is null) continue;
            foreach (var dropped in chunk)
                if (dropped is not null) Recycle(dropped);
        }
        Array.Clear(DecodedChunks);
    }

    /// <summary>Copies bytes into RAM from the host side (loaders, devices doing DMA).</summary>
    public void Write(ulong address, ReadOnlySpan<byte> data)
    {
        if (!Contains(address, (ulong)data.Length)) throw new ArgumentOutOfRangeException(nameof(address));
        ulong offset = address - Base;
        data.CopyTo(new Span<byte>(Pointer + offset, data.Length));
        NoteWritten(offset, (ulong)Math.Max(data.Length, 1));
    }

    /// <summary>
    /// Sets [<paramref name="address"/>, + <paramref name="length"/>) to zeros from the host side (a
    /// loader's .bss). Pages never written already hold zeros (see the class comment) and are left
    /// untouched, so they cost no host memory until the guest writes them; the others are cleared and
    /// stamped like any <see cref="Write"/>.
    /// </summary>
    public void Zero(ulong address, ulong length)
    {
        if (!Contains(address, length)) throw new ArgumentOutOfRangeException(nameof(address));
        ulong offset = address - Base, end = offset + length;
        while (offset < end)
        {
            ulong pageEnd = Math.Min(end, (offset | (PageSize - 1)) + 1);
            if (EverWritten(offset >> PageShift))
            {
                new Span<byte>(Pointer + offset, (int)(pageEnd - offset)).Clear();
                NoteWritten(offset, pageEnd - offset);
            }
            offset = pageEnd;
        }
    }

    /// <summary>
    /// Sets page <paramref name="page"/> to zeros by handing its host memory back (it reads as zeros
    /// and costs nothing until written again); stamped and invalidated like any write.
    /// </summary>
    public void ZeroPage(ulong page)
    {
        if (page >= PageCount) throw new ArgumentOutOfRangeException(nameof(page));
        _bytes.Discard(page << PageShift, PageSize);
        NoteWritten(page << PageShift, PageSize);
    }

    private void NoteWritten(ulong offset, ulong length)
    {
        bool pageTables = false;
        for (ulong page = offset >> PageShift; page <= (offset + length - 1) >> PageShift; page++)
        {
            InvalidateCode(page << PageShift);
            EpochPointer[page] = Epoch;
            pageTables |= PageTables.Contains(page);
        }
        if (pageTables) PageTablesWritten?.Invoke();
    }

    public ReadOnlySpan<byte> Read(ulong address, int length)
    {
        if (!Contains(address, (ulong)length)) throw new ArgumentOutOfRangeException(nameof(address));
        return new ReadOnlySpan<byte>(Pointer + (address - Base), length);
    }

    /// <summary>The bytes of page <paramref name="page"/> (an index from 0, not an address).</summary>
    public ReadOnlySpan<byte> Page(ulong page)
    {
        if (page >= PageCount) throw new ArgumentOutOfRangeException(nameof(page));
        return new ReadOnlySpan<byte>(Pointer + (page << PageShift), PageSize);
    }
}
