using ReplayVm.Core.Hart;

namespace ReplayVm.Replay.Timeline;

/// <summary>Why a timeline movement ended.</summary>
public enum TimelineStopKind
{
    /// <summary>Reached the position asked for.</summary>
    Reached,
    /// <summary>About to execute an instruction at a breakpoint.</summary>
    Breakpoint,
    /// <summary>
    /// At an instruction that accessed a watched range, or wrote a watched register (<see
    /// cref="DebugStopKind.RegisterWrite"/>): right after it going forwards, right before it going backwards.
    /// </summary>
    Watchpoint,
    /// <summary>At a recorded input event's step (the input is consumed by the next step).</summary>
    InputEvent,
    /// <summary>At the recording's end: nothing was recorded beyond it.</summary>
    End,
    /// <summary>At step 0: a reverse movement found nothing earlier.</summary>
    Start,
    /// <summary>The caller cancelled; the timeline is at some position on the way.</summary>
    Cancelled,
}

/// <summary>Where a movement stopped (<see cref="Step"/> is the timeline's position then) and, for a breakpoint or watchpoint, the hit.</summary>
public sealed record TimelineStop(TimelineStopKind Kind, ulong Step, DebugStop? Hit = null)
{
    public override string ToString() => Hit switch
    {
        { Kind: DebugStopKind.RegisterWrite } h => $"{Kind} at step {Step} (pc 0x{h.Pc:x}, wrote {h.Register})",
        { } h => $"{Kind} at step {Step} (pc 0x{h.Pc:x}, address 0x{h.Address:x})",
        _ => $"{Kind} at step {Step}",
    };
}

/// <summary>A timeline cannot follow its recording (the trace is damaged or this build runs it differently).</summary>
public sealed class TimelineException(string message) : Exception(message);

/// <summary>Tuning for <see cref="Timeline"/>.</summary>
public sealed record TimelineOptions
{
    /// <summary>Most host memory checkpoints may use (<c>--checkpoint-memory</c>); default <see cref="CheckpointStore.DefaultBudgetBytes"/>.</summary>
    public long? CheckpointMemory { get; init; }

    /// <summary>Steps between automatic checkpoints near the position; by default it grows with the recording's length.</summary>
    public ulong? CheckpointInterval { get; init; }

    /// <summary>Images of disks the trace names only by hash (as for <see cref="Replayer"/>).</summary>
    public DiskSupply? Disks { get; init; }

    /// <summary>
    /// The trace's index sidecar (<c>replayvm index</c>), already opened and checked against the
    /// trace: seeks and reverse scans start from its snapshots when they are nearer than any
    /// checkpoint in memory. Each snapshot restored is checked against the trace's state hash.
    /// </summary>
    public TraceIndex.TraceIndexFile? Index { get; init; }

    /// <summary>
    /// A sidecar being built in the background, used when <see cref="Index"/> is null: the timeline
    /// reads its snapshots as they are written (each still checked against the trace before use).
    /// The caller owns the build (and cancels it when the session ends).
    /// </summary>
    public TraceIndex.BackgroundIndexBuild? IndexBuild { get; init; }

    /// <summary>Told one line when the index turns out damaged while in use and is dropped.</summary>
    public Action<string>? IndexNotice { get; init; }

    /// <summary>
    /// Machines a reverse-continue with an <see cref="Index"/> scans earlier windows on at once
    /// (each window between two index snapshots on its own machine); default: the processor count.
    /// The hit found is the same for any count.
    /// </summary>
    public int? ScanJobs { get; init; }

    /// <summary>Checkpoints per distance band (see <see cref="CheckpointStore"/>).</summary>
    public int Density { get; init; } = 32;

    /// <summary>The interval of a live timeline, whose length is not known: 1 Mi steps (a few milliseconds to replay).</summary>
    public const ulong LiveInterval = 1 << 20;

    /// <summary>The interval used when none is given: about 1/2048 of the recording, a power of two from 16 Ki to 2 Mi steps.</summary>
    public static ulong DefaultInterval(ulong recordingSteps)
    {
        ulong wanted = Math.Max(1, recordingSteps / 2048);
        ulong power = System.Numerics.BitOperations.RoundUpToPowerOf2(wanted);
        return Math.Clamp(power, 1UL << 14, 1UL << 21);
    }
}
