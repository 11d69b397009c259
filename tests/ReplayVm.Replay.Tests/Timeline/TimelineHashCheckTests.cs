using ReplayVm.Core.State;
using ReplayVm.Replay.Timeline;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.Timeline;

/// <summary>The timeline checks the trace's state hashes as it replays, so it never shows a history the recording did not have.</summary>
public sealed class TimelineHashCheckTests
{
    private static readonly TimelineOptions Small = new() { CheckpointInterval = 1UL << 16 };

    [Fact]
    public void Replaying_to_the_end_checks_every_hash_point_once()
    {
        var trace = TimelineRecordings.Bench.Value;
        var timeline = new TimelineEngine(trace, Small);
        Assert.Equal(1, timeline.VerifiedHashPoints); // step 0, at construction
        timeline.Seek(trace.End!.Step);
        Assert.Equal(trace.HashPoints.Count() + 1, timeline.HashPointCount); // + the end record's hash
        Assert.Equal(timeline.HashPointCount, timeline.VerifiedHashPoints);
        // Back and forth again: nothing is rechecked, nothing fails.
        timeline.Seek(3_000_000);
        timeline.StepBackward();
        Assert.Equal(timeline.HashPointCount, timeline.VerifiedHashPoints);
    }

    [Fact]
    public void A_wrong_hash_point_stops_the_timeline_there_with_a_divergence()
    {
        var trace = TimelineRecordings.Bench.Value;
        var victim = trace.HashPoints.Skip(5).First();
        var events = trace.Events.Select(e => e == victim
            ? new StateHashEvent(victim.Step, new StateHash(victim.Hash.High ^ 1, victim.Hash.Low))
            : e).ToList();
        var tampered = trace with { Events = events };
        var timeline = new TimelineEngine(tampered, Small);

        timeline.Seek(victim.Step - 1); // everything before it is fine
        var e = Assert.Throws<TimelineException>(() => timeline.Seek(victim.Step + 1000));
        Assert.Contains($"step {victim.Step}", e.Message);
        Assert.Contains("state hash", e.Message);
    }
}
