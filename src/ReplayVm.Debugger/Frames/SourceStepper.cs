using ReplayVm.Core.Hart;
using ReplayVm.Debugger.Symbols;
using ReplayVm.Debugger.Symbols.Info;
using ReplayVm.Replay.Timeline;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Debugger.Frames;

/// <summary>
/// gdb's source-level movements over a timeline, forwards and backwards: step and next by line
/// (what gdb calls the pc's line range; stepping stops at the first instruction of a different
/// line, entering a line in its middle keeps going), finish and reverse-finish by frame, and
/// until. Frames come from the call frame information (a frame is its CFA), functions from
/// .debug_info, lines from .debug_line. Everything is built from instruction steps the timeline
/// already offers (stepi, nexti and their reverses, continue to a breakpoint), so a recording is
/// never changed by it.
/// </summary>
public sealed class SourceStepper(ReplayTimeline timeline, LineTable lines, DebugInfo info, CallFrameTable cfi)
{
    private const int Sp = 2;
    private readonly StackUnwinder _unwinder = new(cfi, info);

    private Hart Hart => timeline.Machine.Hart;

    public StackUnwinder Unwinder => _unwinder;

    /// <summary>Whether pc has line information (else source-level movements fall back to instructions).</summary>
    public bool HasLineInfo(ulong pc) => lines.RangeAt(pc) is not null;

    private ulong? CurrentCfa() => _unwinder.Unwind(Hart)[0].Cfa;

    /// <summary>
    /// The pc's line as a stepping range: its line-table row joined with the contiguous rows of the
    /// same line around it (GCC splits a line into several rows, mostly not statements), as gdb steps them.
    /// </summary>
    private (ulong Start, ulong End, SourceLocation Location)? LineRange(ulong pc)
    {
        if (lines.RangeAt(pc) is not { } range) return null;
        ulong start = range.Start, end = range.End;
        var location = range.Location;
        for (int i = 0; i < 4096 && start > 0 && lines.RangeAt(start - 1) is { } before && Same(before.Location, location) && before.End == start; i++) start = before.Start;
        for (int i = 0; i < 4096 && lines.RangeAt(end) is { } after && Same(after.Location, location) && after.Start == end; i++) end = after.End;
        if (lines.RangeAt(start) is { } first) location = first.Location;
        return (start, end, location);
    }

    private static bool Same(SourceLocation a, SourceLocation b) => a.Line == b.Line && a.File.Path == b.File.Path;

    /// <summary>gdb's step (into calls) or next (over them), forwards.</summary>
    public TimelineStop Step(bool over, CancellationToken cancel = default)
    {
        if (LineRange(Hart.Pc) is not { } range) return over ? timeline.StepOver(cancel) : StepInstruction();
        ulong start = range.Start, end = range.End;
        var location = range.Location;
        ulong? frame = CurrentCfa();
        while (true)
        {
            if (cancel.IsCancellationRequested) return new TimelineStop(TimelineStopKind.Cancelled, timeline.Position);
            var stop = over ? timeline.StepOver(cancel) : StepInstruction();
            if (stop.Kind is not TimelineStopKind.Reached) return stop;
            ulong pc = Hart.Pc;
            if (pc >= start && pc < end) continue;
            if (!over && info.FunctionAt(pc) is { } callee && info.FunctionStart(pc) == pc)
            {
                // Stepped into a function: with line information, stop after its prologue; without, run back out of it.
                if (lines.RangeAt(pc) is null) { var back = Finish(cancel); if (back.Kind != TimelineStopKind.Reached) return back; continue; }
                _ = callee;
                return RunTo(PostPrologue(pc), cancel);
            }
            if (LineRange(pc) is not { } now) return stop; // code without line information: stop here, as gdb does
            ulong? cfa = CurrentCfa();
            // Returned to the caller (this frame's CFA is gone): stop, even in the middle of the caller's line.
            if (frame is { } f && cfa is { } c && c > f) return stop;
            if (pc == now.Start && now.Location.IsStmt && !Same(now.Location, location)) return stop;
            (start, end, location) = (now.Start, now.End, now.Location);
        }
    }

