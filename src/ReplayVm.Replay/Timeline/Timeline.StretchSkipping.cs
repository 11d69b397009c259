using ReplayVm.Replay.TraceIndex;

namespace ReplayVm.Replay.Timeline;

/// <summary>
/// Breakpoint and write-watch searches that pass over what cannot hold a hit. The index records, for
/// each stretch between two of its snapshots, every virtual page the hart ran code from (with the
/// pages of the pcs at both ends and of every interrupted pc: see <see cref="TraceIndexBuilder"/>)
/// and every virtual page it stored to and loaded from. A breakpoint can only be hit at a pc the hart
/// executes, a write watch only by a store to one of its pages, a read watch only by a load from one
/// (an access watch by either), so a stretch whose lists hold none of the watch's pages holds no hit,
/// and a continue or reverse-continue goes straight past it (restoring the index's snapshot beyond)
/// instead of replaying it. Stretches that may hold one are replayed exactly as without the index,
/// so the answer is the same; only the time differs. Searches that also watch registers replay every step.
/// </summary>
public sealed partial class Timeline
{
    /// <summary>Index stretches breakpoint searches have passed over without replaying them.</summary>
    public int StretchesSkipped { get; private set; }

    /// <summary>The index to skip by for <paramref name="watch"/>, or null: none, or the watch needs every step replayed.</summary>
    private TraceIndexFile? SkippingIndex(Watch watch)
    {
        if (!watch.Registers.IsEmpty) return null;
        FollowIndexBuild();
        return _index;
    }

    /// <summary>Whether the index stretch closed by snapshot <paramref name="closing"/> may hold a hit of <paramref name="watch"/> (breakpoints and data watches).</summary>
    private static bool StretchMayHit(TraceIndexFile index, int closing, Watch watch) =>
        (watch.Breakpoints.Count > 0 && index.StretchMayRun(closing, watch.Breakpoints))
        || (watch.Ranges.Any(r => r.OnWrite) && index.StretchMayStore(closing, watch.Ranges.Where(r => r.OnWrite)))
        || (watch.Ranges.Any(r => r.OnRead) && index.StretchMayLoad(closing, watch.Ranges.Where(r => r.OnRead)));

    /// <summary>
    /// The lowest step <c>s</c> at or below <paramref name="windowEnd"/> such that no step in
    /// [s, <paramref name="windowEnd"/>) can hold a hit of <paramref name="watch"/>, walking back over
    /// whole index stretches that ran none of its breakpoints' pages and stored to none of its ranges' pages.
    /// </summary>
    private ulong SkipBack(ulong windowEnd, Watch watch)
    {
        if (SkippingIndex(watch) is not { } index) return windowEnd;
        while (windowEnd > 0)
        {
            int closing = index.LatestAtOrBefore(windowEnd - 1) + 1;
            if (closing == index.Snapshots.Count && (!index.IsComplete || windowEnd - 1 > index.VerifiedThrough)) break;
            if (StretchMayHit(index, closing, watch)) break;
            windowEnd = index.StretchStart(closing);
            StretchesSkipped++;
        }
        return windowEnd;
    }

    /// <summary>
    /// Continue for breakpoints and write watches, with an index: stretches that may hold a hit are replayed as
    /// usual (up to their end, where the next is looked at); a run of stretches that cannot is
    /// passed over by restoring the snapshot at the start of the next stretch that may.
    /// </summary>
    private TimelineStop ContinueSkipping(Watch watch, Func<TimelineStop, bool> accept, CancellationToken cancel, IProgress<double>? progress)
    {
        ulong until = End, origin = Position;
        bool checkHere = false;
        while (true)
        {
            var index = SkippingIndex(watch);
            int closing = index is null ? -1 : index.LatestAtOrBefore(Position) + 1;
            if (index is not null && closing == index.Snapshots.Count && !StretchMayHit(index, closing, watch))
            {
                // Nothing from here to the end can be hit.
                StretchesSkipped++;
                var reached = Seek(until, cancel);
                return reached.Kind == TimelineStopKind.Cancelled ? reached : new TimelineStop(TimelineStopKind.End, Position);
            }
            if (index is null || closing >= index.Snapshots.Count)
            {
                var rest = Advance(until, watch, accept, checkHere, cancel, null);
                _focus = Position;
                return rest ?? new TimelineStop(TimelineStopKind.End, Position);
            }
            if (StretchMayHit(index, closing, watch))
            {
                ulong stretchEnd = Math.Min(index.Snapshots[closing].Step, until);
                var stop = Advance(stretchEnd, watch, accept, checkHere, cancel, null);
                if (stop is not null || Position < stretchEnd)
                {
                    _focus = Position;
                    return stop ?? new TimelineStop(TimelineStopKind.End, Position);
                }
            }
            else
            {
                int next = closing + 1;
                while (next < index.Snapshots.Count && !StretchMayHit(index, next, watch)) next++;
                StretchesSkipped += next - closing;
                var reached = Seek(Math.Min(index.StretchStart(next), until), cancel);
                if (reached.Kind == TimelineStopKind.Cancelled) return reached;
            }
            checkHere = true;
            if (until > origin) progress?.Report((double)(Position - origin) / (until - origin));
        }
    }
}
