using System.Text;
using ReplayVm.Core.Hart;
using ReplayVm.Debugger.Symbols;
using ReplayVm.Replay.Timeline;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Tui.Session;

/// <summary>
/// Everything the terminal debugger knows, with no UI: the timeline, numbered breakpoints and
/// watchpoints, symbols, and the register values before the last move (so views can mark what
/// changed). Movements and the gdb-style command line both live here so both are testable
/// without a terminal. Not thread-safe: one movement at a time (the UI runs them on one worker).
/// </summary>
public sealed partial class DebugSession
{
    private readonly List<DebugPoint> _points = [];
    private int _nextNumber = 1;
    private ulong[] _before = new ulong[32];
    private ulong _pcBefore;

    /// <param name="symbolFiles">
    /// ELF files with the symbols and DWARF of code the trace holds without them, as gdb's
    /// symbol-file: a Linux kernel's vmlinux for the raw Image that was booted.
    /// </param>
    public DebugSession(ReplayTimeline timeline, SymbolTable? symbols = null, IReadOnlyList<SymbolFile>? symbolFiles = null)
    {
        Timeline = timeline;
        var extra = symbolFiles ?? [];
        Symbols = (symbols ?? SymbolTable.From(timeline.Trace.Header.Setup)).With(extra.Select(f => f.Elf));
        Lines = LineTable.Combine([LineTable.From(timeline.Trace.Header.Setup), .. extra.Select(f => LineTable.FromElf(f.Bytes))]);
        RememberRegisters();
    }

    public ReplayTimeline Timeline { get; }
    public SymbolTable Symbols { get; }

    /// <summary>The guest's DWARF line tables (empty when its ELF images carry none; <see cref="LineTable.Error"/> says why one could not be read).</summary>
    public LineTable Lines { get; }

    /// <summary>Where the code pane finds source text: relative DWARF paths are looked up under the current directory unless told otherwise.</summary>
    public SourceFiles Sources { get; init; } = new([Directory.GetCurrentDirectory()]);

    public Hart Hart => Timeline.Machine.Hart;
    public ulong Position => Timeline.Position;
    public ulong End => Timeline.End;
    public IReadOnlyList<DebugPoint> Points => _points;

    /// <summary>What the last movement reported ("Breakpoint at step 120 ..."), for the status line.</summary>
    public string LastStop { get; private set; } = "at step 0";

    /// <summary>Whether integer register <paramref name="index"/> (1..31) changed on the last move.</summary>
    public bool Changed(int index) => index is > 0 and < 32 && Hart.GetX(index) != _before[index];

    public bool PcChanged => Hart.Pc != _pcBefore;

    /// <summary>The guest's console output as it was at the current position (rewinding rewinds it).</summary>
    public string ConsoleText
    {
        get
        {
            var bytes = Timeline.Output;
            var text = new StringBuilder(bytes.Count);
            foreach (byte b in bytes)
            {
                if (b == '\n' || b == '\t' || b is >= 0x20 and < 0x7F) text.Append((char)b);
                // Carriage returns and other control bytes would confuse a text view; drop them.
            }
            return text.ToString();
        }
    }

    /// <summary>Copies memory at a virtual address as the hart sees it now; false if unmapped.</summary>
    public bool ReadMemory(ulong address, Span<byte> destination) => VirtualMemoryView.Read(Hart, address, destination);

    // ---- movements ----

    public TimelineStop StepInto() => Move(() => Timeline.StepForward()
        ? new TimelineStop(TimelineStopKind.Reached, Position)
        : new TimelineStop(TimelineStopKind.End, Position));

    public TimelineStop StepBack() => Move(() => Timeline.StepBackward()
        ? new TimelineStop(TimelineStopKind.Reached, Position)
        : new TimelineStop(TimelineStopKind.Start, Position));

    public TimelineStop StepOver(CancellationToken cancel = default) => Move(() => Timeline.StepOver(cancel));

    public TimelineStop StepBackOver(CancellationToken cancel = default) => Move(() => Timeline.StepBackOver(cancel));

    public TimelineStop Continue(CancellationToken cancel = default, IProgress<double>? progress = null) =>
        Move(() => Timeline.Continue(BreakpointAddresses, WatchRanges, cancel, progress));

    public TimelineStop ReverseContinue(CancellationToken cancel = default, IProgress<double>? progress = null) =>
        Move(() => Timeline.ReverseContinue(BreakpointAddresses, WatchRanges, cancel, progress));

    public TimelineStop Goto(ulong step, CancellationToken cancel = default, IProgress<double>? progress = null) =>
        Move(() => Timeline.Seek(step, cancel, progress));

    private TimelineStop Move(Func<TimelineStop> movement)
    {
        RememberRegisters();
        var stop = movement();
        LastStop = Describe(stop);
        RememberHit(stop);
        return stop;
    }

    private void RememberRegisters()
    {
        for (int i = 0; i < 32; i++) _before[i] = Hart.GetX(i);
        _pcBefore = Hart.Pc;
    }

    private string Describe(TimelineStop stop)
    {
        string where = $"step {stop.Step}, pc 0x{Hart.Pc:x}" + (Symbols.NameAt(Hart.Pc) is { } name ? $" <{name}>" : "");
        return stop.Kind switch
        {
            TimelineStopKind.Breakpoint => $"breakpoint hit at {where}",
            TimelineStopKind.Watchpoint => $"watchpoint hit ({(stop.Hit!.Value.Access == AccessType.Load ? "read" : "write")} at address 0x{stop.Hit.Value.Address:x}, by pc 0x{stop.Hit.Value.Pc:x}) at {where}",
            TimelineStopKind.End => $"end of recording at {where}",
            TimelineStopKind.Start => $"start of recording at {where}",
            // Stopping a live guest is a pause (F5 runs it on); stopping a replayed movement cancels it.
            TimelineStopKind.Cancelled => IsLive ? $"paused at {where}" : $"cancelled at {where}",
            _ => $"at {where}",
        };
    }

    // ---- breakpoints and watchpoints ----

    private IEnumerable<ulong> BreakpointAddresses => _points.Where(p => p.Kind == DebugPointKind.Breakpoint).Select(p => p.Address);

    private IEnumerable<WatchRange> WatchRanges => _points.Where(p => p.Kind == DebugPointKind.Watchpoint)
        .Select(p => new WatchRange(p.Address, p.Length, OnRead: p.Access != WatchAccess.Write, OnWrite: p.Access != WatchAccess.Read));

    public DebugPoint AddBreakpoint(ulong address) => Add(DebugPointKind.Breakpoint, address, 0);

    public DebugPoint AddWatchpoint(ulong address, ulong length = 8, WatchAccess access = WatchAccess.Write) =>
        Add(DebugPointKind.Watchpoint, address, length, access);

    private DebugPoint Add(DebugPointKind kind, ulong address, ulong length, WatchAccess access = WatchAccess.Write)
    {
        var point = new DebugPoint(_nextNumber++, kind, address, length, Symbols.NameAt(address), access);
        _points.Add(point);
        return point;
    }

    public bool Delete(int number) => _points.RemoveAll(p => p.Number == number) > 0;

    /// <summary>F9: removes the breakpoints at pc, or adds one there. True when one was added.</summary>
    public bool ToggleBreakpointAtPc()
    {
        ulong pc = Hart.Pc;
        if (_points.RemoveAll(p => p.Kind == DebugPointKind.Breakpoint && p.Address == pc) > 0) return false;
        AddBreakpoint(pc);
        return true;
    }

    public bool HasBreakpointAt(ulong address) => _points.Any(p => p.Kind == DebugPointKind.Breakpoint && p.Address == address);
}
