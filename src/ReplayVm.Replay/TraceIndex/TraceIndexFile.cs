using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using ReplayVm.Core;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Memory;
using ReplayVm.Core.State;
using ReplayVm.Replay.Format;
using ReplayVm.Replay.Timeline;

namespace ReplayVm.Replay.TraceIndex;

/// <summary>One snapshot a sidecar holds, as its record describes it (the pages stay in the file until composed).</summary>
public sealed class IndexedSnapshot
{
    internal IndexedSnapshot(ulong step, StateHash hash, InputCursor cursor, int outputEnd, HartSnapshot hart, byte[] devices,
        int[] pages, int[] slots, PageChunk[] chunks, ulong[]? executedPages, ulong[]? storedPages, ulong[]? loadedPages)
    {
        (Step, Hash, Cursor, OutputEnd, Hart, Devices, Pages, Slots, Chunks) = (step, hash, cursor, outputEnd, hart, devices, pages, slots, chunks);
        (ExecutedPages, StoredPages, LoadedPages) = (executedPages, storedPages, loadedPages);
    }

    /// <summary>The virtual pages the hart loaded from over the same steps as <see cref="StoredPages"/>; null when not recorded.</summary>
    public ulong[]? LoadedPages { get; }

    /// <summary>
    /// The virtual pages (address &gt;&gt; 12, ascending) the hart stored to between the previous
    /// snapshot (or step 0) and this one (instructions at steps before this one's); null when not recorded.
    /// </summary>
    public ulong[]? StoredPages { get; }

    /// <summary>
    /// The virtual pages (pc &gt;&gt; 12, ascending) the hart ran code from between the previous
    /// snapshot (or step 0) and this one, both ends included; null when not recorded.
    /// </summary>
    public ulong[]? ExecutedPages { get; }

    public ulong Step { get; }

    /// <summary>The state hash the record claims; equal to the trace's at <see cref="Step"/> (checked on open), and checked again on the machine after a restore.</summary>
    public StateHash Hash { get; }

    public InputCursor Cursor { get; }

    /// <summary>How many bytes of console output the guest had written by <see cref="Step"/>.</summary>
    public int OutputEnd { get; }

    internal HartSnapshot Hart { get; }
    internal byte[] Devices { get; }

    /// <summary>Pages that changed since the previous snapshot, ascending.</summary>
    internal int[] Pages { get; }

    /// <summary>Per changed page: -1 when it became zero, else its place among this record's stored pages.</summary>
    internal int[] Slots { get; }

    internal PageChunk[] Chunks { get; }

    /// <summary>Where a page chunk lies in the file and what its header said.</summary>
    internal readonly record struct PageChunk(long Offset, ChunkCodec.Header Header, int PageCount);
}

/// <summary>The page buffers of the last snapshot composed, so the next one shares those it can (and a restore between them copies only the rest).</summary>
public sealed class IndexPageCache
{
    internal Dictionary<(int Snapshot, int Slot), byte[]> Pages = [];
}

