using ReplayVm.Replay.Timeline;

namespace ReplayVm.Tui.Session;

/// <summary>
/// What the timeline pane marks beyond input events: traps and interrupts, which a
/// <see cref="TimelineIndex"/> finds by replaying the recording in the background, and the
/// breakpoint hits this session has stopped at so far (a hit is only known once a run stops there).
/// </summary>
public sealed partial class DebugSession
{
    /// <summary>Replaced, never changed in place: the UI thread may read it while the worker moves.</summary>
    private ulong[] _breakpointHits = [];

    /// <summary>Where the recording's traps and interrupts are; null until <see cref="StartIndex"/> (and always in a live session).</summary>
    public TimelineIndex? Index { get; private set; }

    /// <summary>The trace's index sidecar being built in the background (its progress shows on the timeline), or null.</summary>
    public ReplayVm.Replay.TraceIndex.BackgroundIndexBuild? SidecarBuild { get; init; }

    /// <summary>Steps at which a continue or reverse-continue stopped at a breakpoint, ascending.</summary>
    public IReadOnlyList<ulong> BreakpointHits => _breakpointHits;

    /// <summary>
    /// Starts finding the recording's traps and interrupts (read from the trace's sidecar when it
    /// holds them, else found on a background thread; once; later
    /// calls return the same index). A live session has none: its recording is still growing.
    /// Throws <see cref="TimelineException"/> when the recorded machine cannot be built.
    /// </summary>
    public TimelineIndex? StartIndex(TimelineIndexOptions? options = null)
    {
        if (IsLive) return null;
        // Without tuning, the timeline's own: from the sidecar or its build when there is one (no second replay).
        return Index ??= options is null ? Timeline.TrapIndex() : new TimelineIndex(Timeline.Trace, options);
    }

    private void RememberHit(TimelineStop stop)
    {
        if (stop.Kind != TimelineStopKind.Breakpoint || Array.BinarySearch(_breakpointHits, stop.Step) >= 0) return;
        _breakpointHits = [.. _breakpointHits.Append(stop.Step).Order()];
    }

    /// <summary>
    /// Goes to the next (or previous) trap of <paramref name="kinds"/> the index has found, and says
    /// which it was; null when there is none (yet: the index may still be scanning).
    /// </summary>
    public (TrapMarker Marker, TimelineStop Stop)? GoToTrap(TrapMarkerKinds kinds, bool forward, CancellationToken cancel = default, IProgress<double>? progress = null)
    {
        var marker = Index is null ? null : forward ? Index.Next(kinds, Position) : Index.Previous(kinds, Position);
        if (marker is not { } m) return null;
        return (m, Goto(m.Step, cancel, progress));
    }

    private CommandResult TrapJump(string verb, TrapMarkerKinds kinds, bool forward, CancellationToken cancel, IProgress<double>? progress)
    {
        string what = kinds == TrapMarkerKinds.Interrupts ? "interrupt" : "trap";
        if (Index is null) return CommandResult.Error($"{verb}: traps are not indexed in this session (only recordings are)");
        ulong from = Position;
        if (GoToTrap(kinds, forward, cancel, progress) is { } jump)
            return new CommandResult($"{jump.Marker.CauseName} ({jump.Marker.From} -> {jump.Marker.To}, saved pc 0x{jump.Marker.Pc:x}): {LastStop}");
        string direction = forward ? "after" : "before";
        return Index.State == TimelineIndexState.Running
            ? CommandResult.Error($"no {what} found {direction} step {from} yet (still searching: {Index.Progress:P0} of the recording)")
            : CommandResult.Error($"no {what} {direction} step {from}");
    }
}
