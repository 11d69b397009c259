using System.Globalization;
using System.Text;
using ReplayVm.Core.Hart;
using ReplayVm.Debugger.Disassembly;
using ReplayVm.Debugger.Gdb;
using ReplayVm.Replay.Timeline;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Debugger.Timeline;

/// <summary>
/// gdb's <c>monitor</c> commands on a timeline: <c>when</c>, <c>seek N</c>, <c>checkpoint</c>,
/// <c>checkpoints</c>, <c>restart N</c>, <c>delete-checkpoint N</c>, <c>info</c>,
/// <c>last-write REG|ADDR [LEN]</c>, <c>traps [N]</c>, <c>help</c>. A position ("event", as rr calls
/// it) is the step count: instructions retired plus exceptions taken since reset. Checkpoints are
/// numbered from 1 in the order they are made, as gdb numbers its own (which need a fork the guest
/// does not have); tools/gdb/replayvm.py maps gdb's <c>checkpoint</c> and <c>restart</c> onto these.
/// </summary>
public sealed class TimelineMonitor(ReplayTimeline timeline, string? traceName)
{
    /// <summary>gdb caches registers; after a seek it must be told they changed. On a line of its own, so replayvm.py can drop it (it flushes itself).</summary>
    private const string RefreshHint = "\n(gdb shows the new state after 'maintenance flush register-cache'; replayvm.py's 'seek' and 'restart' do that for you)";

    /// <summary>User checkpoints by number (1, 2, ...), as <c>monitor checkpoint</c> made them.</summary>
    private readonly SortedDictionary<int, Checkpoint> _numbered = [];
    private int _nextNumber = 1;

    private CancellationToken _cancel;
    private IProgress<double>? _progress;

    public string Run(string command) => Run(command, default, null);

    /// <summary>Runs a command; a seek or restart may be cancelled and reports its progress as the share of the way done.</summary>
    public string Run(string command, CancellationToken cancel, IProgress<RunProgress>? progress)
    {
        _cancel = cancel;
        _progress = progress is null ? null : new TimelineDebugTarget.ProgressAdapter(f => progress.Report(new RunProgress(timeline.Position, f)));
        try
        {
            return Dispatch(command);
        }
        finally
        {
            _cancel = default;
            _progress = null;
        }
    }