/// <summary>
/// A sidecar opened for reading. <see cref="Open"/> checks everything before anything is used: the
/// preamble and header CRC, that it belongs to this trace (file length and XxHash128, board
/// revision, hasher and hart-image versions, RAM size), every chunk's lengths and CRC, every
/// record field against its limits and the trace (each snapshot's step is a hash point of the
/// trace with the same hash; input cursors lie within the recorded input), and the end record.
/// Any problem is a <see cref="TraceIndexException"/> with one line for a notice. Page chunks are
/// read again when a snapshot is composed (<see cref="Compose"/>), checked again then.
/// Thread-safe for composing (positional reads of one handle; each caller its own cache).
/// </summary>
public sealed class TraceIndexFile : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly List<byte> _output = [];
    private readonly List<IndexedSnapshot> _snapshots = [];
    private readonly List<TrapRecordSummary> _trapRecords = [];
    private long _trapCount;
    private SidecarTraps? _traps;
    private readonly RecordChecks _checks;
    /// <summary>Where the next record starts.</summary>
    private long _offset;

    private TraceIndexFile(SafeFileHandle handle, string path, TraceIndexHeader header, RecordChecks checks, long offset)
    {
        (_handle, Path, Header, _checks, _offset) = (handle, path, header, checks, offset);
    }

    public string Path { get; }
    public TraceIndexHeader Header { get; }

    /// <summary>By step, ascending.</summary>
    public IReadOnlyList<IndexedSnapshot> Snapshots => _snapshots;

    /// <summary>
    /// The traps and interrupts of the recording, all of them before <see cref="TrapsThrough"/>,
    /// decoded from their records as queries need them. Only once <see cref="IsComplete"/>.
    /// </summary>
    public SidecarTraps Traps => IsComplete
        ? _traps ??= new SidecarTraps(_trapRecords, DecodeTrapRecord)
        : throw new InvalidOperationException("the sidecar's traps are known once its end record is read");

    /// <summary>Every trap before this step is in <see cref="Traps"/> (the step of the last trap record read; 0 before any).</summary>
    public ulong TrapsThrough { get; private set; }

    /// <summary>Whether <see cref="Traps"/> holds every trap of the recording (the build kept them to its end).</summary>
    public bool TrapsComplete => IsComplete && TrapsThrough >= VerifiedThrough;

    /// <summary>The virtual pages run from the last snapshot to <see cref="VerifiedThrough"/> (read with the end record; null before or when not recorded).</summary>
    public ulong[]? TailExecutedPages { get; private set; }

    /// <summary>The virtual pages stored to from the last snapshot to <see cref="VerifiedThrough"/> (as <see cref="TailExecutedPages"/>).</summary>
    public ulong[]? TailStoredPages { get; private set; }

    /// <summary>The virtual pages loaded from from the last snapshot to <see cref="VerifiedThrough"/> (as <see cref="TailExecutedPages"/>).</summary>
    public ulong[]? TailLoadedPages { get; private set; }

    /// <summary>
    /// Whether the stretch of steps closed by snapshot <paramref name="closing"/> (the stretch after
    /// the last snapshot when it is <see cref="Snapshots"/>.Count) may hold a breakpoint hit at one
    /// of <paramref name="pcs"/>: false only when its executed-page list is known and holds none of
    /// their pages. The stretch runs from the previous snapshot's step (0 for the first), both ends included.
    /// </summary>
    public bool StretchMayRun(int closing, IReadOnlyCollection<ulong> pcs)
    {
        var pages = closing < _snapshots.Count ? _snapshots[closing].ExecutedPages : IsComplete ? TailExecutedPages : null;
        return pages is null || VirtualPageList.HoldsAny(pages, pcs);
    }

    /// <summary>
    /// Whether the stretch closed by snapshot <paramref name="closing"/> (as <see cref="StretchMayRun"/>
    /// counts them) may hold a write-watch hit in one of <paramref name="ranges"/>: false only when its
    /// stored-page list is known and touches none of their pages.
    /// </summary>
    public bool StretchMayStore(int closing, IEnumerable<WatchRange> ranges)
    {
        var pages = closing < _snapshots.Count ? _snapshots[closing].StoredPages : IsComplete ? TailStoredPages : null;
        return pages is null || VirtualPageList.OverlapsAny(pages, ranges);
    }

    /// <summary>
    /// Whether the stretch closed by snapshot <paramref name="closing"/> may hold a read-watch hit in
    /// one of <paramref name="ranges"/>: false only when its loaded-page list is known and touches none of their pages.
    /// </summary>
    public bool StretchMayLoad(int closing, IEnumerable<WatchRange> ranges)
    {
        var pages = closing < _snapshots.Count ? _snapshots[closing].LoadedPages : IsComplete ? TailLoadedPages : null;
        return pages is null || VirtualPageList.OverlapsAny(pages, ranges);
    }

    /// <summary>The first step of the stretch closed by snapshot <paramref name="closing"/> (see <see cref="StretchMayRun"/>).</summary>
    public ulong StretchStart(int closing) => closing == 0 ? 0 : _snapshots[closing - 1].Step;

    /// <summary>Hash points the building replay checked, and the step it reached (known once <see cref="IsComplete"/>).</summary>
    public int HashPointsVerified { get; private set; }
    public ulong VerifiedThrough { get; private set; }

    /// <summary>
    /// Whether the end record has been read. A sidecar opened with <see cref="Open"/> always is; one
    /// opened while it is being built (<see cref="OpenGrowing"/>) becomes complete once
    /// <see cref="Extend"/> reads its end record.
    /// </summary>
    public bool IsComplete { get; private set; }

    /// <summary>The bytes read and checked so far (the file's size once <see cref="IsComplete"/>).</summary>
    public long Length => _offset;

    /// <summary>The console output up to snapshot <paramref name="index"/>'s step.</summary>
    public ReadOnlySpan<byte> OutputUpTo(int index) =>
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_output)[..Snapshots[index].OutputEnd];

    /// <summary>The index of the latest snapshot at or before <paramref name="step"/>, or -1.</summary>
    public int LatestAtOrBefore(ulong step) => SortedSteps.FirstAfter(Snapshots, step, static s => s.Step) - 1;

    public void Dispose() => _handle.Dispose();

    /// <summary>
    /// Opens and checks the sidecar at <paramref name="path"/> against <paramref name="trace"/>, whose
    /// file is <paramref name="identity"/>. Trap records are checked as far as their summaries go
    /// (framing, CRC, order, counts and causes); their markers are decoded, and checked, when a query
    /// needs them (<see cref="SidecarTraps"/>): a recording of an OS holds millions.
    /// </summary>
    public static TraceIndexFile Open(string path, TraceFile trace, TraceIdentity identity)
    {
        return OpenChecked(path, trace, identity, handle =>
        {
            long length = RandomAccess.GetLength(handle);
            var file = ReadHeader(handle, path, trace, identity, length);
            file.ReadRecords(length, requireEnd: true);
            return file;
        });
    }

    /// <summary>
    /// Opens a sidecar that is still being written (a background build): the header and every
    /// record within its first <paramref name="completeLength"/> bytes, which the writer says hold
    /// whole records (see <see cref="TraceIndexBuilder"/>'s written callback). Everything is checked
    /// as by <see cref="Open"/>; <see cref="Extend"/> reads on as the file grows.
    /// </summary>
    public static TraceIndexFile OpenGrowing(string path, TraceFile trace, TraceIdentity identity, long completeLength)
    {
        return OpenChecked(path, trace, identity, handle =>
        {
            long length = Math.Min(completeLength, RandomAccess.GetLength(handle));
            var file = ReadHeader(handle, path, trace, identity, length);
            file.ReadRecords(length, requireEnd: false);
            return file;
        });
    }

    /// <summary>
    /// Reads the records written since (up to <paramref name="completeLength"/> bytes of whole
    /// records), checked as on opening; returns how many snapshots were added. Not to be called while
    /// another thread composes or looks at <see cref="Snapshots"/>. Throws <see cref="TraceIndexException"/>.
    /// </summary>
    public int Extend(long completeLength)
    {
        if (IsComplete || completeLength <= _offset) return 0;
        int before = _snapshots.Count;
        try
        {
            ReadRecords(Math.Min(completeLength, RandomAccess.GetLength(_handle)), requireEnd: false);
        }
        catch (TraceFormatException e)
        {
            throw new TraceIndexException(e.Message);
        }
        return _snapshots.Count - before;
    }

    private static TraceIndexFile OpenChecked(string path, TraceFile trace, TraceIdentity identity, Func<SafeFileHandle, TraceIndexFile> read)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TraceIndexException($"cannot open it: {e.Message}");
        }
        try
        {
            return read(handle);
        }
        catch (TraceFormatException e)
        {
            handle.Dispose();
            throw new TraceIndexException(e.Message);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>What records are checked against: the trace's hash points and input steps, and the RAM size.</summary>
    private sealed class RecordChecks(TraceFile trace, ulong pageCount)
    {
        public readonly ulong PageCount = pageCount;
        public readonly Dictionary<ulong, StateHash> Hashes = trace.HashPoints.GroupBy(p => p.Step).ToDictionary(g => g.Key, g => g.First().Hash);
        public readonly ulong[] ConsoleSteps = [.. trace.Events.OfType<ConsoleInputEvent>().Select(e => e.Step)];
        public readonly ulong[] ClockSteps = [.. trace.Events.OfType<WallClockEvent>().Select(e => e.Step)];
        public readonly ulong[] EntropySteps = [.. trace.Events.OfType<EntropyEvent>().Select(e => e.Step)];
    }

    private static TraceIndexFile ReadHeader(SafeFileHandle handle, string path, TraceFile trace, TraceIdentity identity, long length)
    {
        if (length < TraceIndexFormat.PreambleSize) throw new TraceIndexException($"it is too short to be an index ({length} bytes)");
        var preamble = ReadAt(handle, 0, TraceIndexFormat.PreambleSize, length);
        if (!preamble.AsSpan(0, 8).SequenceEqual(TraceIndexFormat.FileMagic)) throw new TraceIndexException("it is not a ReplayVm index (bad magic)");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(preamble.AsSpan(8));
        uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(preamble.AsSpan(12));
        if (headerLength > TraceIndexFormat.MaxHeaderSize || TraceIndexFormat.PreambleSize + headerLength > length)
            throw new TraceIndexException($"its header claims an impossible length ({headerLength})");
        var body = ReadAt(handle, TraceIndexFormat.PreambleSize, (int)headerLength, length);
        if (TraceIndexWriter.HeaderCrc(preamble, body) != BinaryPrimitives.ReadUInt32LittleEndian(preamble.AsSpan(16)))
            throw new TraceIndexException("its header is damaged (bad CRC32C)");
        if (version != TraceIndexFormat.Version)
            throw new TraceIndexException($"it has index format version {version}; this ReplayVm writes version {TraceIndexFormat.Version}");
        if (BinaryPrimitives.ReadUInt16LittleEndian(preamble.AsSpan(10)) != 0) throw new TraceIndexException("its header has unknown flags");
        var reader = new ByteReader(body, "the index header");
        var header = TraceIndexHeader.Read(ref reader);

        if (header.Trace != identity) throw new TraceIndexException("it belongs to another trace (the trace's length or hash differs)");
        ulong pageCount = trace.Header.Setup.Config.RamSize >> MainMemory.PageShift;
        if (header.BoardRevision != trace.Header.BoardRevision || header.HasherVersion != trace.Header.HasherVersion
            || header.HasherVersion != MachineStateHasher.Version || header.HartImageVersion != HartSnapshot.ImageVersion
            || header.PageCount != pageCount)
            throw new TraceIndexException("it was written for another board revision, hasher, hart layout or RAM size");
        return new TraceIndexFile(handle, path, header, new RecordChecks(trace, pageCount), TraceIndexFormat.PreambleSize + headerLength);
    }

    /// <summary>
    /// Reads records from <see cref="_offset"/> within the first <paramref name="length"/> bytes.
    /// With <paramref name="requireEnd"/>, the end record must come and end the file; otherwise
    /// reading stops quietly where the bytes end (a snapshot whose page chunks are not all there yet is read later).
    /// </summary>
    private void ReadRecords(long length, bool requireEnd)
    {
        while (!IsComplete)
        {
            long offset = _offset;
            if (!requireEnd && offset >= length) return;
            var chunkHeader = ReadChunkHeader(_handle, offset, length);
            if (chunkHeader.RawLength > TraceIndexFormat.MaxRecordSize) throw new TraceIndexException($"a record with an impossible length at byte {offset}");
            // Decoded into a pooled buffer: a Linux recording's trap records alone come to megabytes,
            // and what a record keeps (blobs, page lists) is copied out of it.
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)chunkHeader.RawLength);
            try
            {
                var problem = WithBytesAt(_handle, offset + TraceFormat.ChunkHeaderSize, (int)chunkHeader.PayloadLength, length,
                    (payload, count) => ChunkCodec.TryDecodePayloadInto(chunkHeader, payload.AsSpan(0, count), buffer, out string? damage) ? null : damage);
                if (problem is not null) throw new TraceIndexException($"{problem} at byte {offset}");
                var raw = buffer.AsSpan(0, (int)chunkHeader.RawLength);
                long next = offset + TraceFormat.ChunkHeaderSize + chunkHeader.PayloadLength;
                if (raw.Length == 0) throw new TraceIndexException($"an empty record at byte {next}");
                if (raw[0] == TraceIndexFormat.EndKind) ReadEnd(raw, next, length, requireEnd);
                else if (raw[0] == TraceIndexFormat.TrapKind) ReadTrapSummary(raw, offset, chunkHeader, next);
                else if (raw[0] == TraceIndexFormat.SnapshotKind) ReadSnapshot(raw, chunkHeader, next, length);
                else throw new TraceIndexException($"a record of unknown kind {raw[0]} at byte {next}");
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>The end record, which must end the file (<paramref name="offset"/>: where its chunk ends).</summary>
    private void ReadEnd(ReadOnlySpan<byte> raw, long offset, long length, bool requireEnd)
    {
        var end = new ByteReader(raw[1..], "the index's end record");
        ulong count = end.VarUInt();
        int verified = (int)Math.Min(end.VarUInt(), int.MaxValue);
        ulong through = end.VarUInt();
        end.Byte();
        ulong trapsThrough = end.VarUInt();
        var tail = VirtualPageList.Read(ref end, "its end record", "executed-page");
        var tailStored = VirtualPageList.Read(ref end, "its end record", "stored-page");
        var tailLoaded = VirtualPageList.Read(ref end, "its end record", "loaded-page");
        if (trapsThrough != TrapsThrough || trapsThrough > through || !end.AtEnd)
            throw new TraceIndexException($"its end record says traps are complete through step {trapsThrough}, its trap records through {TrapsThrough}");
        if (count != (ulong)_snapshots.Count) throw new TraceIndexException($"its end record counts {count} snapshots, the file holds {_snapshots.Count}");
        if (requireEnd ? offset != length : offset != RandomAccess.GetLength(_handle))
            throw new TraceIndexException($"bytes follow its end record (at byte {offset})");
        (HashPointsVerified, VerifiedThrough, TailExecutedPages, TailStoredPages, TailLoadedPages, IsComplete, _offset) = (verified, through, tail, tailStored, tailLoaded, true, offset);
    }

    /// <summary>
    /// A trap record's summary (its markers stay in the file until a query decodes them): base steps
    /// never go back, and the markers of all records stay within <see cref="TraceIndexFormat.MaxTrapMarkers"/>.
    /// </summary>
    private void ReadTrapSummary(ReadOnlySpan<byte> raw, long offset, ChunkCodec.Header chunkHeader, long next)
    {
        if (chunkHeader.BaseStep < TrapsThrough) throw new TraceIndexException($"a trap record out of order (through step {chunkHeader.BaseStep})");
        var summary = TrapRecordCodec.ReadSummary(raw, offset, chunkHeader, TrapsThrough);
        if (_trapCount + summary.Count > TraceIndexFormat.MaxTrapMarkers) throw new TraceIndexException("it holds too many traps");
        _trapCount += summary.Count;
        _trapRecords.Add(summary);
        TrapsThrough = chunkHeader.BaseStep;
        _offset = next;
    }

    /// <summary>A snapshot record and the page chunks after it (<paramref name="offset"/>: where its chunk ends).</summary>
    private void ReadSnapshot(ReadOnlySpan<byte> raw, ChunkCodec.Header chunkHeader, long offset, long length)
    {
        var checks = _checks;
        ulong pageCount = checks.PageCount;
        if (_snapshots.Count >= TraceIndexFormat.MaxSnapshots) throw new TraceIndexException("it holds too many snapshots");

        var r = new ByteReader(raw[1..], "an index snapshot record");
        ulong step = r.VarUInt();
        var hash = StateHash.ReadFrom(r.Bytes(StateHash.Size));
        if (step != chunkHeader.BaseStep || (_snapshots.Count > 0 && step <= _snapshots[^1].Step))
            throw new TraceIndexException($"a snapshot record out of order (step {step})");
        if (!checks.Hashes.TryGetValue(step, out var recorded) || recorded != hash)
            throw new TraceIndexException($"its snapshot at step {step} is not at a hash point of the trace with the same hash");
        var cursor = new InputCursor(r.Length(checks.ConsoleSteps.Length, "console input count"), r.Length(checks.ClockSteps.Length, "clock read count"),
            r.Length(checks.EntropySteps.Length, "entropy read count"));
        // A replay at step S has consumed every input recorded before S and none recorded after it.
        if (!Consumable(checks.ConsoleSteps, cursor.Console, step) || !Consumable(checks.ClockSteps, cursor.Clock, step)
            || !Consumable(checks.EntropySteps, cursor.Entropy, step))
            throw new TraceIndexException($"its snapshot at step {step} has an input cursor the trace contradicts");
        var output = r.Blob(r.Remaining, "console output");
        var hartBytes = r.Blob(r.Remaining, "hart state");
        HartSnapshot hart;
        try
        {
            using var br = new BinaryReader(new MemoryStream(hartBytes, writable: false));
            hart = HartSnapshot.Read(br);
            if (br.BaseStream.Position != hartBytes.Length) throw new InvalidDataException("a hart state longer than its layout");
        }
        catch (InvalidDataException e)
        {
            throw new TraceIndexException($"its snapshot at step {step} has {e.Message}");
        }
        if (hart.StepCount != step) throw new TraceIndexException($"its snapshot at step {step} holds a hart at step {hart.StepCount}");
        var devices = r.Blob(r.Remaining, "device state");
        int changed = r.Length((int)Math.Min(pageCount, (ulong)r.Remaining), "changed-page count");
        var pages = new int[changed];
        var slots = new int[changed];
        long previous = -1;
        int stored = 0;
        for (int i = 0; i < changed; i++)
        {
            ulong v = r.VarUInt();
            ulong page = (ulong)(previous + 1) + (v >> 1);
            if (v >> 1 >= pageCount || page >= pageCount) throw new TraceIndexException($"its snapshot at step {step} names a page beyond RAM");
            pages[i] = (int)page;
            slots[i] = (v & 1) != 0 ? -1 : stored++;
            previous = (long)page;
        }
        int chunkCount = r.Length(changed, "page-chunk count");
        var executed = VirtualPageList.Read(ref r, $"its snapshot at step {step}", "executed-page");
        var storedPages = VirtualPageList.Read(ref r, $"its snapshot at step {step}", "stored-page");
        var loadedPages = VirtualPageList.Read(ref r, $"its snapshot at step {step}", "loaded-page");
        if (chunkCount != (stored + TraceIndexFormat.PagesPerChunk - 1) / TraceIndexFormat.PagesPerChunk || !r.AtEnd)
            throw new TraceIndexException($"its snapshot at step {step} has a malformed page list");
        var chunks = new IndexedSnapshot.PageChunk[chunkCount];
        for (int c = 0; c < chunkCount; c++)
        {
            int expected = Math.Min(TraceIndexFormat.PagesPerChunk, stored - c * TraceIndexFormat.PagesPerChunk);
            var pageHeader = ReadChunkHeader(_handle, offset, length);
            if (pageHeader.RawLength != (uint)expected * MainMemory.PageSize || pageHeader.BaseStep != step)
                throw new TraceIndexException($"a page chunk of the snapshot at step {step} has the wrong size");
            if (!WithBytesAt(_handle, offset + TraceFormat.ChunkHeaderSize, (int)pageHeader.PayloadLength, length,
                    (payload, count) => CrcMatches(pageHeader, payload.AsSpan(0, count))))
                throw new TraceIndexException($"a page chunk of the snapshot at step {step} is damaged (bad CRC32C)");
            chunks[c] = new IndexedSnapshot.PageChunk(offset, pageHeader, expected);
            offset += TraceFormat.ChunkHeaderSize + pageHeader.PayloadLength;
        }
        _output.AddRange(output);
        _snapshots.Add(new IndexedSnapshot(step, hash, cursor, _output.Count, hart, devices, pages, slots, chunks, executed, storedPages, loadedPages));
        _offset = offset;
    }

    /// <summary>
    /// Composes snapshot <paramref name="index"/> for <paramref name="machine"/> (a machine built
    /// from this sidecar's trace): each page from the latest record at or before it that changed
    /// it. With <paramref name="cache"/>, pages the previous composition read are shared rather
    /// than read again. Throws <see cref="TraceIndexException"/> if the file was damaged since it was opened.
    /// </summary>
    public MachineSnapshot Compose(Machine machine, int index, IndexPageCache? cache = null, MachineSnapshot? sharesWith = null)
    {
        if (machine.Ram.PageCount != Header.PageCount) throw new ArgumentException("the machine's RAM differs from the index's", nameof(machine));
        var latest = new Dictionary<int, (int Snapshot, int Slot)>();
        for (int j = index; j >= 0; j--)
        {
            var s = Snapshots[j];
            for (int i = 0; i < s.Pages.Length; i++) latest.TryAdd(s.Pages[i], (j, s.Slots[i]));
        }
        // Read by record and slot, so that each page chunk is decoded once, into one reused buffer
        // (a chunk's pages are a megabyte: a new array per chunk would be garbage the size of RAM).
        var wanted = new List<(int Snapshot, int Slot, int Page)>(latest.Count);
        foreach (var (page, (j, slot)) in latest)
            if (slot >= 0) wanted.Add((j, slot, page));
        wanted.Sort();
        var kept = new Dictionary<(int, int), byte[]>(wanted.Count);
        var pages = new List<KeyValuePair<int, byte[]>>(wanted.Count);
        byte[]? buffer = null;
        (int Snapshot, int Chunk) inBuffer = (-1, -1);
        try
        {
            foreach (var (j, slot, page) in wanted)
            {
                if (cache is null || !cache.Pages.TryGetValue((j, slot), out var bytes))
                {
                    int chunk = slot / TraceIndexFormat.PagesPerChunk;
                    if (inBuffer != (j, chunk))
                    {
                        buffer ??= System.Buffers.ArrayPool<byte>.Shared.Rent(TraceIndexFormat.PagesPerChunk * MainMemory.PageSize);
                        DecodePageChunk(Snapshots[j].Chunks[chunk], buffer);
                        inBuffer = (j, chunk);
                    }
                    bytes = buffer.AsSpan(slot % TraceIndexFormat.PagesPerChunk * MainMemory.PageSize, MainMemory.PageSize).ToArray();
                }
                kept[(j, slot)] = bytes;
                pages.Add(new(page, bytes));
            }
        }
        finally
        {
            if (buffer is not null) System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        if (cache is not null) cache.Pages = kept;
        var record = Snapshots[index];
        return machine.ImportSnapshot(record.Hart, record.Devices, pages, sharesWith);
    }

    private void DecodePageChunk(IndexedSnapshot.PageChunk chunk, byte[] destination)
    {
        string? problem = chunk.Header.RawLength != chunk.PageCount * MainMemory.PageSize || chunk.Header.RawLength > destination.Length ? "wrong size"
            : WithBytesAt(_handle, chunk.Offset + TraceFormat.ChunkHeaderSize, (int)chunk.Header.PayloadLength, _offset,
                (payload, count) => ChunkCodec.TryDecodePayloadInto(chunk.Header, payload.AsSpan(0, count), destination, out string? damage) ? null : damage);
        if (problem is not null) throw new TraceIndexException($"a page chunk at byte {chunk.Offset} is damaged ({problem})");
    }

    /// <summary>Decodes a trap record's markers (read again from the file and checked: CRC, then every marker against its summary).</summary>
    private TrapMarker[] DecodeTrapRecord(TrapRecordSummary summary)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)summary.Header.RawLength);
        try
        {
            var problem = WithBytesAt(_handle, summary.Offset + TraceFormat.ChunkHeaderSize, (int)summary.Header.PayloadLength, _offset,
                (payload, count) => ChunkCodec.TryDecodePayloadInto(summary.Header, payload.AsSpan(0, count), buffer, out string? damage) ? null : damage);
            if (problem is not null) throw new TraceIndexException($"the trap record at byte {summary.Offset} is damaged ({problem})");
            return TrapRecordCodec.ReadMarkers(buffer.AsSpan(0, (int)summary.Header.RawLength), summary);
        }
        catch (TraceFormatException e)
        {
            throw new TraceIndexException(e.Message);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Whether having consumed the first <paramref name="count"/> inputs (recorded at <paramref name="steps"/>, ascending) is possible at <paramref name="step"/>.</summary>
    private static bool Consumable(ulong[] steps, int count, ulong step) =>
        (count == 0 || steps[count - 1] <= step) && (count == steps.Length || steps[count] >= step);

    private static bool CrcMatches(ChunkCodec.Header header, ReadOnlySpan<byte> payload) =>
        Crc32C.Finish(Crc32C.Append(Crc32C.Append(Crc32C.Start, header.Fields), payload)) == header.Crc;

    private static ChunkCodec.Header ReadChunkHeader(SafeFileHandle handle, long offset, long length)
    {
        if (offset >= length) throw new TraceIndexException("it ends early (no end record): an interrupted build");
        var bytes = ReadAt(handle, offset, (int)Math.Min(TraceFormat.ChunkHeaderSize, length - offset), length);
        return ChunkCodec.TryReadHeader(bytes, length - offset, out string? problem) is { } header
            ? header
            : throw new TraceIndexException($"{problem} at byte {offset}");
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes (lengths were checked against the file's size first).</summary>
    private static byte[] ReadAt(SafeFileHandle handle, long offset, int count, long length)
    {
        if (count < 0) throw new TraceIndexException($"it ends early (needs {count} bytes at byte {offset})");
        var buffer = new byte[count];
        ReadInto(handle, offset, buffer, length);
        return buffer;
    }

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>, which with it must lie within the first <paramref name="length"/> bytes.</summary>
    private static void ReadInto(SafeFileHandle handle, long offset, Span<byte> destination, long length)
    {
        int count = destination.Length;
        if (offset < 0 || offset > length - count) throw new TraceIndexException($"it ends early (needs {count} bytes at byte {offset})");
        int done = 0;
        while (done < count)
        {
            int n = RandomAccess.Read(handle, destination[done..], offset + done);
            if (n <= 0) throw new TraceIndexException($"it ends early (at byte {offset + done})");
            done += n;
        }
    }

    /// <summary>Runs <paramref name="use"/> on the <paramref name="count"/> bytes at <paramref name="offset"/>, read into a pooled buffer
    /// (page chunks run to a megabyte: a new array for each would be garbage the size of the file).</summary>
    private static T WithBytesAt<T>(SafeFileHandle handle, long offset, int count, long length, Func<byte[], int, T> use)
    {
        if (count < 0) throw new TraceIndexException($"it ends early (needs {count} bytes at byte {offset})");
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(count);
        try
        {
            ReadInto(handle, offset, buffer.AsSpan(0, count), length);
            return use(buffer, count);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