    /// <summary>gdb's reverse-step / reverse-next: back to the first instruction of the line before (or of this one, from its middle).</summary>
    public TimelineStop StepBack(bool over, CancellationToken cancel = default)
    {
        if (LineRange(Hart.Pc) is not { } range) return over ? timeline.StepBackOver(cancel) : StepBackInstruction();
        ulong start = range.Start, end = range.End;
        var location = range.Location;
        ulong? frame = CurrentCfa();
        while (true)
        {
            if (cancel.IsCancellationRequested) return new TimelineStop(TimelineStopKind.Cancelled, timeline.Position);
            var stop = over ? timeline.StepBackOver(cancel) : StepBackInstruction();
            if (stop.Kind is not TimelineStopKind.Reached) return stop;
            ulong pc = Hart.Pc;
            if (LineRange(pc) is not { } now) return stop;
            ulong? cfa = CurrentCfa();
            if (!(pc >= start && pc < end))
            {
                // Back out of the function's entry into the caller: stop at the call, as gdb does.
                if (frame is { } f && cfa is { } c && c > f) return stop;
                (start, end, location) = (now.Start, now.End, now.Location);
                // Into a callee from its return (reverse-step): keep going back to the start of the line there.
                frame = cfa;
            }
            // At the start of the line: done, unless that is the function's entry (a loop at the top of a
            // function); then on back into the caller, as gdb does.
            if (pc == start && info.FunctionStart(pc) != pc) return stop;
        }
    }

    /// <summary>gdb's finish: runs until the current frame returns (to its return address, with its CFA gone).</summary>
    public TimelineStop Finish(CancellationToken cancel = default, IEnumerable<ulong>? breakpoints = null, IEnumerable<WatchRange>? watches = null)
    {
        var frames = _unwinder.Unwind(Hart);
        if (frames.Count < 2 || frames[0].Cfa is not { } cfa) throw new InvalidOperationException("\"finish\" not meaningful in the outermost frame.");
        ulong returnAddress = frames[1].Pc;
        var user = breakpoints?.ToList() ?? [];
        while (true)
        {
            var stop = timeline.Continue(user.Append(returnAddress), watches, cancel);
            if (stop.Kind != TimelineStopKind.Breakpoint) return stop;
            if (Hart.Pc != returnAddress || user.Contains(Hart.Pc) && Hart.GetX(Sp) < cfa) return stop;
            if (Hart.GetX(Sp) >= cfa) return new TimelineStop(TimelineStopKind.Reached, timeline.Position);
            // A deeper activation of the same function returned there: keep going.
        }
    }

    /// <summary>gdb's reverse-finish: back to the call instruction that entered the current function.</summary>
    public TimelineStop ReverseFinish(CancellationToken cancel = default)
    {
        var frames = _unwinder.Unwind(Hart);
        if (frames.Count < 2 || frames[0].Cfa is not { } cfa) throw new InvalidOperationException("\"finish\" not meaningful in the outermost frame.");
        ulong entry = info.FunctionStart(Hart.Pc) ?? throw new InvalidOperationException("Cannot find bounds of current function");
        while (!(Hart.Pc == entry && Hart.GetX(Sp) == cfa))
        {
            var stop = timeline.ReverseContinue([entry], null, cancel);
            if (stop.Kind != TimelineStopKind.Breakpoint) return stop;
        }
        return StepBackInstruction();
    }

    /// <summary>gdb's until (no argument): next, but never back to a line above in a loop of this frame.</summary>
    public TimelineStop Until(CancellationToken cancel = default)
    {
        ulong from = Hart.Pc;
        ulong? frame = CurrentCfa();
        while (true)
        {
            var stop = Step(over: true, cancel);
            if (stop.Kind != TimelineStopKind.Reached) return stop;
            if (Hart.Pc > from || CurrentCfa() != frame) return stop;
        }
    }

