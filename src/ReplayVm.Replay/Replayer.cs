using ReplayVm.Core;
using ReplayVm.Core.Loading;
using ReplayVm.Core.State;
using ReplayVm.Replay.Format;
using ReplayVm.Replay.Input;

namespace ReplayVm.Replay;

/// <summary>How a replay came out.</summary>
public enum ReplayOutcome
{
    /// <summary>Every hash point and the end record matched.</summary>
    Identical,
    /// <summary>The replay parted from the recording; see <see cref="ReplayResult.Divergence"/>.</summary>
    Diverged,
    /// <summary>Everything the (truncated) trace holds matched, but it has no end record to check.</summary>
    Truncated,
}

/// <summary>The first point where a replay differs from its recording.</summary>
public sealed record ReplayDivergence(ulong Step, string Message, StateHash? Expected = null, StateHash? Actual = null)
{
    public override string ToString() => Expected is { } e && Actual is { } a
        ? $"diverged at step {Step}: {Message} (expected state hash {e}, got {a})"
        : $"diverged at step {Step}: {Message}";
}

/// <summary>The result of <see cref="Replayer.Run"/>.</summary>
public sealed record ReplayResult(
    ReplayOutcome Outcome,
    RunResult Final,
    ulong Steps,
    int HashPointsChecked,
    ReplayDivergence? Divergence,
    EndEvent? RecordedEnd)
{
    /// <summary>One line for humans.</summary>
    public string Describe() => Outcome switch
    {
        ReplayOutcome.Identical => $"replay identical: {Steps} steps, {HashPointsChecked} state hashes matched",
        ReplayOutcome.Truncated => $"replay matched the {HashPointsChecked} state hashes of a truncated trace, up to step {Steps}",
        _ => Divergence!.ToString(),
    };
}

/// <summary>
/// Replays a trace: rebuilds the machine from the header (images included), feeds the recorded
/// inputs back through a <see cref="ReplayInputPort"/>, and checks the state hash at every hash
/// point and at the end. Stops at the first divergence. <see cref="RunTo"/> and
/// <see cref="ComputeHash"/> let a caller (e.g. <c>diff</c>) walk two replays side by side.
/// </summary>
public sealed class Replayer
{
    private readonly MachineStateHasher _hasher;
    private readonly List<TraceEvent> _checkpoints;
    private int _nextCheckpoint;
    private readonly int _consoleTotal, _clockTotal, _entropyTotal;
    private ReplayDivergence? _divergence;
    private RunResult _last = new(StopReason.InstructionLimit, 0, 0, null);

    /// <summary>
    /// Builds the machine. Throws <see cref="TraceFormatException"/> when the trace was recorded on
    /// another board revision, its hashes come from a different hasher version, or its machine
    /// cannot be built here (a disk the trace names by hash missing from <paramref name="disks"/>
    /// or not matching it, included).
    /// </summary>
    public Replayer(TraceFile trace, Action<byte> consoleOutput, MachineFactory? factory = null, IDirtyPageSource? dirtyPages = null,
        DiskSupply? disks = null)
    {
        Trace = trace;
        // Checked first: on another board layout the guest would run differently from the first
        // device access on, and a divergence report would blame the guest, not the build.
        if (trace.Header.BoardRevision != MachineConfig.BoardRevision)
            throw new TraceFormatException(
                $"trace was recorded on board revision {DescribeRevision(trace.Header)}, this build has {MachineConfig.BoardRevision}; " +
                "replay it with the ReplayVm that recorded it, or record it again");
        if (trace.Header.HasherVersion != MachineStateHasher.Version)
            throw new TraceFormatException(
                $"trace's state hashes were made by state-hasher version {trace.Header.HasherVersion}; this ReplayVm computes version {MachineStateHasher.Version}");
        Input = new ReplayInputPort(trace.Events);
        try
        {
            Machine = (factory ?? ((s, i, o) => s.Build(i, o, disks)))(trace.Header.Setup, Input, consoleOutput);
        }
        catch (Exception e) when (e is GuestImageException or ArgumentException)
        {
            throw new TraceFormatException($"trace describes a machine this ReplayVm cannot build: {PlainMessage(e)}");
        }
        Input.Diverged += Machine.RequestStop;
        _hasher = new MachineStateHasher(Machine, dirtyPages);
        _checkpoints = trace.Events.Where(e => e is StateHashEvent or EndEvent).ToList();
        (_consoleTotal, _clockTotal, _entropyTotal) = (Input.PendingConsoleEvents, Input.PendingClockReads, Input.PendingEntropyReads);
    }

