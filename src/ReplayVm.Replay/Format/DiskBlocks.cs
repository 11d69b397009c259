using K4os.Compression.LZ4;
using ReplayVm.Core.Devices.Storage;

namespace ReplayVm.Replay.Format;

/// <summary>
/// An embedded disk as the format stores it from version 3 on (docs/trace-format.md, "Disk
/// blocks"): cut into blocks of <see cref="TraceFormat.DiskBlockSize"/> bytes, each stored on its
/// own — absent when all zero, LZ4-compressed when that is shorter, raw otherwise — and listed in
/// the header with its stored length and CRC32C, the bytes themselves following the header. A
/// replay then reads only the blocks the guest touches, and a disk of zeros costs nothing.
/// </summary>
internal static class DiskBlocks
{
    /// <summary>One block's entry in the header: stored length (0 = all zero) and CRC32C of the stored bytes.</summary>
    public readonly record struct Entry(uint Length, uint Crc);

    public static long BlockCount(long size, int blockSize) => (size + blockSize - 1) / blockSize;

    /// <summary>
    /// First pass of the writer: how each block of <paramref name="content"/> will be stored. The
    /// writer stores the same bytes again in <see cref="WriteData"/>, compressing a second time
    /// rather than holding a disk's compressed bytes in memory.
    /// </summary>
    public static Entry[] Plan(IBlockStorage content, string what)
    {
        long count = BlockCount(content.Length, TraceFormat.DiskBlockSize);
        if (count > Array.MaxLength) throw new InvalidOperationException($"{what} has too many blocks to embed");
        var entries = new Entry[count];
        var raw = new byte[TraceFormat.DiskBlockSize];
        var packed = new byte[LZ4Codec.MaximumOutputSize(raw.Length)];
        for (long i = 0; i < count; i++)
        {
            var stored = Store(content, i, raw, packed);
            entries[i] = stored.IsEmpty ? default : new Entry((uint)stored.Length, Crc32C.Compute(stored));
        }
        return entries;
    }

    /// <summary>Second pass: the stored bytes of every block, in order; checks they match the plan (the image must not change meanwhile).</summary>
    public static void WriteData(Stream output, IBlockStorage content, Entry[] plan, string what)
    {
        var raw = new byte[TraceFormat.DiskBlockSize];
        var packed = new byte[LZ4Codec.MaximumOutputSize(raw.Length)];
        for (long i = 0; i < plan.LongLength; i++)
        {
            // A block the plan stores raw needs no second compression attempt, only the check below.
            var stored = plan[i].Length == RawLength(content.Length, i) ? ReadBlock(content, i, raw) : Store(content, i, raw, packed);
            if (stored.Length != plan[i].Length || (!stored.IsEmpty && Crc32C.Compute(stored) != plan[i].Crc))
                throw new InvalidOperationException($"{what} changed while it was being embedded (block {i})");
            output.Write(stored);
        }
    }

    private static int RawLength(long size, long index) => (int)Math.Min(TraceFormat.DiskBlockSize, size - index * TraceFormat.DiskBlockSize);

    private static Span<byte> ReadBlock(IBlockStorage content, long index, byte[] raw)
    {
        var block = raw.AsSpan(0, RawLength(content.Length, index));
        content.Read(index * TraceFormat.DiskBlockSize, block);
        return block;
    }

    /// <summary>The stored form of block <paramref name="index"/>: empty for zeros, LZ4 when shorter, else raw.</summary>
    private static ReadOnlySpan<byte> Store(IBlockStorage content, long index, byte[] raw, byte[] packed)
    {
        var block = ReadBlock(content, index, raw);
        int length = block.Length;
        if (!block.ContainsAnyExcept((byte)0)) return [];
        int size = LZ4Codec.Encode(block, packed, LZ4Level.L00_FAST);
        return size > 0 && size < length ? packed.AsSpan(0, size) : block;
    }
}

/// <summary>
/// Where an embedded disk's blocks lie in a trace: the header's table, with each block's file
/// offset worked out once. Memory: 16 bytes a block, for 8 bytes of table in the file.
/// </summary>
internal sealed class DiskBlockTable
{
    private readonly uint[] _lengths;
    private readonly uint[] _crcs;
    private readonly long[] _offsets;

