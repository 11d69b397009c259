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
/// step, to before the access; a reverse hit is already where gdb wants it, after the access, and
/// gdb reverse-steps over the instruction itself.
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

    public StopEvent Step()
    {
        _forwardWatchStop = null;
        if (!_timeline.StepForward()) return AtEnd();
        return StopEvent.StepDone(Hart.Pc);
    }

    public StopEvent ReverseStep()
    {
        _forwardWatchStop = null;
        if (!_timeline.StepBackward()) return StopEvent.BeginningOfRecording(Hart.Pc);
        return StopEvent.StepDone(Hart.Pc);
    }

    public StopEvent Continue(CancellationToken cancellation)
    {
        ulong start = _timeline.Position;
        bool skipFirstAccess = _forwardWatchStop == start;
        _forwardWatchStop = null;
        while (true)
        {
            var stop = _timeline.Continue(_points.Breakpoints, _points.Watches, cancellation);
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

    public StopEvent ReverseContinue(CancellationToken cancellation)
    {
        _forwardWatchStop = null;
        var stop = _timeline.ReverseContinue(_points.Breakpoints, _points.Watches, cancellation);
        // A reverse watch hit leaves the timeline right after the access: where gdb wants it.
        return stop is { Kind: TimelineStopKind.Watchpoint, Hit: { } hit } ? WatchStop(hit) : Translate(stop);
    }

    public string Monitor(string command) => _monitor.Run(command);

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
    /// At the last recorded step: if the guest itself ended the recording by exiting, gdb hears that it
    /// exited (with its status); otherwise (instruction limit, the host stopped it, a truncated trace) it
    /// hears that the replay log ends here, and can still go back.
    /// </summary>
    private StopEvent AtEnd()
    {
        var end = _timeline.Trace.End;
        return end is { Reason: CoreStopReason.GuestExit } && _timeline.Position == end.Step
            ? StopEvent.Exited(end.ExitCode)
            : StopEvent.EndOfRecording(Hart.Pc);
    }
}
