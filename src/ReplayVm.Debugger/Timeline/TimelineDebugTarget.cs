using ReplayVm.Core.Hart;
using ReplayVm.Debugger.Gdb;
using ReplayVm.Replay.Timeline;
using CoreStopReason = ReplayVm.Core.StopReason;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Debugger.Timeline;

/// <summary>
/// A replayed recording as a gdb target: registers and memory come from the timeline's machine at
/// its current position, and running forwards or backwards moves along the timeline. A replay
/// cannot be changed, so every write is refused (gdb shows an error).
///
/// The one translation that needs care is where a watchpoint stops. The timeline stops just after
/// the accessing instruction; gdb treats RISC-V watchpoints as non-steppable (the Sdtrig triggers of
/// the debug spec fire before the access) and expects the stop before that instruction in the
/// direction of travel (see <see cref="StopReason.Watchpoint"/>). So a forward hit is moved back one
/// step, to before the access; a reverse hit (the timeline stops before the access going backwards)
/// is moved forward one, to after it, and gdb reverse-steps over the instruction itself. A
/// reverse-continue right after gdb stepped over a forward hit thus reports that same access
/// again, as gdb on rr does.
///
/// The end of the recording is a place, like its beginning: gdb hears "replaylog:end" there (with a
/// note when the guest's exit ended the recording) and stays connected, so it can go back. A replay
/// that cannot follow its recording (a state hash that does not match) is a
/// <see cref="DebugTargetException"/> with the timeline's one-line message.
/// </summary>
public sealed class TimelineDebugTarget : IDebugTarget
{
    private readonly ReplayTimeline _timeline;
    private readonly DebugPointSet _points = new();
    private readonly TimelineMonitor _monitor;
    /// <summary>The position of the last forward watchpoint stop: a continue from there must not report the same access again.</summary>
    private ulong? _forwardWatchStop;

    public TimelineDebugTarget(ReplayTimeline timeline, string? traceName = null)
    {
        _timeline = timeline;
        _monitor = new TimelineMonitor(timeline, traceName);
    }

    private Hart Hart => _timeline.Machine.Hart;

    public ulong CurrentStep => _timeline.Position;

    public PrivilegeLevel Privilege => Hart.Mode;

    public string? WriteRefusal =>
        "a recording is read-only: its registers and memory are what the guest had then (replayvm replays, it does not alter)";

    public ulong ReadIntegerRegister(int index) => index is > 0 and < 32 ? Hart.GetX(index) : 0;

    public ulong ReadPc() => Hart.Pc;

    public ulong ReadFloatRegister(int index) => Hart.GetF(index);

    public bool TryReadCsr(int number, out ulong value)
    {
        value = 0;
        return number is >= 0 and < 4096 && Hart.TryReadCsr((uint)number, out value);
    }

    public bool ReadMemory(ulong address, Span<byte> destination) => VirtualMemoryView.Read(Hart, address, destination);

    // A recording is history: changing it would make everything after it a lie.
    public bool WriteIntegerRegister(int index, ulong value) => false;

    public bool WritePc(ulong value) => false;

    public bool WriteFloatRegister(int index, ulong value) => false;

    public bool TryWriteCsr(int number, ulong value) => false;

    public bool WriteMemory(ulong address, ReadOnlySpan<byte> source) => false;

    public bool InsertBreakpoint(BreakpointType type, ulong address, ulong length) => _points.Insert(type, address, length);

    public bool RemoveBreakpoint(BreakpointType type, ulong address, ulong length) => _points.Remove(type, address, length);

    public StopEvent Step() => Moving(() =>
    {
        _forwardWatchStop = null;
        if (!_timeline.StepForward()) return AtEnd();
        return StopEvent.StepDone(Hart.Pc);
    });

    public StopEvent ReverseStep() => Moving(() =>
    {
        _forwardWatchStop = null;
        if (!_timeline.StepBackward()) return StopEvent.BeginningOfRecording(Hart.Pc);
        return StopEvent.StepDone(Hart.Pc);
    });

    public StopEvent Continue(CancellationToken cancellation, IProgress<RunProgress>? progress = null) =>
        Moving(() => ContinueForward(cancellation, progress));

