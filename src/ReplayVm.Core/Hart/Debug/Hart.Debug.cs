namespace ReplayVm.Core.Hart;

/// <summary>
/// Debugger hooks. They cost nothing while unused: breakpoints are checked where the interpreter
/// enters a page that holds one and in front of each (see Hart.BreakpointPages), register-write
/// watches on the full fetch path (the straight-line fast path is turned off while any exist, see
/// <see cref="_stepByStep"/>), and watchpoints work by keeping watched pages out of
/// the TLB so that accesses to them take the translating slow path, where the watch ranges are checked.
/// </summary>
public sealed unsafe partial class Hart
{
    private HashSet<ulong>? _breakpoints;
    private WatchRange[]? _watches;
    private RegisterWatch _registerWatch;
    /// <summary>Some register is watched for writes: each retired instruction's destination is checked.</summary>
    private bool _watchingRegisters;
    /// <summary>Register watches or execute triggers exist: every instruction must come through the full
    /// fetch path, where they are checked, so the straight-line fast path is off.</summary>
    private bool _stepByStep;

    /// <summary>A breakpoint at the pc where a run resumes must not stop it again at once: the step and pc it
    /// resumed at (a breakpoint elsewhere at that step, after an interrupt taken there, still stops it).</summary>
    private ulong _breakpointResumeStep = ulong.MaxValue, _breakpointResumePc;

    /// <summary>Set when the last slice stopped for the debugger; cleared by <see cref="TakeDebugStop"/>.</summary>
    public DebugStop? PendingDebugStop { get; private set; }

    public bool HasBreakpoints => _breakpoints is not null;

    /// <summary>Replaces the set of execution breakpoints (virtual pcs); null or empty removes them all.</summary>
    public void SetBreakpoints(IEnumerable<ulong>? pcs)
    {
        var set = pcs is null ? null : new HashSet<ulong>(pcs);
        var before = _breakpoints;
        _breakpoints = set is { Count: > 0 } ? set : null;
        BreakpointsChanged(before, _breakpoints);
        RebuildBreakpointPages();
        UpdateStepByStep();
    }

    /// <summary>
    /// Replaces the registers watched for writes (an empty watch removes them): the run stops right
    /// after an instruction that retires with a watched register as its destination. A trapping
    /// instruction writes nothing (privileged spec 3.1.15: precise traps), nor does one with rd = x0.
    /// </summary>
    public void SetRegisterWatch(RegisterWatch watch)
    {
        _registerWatch = watch;
        _watchingRegisters = !watch.IsEmpty;
        UpdateStepByStep();
    }

    /// <summary>Replaces the watched ranges; null or empty removes them all.</summary>
    public void SetWatchpoints(IEnumerable<WatchRange>? ranges)
    {
        var array = ranges?.Where(r => r.Length > 0).ToArray();
        _watches = array is { Length: > 0 } ? array : null;
        TranslationChanged();
    }

    /// <summary>Called by the machine before it resumes: a breakpoint at the current pc is stepped over once.</summary>
    public void ResumeFromBreakpoint()
    {
        _breakpointResumeStep = Steps;
        _breakpointResumePc = Pc;
    }

    /// <summary>Called by the machine before a run that continues another: no breakpoint is stepped over.</summary>
    public void StopAtAnyBreakpoint() => _breakpointResumeStep = ulong.MaxValue;

    public DebugStop? TakeDebugStop()
    {
        var stop = PendingDebugStop;
        PendingDebugStop = null;
        return stop;
    }

    /// <summary>True (and the slice ends without executing) when <paramref name="pc"/> is a breakpoint to stop at.</summary>
    private bool StopsAtBreakpoint(ulong pc, ulong steps)
    {
        if (!_breakpoints!.Contains(pc) || (steps == _breakpointResumeStep && pc == _breakpointResumePc)) return false;
        PendingDebugStop = new DebugStop(DebugStopKind.Breakpoint, pc, steps, pc, AccessType.Fetch, default);
        SliceEnd = 0;
        return true;
    }

    /// <summary>Whether a page may be cached in the TLB for <paramref name="type"/> accesses: not if a watch covers part of it.</summary>
    private bool PageIsWatched(ulong virtualPage, AccessType type)
    {
        if (_dataTriggersArmed) return true; // every access must reach the trigger check
        if (_watches is null) return false;
        foreach (var w in _watches)
            if ((type == AccessType.Load ? w.OnRead : w.OnWrite) && w.Overlaps(virtualPage, PageMask + 1)) return true;
        return false;
    }

    /// <summary>Records a watch hit for a data access that is going ahead; the slice ends after this instruction.</summary>
    private void CheckWatch(ulong address, int size, AccessType type)
    {
        if (_watches is null || type == AccessType.Fetch || PendingDebugStop is not null) return;
        foreach (var w in _watches)
        {
            if ((type == AccessType.Load ? w.OnRead : w.OnWrite) && w.Overlaps(address, (ulong)size))
            {
                PendingDebugStop = new DebugStop(DebugStopKind.Watchpoint, Pc, Steps, address, type, w);
                SliceEnd = 0;
                return;
            }
        }
    }

    /// <summary>Records a register-write hit for an instruction that has just retired; the slice ends after it.
    /// Called from the full fetch path only, with <see cref="Pc"/> and <see cref="Steps"/> still the instruction's.</summary>
    private void CheckRegisterWrite(ref DecodedInstruction d)
    {
        if (PendingDebugStop is not null) return;
        var written = RegisterDestination.Of(d);
        if (!_registerWatch.Contains(written)) return;
        PendingDebugStop = new DebugStop(DebugStopKind.RegisterWrite, Pc, Steps, 0, AccessType.Fetch, default, written);
        SliceEnd = 0;
    }
}
