using ReplayVm.Core.State;

namespace ReplayVm.Replay.TraceIndex;

/// <summary>
/// Replays a trace as independent segments between the snapshots of its index, on up to
/// <c>jobs</c> machines at once (<c>replay --jobs N</c>). Segment 0 starts at step 0; segment i
/// starts from snapshot i − 1, which is first checked against the trace's state hash at its step,
/// and runs to the next snapshot's step (the last to the end), checking every hash point on the
/// way. Results are merged in step order into exactly what a serial <see cref="Replayer.Run"/>
/// returns: the first divergence wins, the hash points counted are those before it, and the guest's
/// output is handed on in order, up to where the serial replay would have stopped. Thread count and
/// snapshot placement change only the speed. The segment machines share their translations (a
/// <see cref="Core.Translation.TranslationCache"/>, the process's when the CLI set one, else one per
/// run): each region of the guest is JIT-compiled once, not once per segment.
/// </summary>
public static class SegmentReplay
{
    /// <summary>What one segment did.</summary>
    private sealed class Segment
    {
        public required int Index;
        public required ulong Start, End;
        public readonly List<byte> Output = [];
        public ReplayResult? Result;
        /// <summary>Its starting snapshot did not hold the trace's state there: the index is wrong, not the trace.</summary>
        public string? BadStart;
        public Timeline.InputCursor EndCursor;
        public Exception? Failure;
        public readonly ManualResetEventSlim Done = new();
    }

    /// <summary>
    /// Replays <paramref name="trace"/> with <paramref name="index"/>'s snapshots as segment starts.
    /// <paramref name="output"/> gets the console output in order. When a snapshot turns out wrong
    /// (its restored state hash or its input cursor is not what the replay reaches there), the
    /// index is given up with one line to <paramref name="notice"/> and the trace is replayed
    /// serially from step 0, the output already handed on not repeated. <paramref name="prepare"/>, if
    /// given, is applied to each segment's machine before it runs (tests pick the engine with it).
    /// </summary>
    public static ReplayResult Run(TraceFile trace, TraceIndexFile index, int jobs, Action<byte> output, DiskSupply? disks = null,
        Action<string>? notice = null, CancellationToken cancel = default, Action<Core.Machine>? prepare = null)
    {
        var translations = new Core.Translation.TranslationCache();
        void Prepare(Core.Machine machine)
        {
            machine.Hart.Translations ??= translations;
            prepare?.Invoke(machine);
        }
        long delivered = 0;
        try
        {
            return RunSegments(trace, index, jobs, b =>
            {
                delivered++;
                output(b);
            }, disks, cancel, Prepare);
        }
        catch (TraceIndexException e)
        {
            notice?.Invoke($"index {index.Path} ignored: {e.Message}; replaying from step 0 on one machine");
            long skip = delivered;
            return new Replayer(trace, b =>
            {
                if (skip > 0) skip--;
                else output(b);
            }, disks: disks).Run(); // one machine: nothing to share
        }
    }

