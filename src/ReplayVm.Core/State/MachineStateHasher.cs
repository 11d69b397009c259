using System.Buffers.Binary;
using System.IO.Hashing;
using ReplayVm.Core.Memory;

namespace ReplayVm.Core.State;

/// <summary>
/// A deterministic 128-bit hash (XxHash128) of a machine's architectural state: step counters,
/// pc, privilege mode, x1..x31, f0..f31, every implemented CSR (0x000..0xFFF, counters included:
/// they derive from the step count and so are deterministic too), the guest clock's WFI skip and
/// mtime offset, the CLINT's mtimecmp, all of RAM, and every device's state: the UART (receive
/// FIFO, IER, IIR's transmit-empty event, LCR, MCR, SCR, FCR, divisor), the PLIC (priorities,
/// enables, thresholds, pending and claimed sources), the CLINT (msip, mtimecmp), each virtio-mmio
/// slot (feature selectors and negotiated features, status, interrupt status, each queue's size,
/// readiness, ring addresses and indices) with its device (the disk's copy-on-write overlay as a
/// digest per written page), and the Goldfish RTC (time offset, latched high half, alarm, its
/// deadline, enable and pending flags) — each as its <see cref="IDeviceState.WriteHashState"/> writes it.
///
/// RAM is hashed page by page (XxHash3, 64 bits per 4 KiB page) and the page digests are kept, so a
/// hash re-reads only the pages its <see cref="IDirtyPageSource"/> reports as written since the
/// previous hash — by default RAM's write epochs (<see cref="PageEpochDirtyPages"/>);
/// <see cref="AllPagesDirty"/> re-reads everything, for cross-checking. Nothing here depends on the host: values are serialised little-endian, and the
/// digest of the same state is the same on every machine, which is what lets a trace recorded on
/// one host be checked on another.
///
/// Reading the state for a hash changes nothing (the devices serialise, they are not read through
/// the bus), so hashing at any point never alters a run.
/// </summary>
public sealed class MachineStateHasher
{
    /// <summary>Bumped whenever what is hashed, or how, changes: old traces' hashes would no longer match.</summary>
    public const int Version = 2;

    private readonly Machine _machine;
    private readonly MainMemory _ram;
    private readonly IDirtyPageSource _dirtyPages;
    private readonly int _pageCount;
    private readonly ulong[] _dirtyBitmap;
    /// <summary>Digest of each RAM page, little-endian, 8 bytes a page: the RAM part of the state hash input.
    /// Kept by chunks of <see cref="DigestsPerChunk"/> pages; a null chunk holds only zero pages, whose digest
    /// is <see cref="ZeroPageDigest"/>, so untouched RAM costs neither reading nor storing.</summary>
    private readonly byte[]?[] _digestChunks;
    private readonly byte[] _scratch = new byte[8];
    /// <summary>Devices serialise their hash state here; the bytes are then appended to the hash. Reused,
    /// so hashing allocates nothing once the buffer has grown to the devices' size.</summary>
    private readonly MemoryStream _deviceState = new();
    private readonly BinaryWriter _deviceWriter;
    private bool _primed;

    public MachineStateHasher(Machine machine, IDirtyPageSource? dirtyPages = null)
    {
        _machine = machine;
        _ram = machine.Ram;
        _dirtyPages = dirtyPages ?? new PageEpochDirtyPages(_ram);
        _pageCount = (int)(_ram.Size >> MainMemory.PageShift);
        _dirtyBitmap = new ulong[(_pageCount + 63) / 64];
        _digestChunks = new byte[]?[(_pageCount + DigestsPerChunk - 1) / DigestsPerChunk];
        _deviceWriter = new BinaryWriter(_deviceState);
    }

    private const int DigestsPerChunk = 512;

    /// <summary>The digest of an all-zero page.</summary>
    private static readonly ulong ZeroPageDigest = XxHash3.HashToUInt64(new byte[MainMemory.PageSize]);

    /// <summary>A chunk of zero pages' digests: what a null chunk stands for in the hash input.</summary>
    private static readonly byte[] ZeroDigestChunk = BuildZeroDigestChunk();

