using ReplayVm.Core.State;

namespace ReplayVm.Replay.TraceIndex;

/// <summary>
/// Replays a trace as independent segments between the snapshots of its index, on up to
/// <c>jobs</c> machines at once (<c>replay --jobs N</c>). A segment starts at step 0 or at a
/// snapshot, which is first checked against the trace's state hash at its step, and runs to a later
/// snapshot's step (the last to the end), checking every hash point on the way; a
/// <see cref="SegmentSchedule"/> decides where segments start and end as the workers go, so that
/// all stay busy to the end. Results are merged in step order into exactly what a serial
/// <see cref="Replayer.Run"/> returns: the first divergence wins, the hash points counted are those
/// before it, and the guest's output is handed on in order, up to where the serial replay would have
/// stopped. Thread count, snapshot placement and the cuts change only the speed. The segment
/// machines share their translations (a <see cref="Core.Translation.TranslationCache"/>, the
/// process's when the CLI set one, else one per run): each region of the guest is JIT-compiled
/// once, not once per segment.
/// </summary>
public static class SegmentReplay
{
    /// <summary>
    /// What taking over part of another worker's segment costs, in steps, until the workers have
    /// measured it (the last restore's time at their rate): a worker could run about this many in the
    /// time it takes to compose and restore a snapshot into a machine that has not restored one yet
    /// (tens of milliseconds; later ones share the pages unchanged since).
    /// </summary>
    public const ulong DefaultTakeOverSteps = 30_000_000;

    /// <summary>
    /// Replays <paramref name="trace"/> with <paramref name="index"/>'s snapshots as segment starts.
    /// <paramref name="output"/> gets the console output in order. When a snapshot turns out wrong
    /// (its restored state hash or its input cursor is not what the replay reaches there), the
    /// index is given up with one line to <paramref name="notice"/> and the trace is replayed
    /// serially from step 0, the output already handed on not repeated. <paramref name="prepare"/>, if
    /// given, is applied to each segment's machine before it runs (tests pick the engine with it).
    /// <paramref name="takeOverSteps"/> is what taking over from another worker costs, in steps (0 in
    /// tests: take over any stretch between snapshots); null measures it as the workers go;
    /// <paramref name="segmentDone"/>, if given, hears each segment's start and end steps as its worker finishes it.
    /// </summary>
    public static ReplayResult Run(TraceFile trace, TraceIndexFile index, int jobs, Action<byte> output, DiskSupply? disks = null,
        Action<string>? notice = null, CancellationToken cancel = default, Action<Core.Machine>? prepare = null,
        ulong? takeOverSteps = null, Action<ulong, ulong>? segmentDone = null) =>
        Run(trace, () => index, jobs, output, disks, notice, noIndex: null, cancel, prepare, takeOverSteps, segmentDone, ownsIndex: false);

    /// <summary>
    /// As the overload given an open index, with the index opened by <paramref name="openIndex"/> while the workers build their machines:
    /// at the start of a replay both take tens of milliseconds and nothing else can run, so doing them
    /// one after the other kept a core idle. When <paramref name="openIndex"/> finds no usable index
    /// (null), <paramref name="noIndex"/> is told and the trace is replayed on one machine. The index
    /// it opened is disposed before it returns.
    /// </summary>
    public static ReplayResult Run(TraceFile trace, Func<TraceIndexFile?> openIndex, int jobs, Action<byte> output, DiskSupply? disks = null,
        Action<string>? notice = null, Action? noIndex = null, CancellationToken cancel = default, Action<Core.Machine>? prepare = null,
        ulong? takeOverSteps = null, Action<ulong, ulong>? segmentDone = null) =>
        Run(trace, openIndex, jobs, output, disks, notice, noIndex, cancel, prepare, takeOverSteps, segmentDone, ownsIndex: true);

    private static ReplayResult Run(TraceFile trace, Func<TraceIndexFile?> openIndex, int jobs, Action<byte> output, DiskSupply? disks,
        Action<string>? notice, Action? noIndex, CancellationToken cancel, Action<Core.Machine>? prepare,
        ulong? takeOverSteps, Action<ulong, ulong>? segmentDone, bool ownsIndex)
    {
        var translations = new Core.Translation.TranslationCache();
        void Prepare(Core.Machine machine)
        {
            machine.Hart.Translations ??= translations;
            prepare?.Invoke(machine);
        }
        long delivered = 0;
        TraceIndexFile? index = null;
        try
        {
            var result = RunSegments(trace, () => index = openIndex(), jobs, b =>
            {
                delivered++;
                output(b);
            }, disks, cancel, Prepare, takeOverSteps, segmentDone);
            if (result is not null) return result;
            noIndex?.Invoke();
            return new Replayer(trace, output, disks: disks).Run(); // one machine: nothing to share
        }
        catch (TraceIndexException e)
        {
            notice?.Invoke($"{(index is null ? "the index" : $"index {index.Path}")} ignored: {e.Message}; replaying from step 0 on one machine");
            long skip = delivered;
            return new Replayer(trace, b =>
            {
                if (skip > 0) skip--;
                else output(b);
            }, disks: disks).Run();
        }
        finally
        {
            if (ownsIndex) index?.Dispose();
        }
    }

