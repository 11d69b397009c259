namespace ReplayVm.Core.Hart;

/// <summary>
/// Debugger hooks. They cost nothing while unused: breakpoints are checked only on the full fetch
/// path (the straight-line fast path is turned off while any exist), and watchpoints work by
/// keeping watched pages out of the TLB so that accesses to them take the translating slow path,
/// where the watch ranges are checked.
/// </summary>
public sealed unsafe partial class Hart
{
    private HashSet<ulong>? _breakpoints;
    private WatchRange[]? _watches;

    /// <summary>A breakpoint at the pc where a run resumes must not stop it again at once; this is the step it resumed at.</summary>
    private ulong _breakpointResumeStep = ulong.MaxValue;

    /// <summary>Set when the last slice stopped for the debugger; cleared by <see cref="TakeDebugStop"/>.</summary>
    public DebugStop? PendingDebugStop { get; private set; }

    public bool HasBreakpoints => _breakpoints is not null;

    /// <summary>Replaces the set of execution breakpoints (virtual pcs); null or empty removes them all.</summary>
    public void SetBreakpoints(IEnumerable<ulong>? pcs)
    {
        var set = pcs is null ? null : new HashSet<ulong>(pcs);
        _breakpoints = set is { Count: > 0 } ? set : null;
    }

    /// <summary>Replaces the watched ranges; null or empty removes them all.</summary>
    public void SetWatchpoints(IEnumerable<WatchRange>? ranges)
    {
        var array = ranges?.Where(r => r.Length > 0).ToArray();
        _watches = array is { Length: > 0 } ? array : null;
        TranslationChanged();
    }

    /// <summary>Called by the machine before it resumes: a breakpoint at the current pc is stepped over once.</summary>
    public void ResumeFromBreakpoint() => _breakpointResumeStep = Steps;

    public DebugStop? TakeDebugStop()
    {
        var stop = PendingDebugStop;
        PendingDebugStop = null;
        return stop;
    }

    /// <summary>True (and the slice ends without executing) when <paramref name="pc"/> is a breakpoint to stop at.</summary>
    private bool StopsAtBreakpoint(ulong pc, ulong steps)
    {
        if (!_breakpoints!.Contains(pc) || steps == _breakpointResumeStep) return false;
        PendingDebugStop = new DebugStop(DebugStopKind.Breakpoint, pc, steps, pc, AccessType.Fetch, default);
        SliceEnd = 0;
        return true;
    }

    /// <summary>Whether a page may be cached in the TLB for <paramref name="type"/> accesses: not if a watch covers part of it.</summary>
    private bool PageIsWatched(ulong virtualPage, AccessType type)
    {
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
}
