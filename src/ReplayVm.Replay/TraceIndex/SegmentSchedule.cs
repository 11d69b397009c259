namespace ReplayVm.Replay.TraceIndex;

/// <summary>
/// One stretch of a parallel replay (<see cref="SegmentReplay"/>): from <see cref="Start"/> (step 0,
/// or a cut: an index snapshot's step) to <see cref="End"/> (a later cut, or the trace's end), run
/// by one worker. Its end moves earlier when another worker takes over the rest of it
/// (<see cref="SegmentSchedule.Take"/>); that is final once the segment is <see cref="Done"/>.
/// </summary>
internal sealed class Segment
{
    public Segment(ulong start, int startCut, ulong end, int endCut)
    {
        (Start, StartCut, End, EndCut, Committed) = (start, startCut, end, endCut, start);
    }

    public ulong Start { get; }

    /// <summary>The cut it starts at (an index into the schedule's cuts); -1 for the segment at step 0.</summary>
    public int StartCut { get; }

    // Changed under the schedule's lock, final once Done is set.
    /// <summary>Where it ends: cut <see cref="EndCut"/>, or the trace's end when that is -1.</summary>
    public ulong End { get; internal set; }
    public int EndCut { get; internal set; }
    /// <summary>The segment after it in step order, or null for the last.</summary>
    public Segment? Next { get; internal set; }
    /// <summary>The step its worker runs to before asking the schedule again: the rest can be taken over only beyond it.</summary>
    internal ulong Committed;
    /// <summary>Its end is final (it reached it, stopped or failed).</summary>
    internal bool Closed;
    internal bool Taken;

    // Written by its worker, read after Done.
    public readonly List<byte> Output = [];
    public ReplayResult? Result;
    /// <summary>Its starting snapshot did not hold the trace's state there: the index is wrong, not the trace.</summary>
    public string? BadStart;
    public Timeline.InputCursor EndCursor;
    public Exception? Failure;
    public readonly ManualResetEventSlim Done = new();
}

/// <summary>
/// Hands out the segments of a parallel replay so that every worker stays busy to the end and each
/// restores as few snapshots as it can. The steps are first cut into one piece per worker at the
/// snapshots nearest to equal shares; a worker runs its piece forward from snapshot to snapshot,
/// asking the schedule at each (<see cref="Advance"/>) how far it may go, and a worker with nothing
/// left takes the end of the piece with the most steps still ahead of its worker (cut at the
/// snapshot nearest where both would finish together, the taker first paying for the restore, and
/// past where that worker has been allowed to run), restoring that snapshot into its own machine. A worker thus restores one snapshot per piece it takes, not one
/// per fixed segment, and the last pieces shrink until both workers finish within a few snapshots of
/// each other, whichever stretches of the guest run slower (a boot runs slower than an idle loop).
/// Nothing is taken over that starts after a segment that diverged or could not start (the serial
/// replay stops there), and after <see cref="Abandon"/> nothing runs further. Where the cuts fall
/// changes only the speed: every segment is verified the same way, and the merge is in step order.
/// </summary>
internal sealed class SegmentSchedule
{
    private readonly Lock _gate = new();
    private readonly IReadOnlyList<ulong> _cuts;
    private readonly ulong _takeOverCost;
    private readonly bool _measureTakeOver;
    // What the workers measured (host time: it moves only where the cuts fall, never a result).
    private double _restoreSeconds = -1, _stepsRun, _secondsRun;
    private readonly List<Segment> _open = [];
    private ulong _stopAfter = ulong.MaxValue;
    private bool _abandoned;

    /// <param name="cuts">The steps segments may start at (where the index has snapshots), ascending, each strictly between step 0 and <paramref name="end"/>.</param>
    /// <param name="takeOverCost">What taking over costs a worker (restoring a snapshot), in the steps it could run in that time.</param>
    /// <param name="measureTakeOver">Whether that cost is, once the workers have reported a restore and
    /// some running (<see cref="NoteRestore"/>, <see cref="NoteRun"/>), the last restore's time at their
    /// rate instead: a cost fixed in steps is too high for a guest that runs slowly (an OS kernel runs
    /// a third as fast as a compute loop) and too low where snapshots are large.</param>
    public SegmentSchedule(IReadOnlyList<ulong> cuts, ulong end, int workers, ulong takeOverCost, bool measureTakeOver = false)
    {
        (_cuts, _takeOverCost, _measureTakeOver) = (cuts, takeOverCost, measureTakeOver);
        Segment? previous = null;
        int previousCut = -1;
        for (int k = 0; k < workers; k++)
        {
            int cut = -1;
            if (k < workers - 1)
            {
                ulong target = (ulong)((UInt128)end * (ulong)(k + 1) / (ulong)workers);
                cut = Nearest(target, previousCut + 1, _cuts.Count);
                if (cut < 0) continue;
            }
            var segment = new Segment(previous?.End ?? 0, previous?.EndCut ?? -1, cut < 0 ? end : _cuts[cut], cut);
            if (previous is null) First = segment;
            else previous.Next = segment;
            _open.Add(segment);
            (previous, previousCut) = (segment, cut);
            if (cut < 0) break;
        }
    }