    private StopEvent ContinueForward(CancellationToken cancellation, IProgress<RunProgress>? progress)
    {
        ulong start = _timeline.Position;
        bool skipFirstAccess = _forwardWatchStop == start;
        _forwardWatchStop = null;
        while (true)
        {
            var stop = _timeline.Continue(_points.Breakpoints, _points.Watches, cancellation, Forward(progress));
            if (stop is { Kind: TimelineStopKind.Watchpoint, Hit: { } hit })
            {
                // The access gdb was told about last time: we stopped before it, gdb did not step over it.
                if (skipFirstAccess && hit.Step == start)
                {
                    skipFirstAccess = false;
                    continue;
                }
                // Back to before the accessing instruction (hit.Step is the step that executed it).
                _timeline.Seek(hit.Step);
                _forwardWatchStop = hit.Step;
                return WatchStop(hit);
            }
            return Translate(stop);
        }
    }

    public StopEvent ReverseContinue(CancellationToken cancellation, IProgress<RunProgress>? progress = null) => Moving(() =>
    {
        _forwardWatchStop = null;
        ulong origin = _timeline.Position;
        progress?.Report(new RunProgress(origin, 0));
        // The timeline reports the share of the way back to step 0 searched so far.
        var searched = progress is null ? null : new ProgressAdapter(f => progress.Report(new RunProgress((ulong)(origin * (1 - f)), f)));
        var stop = _timeline.ReverseContinue(_points.Breakpoints, _points.Watches, cancellation, searched);
        if (stop is not { Kind: TimelineStopKind.Watchpoint, Hit: { } hit }) return Translate(stop);
        _timeline.Seek(hit.Step + 1); // after the access, for gdb to reverse-step over it
        return WatchStop(hit);
    });

    public string Monitor(string command, CancellationToken cancellation = default, IProgress<RunProgress>? progress = null)
    {
        try
        {
            return _monitor.Run(command, cancellation, progress);
        }
        catch (TimelineException e)
        {
            throw new DebugTargetException(e.Message);
        }
    }

    /// <summary>Progress of a forward movement, with where it is; the share of the way only when the end is known.</summary>
    private ProgressAdapter? Forward(IProgress<RunProgress>? progress)
    {
        if (progress is null) return null;
        progress.Report(new RunProgress(_timeline.Position, _timeline.CanExtend ? null : 0));
        return new ProgressAdapter(f => progress.Report(new RunProgress(_timeline.Position, _timeline.CanExtend ? null : f)));
    }

    /// <summary>The timeline's progress callback, called synchronously on the moving thread (unlike <see cref="Progress{T}"/>).</summary>
    internal sealed class ProgressAdapter(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }

    /// <summary>Runs a movement; a replay that left its recording becomes the error gdb is told.</summary>
    private static StopEvent Moving(Func<StopEvent> move)
    {
        try
        {
            return move();
        }
        catch (TimelineException e)
        {
            throw new DebugTargetException(e.Message);
        }
    }

    private StopEvent WatchStop(DebugStop hit)
    {
        // gdb matches the reported address against its watchpoints' ranges: an access that starts below
        // the range (a wide store over a narrow variable) is reported at the range's first byte.
        ulong address = Math.Max(hit.Address, hit.Watch.Address);
        return StopEvent.AtWatchpoint(Hart.Pc, DebugPointSet.KindOf(hit.Watch, hit.Access), address);
    }

    private StopEvent Translate(TimelineStop stop) => stop.Kind switch
    {
        TimelineStopKind.Breakpoint => StopEvent.AtBreakpoint(Hart.Pc),
        TimelineStopKind.Cancelled => StopEvent.Interrupted(Hart.Pc),
        TimelineStopKind.Start => StopEvent.BeginningOfRecording(Hart.Pc),
        TimelineStopKind.End => AtEnd(),
        _ => StopEvent.StepDone(Hart.Pc),
    };

    /// <summary>
    /// At the last recorded step gdb hears that the replay log ends here, and can still go back; if the
    /// guest itself ended the recording by exiting, the stop says with what status (gdb is told in words:
    /// an exit reply would end its session, and the history is still there to explore).
    /// </summary>
    private StopEvent AtEnd()
    {
        var end = _timeline.Trace.End;
        return end is { Reason: CoreStopReason.GuestExit } && _timeline.Position == end.Step
            ? StopEvent.EndOfRecording(Hart.Pc, end.ExitCode)
            : StopEvent.EndOfRecording(Hart.Pc);
    }
}