    public TraceFile Trace { get; }
    public Machine Machine { get; }
    public ReplayInputPort Input { get; }
    public ulong Steps => Machine.Hart.Steps;

    /// <summary>What the last run of the machine returned (<see cref="ReplayResult.Final"/> of a whole replay).</summary>
    public RunResult LastRun => _last;

    /// <summary>Hash points (and the end record) checked so far.</summary>
    public int HashPointsChecked { get; private set; }

    /// <summary>The first divergence found, or null.</summary>
    public ReplayDivergence? Divergence => _divergence;

    /// <summary>The hash of the machine's state now (call between runs).</summary>
    public StateHash ComputeHash() => _hasher.Compute();

    /// <summary>
    /// Resumes the replay from a checkpoint of this machine (a trace index's snapshot) instead of
    /// step 0, or moves it to another, later or earlier: restores <paramref name="snapshot"/>, sets
    /// the input port to where <paramref name="cursor"/> says the replay had got, and checks only the
    /// hash points after its step, counting them afresh (<see cref="HashPointsChecked"/> is of this
    /// stretch). Not after a divergence. Whether the snapshot is right is the caller's to check (its
    /// hash against the trace's at that step).
    /// </summary>
    public void StartFrom(MachineSnapshot snapshot, Timeline.InputCursor cursor)
    {
        if (_divergence is not null) throw new InvalidOperationException("the replay has diverged");
        Input.MoveTo(cursor.Console, cursor.Clock, cursor.Entropy);
        Machine.RestoreSnapshot(snapshot);
        HashPointsChecked = 0;
        _last = new(StopReason.InstructionLimit, 0, 0, null);
        if (_nextCheckpoint > 0 && _checkpoints[_nextCheckpoint - 1].Step > snapshot.Step) _nextCheckpoint = 0;
        while (_nextCheckpoint < _checkpoints.Count && _checkpoints[_nextCheckpoint].Step <= snapshot.Step && _checkpoints[_nextCheckpoint] is not EndEvent)
            _nextCheckpoint++;
    }

    /// <summary>How many recorded inputs of each kind the replay has consumed so far.</summary>
    public Timeline.InputCursor InputConsumed => new(
        _consoleTotal - Input.PendingConsoleEvents, _clockTotal - Input.PendingClockReads, _entropyTotal - Input.PendingEntropyReads);

    /// <summary>Replays the whole trace.</summary>
    public ReplayResult Run()
    {
        RunTo(Trace.End?.Step ?? Math.Max(Trace.LastStep, Steps));
        if (_divergence is null && Trace.End is { } end && _nextCheckpoint == _checkpoints.Count)
            CheckNothingLeft(end.Step);
        var outcome = _divergence is not null ? ReplayOutcome.Diverged
            : Trace.Truncated ? ReplayOutcome.Truncated
            : ReplayOutcome.Identical;
        return new ReplayResult(outcome, _last, Steps, HashPointsChecked, _divergence, Trace.End);
    }