    /// <summary>
    /// gdb's <c>until LOCATION</c> (<paramref name="anywhere"/> false) and <c>advance LOCATION</c>
    /// (true): runs forwards until one of <paramref name="targets"/> is reached or the current frame
    /// returns to its caller. <c>until</c> takes a target only in the current frame (same CFA and
    /// function, so a recursive activation runs on, as gdb's frame-specific momentary breakpoint);
    /// <c>advance</c> takes it in any frame. User breakpoints and watchpoints stop the run too.
    /// </summary>
    public TimelineStop RunToLocation(IReadOnlyCollection<ulong> targets, bool anywhere, CancellationToken cancel = default,
        IEnumerable<ulong>? breakpoints = null, IEnumerable<WatchRange>? watches = null, IProgress<double>? progress = null)
    {
        var frames = _unwinder.Unwind(Hart);
        ulong? cfa = frames[0].Cfa;
        ulong? function = info.FunctionStart(Hart.Pc);
        // Where the frame's return lands: without a CFA (no call frame information) there is no frame to leave.
        ulong? returnAddress = frames.Count >= 2 && cfa is not null ? frames[1].Pc : null;
        var user = breakpoints?.ToList() ?? [];
        var stops = targets.Concat(user).Concat(returnAddress is { } r ? [r] : []).Distinct().ToList();
        while (true)
        {
            var stop = timeline.Continue(stops, watches, cancel, progress);
            if (stop.Kind != TimelineStopKind.Breakpoint) return stop;
            ulong pc = Hart.Pc;
            if (user.Contains(pc)) return stop;
            if (targets.Contains(pc) && (anywhere || cfa is null || CurrentCfa() == cfa && info.FunctionStart(pc) == function))
                return new TimelineStop(TimelineStopKind.Reached, timeline.Position);
            // The frame returned (a deeper activation returning to the same address has sp below the CFA).
            if (pc == returnAddress && Hart.GetX(Sp) >= cfa) return new TimelineStop(TimelineStopKind.Reached, timeline.Position);
        }
    }

    /// <summary>
    /// Where a function's body starts, as gdb finds it from the line table: the address of the
    /// first line entry after the function's opening line (the end of the prologue), if it is
    /// still inside the function.
    /// </summary>
    public ulong PostPrologue(ulong entry)
    {
        if (lines.RangeAt(entry) is not { } first) return entry;
        // Several rows at the entry itself (GCC opens a function with its first lines all there):
        // gdb's skip_prologue_using_sal takes the entry as the body's start then, and so do we.
        if (lines.Sequences.FirstOrDefault(q => q.Start <= entry && entry < q.End) is { } sequence
            && sequence.Rows.Count(r => r.Address == entry && r.Line != 0) >= 2)
            return entry;
        ulong end = info.FunctionAt(entry) is { } function ? info.RangesOf(function).Where(r => r.Start <= entry && entry < r.End).Select(r => r.End).FirstOrDefault(entry + 1) : first.End;
        ulong at = first.End;
        while (at < end && lines.RangeAt(at) is { } next)
        {
            if (next.Location.Line != first.Location.Line && next.Location.IsStmt) return at;
            at = next.End;
        }
        return entry;
    }

    private TimelineStop RunTo(ulong address, CancellationToken cancel)
    {
        if (Hart.Pc == address) return new TimelineStop(TimelineStopKind.Reached, timeline.Position);
        var stop = timeline.Continue([address], null, cancel);
        return stop.Kind == TimelineStopKind.Breakpoint ? new TimelineStop(TimelineStopKind.Reached, timeline.Position) : stop;
    }

    private TimelineStop StepInstruction() => timeline.StepForward()
        ? new TimelineStop(TimelineStopKind.Reached, timeline.Position)
        : new TimelineStop(TimelineStopKind.End, timeline.Position);

    private TimelineStop StepBackInstruction() => timeline.StepBackward()
        ? new TimelineStop(TimelineStopKind.Reached, timeline.Position)
        : new TimelineStop(TimelineStopKind.Start, timeline.Position);
}
