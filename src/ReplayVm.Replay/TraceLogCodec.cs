using ReplayVm.Replay.Format;

namespace ReplayVm.Replay;

/// <summary>
/// The trace's own encodings for carrying a recording somewhere other than a file (the replicas'
/// log channel): the header exactly as a trace starts, and runs of events as one trace chunk —
/// varint step deltas, LZ4, CRC32C — so a stream and a file cannot drift apart and a damaged
/// chunk is caught the same way.
/// </summary>
public static class TraceLogCodec
{
    /// <summary>The trace file's header bytes (preamble included, and the blocks of embedded disks after it) for <paramref name="header"/>.</summary>
    public static byte[] EncodeHeader(TraceHeader header) => HeaderCodec.Encode(header);

    /// <summary>Decodes what <see cref="EncodeHeader"/> wrote; throws <see cref="TraceFormatException"/> when it is not a whole, valid header.</summary>
    public static TraceHeader DecodeHeader(ReadOnlySpan<byte> bytes)
    {
        // A copy: embedded disks read their blocks from these bytes later, as the guest touches them.
        var (header, size) = HeaderCodec.Decode(TraceSource.Of(bytes.ToArray()));
        if (size != bytes.Length) throw new TraceFormatException($"log header has {bytes.Length - size} bytes after it");
        return header;
    }

    /// <summary>One chunk holding <paramref name="events"/> (steps never going back); the first event's step is the chunk's base.</summary>
    public static byte[] EncodeEvents(IReadOnlyList<TraceEvent> events)
    {
        if (events.Count == 0) throw new ArgumentException("a chunk holds at least one event", nameof(events));
        var w = new ByteWriter(256);
        ulong step = events[0].Step;
        foreach (var e in events)
        {
            EventCodec.Validate(e);
            if (e.Step < step) throw new ArgumentException($"event at step {e.Step} comes after one at step {step}", nameof(events));
            EventCodec.Encode(w, step, e);
            step = e.Step;
        }
        return ChunkCodec.Encode(events[0].Step, w.Written);
    }

    /// <summary>
    /// Decodes one chunk that must fill <paramref name="chunk"/> exactly. A short, damaged or
    /// undecodable chunk is a <see cref="TraceFormatException"/> naming <paramref name="what"/>.
    /// </summary>
    public static List<TraceEvent> DecodeEvents(ReadOnlySpan<byte> chunk, string what)
    {
        var decoded = ChunkCodec.TryDecode(chunk, out string? problem)
            ?? throw new TraceFormatException($"{what} is damaged: {problem}");
        if (decoded.Size != chunk.Length) throw new TraceFormatException($"{what} has {chunk.Length - decoded.Size} bytes after its chunk");
        var events = new List<TraceEvent>();
        var reader = new ByteReader(decoded.Raw, what);
        ulong step = decoded.BaseStep;
        while (!reader.AtEnd)
        {
            if (events.Count > 0 && events[^1] is EndEvent) throw reader.Bad("has events after the end record");
            var e = EventCodec.Decode(ref reader, step);
            events.Add(e);
            step = e.Step;
        }
        return events;
    }

    /// <summary>
    /// Decodes at most <paramref name="maxEvents"/> events from raw (uncompressed, unframed) event
    /// bytes — the writer's pending buffer as a dump of a recorder holds it — whose first step delta
    /// is from <paramref name="baseStep"/>. Stops early, without throwing, at the first event that
    /// does not decode or goes back in time: the bytes of an event being appended when the dump was
    /// taken may be half written. <paramref name="problem"/> then says why.
    /// </summary>
    public static List<TraceEvent> DecodeRawEvents(ReadOnlySpan<byte> raw, ulong baseStep, long maxEvents, out string? problem)
    {
        problem = null;
        var events = new List<TraceEvent>();
        var reader = new ByteReader(raw, "pending event bytes");
        ulong step = baseStep;
        while (events.Count < maxEvents)
        {
            if (reader.AtEnd)
            {
                problem = $"the buffer ends after {events.Count} of {maxEvents} events";
                break;
            }
            int at = reader.Position;
            try
            {
                var e = EventCodec.Decode(ref reader, step);
                EventCodec.Validate(e);
                events.Add(e);
                step = e.Step;
            }
            catch (Exception ex) when (ex is TraceFormatException or ArgumentException)
            {
                problem = $"event {events.Count + 1} (at byte {at}) does not decode: {ex.Message}";
                break;
            }
        }
        return events;
    }
}
