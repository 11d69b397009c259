using ReplayVm.Core.Hart;

namespace ReplayVm.Replay.Timeline;

/// <summary>Continue, reverse-continue, stepping over calls, input events, and the last-write query.</summary>
public sealed partial class Timeline
{
    private const int Ra = 1, Sp = 2;

    /// <summary>Runs forward to the next breakpoint or watchpoint hit after the current position, or to the end.</summary>
    public TimelineStop Continue(IEnumerable<ulong>? breakpoints, IEnumerable<WatchRange>? watchpoints,
        CancellationToken cancel = default, IProgress<double>? progress = null) =>
        ContinueWhere(MakeWatch(breakpoints, watchpoints), _ => true, cancel, progress);

    /// <summary>
    /// Goes back to the last breakpoint or watchpoint hit before the current position (gdb's
    /// reverse-continue), or to step 0 when there is none. Going backwards, a watchpoint stops
    /// before the accessing instruction (the first one undone) and a breakpoint where its pc is
    /// next to run, as with gdb on rr: so the access that a forward continue just stopped after is
    /// found again, and the breakpoint the position stands on is not. As rr does it: replay forward
    /// from the latest earlier checkpoint to here, remembering the last hit; if that window has
    /// none, try the window before it, and so on.
    /// </summary>
    public TimelineStop ReverseContinue(IEnumerable<ulong>? breakpoints, IEnumerable<WatchRange>? watchpoints,
        CancellationToken cancel = default, IProgress<double>? progress = null) =>
        ReverseWhere(MakeWatch(breakpoints, watchpoints), _ => true, cancel, progress, anyHit: true);

    /// <summary>
    /// The step of the last instruction before the current position that wrote any byte of
    /// [<paramref name="address"/>, +<paramref name="length"/>) (a virtual address, as the hart
    /// saw it), or null if none did. Stores by the hart count; device DMA does not. The position is unchanged afterwards.
    /// </summary>
    public ulong? LastWriteBefore(ulong address, ulong length, CancellationToken cancel = default) =>
        FindLastMemoryWrite(address, length, cancel)?.Step; // Timeline.MemoryWrites.cs

    /// <summary>Goes to the next recorded input event after the current position (the input is consumed by the step there), or the end.</summary>
    public TimelineStop NextInputEvent(CancellationToken cancel = default, IProgress<double>? progress = null)
    {
        int i = _inputSteps.FindIndex(s => s > Position);
        if (i < 0) return Seek(End, cancel, progress) with { Kind = TimelineStopKind.End };
        var stop = Seek(_inputSteps[i], cancel, progress);
        return stop.Kind == TimelineStopKind.Reached ? stop with { Kind = TimelineStopKind.InputEvent } : stop;
    }

    /// <summary>Goes to the last recorded input event before the current position, or step 0.</summary>
    public TimelineStop PreviousInputEvent(CancellationToken cancel = default, IProgress<double>? progress = null)
    {
        int i = _inputSteps.FindLastIndex(s => s < Position);
        if (i < 0) return Seek(0, cancel, progress) with { Kind = TimelineStopKind.Start };
        var stop = Seek(_inputSteps[i], cancel, progress);
        return stop.Kind == TimelineStopKind.Reached ? stop with { Kind = TimelineStopKind.InputEvent } : stop;
    }

    /// <summary>
    /// Steps one instruction; if it was a call (jal/jalr writing ra with the return address),
    /// runs on until it returns: back at the return address with sp at least what it was at the
    /// call (deeper recursive activations pass the same address with a lower sp).
    /// </summary>
    public TimelineStop StepOver(CancellationToken cancel = default)
    {
        var hart = Machine.Hart;
        ulong pc = hart.Pc, sp = hart.GetX(Sp), exceptions = hart.ExceptionsTaken;
        if (!StepForward()) return new TimelineStop(TimelineStopKind.End, Position);
        if (!WasCall(pc, exceptions)) return new TimelineStop(TimelineStopKind.Reached, Position);
        ulong returnAddress = hart.GetX(Ra);
        var stop = ContinueWhere(MakeWatch([returnAddress], null), _ => hart.GetX(Sp) >= sp, cancel, null);
        return stop.Kind == TimelineStopKind.Breakpoint ? new TimelineStop(TimelineStopKind.Reached, Position) : stop;
    }

    /// <summary>
    /// Steps back one instruction; if that undid a return into the current function, goes back
    /// on to the call that made it (the last execution of the call instruction before the return
    /// address, with this frame's sp).
    /// </summary>
    public TimelineStop StepBackOver(CancellationToken cancel = default)
    {
        var hart = Machine.Hart;
        if (Position == 0) return new TimelineStop(TimelineStopKind.Start, 0);
        ulong here = hart.Pc, sp = hart.GetX(Sp), exceptions = hart.ExceptionsTaken;
        StepBackward();
        bool returned = hart.ExceptionsTaken == exceptions && hart.GetX(Ra) == here && !IsFallThrough(hart.Pc, here);
        if (!returned) return new TimelineStop(TimelineStopKind.Reached, Position);
        // The call is the 4-byte jal/jalr just before the return address, or a 2-byte c.jalr.
        var stop = ReverseWhere(MakeWatch([here - 4, here - 2], null),
            _ => hart.GetX(Sp) == sp && (InstructionLength(hart.Pc) is not { } n || hart.Pc + (ulong)n == here),
            cancel, null);
        return stop.Kind == TimelineStopKind.Breakpoint ? new TimelineStop(TimelineStopKind.Reached, Position) : stop;
    }