    private static ReplayResult RunSegments(TraceFile trace, TraceIndexFile index, int jobs, Action<byte> output, DiskSupply? disks,
        CancellationToken cancel, Action<Core.Machine> prepare)
    {
        if (jobs < 1) throw new ArgumentOutOfRangeException(nameof(jobs), "at least one job");
        ulong end = trace.End?.Step ?? trace.LastStep;
        var starts = SegmentStarts(index.Snapshots.Where(s => s.Step < end).ToList(), jobs * SegmentsPerJob, end);
        var segments = new Segment[starts.Count + 1];
        for (int i = 0; i < segments.Length; i++)
            segments[i] = new Segment { Index = i, Start = i == 0 ? 0 : starts[i - 1].Step, End = i < starts.Count ? starts[i].Step : end };

        int next = -1, firstStop = int.MaxValue;
        // Workers take segments in step order, so the earliest (whose output is due first) run first;
        // none starts a segment after one that diverged (the serial replay stops there). Each worker
        // keeps its machine from segment to segment, restoring the next one's snapshot into it: a new
        // machine per segment cost more than the segments saved (building it, and warming up again).
        var workers = Enumerable.Range(0, Math.Min(jobs, segments.Length)).Select(_ => new Thread(() =>
        {
            Replayer? replayer = null;
            Segment? current = null;
            int i;
            while ((i = Interlocked.Increment(ref next)) < segments.Length)
            {
                var segment = segments[i];
                try
                {
                    if (i <= Volatile.Read(ref firstStop) && !cancel.IsCancellationRequested)
                    {
                        current = segment;
                        if (replayer is null)
                        {
                            replayer = new Replayer(trace, b => current.Output.Add(b), disks: disks);
                            prepare(replayer.Machine);
                        }
                        RunSegment(replayer, trace, index, segment, i == 0 ? null : starts[i - 1]);
                        // A segment that ended in divergence or a bad start leaves its machine unusable.
                        if (segment.Result is not { Outcome: not ReplayOutcome.Diverged } || segment.BadStart is not null) replayer = null;
                        if (segment.Result is { Outcome: ReplayOutcome.Diverged } || segment.BadStart is not null)
                            for (int seen = firstStop; i < seen; seen = firstStop)
                                if (Interlocked.CompareExchange(ref firstStop, i, seen) == seen) break;
                    }
                }
                catch (Exception e)
                {
                    segment.Failure = e;
                    replayer = null;
                }
                finally
                {
                    segment.Done.Set();
                }
            }
        }) { IsBackground = true, Name = "replay segment" }).ToList();
        foreach (var worker in workers) worker.Start();

        ReplayResult? merged = null;
        int hashPoints = 0;
        try
        {
            for (int i = 0; i < segments.Length; i++)
            {
                var segment = segments[i];
                segment.Done.Wait(cancel);
                if (segment.BadStart is { } bad) throw new TraceIndexException(bad);
                if (segment.Failure is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
                var result = segment.Result ?? throw new OperationCanceledException(cancel);
                // The snapshot this segment ends at must be where the replay got: same step, same inputs consumed.
                if (result.Outcome != ReplayOutcome.Diverged && i < starts.Count && segment.EndCursor != starts[i].Cursor)
                    throw new TraceIndexException($"its snapshot at step {starts[i].Step} has input cursor {starts[i].Cursor}; the replay consumed {segment.EndCursor}");
                foreach (byte b in segment.Output) output(b);
                hashPoints += result.HashPointsChecked;
                if (result.Outcome == ReplayOutcome.Diverged || i == segments.Length - 1)
                {
                    merged = result with { HashPointsChecked = hashPoints };
                    break;
                }
            }
        }
        finally
        {
            Volatile.Write(ref firstStop, -1); // the rest is not needed: let the workers finish what they run and take nothing more
            foreach (var worker in workers) worker.Join();
        }
        return merged!;
    }

    /// <summary>
    /// Segments per job: enough that a job finishing early finds more work, few enough that building
    /// a machine and composing its first snapshot (tens of milliseconds) stays small beside a segment.
    /// </summary>
    private const int SegmentsPerJob = 4;

    /// <summary>At most <paramref name="wanted"/> − 1 snapshots, the ones nearest to equal shares of the steps.</summary>
    private static List<IndexedSnapshot> SegmentStarts(List<IndexedSnapshot> snapshots, int wanted, ulong end)
    {
        if (snapshots.Count < wanted) return snapshots;
        var starts = new List<IndexedSnapshot>();
        for (int k = 1; k < wanted; k++)
        {
            ulong target = (ulong)((UInt128)end * (ulong)k / (ulong)wanted);
            var nearest = snapshots.MinBy(s => s.Step > target ? s.Step - target : target - s.Step)!;
            if (starts.Count == 0 || starts[^1].Step < nearest.Step) starts.Add(nearest);
        }
        return starts;
    }

    private static void RunSegment(Replayer replayer, TraceFile trace, TraceIndexFile index, Segment segment, IndexedSnapshot? start)
    {
        if (start is not null)
        {
            try
            {
                replayer.StartFrom(index.Compose(replayer.Machine, index.LatestAtOrBefore(start.Step)), start.Cursor);
            }
            catch (Exception e) when (e is TraceIndexException or InvalidDataException or EndOfStreamException or ArgumentException)
            {
                segment.BadStart = e.Message;
                return;
            }
            StateHash now = replayer.ComputeHash();
            if (now != start.Hash)
            {
                segment.BadStart = $"its snapshot at step {start.Step} restores to state hash {now}, which the trace does not have there";
                return;
            }
        }
        {
            bool last = segment.End >= (trace.End?.Step ?? trace.LastStep);
            if (last) segment.Result = replayer.Run();
            else
            {
                replayer.RunTo(segment.End);
                segment.Result = new ReplayResult(replayer.Divergence is null ? ReplayOutcome.Identical : ReplayOutcome.Diverged,
                    replayer.LastRun, replayer.Steps, replayer.HashPointsChecked, replayer.Divergence, trace.End);
            }
        }
        segment.EndCursor = replayer.InputConsumed;
    }
}