    /// <summary>The segment at step 0; the others follow through <see cref="Segment.Next"/>.</summary>
    public Segment First { get; } = null!;

    /// <summary>
    /// A segment for a worker with nothing to do: the earliest piece no worker has yet, else the end
    /// of the open segment with the most steps ahead of its worker; null when there is none worth
    /// taking (or the replay is stopping).
    /// </summary>
    public Segment? Take()
    {
        lock (_gate)
        {
            if (_abandoned) return null;
            foreach (var segment in _open)
                if (!segment.Taken && segment.Start < _stopAfter)
                {
                    segment.Taken = true;
                    return segment;
                }
            Segment? victim = null;
            foreach (var segment in _open)
                if (segment.Taken && !segment.Closed && segment.Start < _stopAfter
                    && (victim is null || segment.End - segment.Committed > victim.End - victim.Committed))
                    victim = segment;
            if (victim is null) return null;
            // With R steps left beyond where its worker may run and a cost of C to take over, both
            // finish together when the taker gets (R - C) / 2 of them, which gains (R - C) / 2 over
            // leaving them: worth it from R = 2C.
            ulong left = victim.End - victim.Committed, cost = CurrentTakeOverCost();
            if (left < 2 * cost) return null;
            int from = FirstCutAfter(victim.Committed), to = FirstCutAfter(victim.End - 1);
            int cut = Nearest(victim.End - (left - cost) / 2, from, to);
            if (cut < 0) return null;
            var taken = new Segment(_cuts[cut], cut, victim.End, victim.EndCut) { Next = victim.Next, Taken = true };
            (victim.End, victim.EndCut, victim.Next) = (taken.Start, cut, taken);
            _open.Add(taken);
            return taken;
        }
    }

    /// <summary>
    /// How far <paramref name="segment"/>'s worker, now at step <paramref name="at"/>, may run before
    /// asking again: the next cut, or the segment's end. Null when it is to stop: it has reached its
    /// end (<paramref name="finished"/>), the replay no longer needs it, or the caller is <paramref name="cancelled"/>.
    /// </summary>
    public ulong? Advance(Segment segment, ulong at, bool cancelled, out bool finished)
    {
        lock (_gate)
        {
            finished = at >= segment.End;
            if (finished || cancelled || _abandoned || segment.Start > _stopAfter)
            {
                Close(segment);
                return null;
            }
            int next = FirstCutAfter(at);
            segment.Committed = next < _cuts.Count ? Math.Min(_cuts[next], segment.End) : segment.End;
            return segment.Committed;
        }
    }

    /// <summary>A worker restored a snapshot (composed it, restored it, checked its hash) in <paramref name="seconds"/>.</summary>
    public void NoteRestore(double seconds)
    {
        lock (_gate) _restoreSeconds = seconds;
    }

    /// <summary>A worker ran <paramref name="steps"/> in <paramref name="seconds"/>.</summary>
    public void NoteRun(ulong steps, double seconds)
    {
        lock (_gate)
        {
            _stepsRun += steps;
            _secondsRun += seconds;
        }
    }

    /// <summary>What taking over costs, in steps (see the constructor).</summary>
    internal ulong TakeOverCost
    {
        get
        {
            lock (_gate) return CurrentTakeOverCost();
        }
    }

    /// <summary><see cref="TakeOverCost"/>, for callers holding the lock.</summary>
    private ulong CurrentTakeOverCost() =>
        _measureTakeOver && _restoreSeconds >= 0 && _secondsRun > 0
            ? (ulong)Math.Min(_restoreSeconds * _stepsRun / _secondsRun, ulong.MaxValue / 4)
            : _takeOverCost;

    /// <summary><paramref name="segment"/> diverged, could not start or failed: nothing after it is needed.</summary>
    public void Stop(Segment segment)
    {
        lock (_gate)
        {
            _stopAfter = Math.Min(_stopAfter, segment.Start);
            Close(segment);
        }
    }

    /// <summary>The result is known (or not wanted): workers stop at their next cut and take nothing more.</summary>
    public void Abandon()
    {
        lock (_gate) _abandoned = true;
    }

    private void Close(Segment segment)
    {
        segment.Closed = true;
        _open.Remove(segment);
    }

    /// <summary>The index of the first cut after <paramref name="step"/> (the count when none).</summary>
    private int FirstCutAfter(ulong step) => SortedSteps.FirstAfter(_cuts, step);

    /// <summary>The index in [<paramref name="from"/>, <paramref name="to"/>) of the cut nearest <paramref name="target"/>, or -1 when the range is empty.</summary>
    private int Nearest(ulong target, int from, int to)
    {
        int best = -1;
        for (int i = from; i < to; i++)
            if (best < 0 || Distance(_cuts[i], target) < Distance(_cuts[best], target)) best = i;
        return best;
    }

    private static ulong Distance(ulong a, ulong b) => a > b ? a - b : b - a;
}