    private static byte[] BuildZeroDigestChunk()
    {
        var chunk = new byte[DigestsPerChunk * 8];
        for (int i = 0; i < DigestsPerChunk; i++) BinaryPrimitives.WriteUInt64LittleEndian(chunk.AsSpan(i * 8), ZeroPageDigest);
        return chunk;
    }

    /// <summary>Pages re-hashed by the last <see cref="Compute"/> (for tests and statistics).</summary>
    public int PagesRehashedLastTime { get; private set; }

    /// <summary>Hashes the current state. Call between <see cref="Machine.Run"/> calls, never during one.</summary>
    public StateHash Compute()
    {
        RefreshPageDigests();
        var hash = new XxHash128();
        var hart = _machine.Hart;

        Append(hash, Version);
        Append(hash, hart.Steps);
        Append(hash, hart.ExceptionsTaken);
        Append(hash, hart.Pc);
        Append(hash, (ulong)hart.Mode);
        for (int i = 1; i < 32; i++) Append(hash, hart.GetX(i));
        for (int i = 0; i < 32; i++) Append(hash, hart.GetF(i));
        for (uint csr = 0; csr <= 0xFFF; csr++)
        {
            // The CSR number goes in too, so that a CSR existing in one run and not the other differs.
            if (hart.TryReadCsr(csr, out ulong value))
            {
                Append(hash, csr);
                Append(hash, value);
            }
        }
        Append(hash, hart.Clock.IdleNanoseconds);
        Append(hash, hart.Clock.TickOffset);
        Append(hash, _machine.Clint.Mtimecmp);
        Append(hash, _ram.Base);
        Append(hash, _ram.Size);
        AppendPageDigests(hash);
        _deviceState.SetLength(0);
        foreach (var device in _machine.StatefulDevices) device.WriteHashState(_deviceWriter);
        _deviceWriter.Flush();
        hash.Append(_deviceState.GetBuffer().AsSpan(0, (int)_deviceState.Length));

        var digest = hash.GetCurrentHashAsUInt128();
        return new StateHash((ulong)(digest >> 64), (ulong)digest);
    }

    private void RefreshPageDigests()
    {
        if (!_primed)
        {
            // The first hash reads every page ever written (the others are zero: see MainMemory); from
            // then on the dirty-page source keeps us current.
            ReadOnlySpan<uint> epochs = _ram.PageEpochs;
            for (int page = 0; page < _pageCount; page++)
                if (epochs[page] != 0) _dirtyBitmap[page >> 6] |= 1UL << (page & 63);
            _primed = true;
        }
        _dirtyPages.TakeDirtyPages(_dirtyBitmap);
        int rehashed = 0;
        for (int word = 0; word < _dirtyBitmap.Length; word++)
        {
            ulong bits = _dirtyBitmap[word];
            _dirtyBitmap[word] = 0;
            while (bits != 0)
            {
                int page = word * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                if (page >= _pageCount) break;
                ulong digest = XxHash3.HashToUInt64(_ram.Page((ulong)page));
                ref byte[]? chunk = ref _digestChunks[page / DigestsPerChunk];
                if (chunk is null)
                {
                    if (digest == ZeroPageDigest) { rehashed++; continue; }
                    chunk = (byte[])ZeroDigestChunk.Clone();
                }
                BinaryPrimitives.WriteUInt64LittleEndian(chunk.AsSpan(page % DigestsPerChunk * 8), digest);
                rehashed++;
            }
        }
        PagesRehashedLastTime = rehashed;
    }

    /// <summary>Every page's digest in page order, exactly the bytes a flat digest array would hold.</summary>
    private void AppendPageDigests(XxHash128 hash)
    {
        for (int c = 0; c < _digestChunks.Length; c++)
        {
            int pages = Math.Min(DigestsPerChunk, _pageCount - c * DigestsPerChunk);
            hash.Append((_digestChunks[c] ?? ZeroDigestChunk).AsSpan(0, pages * 8));
        }
    }

    private void Append(XxHash128 hash, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_scratch, value);
        hash.Append(_scratch);
    }
}
