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
/// says <see cref="TraceFile.Truncated"/> and how far it got.
/// </summary>
public static class TraceReader
{
    /// <summary>Reads <paramref name="path"/>; a missing or unreadable file is a <see cref="TraceFormatException"/> too.</summary>
    public static TraceFile ReadFile(string path)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TraceFormatException($"{path}: {e.Message}");
        }
        try
        {
            return Read(data);
        }
        catch (TraceFormatException e)
        {
            throw new TraceFormatException($"{path}: {e.Message}");
        }
    }

    public static TraceFile Read(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Read(copy.ToArray());
    }

    public static TraceFile Read(ReadOnlySpan<byte> data)
    {
        var (header, offset) = HeaderCodec.Decode(data);
        var events = new List<TraceEvent>();
        int chunks = 0;
        string? damage = null;
        ulong lastStep = 0;
        while (offset < data.Length)
        {
            var chunk = ChunkCodec.TryDecode(data[offset..], out string? problem);
            if (chunk is not { } c)
            {
                damage = problem;
                break;
            }
            if (events.Count > 0 && events[^1] is EndEvent)
                throw new TraceFormatException($"trace has a chunk after its end record (byte {offset})");
            if (c.BaseStep < lastStep)
                throw new TraceFormatException($"trace chunk at byte {offset} goes back in time (step {c.BaseStep} after {lastStep})");
            DecodeEvents(c.Raw, c.BaseStep, offset, events);
            lastStep = events.Count > 0 ? events[^1].Step : c.BaseStep;
            offset += c.Size;
            chunks++;
        }
        return new TraceFile(header, events, chunks, offset, data.Length, damage);
    }

    private static void DecodeEvents(byte[] raw, ulong baseStep, int chunkOffset, List<TraceEvent> into)
    {
        // The chunk passed its CRC, so a decoding error here is a writer bug or a deliberate forgery: an error, not truncation.
        var reader = new ByteReader(raw, $"trace chunk at byte {chunkOffset}");
        ulong step = baseStep;
        while (!reader.AtEnd)
        {
            if (into.Count > 0 && into[^1] is EndEvent) throw reader.Bad("has events after the end record");
            var e = EventCodec.Decode(ref reader, step);
            into.Add(e);
            step = e.Step;
        }
    }
}