    /// <summary>
    /// Runs forward to <paramref name="step"/> (clamped to the end record's step), checking every
    /// hash point on the way. Returns the first divergence, if any; after one, it does not run on.
    /// </summary>
    public ReplayDivergence? RunTo(ulong step)
    {
        if (Trace.End is { } end) step = Math.Min(step, end.Step);
        while (_divergence is null)
        {
            TraceEvent? checkpoint = _nextCheckpoint < _checkpoints.Count ? _checkpoints[_nextCheckpoint] : null;
            ulong target = checkpoint is null ? step : Math.Min(checkpoint.Step, step);
            if (target < Steps) break;
            // The end record always gets a run, even of zero steps: a pending guest exit or trap loop reports itself there.
            bool atCheckpoint = checkpoint is not null && checkpoint.Step == target;
            if (target > Steps || (atCheckpoint && checkpoint is EndEvent)) _last = Machine.Run(target - Steps);
            if (Input.Divergence is { } message)
            {
                Fail(new ReplayDivergence(Input.DivergenceStep, message));
                break;
            }
            if (!atCheckpoint)
            {
                if (Steps != target)
                    Fail(new ReplayDivergence(Steps, $"the run stopped ({Describe(_last)}) where the recording went on"));
                break;
            }
            Check(checkpoint!);
            _nextCheckpoint++;
            if (checkpoint is EndEvent || target >= step) break;
        }
        return _divergence;
    }

    private void Check(TraceEvent checkpoint)
    {
        if (checkpoint is StateHashEvent point)
        {
            if (Steps != point.Step || _last.Reason != StopReason.InstructionLimit)
            {
                Fail(new ReplayDivergence(Steps, $"the run stopped ({Describe(_last)}) before hash point {point.Step}"));
                return;
            }
            CompareHash(point.Step, point.Hash, "state");
            return;
        }
        var end = (EndEvent)checkpoint;
        // A guest exit or trap loop must recur exactly; a host stop or step limit was the recorder's choice, so the replay just reaches the step.
        bool sameStop = end.Reason is StopReason.GuestExit or StopReason.TrapLoop
            ? _last.Reason == end.Reason && _last.ExitCode == end.ExitCode
            : _last.Reason == StopReason.InstructionLimit;
        if (Steps != end.Step || !sameStop)
        {
            Fail(new ReplayDivergence(Steps,
                $"the recording ended at step {end.Step} ({end.Reason}, exit {end.ExitCode}); the replay stopped at {Steps} ({Describe(_last)})"));
            return;
        }
        CompareHash(end.Step, end.FinalHash, "final state");
    }

    private void CompareHash(ulong step, StateHash expected, string what)
    {
        var actual = _hasher.Compute();
        HashPointsChecked++;
        if (actual != expected) Fail(new ReplayDivergence(step, $"{what} differs from the recording", expected, actual));
    }

    private void CheckNothingLeft(ulong endStep)
    {
        if (Input.NextPendingStep is { } pending)
            Fail(new ReplayDivergence(endStep, $"the replay ended with recorded input left over (next at step {pending})"));
    }

    private void Fail(ReplayDivergence divergence)
    {
        _divergence ??= divergence;
        Input.Diverge(divergence.Step, divergence.Message);
    }

    /// <summary>An exception's message without .NET's "(Parameter 'x')" tail, which means nothing to a user.</summary>
    internal static string PlainMessage(Exception e) =>
        e is ArgumentException { ParamName: { } name } && e.Message.EndsWith($" (Parameter '{name}')", StringComparison.Ordinal)
            ? e.Message[..^$" (Parameter '{name}')".Length]
            : e.Message;

    private static string DescribeRevision(TraceHeader header) =>
        header.BoardRevision == 0 && header.FormatVersion < Format.TraceFormat.FirstVersionWithDisks
            ? $"0 (unrecorded: trace format {header.FormatVersion})"
            : $"{header.BoardRevision}";

    private static string Describe(RunResult run) => run.Reason switch
    {
        StopReason.GuestExit => $"guest exit {run.ExitCode}",
        StopReason.TrapLoop => "trap loop",
        StopReason.HostRequest => "stopped",
        _ => "step limit",
    };
}
