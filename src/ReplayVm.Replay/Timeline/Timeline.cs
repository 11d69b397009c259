using ReplayVm.Core;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.State;
using ReplayVm.Replay.Input;

namespace ReplayVm.Replay.Timeline;

/// <summary>
/// A replayed recording as something to move about in, the engine every debugger front end
/// drives (rr's timeline): seek to any step, step forward and back, continue and reverse-continue
/// to breakpoints and watchpoints, and ask when memory was last written.
///
/// A position is a step count (<see cref="Hart.Steps"/>): we own the CPU, so that alone orders
/// points in time. Going anywhere means restoring the latest checkpoint at or before it and
/// replaying forward; checkpoints are taken automatically every <see cref="Interval"/> steps of
/// forward replay and thinned with distance by the <see cref="CheckpointStore"/>.
/// Every state hash the trace holds is checked the first time the replay passes its step, so a
/// timeline never shows a history the recording did not have (see <see cref="VerifiedHashPoints"/>).
/// A live timeline (<see cref="Record"/>) is also the recording: beyond its frontier it runs the
/// guest on live input and logs it (Timeline.Live.cs).
/// Not thread-safe: one caller at a time (cancel through the tokens).
/// </summary>
public sealed partial class Timeline : IDisposable
{
    private readonly RewindableReplayInput _input;
    /// <summary>The longest console output seen; the output up to any position is a prefix of it (the run is deterministic).</summary>
    private readonly List<byte> _output = [];
    private int _outputLength;
    private readonly List<ulong> _inputSteps;
    private readonly ulong _recordedEnd;
    private readonly MachineStateHasher _hasher;
    /// <summary>Where the user is, for thinning: scans wander, the focus stays.</summary>
    private ulong _focus;

    /// <summary>Builds the recorded machine and checkpoints its step 0. Throws <see cref="TimelineException"/> when it cannot be built.</summary>
    public Timeline(TraceFile trace, TimelineOptions? options = null) : this(trace, options, null, null, null) { }

    private Timeline(TraceFile trace, TimelineOptions? options, LiveRecording? live, MachineFactory? factory, Stream? liveTrace)
    {
        options ??= new TimelineOptions();
        // As the replayer does: hashes of another hasher version would all differ, and the first
        // would be reported as a divergence at step 0.
        if (trace.Header.HasherVersion != MachineStateHasher.Version)
            throw new TimelineException(
                $"trace's state hashes were made by state-hasher version {trace.Header.HasherVersion}; this ReplayVm computes version {MachineStateHasher.Version}: record it again");
        Trace = trace;
        _live = live;
        _recordedEnd = trace.End?.Step ?? trace.LastStep;
        IInputPort? livePort = live is null ? null : new RecordingInputPort(live.Input, LogLive);
        _input = new RewindableReplayInput(trace.Events, livePort);
        try
        {
            Machine = factory is null
                ? trace.Header.Setup.Build(_input, Console, options.Disks)
                : factory(trace.Header.Setup, _input, Console);
        }
        catch (Exception e) when (e is GuestImageException or ArgumentException)
        {
            throw new TimelineException($"the trace describes a machine this ReplayVm cannot build: {e.Message}");
        }
        _input.Diverged += Machine.RequestStop;
        _hasher = new MachineStateHasher(Machine);
        _inputSteps = trace.Events.Where(e => e is ConsoleInputEvent or WallClockEvent or EntropyEvent)
            .Select(e => e.Step).Distinct().Order().ToList();
        CollectHashPoints(trace.Events);
        Interval = options.CheckpointInterval ?? (live is null ? TimelineOptions.DefaultInterval(End) : TimelineOptions.LiveInterval);
        if (Interval == 0) throw new ArgumentOutOfRangeException(nameof(options), "the checkpoint interval must be at least 1 step");
        Checkpoints = new CheckpointStore(options.CheckpointMemory ?? CheckpointStore.DefaultBudgetBytes, Interval, options.Density);
        if (live is null) UseIndex(options);
        if (live is not null) StartRecording(liveTrace!);
        CheckHashHere();
        Checkpoints.Add(NewCheckpoint(isExplicit: true));
    }

