using ReplayVm.Core;
using ReplayVm.Replay.Timeline;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Diff;

/// <summary>
/// One run of a <see cref="TimelinePair"/>: a <see cref="ReplayTimeline"/>, so that going back to
/// rescan a stretch restores a checkpoint instead of replaying from step 0. Moves honour
/// <see cref="Cancel"/> (an <see cref="OperationCanceledException"/> leaves the timeline somewhere on the way).
/// </summary>
internal sealed class TimelineSide : LockstepSide
{
    public TimelineSide(string label, ReplayTimeline timeline) : base(label)
    {
        Timeline = timeline;
        MarkCompared();
    }

    public ReplayTimeline Timeline { get; }
    public override Machine Machine => Timeline.Machine;
    public CancellationToken Cancel { get; set; }

    public override void RunTo(ulong step)
    {
        if (Timeline.Position == step) return;
        var stop = Timeline.Seek(step, Cancel);
        if (stop.Kind == TimelineStopKind.Cancelled) throw new OperationCanceledException(Cancel);
        if (Timeline.Position != step)
            throw new TimelineException($"trace {Label} ends at step {Timeline.Position}, before step {step}");
    }

    public override long ConsoleBytes => Timeline.Output.Count;

    public override byte[] ConsoleTail()
    {
        var output = Timeline.Output;
        int count = Math.Min(output.Count, TailLength);
        var tail = new byte[count];
        for (int i = 0; i < count; i++) tail[i] = output[output.Count - count + i];
        return tail;
    }
}