    /// <summary>The parallel replay; null when <paramref name="openIndex"/> finds no index (nothing has run then).</summary>
    private static ReplayResult? RunSegments(TraceFile trace, Func<TraceIndexFile?> openIndex, int jobs, Action<byte> output, DiskSupply? disks,
        CancellationToken cancel, Action<Core.Machine> prepare, ulong? takeOverSteps, Action<ulong, ulong>? segmentDone)
    {
        if (jobs < 1) throw new ArgumentOutOfRangeException(nameof(jobs), "at least one job");
        ulong end = trace.End?.Step ?? trace.LastStep;
        // The schedule needs the index's cuts; the workers build their machines while it opens.
        SegmentSchedule? schedule = null;
        TraceIndexFile? index = null;
        List<IndexedSnapshot> cuts = [];
        using var scheduled = new ManualResetEventSlim();
        SegmentTrace.Mark($"{jobs} workers starting");
        // Each worker keeps its machine from segment to segment, restoring the next one's snapshot
        // into it: a new machine per segment costs more than a restore (building it, and warming up again).
        // Only as many machines are built ahead as can be built at once: the schedule may have fewer
        // pieces than workers (a short trace, few snapshots), and a worker with none needs no machine.
        int buildAhead = Math.Min(jobs, Environment.ProcessorCount);
        var workers = Enumerable.Range(0, jobs).Select(k => new Thread(() =>
        {
            Replayer? replayer = null;
            Segment? current = null;
            // Its machine stands at step 0 as built: the segment there can run on it as it is.
            bool fresh = false;
            if (k < buildAhead)
            {
                try
                {
                    replayer = new Replayer(trace, b => current!.Output.Add(b), disks: disks);
                    prepare(replayer.Machine);
                    fresh = true;
                    SegmentTrace.Mark("machine built");
                }
                catch (Exception)
                {
                    replayer = null; // built again for its first segment, where the failure is reported
                }
            }
            scheduled.Wait();
            if (schedule is null) return;
            // The pages of the last snapshot this worker composed: the next composition shares the
            // unchanged ones, and restoring it copies only those that differ.
            var composed = new Composed();
            while (schedule.Take() is { } segment)
            {
                try
                {
                    current = segment;
                    SegmentTrace.Mark($"segment [{segment.Start}, {segment.End}) taken (a take-over costs {schedule.TakeOverCost} steps)");
                    // Only a fresh machine stands at step 0 (the one segment there is the first taken).
                    if (replayer is null || (segment.StartCut < 0 && !fresh))
                    {
                        replayer = new Replayer(trace, b => current.Output.Add(b), disks: disks);
                        prepare(replayer.Machine);
                        composed = new Composed();
                        SegmentTrace.Mark("machine built");
                    }
                    fresh = false;
                    if (!RunSegment(replayer, trace, index!, composed, schedule, segment, segment.StartCut < 0 ? null : cuts[segment.StartCut], end, cancel))
                        schedule.Stop(segment);
                    SegmentTrace.Mark($"segment [{segment.Start}, {segment.End}) done");
                    // A segment that diverged or could not start leaves its machine unusable.
                    if (segment.Result is { Outcome: ReplayOutcome.Diverged } || segment.BadStart is not null) replayer = null;
                    else if (segment.Result is not null) segmentDone?.Invoke(segment.Start, segment.End);
                }
                catch (Exception e)
                {
                    segment.Failure = e;
                    schedule.Stop(segment);
                    replayer = null;
                }
                finally
                {
                    segment.Done.Set();
                }
            }
        }) { IsBackground = true, Name = "replay segment" }).ToList();
        foreach (var worker in workers) worker.Start();
        try
        {
            index = openIndex();
            SegmentTrace.Mark("index opened");
            if (index is not null)
            {
                cuts = index.Snapshots.Where(s => s.Step > 0 && s.Step < end).ToList();
                schedule = new SegmentSchedule(cuts.Select(s => s.Step).ToList(), end, jobs, takeOverSteps ?? DefaultTakeOverSteps, measureTakeOver: takeOverSteps is null);
                SegmentTrace.Mark($"{cuts.Count} cuts");
            }
        }
        finally
        {
            if (schedule is null)
            {
                scheduled.Set(); // no schedule: the workers end without running anything
                foreach (var worker in workers) worker.Join();
            }
        }
        if (schedule is null) return null;
        scheduled.Set();

        ReplayResult? merged = null;
        int hashPoints = 0;
        try
        {
            for (var segment = schedule.First; ; segment = segment.Next!)
            {
                segment.Done.Wait(cancel);
                if (segment.BadStart is { } bad) throw new TraceIndexException(bad);
                if (segment.Failure is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
                var result = segment.Result ?? throw new OperationCanceledException(cancel);
                // The snapshot this segment ends at must be where the replay got: same step, same inputs consumed.
                if (result.Outcome != ReplayOutcome.Diverged && segment.EndCut >= 0 && cuts[segment.EndCut] is var next && segment.EndCursor != next.Cursor)
                    throw new TraceIndexException($"its snapshot at step {next.Step} has input cursor {next.Cursor}; the replay consumed {segment.EndCursor}");
                SegmentTrace.Mark($"segment [{segment.Start}, {segment.End}) merged");
                foreach (byte b in segment.Output) output(b);
                hashPoints += result.HashPointsChecked;
                if (result.Outcome == ReplayOutcome.Diverged || segment.Next is null)
                {
                    merged = result with { HashPointsChecked = hashPoints };
                    break;
                }
            }
        }
        finally
        {
            schedule.Abandon(); // the rest is not needed: workers stop at their next snapshot and take nothing more
            foreach (var worker in workers) worker.Join();
        }
        return merged!;
    }

    /// <summary>A worker's last composed snapshot, and the index pages it holds.</summary>
    private sealed class Composed
    {
        public readonly IndexPageCache Pages = new();
        public Core.State.MachineSnapshot? Last;
    }

    /// <summary>
    /// Runs <paramref name="segment"/> on <paramref name="replayer"/>: restores its snapshot and checks
    /// it, then runs forward as far as the schedule allows, one stretch between snapshots at a time.
    /// False when the segment stopped the replay (a divergence or a bad start); true when it reached
    /// its end or is no longer needed (no result then).
    /// </summary>
    private static bool RunSegment(Replayer replayer, TraceFile trace, TraceIndexFile index, Composed composed, SegmentSchedule schedule,
        Segment segment, IndexedSnapshot? start, ulong end, CancellationToken cancel)
    {
        if (start is not null)
        {
            long restoring = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                composed.Last = index.Compose(replayer.Machine, index.LatestAtOrBefore(start.Step), composed.Pages, composed.Last);
                replayer.StartFrom(composed.Last, start.Cursor);
            }
            catch (Exception e) when (e is TraceIndexException or InvalidDataException or EndOfStreamException or ArgumentException)
            {
                segment.BadStart = e.Message;
                return false;
            }
            SegmentTrace.Mark("snapshot restored");
            StateHash now = replayer.ComputeHash();
            if (now != start.Hash)
            {
                segment.BadStart = $"its snapshot at step {start.Step} restores to state hash {now}, which the trace does not have there";
                return false;
            }
            schedule.NoteRestore(System.Diagnostics.Stopwatch.GetElapsedTime(restoring).TotalSeconds);
        }
        ReplayResult? last = null;
        bool finished;
        while (schedule.Advance(segment, replayer.Steps, cancel.IsCancellationRequested, out finished) is { } target)
        {
            // The trace's end: the whole replay's last checks (the end record, no input left over).
            ulong from = replayer.Steps;
            long running = System.Diagnostics.Stopwatch.GetTimestamp();
            if (target >= end) last = replayer.Run();
            else replayer.RunTo(target);
            schedule.NoteRun(replayer.Steps - from, System.Diagnostics.Stopwatch.GetElapsedTime(running).TotalSeconds);
            if (replayer.Divergence is not null) break;
        }
        if (replayer.Divergence is null && !finished) return true; // stopped early: not needed
        segment.Result = last ?? new ReplayResult(replayer.Divergence is null ? ReplayOutcome.Identical : ReplayOutcome.Diverged,
            replayer.LastRun, replayer.Steps, replayer.HashPointsChecked, replayer.Divergence, trace.End);
        segment.EndCursor = replayer.InputConsumed;
        return segment.Result.Outcome != ReplayOutcome.Diverged;
    }
}