    public TraceFile Trace { get; }
    public Machine Machine { get; }
    public CheckpointStore Checkpoints { get; }

    /// <summary>Steps between automatic checkpoints.</summary>
    public ulong Interval { get; }

    /// <summary>The current position: steps (instructions retired plus exceptions taken) since reset.</summary>
    public ulong Position => Machine.Hart.Steps;

    /// <summary>
    /// The recording's last step; nothing can be replayed beyond it. For a live timeline, the
    /// frontier: the furthest step run so far (it grows while <see cref="CanExtend"/>).
    /// </summary>
    public ulong End => _live is null ? _recordedEnd : _frontier;

    /// <summary>Console output the guest has written up to <see cref="Position"/>.</summary>
    public IReadOnlyList<byte> Output => _output.GetRange(0, _outputLength);

    /// <summary>
    /// Raised for each console byte the guest writes for the first time (a replay over output
    /// already seen raises nothing): a live session's terminal echo, with nothing repeated on rewinds.
    /// Raised on the thread moving the timeline.
    /// </summary>
    public event Action<byte>? NewOutput;

    private void Console(byte value)
    {
        if (_outputLength == _output.Count)
        {
            _output.Add(value);
            NewOutput?.Invoke(value);
        }
        _outputLength++;
    }

    /// <summary>Steps at which recorded input events are consumed, ascending.</summary>
    public IReadOnlyList<ulong> InputEventSteps => _inputSteps;

    /// <summary>The machine's state hash now (as a recording's hash points would show it).</summary>
    public StateHash ComputeHash() => _hasher.Compute();

    /// <summary>Checkpoints the current position on request; it is never thinned away.</summary>
    public Checkpoint AddCheckpoint() => Checkpoints.Add(NewCheckpoint(isExplicit: true));

    /// <summary>
    /// Goes to <paramref name="step"/>: restores the latest checkpoint at or before it (unless
    /// running on from here is nearer) and replays forward. A step past <see cref="End"/> stops
    /// at the end and says so with <see cref="TimelineStopKind.End"/>.
    /// </summary>
    public TimelineStop Seek(ulong step, CancellationToken cancel = default, IProgress<double>? progress = null)
    {
        ulong target = CanExtend ? step : Math.Min(step, End);
        _focus = target;
        GoNear(target);
        var stop = Advance(target, null, null, checkHere: false, cancel, progress);
        if (stop is { Kind: TimelineStopKind.Cancelled }) return stop;
        return new TimelineStop(Position == step ? TimelineStopKind.Reached : TimelineStopKind.End, Position);
    }

    /// <summary>Executes one step (an instruction or an exception); false at the end.</summary>
    public bool StepForward()
    {
        if (Position >= End && !CanExtend) return false;
        ulong before = Position;
        _focus = before + 1;
        Advance(before + 1, null, null, checkHere: false, default, null);
        return Position > before; // a live guest may exit instead
    }

    /// <summary>Goes back one step (= seek to position − 1); false at step 0.</summary>
    public bool StepBackward()
    {
        if (Position == 0) return false;
        Seek(Position - 1);
        return true;
    }

    /// <summary>Restores <paramref name="checkpoint"/> if it lies ahead of us or <paramref name="target"/> lies behind.</summary>
    private void GoNear(ulong target)
    {
        var checkpoint = NearestStart(target, target >= Position ? Position : null);
        if (target < Position || checkpoint.Step > Position) Restore(checkpoint);
    }

    private void Restore(Checkpoint checkpoint)
    {
        Machine.RestoreSnapshot(checkpoint.Snapshot);
        _input.Rewind(checkpoint.Input);
        _outputLength = checkpoint.OutputLength;
    }

    private Checkpoint NewCheckpoint(bool isExplicit) =>
        new(Machine.CaptureSnapshot(), _input.Cursor, _outputLength, isExplicit);

    /// <summary>What a run is watching for: breakpoint pcs, watched ranges (virtual addresses) and registers written.</summary>
    private sealed record Watch(HashSet<ulong> Breakpoints, WatchRange[] Ranges, RegisterWatch Registers = default);