    /// <summary>Whether the step just taken from <paramref name="pc"/> was a call: no trap, a jump, and ra = the address after it.</summary>
    private bool WasCall(ulong pc, ulong exceptionsBefore)
    {
        var hart = Machine.Hart;
        if (hart.ExceptionsTaken != exceptionsBefore || IsFallThrough(pc, hart.Pc)) return false;
        ulong ra = hart.GetX(Ra);
        return InstructionLength(pc) is { } n ? ra == pc + (ulong)n : ra == pc + 2 || ra == pc + 4;
    }

    private bool IsFallThrough(ulong from, ulong to) =>
        InstructionLength(from) is { } n ? to == from + (ulong)n : to == from + 2 || to == from + 4;

    /// <summary>
    /// The length of the instruction at <paramref name="pc"/> when it can be read without address
    /// translation (M-mode, or satp in Bare mode): 4 when the low two bits are 11, else 2
    /// (unprivileged spec 1.5). Null when translation is on; callers then accept both.
    /// </summary>
    private int? InstructionLength(ulong pc)
    {
        var hart = Machine.Hart;
        bool bare = hart.Mode == PrivilegeLevel.Machine || hart.ReadCsr(0x180) >> 60 == 0;
        Span<byte> parcel = stackalloc byte[2];
        if (!bare || !hart.DebugRead(pc, parcel)) return null;
        return (parcel[0] & 3) == 3 ? 4 : 2;
    }

    private static Watch MakeWatch(IEnumerable<ulong>? breakpoints, IEnumerable<WatchRange>? watchpoints) =>
        new([.. breakpoints ?? []], [.. (watchpoints ?? []).Where(w => w.Length > 0)]);

    private TimelineStop ContinueWhere(Watch watch, Func<TimelineStop, bool> accept, CancellationToken cancel, IProgress<double>? progress)
    {
        if (!CanExtend && SkippingIndex(watch) is not null) return ContinueSkipping(watch, accept, cancel, progress); // Timeline.StretchSkipping.cs
        var stop = Advance(CanExtend ? ulong.MaxValue : End, watch, accept, checkHere: false, cancel, progress);
        _focus = Position;
        return stop ?? new TimelineStop(TimelineStopKind.End, Position);
    }

    /// <param name="anyHit">The hits <paramref name="accept"/> takes do not depend on this timeline's state
    /// (plain reverse-continue): windows may then be scanned on other machines (Timeline.ParallelScan.cs).</param>
    private TimelineStop ReverseWhere(Watch watch, Func<TimelineStop, bool> accept, CancellationToken cancel, IProgress<double>? progress,
        bool anyHit = false)
    {
        ulong origin = Position;
        _focus = origin;
        ulong windowEnd = origin;
        while (windowEnd > 0)
        {
            windowEnd = SkipBack(windowEnd, watch); // past index stretches that cannot hold a hit
            if (windowEnd == 0) break;
            var checkpoint = NearestStart(windowEnd - 1, null);
            Restore(checkpoint);
            var (last, cancelled) = ScanWindow(windowEnd, watch, accept, cancel);
            if (!cancelled && last is null && anyHit && checkpoint.Step > 0 && CanScanInParallel)
            {
                (last, cancelled) = ScanEarlierWindowsInParallel(checkpoint.Step, origin, watch, cancel, progress);
                if (!cancelled && last is null) break; // scanned down to step 0
            }
            if (cancelled)
            {
                Seek(origin);
                return new TimelineStop(TimelineStopKind.Cancelled, Position);
            }
            if (last is not null)
            {
                Seek(last.Step);
                // Show the hit as a forward run stopped at it: with an interrupt due at its step
                // taken, so that the hart is at the instruction that hit (and a continue steps over it).
                if (Position == last.Step) Machine.EnterStep();
                _focus = Position;
                return last;
            }
            progress?.Report(origin == 0 ? 1 : 1 - (double)checkpoint.Step / origin);
            windowEnd = checkpoint.Step;
        }
        Seek(0);
        return new TimelineStop(TimelineStopKind.Start, 0);
    }

    /// <summary>
    /// From the position (a checkpoint at or before <paramref name="windowEnd"/>), the last hit before
    /// <paramref name="windowEnd"/> that <paramref name="accept"/> takes, placed where a reverse
    /// movement stops: a breakpoint at its own position, a watch hit before the instruction that
    /// made it (its <see cref="DebugStop.Step"/>). The instruction that runs from windowEnd - 1 is
    /// thus the window's last, and a breakpoint at windowEnd belongs to the next window; where
    /// windows (checkpoints) lie cannot change what is found.
    /// </summary>
    private (TimelineStop? Last, bool Cancelled) ScanWindow(ulong windowEnd, Watch watch, Func<TimelineStop, bool> accept,
        CancellationToken cancel)
    {
        TimelineStop? last = null;
        var stop = Advance(windowEnd, watch, hit =>
        {
            var backwards = hit is { Kind: TimelineStopKind.Watchpoint, Hit: { } access } ? hit with { Step = access.Step } : hit;
            if (backwards.Step < windowEnd && accept(backwards)) last = backwards;
            return false;
        }, checkHere: true, cancel, null);
        return (last, stop is { Kind: TimelineStopKind.Cancelled });
    }
}