    public DiskBlockTable(long size, int blockSize, uint[] lengths, uint[] crcs)
    {
        Size = size;
        BlockSize = blockSize;
        _lengths = lengths;
        _crcs = crcs;
        _offsets = new long[lengths.Length];
        long at = 0;
        for (int i = 0; i < lengths.Length; i++)
        {
            _offsets[i] = at;
            at += lengths[i];
        }
        StoredBytes = at;
    }

    public long Size { get; }
    public int BlockSize { get; }
    public int BlockCount => _lengths.Length;

    /// <summary>Bytes the blocks take in the file's disk data.</summary>
    public long StoredBytes { get; }

    /// <summary>Where this disk's blocks start in the file (set once the header's length is known).</summary>
    public long DataOffset { get; set; }

    public uint StoredLength(int block) => _lengths[block];
    public uint Crc(int block) => _crcs[block];
    public long FileOffset(int block) => DataOffset + _offsets[block];

    /// <summary>Raw bytes of block <paramref name="block"/> (the last may be short).</summary>
    public int RawLength(int block) => (int)Math.Min(BlockSize, Size - (long)block * BlockSize);
}

/// <summary>
/// An embedded disk read from its trace block by block, as the guest touches it: read-only (the
/// machine puts a <see cref="CopyOnWriteOverlay"/> in front). It keeps the last block it decoded,
/// since the overlay reads a block a page at a time. A block that fails its CRC32C or does not
/// decompress is a <see cref="TraceFormatException"/> naming the disk and block: damage found late
/// is still reported as damage, not as a guest I/O error that would change the replay.
/// </summary>
internal sealed class TraceDiskStorage(TraceSource source, DiskBlockTable table, string name) : IBlockStorage
{
    private readonly Lock _lock = new();
    private readonly byte[] _stored = new byte[table.BlockSize];
    private readonly byte[] _block = new byte[table.BlockSize];
    private int _cached = -1;

    private readonly Lock _verifyLock = new();
    private bool _verified;

    public long Length => table.Size;
    public bool IsReadOnly => true;

    /// <summary>
    /// Checks the whole disk against the header's SHA-256 once (reading every stored block, a
    /// block at a time): the CRCs catch damage, this catches a header that lies about which disk
    /// it holds, which a diff of setups by hash relies on.
    /// </summary>
    public void VerifyOnce(byte[] sha256)
    {
        lock (_verifyLock)
        {
            if (_verified) return;
            if (!GuestDisk.HashOf(this).AsSpan().SequenceEqual(sha256))
                throw new TraceFormatException($"trace is damaged: embedded disk '{name}' does not match its SHA-256");
            _verified = true;
        }
    }

    public void Read(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset > Length || destination.Length > Length - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), $"0x{offset:x}+{destination.Length} outside a disk of {Length} bytes");
        lock (_lock)
        {
            while (!destination.IsEmpty)
            {
                int block = (int)(offset / table.BlockSize);
                int within = (int)(offset % table.BlockSize);
                int count = Math.Min(destination.Length, table.RawLength(block) - within);
                if (table.StoredLength(block) == 0) destination[..count].Clear();
                else Load(block).Slice(within, count).CopyTo(destination);
                offset += count;
                destination = destination[count..];
            }
        }
    }

    private ReadOnlySpan<byte> Load(int block)
    {
        int rawLength = table.RawLength(block);
        if (_cached == block) return _block.AsSpan(0, rawLength);
        _cached = -1;
        int storedLength = (int)table.StoredLength(block);
        string what = $"block {block} of embedded disk '{name}'";
        var stored = _stored.AsSpan(0, storedLength);
        source.ReadExactly(table.FileOffset(block), stored, what);
        if (Crc32C.Compute(stored) != table.Crc(block))
            throw new TraceFormatException($"trace is damaged: {what} fails its CRC32C");
        if (storedLength == rawLength) stored.CopyTo(_block);
        else if (LZ4Codec.Decode(stored, _block.AsSpan(0, rawLength)) != rawLength)
            throw new TraceFormatException($"trace is damaged: {what} does not decompress");
        _cached = block;
        return _block.AsSpan(0, rawLength);
    }

    public void Write(long offset, ReadOnlySpan<byte> source) => throw new IOException("an embedded disk is read-only");

    public void Flush() { }
}
