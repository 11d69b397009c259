namespace ReplayVm.Replay.Tests;

/// <summary>Writes a trace from a header and events, in memory.</summary>
internal static class TraceBuilder
{
    public static byte[] Write(TraceHeader header, IEnumerable<TraceEvent> events, int chunkTarget = 64 * 1024)
    {
        var stream = new MemoryStream();
        using (var writer = new TraceWriter(stream, header, new TraceWriterOptions { FlushInterval = TimeSpan.Zero, ChunkTarget = chunkTarget }, ownsStream: false))
            foreach (var e in events) writer.Append(e);
        return stream.ToArray();
    }
}