    /// <summary>
    /// Replays forward to <paramref name="until"/>, checkpointing on interval boundaries. With
    /// <paramref name="watch"/>, every hit at a step in [start, <paramref name="until"/>) goes to
    /// <paramref name="onHit"/>, which says whether to stop there. The hart decides every hit where it
    /// would execute the instruction, after taking an interrupt due at that step, exactly as one long
    /// run would; a run that ends at a limit only hands over to the next (which looks again at the
    /// same instruction), so where runs and checkpoints begin never changes what is hit. The
    /// instruction at <paramref name="until"/> belongs to a later movement: windows are half-open, a
    /// hit on a boundary is reported once. A breakpoint at the starting position counts only with
    /// <paramref name="checkHere"/> (a scan entering a window); otherwise the run resumes past the
    /// breakpoint at the pc the position shows (one the debugger has reported).
    /// Returns the stop when one ended the run early, null on reaching <paramref name="until"/> or the guest's end.
    /// </summary>
    private TimelineStop? Advance(ulong until, Watch? watch, Func<TimelineStop, bool>? onHit, bool checkHere, CancellationToken cancel, IProgress<double>? progress)
    {
        ulong start = Position;
        var hart = Machine.Hart;
        hart.SetBreakpoints(watch?.Breakpoints);
        hart.SetWatchpoints(watch?.Ranges);
        hart.SetRegisterWatch(watch?.Registers ?? default);
        var live = _live is null ? null : new LiveRun(this, cancel);
        try
        {
            while (true)
            {
                if (Position >= until) return null;
                if (cancel.IsCancellationRequested) return new TimelineStop(TimelineStopKind.Cancelled, Position);

                ulong boundary = (Position / Interval + 1) * Interval;
                ulong limit = Math.Min(Math.Min(until, boundary), NextUncheckedHashStep());
                bool atFrontier = live is not null && Position >= _frontier && CanExtend;
                limit = live is null ? limit : atFrontier ? live.Limit(limit) : Math.Min(limit, _frontier);
                if (limit <= Position) return null; // a finished live recording: nothing lies beyond its end
                ulong before = Position;
                var run = atFrontier ? live!.Run(limit, checkHere) : Machine.Run(limit - Position, stopAtBreakpointHere: checkHere);
                // A run that stopped at once, in front of a breakpoint, may have taken an interrupt due
                // there: the recorded hash of that step is of the state before it (as every run's end is).
                if (run.Reason != StopReason.DebugStop || Position != before) CheckHashHere();
                if (run.Reason == StopReason.DebugStop)
                {
                    var stop = Machine.TakeDebugStop()!.Value;
                    var kind = stop.Kind == DebugStopKind.Breakpoint ? TimelineStopKind.Breakpoint : TimelineStopKind.Watchpoint;
                    // After a breakpoint the machine resumes past it; after a watchpoint a breakpoint at the next pc must still count.
                    checkHere = kind == TimelineStopKind.Watchpoint;
                    var hit = new TimelineStop(kind, Position, stop);
                    if (onHit!(hit)) return hit;
                    continue;
                }
                if (Position != before) checkHere = true; // the next run continues this one (a stale stop request ran nothing)
                if (_input.Divergence is { } message)
                    throw new TimelineException($"the replay left its recording at step {_input.DivergenceStep}: {message}");
                if (run.Reason == StopReason.HostRequest) continue; // a stale stop request: nothing happened
                if (Position == boundary && Checkpoints.At(Position) is null)
                {
                    Checkpoints.Add(NewCheckpoint(isExplicit: false));
                    Checkpoints.Thin(_focus);
                }
                if (run.Reason is StopReason.GuestExit or StopReason.TrapLoop) return null;
                if (until > start) progress?.Report((double)(Position - start) / (until - start));
            }
        }
        finally
        {
            hart.SetBreakpoints(null);
            hart.SetWatchpoints(null);
            hart.SetRegisterWatch(default);
            live?.Dispose();
        }
    }
}