    private string Dispatch(string command)
    {
        string[] words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0) return Help();
        return words[0] switch
        {
            "when" when words.Length == 1 => $"Current event: {timeline.Position}",
            "seek" when words.Length == 2 => Seek(words[1]),
            "seek" => "usage: monitor seek N (a step count, decimal or 0x hex)",
            "checkpoint" when words.Length == 1 => Checkpoint(),
            "checkpoints" when words.Length == 1 => ListCheckpoints(),
            "restart" when words.Length == 2 => Restart(words[1]),
            "restart" => "usage: monitor restart N (a checkpoint number, as 'monitor checkpoints' lists them)",
            "delete-checkpoint" when words.Length == 2 => DeleteCheckpoint(words[1]),
            "delete-checkpoint" => "usage: monitor delete-checkpoint N",
            "info" when words.Length == 1 => Info(),
            "last-write" when words.Length is 2 or 3 => LastWrite(words[1], words.Length == 3 ? words[2] : null),
            "last-write" => LastWriteUsage,
            "traps" when words.Length <= 2 => Traps(words.Length == 2 ? words[1] : null),
            "traps" => TrapsUsage,
            "help" => Help(),
            _ => $"unknown monitor command '{command.Trim()}' (try: monitor help)",
        };
    }

    private string Seek(string text)
    {
        if (!TryParseStep(text, out ulong step)) return $"not a step count: '{text}' (decimal or 0x hex)";
        var stop = timeline.Seek(step, _cancel, _progress);
        if (stop.Kind == TimelineStopKind.Cancelled) return $"interrupted: stopped on the way, at event {timeline.Position}{RefreshHint}";
        return stop.Kind == TimelineStopKind.End && step > timeline.End
            ? $"step {step} is past the end of the recording: stopped at the end, event {timeline.Position}{RefreshHint}"
            : $"Current event: {timeline.Position}{RefreshHint}";
    }

    private string Checkpoint()
    {
        var checkpoint = timeline.AddCheckpoint();
        int number = _nextNumber++;
        _numbered[number] = checkpoint;
        return $"Checkpoint {number} at event {checkpoint.Step}";
    }

    private string ListCheckpoints()
    {
        if (_numbered.Count == 0) return "no checkpoints (monitor checkpoint makes one here)";
        var text = new StringBuilder();
        foreach (var (number, checkpoint) in _numbered)
        {
            if (text.Length > 0) text.Append('\n');
            text.Append(CultureInfo.InvariantCulture, $"{(checkpoint.Step == timeline.Position ? "*" : " ")} {number} at event {checkpoint.Step}");
        }
        return text.ToString();
    }

    private string Restart(string text)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || !_numbered.TryGetValue(number, out var checkpoint))
            return $"no checkpoint {text} ({(_numbered.Count == 0 ? "none made yet: monitor checkpoint makes one" : "monitor checkpoints lists them")})";
        var stop = timeline.Seek(checkpoint.Step, _cancel, _progress);
        if (stop.Kind == TimelineStopKind.Cancelled) return $"interrupted: stopped on the way, at event {timeline.Position}{RefreshHint}";
        return $"Restarted checkpoint {number}: current event {timeline.Position}{RefreshHint}";
    }

    private string DeleteCheckpoint(string text)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || !_numbered.Remove(number, out var checkpoint))
            return $"no checkpoint {text}";
        // Step 0 is the timeline's own base; a checkpoint another number still names stays.
        if (checkpoint.Step != 0 && !_numbered.Values.Contains(checkpoint)) timeline.Checkpoints.Remove(checkpoint);
        return $"Deleted checkpoint {number}";
    }

    private string Info()
    {
        var trace = timeline.Trace;
        var text = new StringBuilder();
        if (traceName is not null) text.Append(CultureInfo.InvariantCulture, $"trace: {traceName}\n");
        text.Append(CultureInfo.InvariantCulture, $"recording: events 0..{timeline.End}, ");
        text.Append(trace.End is { } end
            ? $"ended by {end.Reason}{(end.Reason == Core.StopReason.GuestExit ? $" (status {end.ExitCode})" : "")}"
            : $"truncated ({trace.TruncationReason})");
        text.Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"current event: {timeline.Position}\n");
        text.Append(CultureInfo.InvariantCulture, $"recorded inputs consumed at {timeline.InputEventSteps.Count} events\n");
        var store = timeline.Checkpoints;
        text.Append(CultureInfo.InvariantCulture,
            $"checkpoints: {store.Count} ({store.All.Count(c => c.Explicit)} explicit), {Mib(store.MemoryBytes)} of {Mib(store.BudgetBytes)}, every {timeline.Interval} events near the current one\n");
        text.Append(CultureInfo.InvariantCulture, $"console output so far: {timeline.Output.Count} bytes");
        return text.ToString();
    }

    private static string Help() =>
        "monitor when         the current event (instructions retired plus exceptions taken)\n" +
        "monitor seek N       go to event N\n" +
        "monitor checkpoint   keep a checkpoint here (never thinned away); it gets a number\n" +
        "monitor checkpoints  list the numbered checkpoints (* = here)\n" +
        "monitor restart N    go to checkpoint N\n" +
        "monitor delete-checkpoint N   forget checkpoint N\n" +
        "monitor info         what the recording holds and what the checkpoints use\n" +
        "monitor last-write REG|ADDR [LEN]\n" +
        "                     the last instruction before here that wrote register REG (a0, $sp, x5, fa0, f3)\n" +
        "                     or a byte of ADDR..ADDR+LEN-1 (LEN 1 by default); the position stays put\n" +
        "monitor traps [N]    the next N (default 10) traps and interrupts after here: event, cause, pc";

    private const string LastWriteUsage =
        "usage: monitor last-write REG|ADDR [LEN] (a register such as a0, $sp, x5, fa0, f3, or an address in decimal or 0x hex)";

    /// <summary>
    /// "When was this last written", answered without moving (gdb keeps its register cache valid):
    /// the writing instruction's event (seek there to see it about to run), pc and text.
    /// </summary>
    private string LastWrite(string target, string? lengthText)
    {
        if (RegisterNames.TryParse(target, out var register))
        {
            if (lengthText is not null) return $"a register takes no length: {LastWriteUsage}";
            string name = RegisterNames.Name(register);
            if (register is { File: RegisterFile.Integer, Index: 0 }) return "zero is never written: writes to x0 are discarded";
            return timeline.FindLastRegisterWrite(register) is { } w
                ? $"{name} was last written at event {w.Step} by pc 0x{w.Pc:x}: {Instruction(w.Pc, w.Encoding)} ({name} = 0x{w.Value:x}); monitor seek {w.Step} goes there"
                : $"{name} was not written before event {timeline.Position}";
        }
        if (!TryParseStep(target, out ulong address))
            return $"not a register or an address: '{target}' (try a0, $sp, x5, fa0, f3 or 0x80001000)";
        ulong length = 1;
        if (lengthText is not null && (!TryParseStep(lengthText, out length) || length == 0 || address + length - 1 < address))
            return $"not a length: '{lengthText}' (1 or more bytes, decimal or 0x hex, inside the address space)";
        string range = length == 1 ? $"0x{address:x}" : $"0x{address:x}..0x{address + length - 1:x}";
        return timeline.FindLastMemoryWrite(address, length) is { } m
            ? $"{range} was last written at event {m.Step} by pc 0x{m.Pc:x}: {Instruction(m.Pc, m.Encoding)} (a store to 0x{m.Address:x}); monitor seek {m.Step} goes there"
            : $"{range} was not written before event {timeline.Position}";
    }

    private const string TrapsUsage = "usage: monitor traps [N] (the next N traps and interrupts after this event; 10 by default, at most 1000)";

    /// <summary>How long <c>monitor traps</c> waits for the background search: gdb gives up on a reply after 2 s (remotetimeout).</summary>
    private static readonly TimeSpan TrapSearchWait = TimeSpan.FromSeconds(1.5);

    private TimelineIndex? _index;

    /// <summary>
    /// The next traps and interrupts after the current event, from the trace's sidecar when it holds
    /// them, else found by a <see cref="TimelineIndex"/> that the first use starts in the background
    /// (it replays the whole recording once, or follows the sidecar's build). The
    /// position stays put. Asked before the search has got that far, it lists what it has found.
    /// </summary>
    private string Traps(string? countText)
    {
        int count = 10;
        if (countText is not null && (!int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > 1000))
            return $"not a count: '{countText}'; {TrapsUsage}";
        if (timeline.IsLive) return "monitor traps needs a finished recording: a live session's recording is still growing";
        try
        {
            _index ??= timeline.TrapIndex(); // the sidecar's, its build's, or a scan of its own
        }
        catch (TimelineException e)
        {
            return $"cannot search for traps: {e.Message}";
        }
        ulong here = timeline.Position;
        _index.WaitUntil(index => Following(index, here, count).Count >= count, TrapSearchWait);
        var found = Following(_index, here, count);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{(found.Count == 0 ? "no traps or interrupts" : "traps and interrupts")} after event {here}{(found.Count == 0 ? "" : ":")}");
        foreach (var m in found)
            text.Append(CultureInfo.InvariantCulture, $"\n  event {m.Step}: {m.CauseName} at pc 0x{m.Pc:x} ({m.From} -> {m.To})");
        if (found.Count < count)
        {
            switch (_index.State)
            {
                case TimelineIndexState.Running:
                    text.Append(CultureInfo.InvariantCulture, $"\n(still searching: {_index.Progress:P0} of the recording so far; ask again for more)");
                    break;
                case TimelineIndexState.Failed:
                    text.Append(CultureInfo.InvariantCulture, $"\n(the search stopped: {_index.Error})");
                    break;
            }
        }
        if (found.Count > 0) text.Append(CultureInfo.InvariantCulture, $"\nmonitor seek {found[0].Step} goes to the first");
        return text.ToString();
    }

    private static List<TrapMarker> Following(TimelineIndex index, ulong step, int count)
    {
        var found = new List<TrapMarker>();
        for (var m = index.Next(TrapMarkerKinds.All, step); m is { } marker && found.Count < count; m = index.Next(TrapMarkerKinds.All, marker.Step))
            found.Add(marker);
        return found;
    }

    private static string Instruction(ulong pc, uint? encoding) =>
        encoding is { } bits ? RiscvDisassembler.Disassemble(bits, pc).Replace('\t', ' ') : "(instruction unreadable)";

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024.0):0.0} MiB");

    private static bool TryParseStep(string text, out ulong step)
    {
        string s = text.Replace("_", "");
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out step) && s.Length > 2;
        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out step);
    }
}
