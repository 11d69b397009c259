using System.Buffers.Binary;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Memory;
using ReplayVm.Core.State;
using ReplayVm.Replay.Format;
using ReplayVm.Replay.Timeline;

namespace ReplayVm.Replay.TraceIndex;

/// <summary>What a sidecar's header says: which trace it belongs to and how it was made.</summary>
public sealed record TraceIndexHeader(
    TraceIdentity Trace,
    int BoardRevision,
    int HasherVersion,
    int HartImageVersion,
    ulong StateHashInterval,
    ulong Every,
    ulong PageCount,
    long Budget)
{
    internal void Write(ByteWriter w)
    {
        w.VarUInt((ulong)Trace.Length);
        w.UInt64((ulong)(Trace.Digest >> 64));
        w.UInt64((ulong)Trace.Digest);
        w.VarUInt((ulong)BoardRevision);
        w.VarUInt((ulong)HasherVersion);
        w.VarUInt((ulong)HartImageVersion);
        w.VarUInt(StateHashInterval);
        w.VarUInt(Every);
        w.VarUInt(PageCount);
        w.VarUInt((ulong)Budget);
    }

    internal static TraceIndexHeader Read(ref ByteReader r)
    {
        long length = (long)Math.Min(r.VarUInt(), long.MaxValue);
        ulong high = r.UInt64(), low = r.UInt64();
        int Small(ulong v) => (int)Math.Min(v, int.MaxValue);
        return new TraceIndexHeader(new TraceIdentity(length, new UInt128(high, low)),
            Small(r.VarUInt()), Small(r.VarUInt()), Small(r.VarUInt()), r.VarUInt(), r.VarUInt(), r.VarUInt(), (long)Math.Min(r.VarUInt(), long.MaxValue));
    }
}

/// <summary>
/// Writes a sidecar: the preamble and header, then per snapshot one record chunk followed by the
/// page chunks it names, then the end record. A snapshot holds only the pages that differ from the
/// previous snapshot written; a snapshot that would take the file past its budget is not written
/// (<see cref="TryAdd"/> says so), so the file never exceeds the budget.
/// </summary>
internal sealed class TraceIndexWriter
{
    private readonly Stream _output;
    private readonly long _budget;
    private readonly List<int> _changed = [];
    private MachineSnapshot? _previous;
    private int _outputWritten;
    /// <summary>The base step of the last trap record written (0: none yet): where the next one's steps count from.</summary>
    private ulong _lastTrapRecordThrough;
    private long _trapsWritten;

    /// <summary>Every trap before this step has been written (0: none yet).</summary>
    public ulong TrapsThrough { get; private set; }

    /// <summary>False once traps stopped being written (the budget or <see cref="TraceIndexFormat.MaxTrapMarkers"/>).</summary>
    public bool TrapsKept { get; private set; } = true;

    public TraceIndexWriter(Stream output, TraceIndexHeader header)
    {
        _output = output;
        _budget = header.Budget;
        var start = HeaderBytes(header);
        _output.Write(start);
        Bytes = start.Length;
    }

    /// <summary>
    /// A writer of the records alone, for a header that can only be written once the trace is
    /// finished (a recorder's sidecar: the header holds the trace's hash). <paramref name="budget"/>
    /// counts <see cref="HeaderReserve"/> bytes for it.
    /// </summary>
    public TraceIndexWriter(Stream records, long budget)
    {
        _output = records;
        _budget = budget;
        Bytes = HeaderReserve;
    }

    /// <summary>More than any preamble and header take (20 bytes and at most 10 varints and a digest).</summary>
    public const int HeaderReserve = 160;

