using ReplayVm.Replay.Format;

namespace ReplayVm.Replay;

/// <summary>Everything a trace holds, and how much of it survived.</summary>
public sealed record TraceFile(
    TraceHeader Header,
    IReadOnlyList<TraceEvent> Events,
    int ChunkCount,
    long ValidLength,
    long FileLength,
    string? DamageDescription)
{
    /// <summary>The end record, when the recording finished cleanly.</summary>
    public EndEvent? End => Events.Count > 0 ? Events[^1] as EndEvent : null;

    /// <summary>
    /// True when the file stops early: a damaged or short chunk (what a killed recorder leaves), or
    /// simply no end record. The events before that point are intact and replay.
    /// </summary>
    public bool Truncated => DamageDescription is not null || End is null;

    /// <summary>The last step any surviving event names (0 when there are none).</summary>
    public ulong LastStep => Events.Count > 0 ? Events[^1].Step : 0;

    /// <summary>One line on why the trace is truncated, or null.</summary>
    public string? TruncationReason => DamageDescription is { } damage
        ? $"{damage} at byte {ValidLength}; replayable up to step {LastStep}"
        : End is null ? $"no end record (the recorder stopped early); replayable up to step {LastStep}" : null;

    public IReadOnlyDictionary<TraceEventKind, int> CountByKind() =>
        Events.GroupBy(e => e.Kind).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());

    public IEnumerable<StateHashEvent> HashPoints => Events.OfType<StateHashEvent>();
}

/// <summary>
/// Reads a <c>.rvtrace</c> written by <see cref="TraceWriter"/>. Header problems (not a trace, a
/// newer version, a damaged header, a missing or corrupt image) throw <see cref="TraceFormatException"/>;
/// damage in the chunks does not: reading stops at the first short or bad chunk and the result
/// says <see cref="TraceFile.Truncated"/> and how far it got. A file is read a piece at a time
/// (the header, then one chunk after another), never whole, so traces beyond 2 GiB read and a
/// trace costs memory for its events, not for its size; embedded disks stay in the file and are
/// read block by block when a replay touches them.
/// </summary>
public static class TraceReader
{
    /// <summary>Reads <paramref name="path"/>; a missing, unreadable or non-regular file is a <see cref="TraceFormatException"/> too.</summary>
    public static TraceFile ReadFile(string path)
    {
        if (HostFile.NotRegular(path) is { } kind)
            throw new TraceFormatException($"{path}: is {kind}, not a trace file (give the .rvtrace file that record wrote)");
        if (!File.Exists(path)) throw new TraceFormatException($"{path}: no such trace file");
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TraceFormatException($"{path}: cannot open the trace: {e.Message}");
        }
        try
        {
            var trace = Read(new FileTraceSource(handle, RandomAccess.GetLength(handle), path));
            // Embedded disks read their blocks through the handle later; without them it is no longer needed.
            if (!trace.Header.Setup.Disks.Any(d => d.IsEmbedded)) handle.Dispose();
            return trace;
        }
        catch (TraceFormatException e)
        {
            handle.Dispose();
            throw new TraceFormatException(e.Message.StartsWith(path + ":", StringComparison.Ordinal) ? e.Message : $"{path}: {e.Message}");
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public static TraceFile Read(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Read(copy.ToArray());
    }

    public static TraceFile Read(ReadOnlySpan<byte> data) => Read(data.ToArray());

    public static TraceFile Read(byte[] data) => Read(TraceSource.Of(data));

    internal static TraceFile Read(TraceSource file)
    {
        var (header, offset) = HeaderCodec.Decode(file);
        var events = new List<TraceEvent>();
        var bounds = new StepBounds(header.StateHashInterval);
        int chunks = 0;
        string? damage = null;
        ulong lastStep = 0;
        var head = new byte[TraceFormat.ChunkHeaderSize];
        byte[] payload = [];
        while (offset < file.Length)
        {
            long available = file.Length - offset;
            var headBytes = head.AsSpan(0, (int)Math.Min(available, head.Length));
            file.ReadExactly(offset, headBytes, "a chunk header");
            if (ChunkCodec.TryReadHeader(headBytes, available, out damage) is not { } chunk) break;
            if (payload.Length < chunk.PayloadLength) payload = new byte[Math.Max(chunk.PayloadLength, Math.Min(2 * payload.Length, TraceFormat.MaxChunkRawSize))];
            var body = payload.AsSpan(0, (int)chunk.PayloadLength);
            file.ReadExactly(offset + TraceFormat.ChunkHeaderSize, body, "a chunk");
            if (ChunkCodec.TryDecodePayload(chunk, body, out damage) is not { } raw) break;
            if (events.Count > 0 && events[^1] is EndEvent)
                throw new TraceFormatException($"trace has a chunk after its end record (byte {offset})");
            if (chunk.BaseStep < lastStep)
                throw new TraceFormatException($"trace chunk at byte {offset} goes back in time (step {chunk.BaseStep} after {lastStep})");
            DecodeEvents(raw, chunk.BaseStep, offset, events, bounds);
            lastStep = events.Count > 0 ? events[^1].Step : chunk.BaseStep;
            offset += TraceFormat.ChunkHeaderSize + chunk.PayloadLength;
            chunks++;
        }
        return new TraceFile(header, events, chunks, offset, file.Length, damage);
    }

    private static void DecodeEvents(byte[] raw, ulong baseStep, long chunkOffset, List<TraceEvent> into, StepBounds bounds)
    {
        // The chunk passed its CRC, so a decoding error here is a writer bug or a deliberate forgery: an error, not truncation.
        var reader = new ByteReader(raw, $"trace chunk at byte {chunkOffset}");
        ulong step = baseStep;
        while (!reader.AtEnd)
        {
            if (into.Count > 0 && into[^1] is EndEvent) throw reader.Bad("has events after the end record");
            var e = EventCodec.Decode(ref reader, step);
            bounds.Check(e, ref reader);
            into.Add(e);
            step = e.Step;
        }
    }

    /// <summary>
    /// The step rules the state-hash interval implies (docs/trace-format.md, "State hashes"): hash
    /// points lie on multiples of the interval, one after another, and no event lies more than one
    /// interval past the last hash point (the recorder would have written the next one first). So
    /// every step a trace names is bounded by its hash points, which its bytes pay for: a forged
    /// step delta (say 2^62) is an error here, not a replay that runs for ever.
    /// </summary>
    private sealed class StepBounds(ulong interval)
    {
        private ulong _lastHash;
        private bool _sawHash;

        public void Check(TraceEvent e, ref ByteReader reader)
        {
            ulong due = _lastHash + interval;
            if (e.Step > due)
                throw reader.Bad($"has a {e.Kind} event at step {e.Step}, past step {due} where a state hash was due " +
                                 $"(one every {interval} steps): the trace is forged or corrupt");
            if (e is not StateHashEvent) return;
            if (e.Step % interval != 0 || (_sawHash && e.Step <= _lastHash))
                throw reader.Bad($"has a state hash at step {e.Step}, which is not the next multiple of the interval ({interval}): the trace is forged or corrupt");
            _lastHash = e.Step;
            _sawHash = true;
        }
    }
}
