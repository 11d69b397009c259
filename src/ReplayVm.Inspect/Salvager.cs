using System.Globalization;
using ReplayVm.Core;
using ReplayVm.Replay;

namespace ReplayVm.Inspect;

/// <summary>What a salvage wrote, and how much of the dump it could vouch for.</summary>
public sealed record SalvageResult(string Path, ulong Steps, int Events, bool Complete, IReadOnlyList<string> Lines);

/// <summary>
/// Rebuilds a valid trace from a recorder's in-memory state (<c>inspect --salvage</c>): the header
/// it wrote (images included), every event it logged — the chunks it wrote and the events still
/// pending in its buffer — and an end record at the dump's step. The end record's state hash is
/// not read from the dump (a hash covers every RAM page and device, which a dump holds only in
/// pieces); it is computed by replaying the salvaged log here, after checking the replayed
/// machine against the dump: step, pc, privilege, every x and f register, and the console output
/// (its length and last 4 KiB). Only when they agree is the end record written, with a detail
/// marking the trace as salvaged, so <c>replay</c> checks every hash point and that final hash and
/// exits 4, "truncated by the host". A torn log (an append in progress when the dump was taken),
/// or a replay that does not reach the dump's state, gives a trace with every consistent event
/// and no end record: it replays as truncated, and the lines say why.
/// </summary>
public static class Salvager
{
    public static SalvageResult Salvage(MachineReport dumped, RecorderLog log, string source, string outputPath)
    {
        var lines = new List<string>();
        var inv = CultureInfo.InvariantCulture;
        var events = log.Events.Where(e => e is not EndEvent).ToList();
        lines.Add(string.Create(inv, $"{log.EventsLogged} events logged, {log.EventsWritten} in written chunks, {log.EventsPending} pending (never flushed)"));
        if (log.Ended) lines.Add("the recorder had already written its end record: its own trace is complete; the salvage ends at the dump's step");
        if (events.Count > 0 && events[^1].Step > dumped.Step)
            throw new InspectException($"the log's last event is at step {events[^1].Step}, after the machine's step {dumped.Step}: the dump is inconsistent");

        EndEvent? end = null;
        if (log.Torn is { } torn)
            lines.Add($"the in-memory log is torn ({torn}): salvaged the {events.Count} consistent events, up to step {LastStep(events)}, without an end record");
        else
            end = Verify(log, events, dumped, source, lines);

        Write(outputPath, log.Header, events, end);
        lines.Insert(0, string.Create(inv,
            $"salvaged {events.Count} events{(end is not null ? $" and an end record at step {end.Step}" : "")} from {source} to {outputPath}"));
        return new SalvageResult(outputPath, end?.Step ?? LastStep(events), events.Count, end is not null, lines);
    }

    private static ulong LastStep(List<TraceEvent> events) => events.Count > 0 ? events[^1].Step : 0;

    /// <summary>Replays the log to the dump's step and compares; returns the end record, or null (with a line saying why).</summary>
    private static EndEvent? Verify(RecorderLog log, List<TraceEvent> events, MachineReport dumped, string source, List<string> lines)
    {
        var output = new MemoryStream();
        var trace = new TraceFile(log.Header, events, 1, 0, 0, null);
        Replayer replayer;
        try
        {
            replayer = new Replayer(trace, b => output.WriteByte(b));
        }
        catch (Replay.Format.TraceFormatException e)
        {
            throw new InspectException($"the recorder's header cannot be replayed here: {e.Message}");
        }
        if (replayer.RunTo(dumped.Step) is { } divergence)
        {
            lines.Add($"the salvaged log does not replay to the dump's step ({divergence}); no end record written");
            return null;
        }
        var hart = replayer.Machine.Hart;
        ulong reached = dumped.Step;
        string? mismatch = Compare(hart, dumped);
        if (mismatch is not null && dumped.ExecutingGuestCode)
        {
            // Stopped inside the hart's loop after the instruction at pc wrote its results but before
            // the loop stored the next pc and step: the machine the dump holds is one step further.
            if (replayer.RunTo(dumped.Step + 1) is null && CompareRegisters(hart, dumped) is null)
            {
                mismatch = null;
                reached = dumped.Step + 1;
            }
        }
        if (mismatch is not null)
        {
            lines.Add($"the replayed machine differs from the dump at step {dumped.Step}: {mismatch}; no end record written");
            return null;
        }
        byte[] printed = output.ToArray();
        byte[] tail = System.Text.Encoding.UTF8.GetBytes(dumped.ConsoleTail);
        if (printed.LongLength != dumped.ConsoleBytes || !printed.AsSpan(printed.Length - Math.Min(printed.Length, tail.Length)).SequenceEqual(tail))
        {
            lines.Add($"the replay printed {printed.Length} console bytes, the dump's machine {dumped.ConsoleBytes} (or their last bytes differ); no end record written");
            return null;
        }
        // A replay delivers no input at its end record's step (nor did the recorder: it stops before
        // polling), so input logged at the last step reached is consumed one step later.
        bool inputAtEnd = events.Any(e => e.Step == reached && e is ConsoleInputEvent or WallClockEvent or EntropyEvent);
        ulong endStep = inputAtEnd ? reached + 1 : reached;
        if (endStep != reached && replayer.RunTo(endStep) is { } late)
        {
            lines.Add($"the input logged at the dump's step does not replay ({late}); no end record written");
            return null;
        }
        lines.Add(string.Create(CultureInfo.InvariantCulture,
            $"checked against the dump at step {reached}: pc, privilege, x1-x31, f0-f31 and {printed.Length} console bytes agree (the last {tail.Length} byte for byte)"));
        string detail = string.Create(CultureInfo.InvariantCulture, $"{SalvagedTrace.DetailPrefix}{source} at step {reached}");
        return new EndEvent(endStep, StopReason.HostRequest, 4, replayer.ComputeHash(), detail);
    }

    private static string? Compare(Core.Hart.Hart hart, MachineReport dumped)
    {
        if (hart.Steps != dumped.Step) return $"step {hart.Steps}";
        if (hart.Pc != dumped.Pc) return $"pc 0x{hart.Pc:x}, the dump's 0x{dumped.Pc:x}";
        string mode = hart.Mode switch { Core.Hart.PrivilegeLevel.Machine => "M", Core.Hart.PrivilegeLevel.Supervisor => "S", _ => "U" };
        if (mode != dumped.Privilege) return $"privilege {mode}, the dump's {dumped.Privilege}";
        return CompareRegisters(hart, dumped);
    }

    private static string? CompareRegisters(Core.Hart.Hart hart, MachineReport dumped)
    {
        for (int r = 1; r < 32; r++)
            if (hart.GetX(r) != dumped.X[r]) return $"{ReportWriter.AbiNames[r]} 0x{hart.GetX(r):x}, the dump's 0x{dumped.X[r]:x}";
        for (int r = 0; r < 32; r++)
            if (hart.GetF(r) != dumped.F[r]) return $"f{r} 0x{hart.GetF(r):x}, the dump's 0x{dumped.F[r]:x}";
        return null;
    }

    private static void Write(string path, TraceHeader header, List<TraceEvent> events, EndEvent? end)
    {
        try
        {
            using var writer = TraceWriter.Create(path, header, new TraceWriterOptions { FlushInterval = TimeSpan.Zero });
            foreach (var e in events) writer.Append(e);
            if (end is not null) writer.Append(end);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InspectException($"{path}: cannot write the salvaged trace: {e.Message}");
        }
    }
}
