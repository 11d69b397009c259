using Microsoft.Diagnostics.Runtime;
using ReplayVm.Core;
using ReplayVm.Replay;

namespace ReplayVm.Inspect;

/// <summary>
/// A recorder's trace as its process holds it: the header it wrote, every chunk it wrote (the
/// writer keeps them in memory) and the events still pending in its buffer. Read from the
/// <c>TraceWriter</c> object by field name. The pending buffer may be torn by an append in
/// progress when the process was stopped: the writer's event count says how many events the
/// buffer holds completely, and decoding stops at the first event that is not whole.
/// </summary>
public sealed class RecorderLog
{
    public required TraceHeader Header { get; init; }
    public required string? TracePath { get; init; }

    /// <summary>Events in written chunks, then the pending events that decoded, in step order.</summary>
    public required IReadOnlyList<TraceEvent> Events { get; init; }

    public required long EventsLogged { get; init; }
    public required long EventsWritten { get; init; }
    public required int ChunksWritten { get; init; }

    /// <summary>Events the writer had accepted but not yet written to the file.</summary>
    public long EventsPending => EventsLogged - EventsWritten;

    /// <summary>Why the log stops before <see cref="EventsLogged"/> events (a torn buffer or chunk), or null when it is whole.</summary>
    public required string? Torn { get; init; }

    /// <summary>True when the recorder had already written its end record.</summary>
    public required bool Ended { get; init; }

    /// <summary>Reads a <c>ReplayVm.Replay.TraceWriter</c> (a Recorder's, a live debugger's or a replica's).</summary>
    internal static RecorderLog Read(ClrObject writer, bool withHeader)
    {
        long logged = writer.Get<long>("EventCount");
        var events = new List<TraceEvent>();
        string? torn = null;
        int chunkCount = 0;
        foreach (var chunk in writer.Required("_chunks").Items())
        {
            byte[] bytes = chunk.Values<byte>();
            try
            {
                events.AddRange(TraceLogCodec.DecodeEvents(bytes, $"chunk {chunkCount + 1} in memory"));
            }
            catch (Replay.Format.TraceFormatException e)
            {
                torn = e.Message;
                break;
            }
            chunkCount++;
        }
        long written = events.Count;
        if (torn is null && writer.Get<bool>("_hasPending") && logged > written)
        {
            var pending = writer.Required("_pending");
            int length = pending.Get<int>("Length");
            byte[] raw = pending.Required("_buffer").Values<byte>(length);
            var more = TraceLogCodec.DecodeRawEvents(raw, writer.Get<ulong>("_chunkBase"), logged - written, out string? problem);
            if (events.Count > 0 && more.Count > 0 && more[0].Step < events[^1].Step)
            {
                torn = $"the pending events start at step {more[0].Step}, before the last written one ({events[^1].Step})";
                more.Clear();
            }
            events.AddRange(more);
            torn ??= problem;
        }
        else if (torn is null && logged > written)
            torn = $"the writer counts {logged} events but holds {written}";
        return new RecorderLog
        {
            Header = withHeader ? ReadHeader(writer.Required("Header")) : null!,
            TracePath = writer.Has("Path") ? writer.Str("Path") : null,
            Events = events,
            EventsLogged = logged,
            EventsWritten = written,
            ChunksWritten = chunkCount,
            Torn = torn,
            Ended = writer.Get<bool>("_ended"),
        };
    }

    /// <summary>Rebuilds the <see cref="TraceHeader"/> object the recorder wrote, images and all.</summary>
    internal static TraceHeader ReadHeader(ClrObject header)
    {
        var setupObject = header.Required("Setup");
        var config = setupObject.Required("Config");
        var machineConfig = new MachineConfig
        {
            RamSize = config.Get<ulong>("RamSize"),
            Board = (BoardKind)config.Get<int>("Board"),
            Bootargs = config.Str("Bootargs"),
        };
        var images = new List<GuestImage>();
        foreach (var image in setupObject.Required("Images").Items())
        {
            var bytes = image.Obj("_bytes")
                ?? throw new InspectException($"image '{image.Str("Name")}' has no bytes in memory; the trace cannot be rebuilt from this dump");
            images.Add(new GuestImage((ImageRole)image.Get<byte>("Role"), image.Str("Name") ?? "image", image.Get<ulong>("LoadAddress"), bytes.Values<byte>()));
        }
        var disks = new List<GuestDisk>();
        foreach (var disk in setupObject.Required("Disks").Items())
            // Named by hash: the image file is the user's, and replay --drive supplies it (checked against the hash).
            disks.Add(GuestDisk.ByHash(disk.Str("Name") ?? "disk", disk.Get<long>("Size"), disk.Required("Sha256").Values<byte>()));
        var setup = new MachineSetup(machineConfig, images) { Disks = disks };
        return new TraceHeader(setup, header.Get<ulong>("StateHashInterval"), header.Str("Recorder") ?? "replayvm")
        {
            HasherVersion = header.Get<int>("HasherVersion"),
            BoardRevision = header.Get<int>("BoardRevision"),
        };
    }
}