    /// <summary>The preamble and header of a sidecar.</summary>
    public static byte[] HeaderBytes(TraceIndexHeader header)
    {
        var body = new ByteWriter();
        header.Write(body);
        var preamble = new byte[TraceIndexFormat.PreambleSize];
        TraceIndexFormat.FileMagic.CopyTo(preamble);
        BinaryPrimitives.WriteUInt16LittleEndian(preamble.AsSpan(8), TraceIndexFormat.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(preamble.AsSpan(10), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(preamble.AsSpan(12), (uint)body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(preamble.AsSpan(16), HeaderCrc(preamble, body.Written));
        return [.. preamble, .. body.Written];
    }

    /// <summary>The CRC32C of the preamble's version, flags and length and of the header body.</summary>
    internal static uint HeaderCrc(ReadOnlySpan<byte> preamble, ReadOnlySpan<byte> body) =>
        Crc32C.Finish(Crc32C.Append(Crc32C.Append(Crc32C.Start, preamble[8..16]), body));

    /// <summary>Bytes written so far.</summary>
    public long Bytes { get; private set; }

    public int Snapshots { get; private set; }

    /// <summary>
    /// Writes <paramref name="snapshot"/> (taken at a hash point whose recorded hash is
    /// <paramref name="hash"/>) as a delta against the previous snapshot written, with the input
    /// cursor and the console output since, and <paramref name="executedPages"/>: the virtual pages
    /// run since the previous snapshot written (null: not known). Returns false, writing nothing, when it would not fit the budget.
    /// </summary>
    public bool TryAdd(MachineSnapshot snapshot, StateHash hash, InputCursor cursor, List<byte> output, ulong[]? executedPages = null,
        ulong[]? storedPages = null, ulong[]? loadedPages = null)
    {
        _changed.Clear();
        snapshot.ChangedPages(_previous, _changed);
        var record = new ByteWriter(4096);
        record.Byte(TraceIndexFormat.SnapshotKind);
        record.VarUInt(snapshot.Step);
        Span<byte> digest = stackalloc byte[StateHash.Size];
        hash.WriteTo(digest);
        record.Bytes(digest);
        record.VarUInt((ulong)cursor.Console);
        record.VarUInt((ulong)cursor.Clock);
        record.VarUInt((ulong)cursor.Entropy);
        record.Blob(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(output)[_outputWritten..]);
        var hart = new MemoryStream();
        using (var w = new BinaryWriter(hart, System.Text.Encoding.UTF8, leaveOpen: true)) snapshot.HartState.Write(w);
        record.Blob(hart.GetBuffer().AsSpan(0, (int)hart.Length));
        record.Blob(snapshot.DeviceStateBytes);
        record.VarUInt((ulong)_changed.Count);
        int previous = -1, stored = 0;
        foreach (int page in _changed)
        {
            bool zero = snapshot.IsZeroPage(page);
            record.VarUInt(((ulong)(page - previous - 1) << 1) | (zero ? 1UL : 0UL));
            previous = page;
            if (!zero) stored++;
        }
        int pageChunks = (stored + TraceIndexFormat.PagesPerChunk - 1) / TraceIndexFormat.PagesPerChunk;
        record.VarUInt((ulong)pageChunks);
        VirtualPageList.Write(record, executedPages);
        VirtualPageList.Write(record, storedPages);
        VirtualPageList.Write(record, loadedPages);
        if (record.Length > TraceIndexFormat.MaxRecordSize) return false;

        var chunks = new List<byte[]> { ChunkCodec.Encode(snapshot.Step, record.Written) };
        var raw = new byte[Math.Min(stored, TraceIndexFormat.PagesPerChunk) * MainMemory.PageSize];
        int filled = 0;
        foreach (int page in _changed)
        {
            if (snapshot.IsZeroPage(page)) continue;
            snapshot.PageBytes(page).CopyTo(raw.AsSpan(filled * MainMemory.PageSize));
            if (++filled == TraceIndexFormat.PagesPerChunk)
            {
                chunks.Add(ChunkCodec.Encode(snapshot.Step, raw));
                filled = 0;
            }
        }
        if (filled > 0) chunks.Add(ChunkCodec.Encode(snapshot.Step, raw.AsSpan(0, filled * MainMemory.PageSize)));

        long size = chunks.Sum(c => (long)c.Length);
        if (Bytes + size + TraceIndexFormat.EndReserve > _budget) return false;
        foreach (var chunk in chunks) _output.Write(chunk);
        Bytes += size;
        Snapshots++;
        _previous = snapshot;
        _outputWritten = output.Count;
        return true;
    }

    /// <summary>
    /// Writes the traps taken since the last call, in step order, all at steps up to
    /// <paramref name="through"/> (the replay's position: every trap before it is among them), as
    /// one or more trap records. Once they no longer fit the budget or the marker limit, no more are
    /// written and <see cref="TrapsThrough"/> stays where they are complete.
    /// </summary>
    public void AddTraps(IReadOnlyList<Timeline.TrapMarker> markers, ulong through)
    {
        if (!TrapsKept) return;
        if (_trapsWritten + markers.Count > TraceIndexFormat.MaxTrapMarkers)
        {
            TrapsKept = false;
            return;
        }
        var chunks = new List<byte[]>();
        ulong recordFrom = _lastTrapRecordThrough;
        for (int first = 0; first < markers.Count || first == 0; first += TraceIndexFormat.MaxTrapsPerRecord)
        {
            int count = Math.Min(TraceIndexFormat.MaxTrapsPerRecord, markers.Count - first);
            var record = new ByteWriter(64 + count * 8);
            TrapRecordCodec.Write(record, markers, first, count, recordFrom);
            // A record covers the steps up to through only once its last marker is written.
            recordFrom = first + count >= markers.Count ? through : markers[first + count - 1].Step;
            chunks.Add(ChunkCodec.Encode(recordFrom, record.Written));
        }
        long size = chunks.Sum(c => (long)c.Length);
        if (Bytes + size + TraceIndexFormat.EndReserve > _budget)
        {
            TrapsKept = false;
            return;
        }
        foreach (var chunk in chunks) _output.Write(chunk);
        Bytes += size;
        _trapsWritten += markers.Count;
        TrapsThrough = _lastTrapRecordThrough = through;
    }

    /// <summary>
    /// Ends the file: how many snapshots it holds, how far the building replay checked the trace, how
    /// far its traps are complete, and the virtual pages run from, stored to and loaded from from the last snapshot to the end.
    /// </summary>
    public void Finish(int hashPointsVerified, ulong verifiedThrough, ReplayOutcome outcome, ulong[]? executedPages = null,
        ulong[]? storedPages = null, ulong[]? loadedPages = null)
    {
        var record = new ByteWriter();
        record.Byte(TraceIndexFormat.EndKind);
        record.VarUInt((ulong)Snapshots);
        record.VarUInt((ulong)hashPointsVerified);
        record.VarUInt(verifiedThrough);
        record.Byte((byte)outcome);
        record.VarUInt(TrapsThrough);
        VirtualPageList.Write(record, executedPages);
        VirtualPageList.Write(record, storedPages);
        VirtualPageList.Write(record, loadedPages);
        var chunk = ChunkCodec.Encode(verifiedThrough, record.Written);
        _output.Write(chunk);
        Bytes += chunk.Length;
        _output.Flush();
    }
}
