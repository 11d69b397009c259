using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Replay.Timeline;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.Timeline;

/// <summary>Seeking and stepping: every way of reaching a step gives the state a plain replay has there.</summary>
public sealed class TimelineSeekTests
{
    private static readonly TimelineOptions Small = new() { CheckpointInterval = 1UL << 16 };

    public static class Positions
    {
        /// <summary>A position in the bench recording and a number of steps back from it.</summary>
        public static Arbitrary<(ulong N, ulong K)> Arb()
        {
            ulong end = TimelineRecordings.Bench.Value.End!.Step;
            return (from n in Gen.Choose(0, (int)end)
                    from k in Gen.Choose(0, 150)
                    select ((ulong)n, (ulong)Math.Min(k, n))).ToArbitrary();
        }
    }

    /// <summary>A plain, checkpoint-free replay to <paramref name="step"/>: the reference.</summary>
    private static Core.State.StateHash ReplayHash(TraceFile trace, ulong step)
    {
        var replayer = new Replayer(trace, _ => { });
        Assert.Null(replayer.RunTo(step));
        Assert.Equal(step, replayer.Steps);
        return replayer.ComputeHash();
    }

    [Property(Arbitrary = [typeof(Positions)], MaxTest = 12)]
    public void Seek_then_k_steps_back_equals_seek_to_N_minus_k((ulong N, ulong K) c)
    {
        var trace = TimelineRecordings.Bench.Value;
        var timeline = new TimelineEngine(trace, Small);
        timeline.Seek(c.N);
        Assert.Equal(c.N, timeline.Position);
        for (ulong i = 0; i < c.K; i++) Assert.True(timeline.StepBackward());
        Assert.Equal(c.N - c.K, timeline.Position);
        var afterSteppingBack = timeline.ComputeHash();

        Assert.Equal(ReplayHash(trace, c.N - c.K), afterSteppingBack);
        // And the same timeline, sent far away and back, agrees too.
        timeline.Seek(trace.End!.Step);
        timeline.Seek(c.N - c.K);
        Assert.Equal(afterSteppingBack, timeline.ComputeHash());
    }

    [Fact]
    public void Every_recorded_hash_point_is_reproduced_by_seeking_in_shuffled_order()
    {
        var trace = TimelineRecordings.Bench.Value;
        var timeline = new TimelineEngine(trace, Small);
        var points = trace.HashPoints.ToList();
        var order = points.OrderBy(p => (p.Step * 0x9E3779B97F4A7C15UL) >> 40).ToList();
        foreach (var point in order)
        {
            Assert.Equal(TimelineStopKind.Reached, timeline.Seek(point.Step).Kind);
            Assert.Equal(point.Hash, timeline.ComputeHash());
        }
        Assert.True(timeline.Checkpoints.Count > 1);
    }

    [Fact]
    public void Stepping_forward_and_back_around_a_position_returns_to_the_same_state()
    {
        var timeline = new TimelineEngine(TimelineRecordings.Bench.Value, Small);
        timeline.Seek(5_000_000);
        var here = timeline.ComputeHash();
        for (int i = 0; i < 50; i++) Assert.True(timeline.StepForward());
        for (int i = 0; i < 50; i++) Assert.True(timeline.StepBackward());
        Assert.Equal(5_000_000UL, timeline.Position);
        Assert.Equal(here, timeline.ComputeHash());
    }

    [Fact]
    public void Seeking_past_the_end_stops_at_the_end_and_says_so()
    {
        var trace = TimelineRecordings.Bench.Value;
        var timeline = new TimelineEngine(trace, Small);
        var stop = timeline.Seek(ulong.MaxValue);
        Assert.Equal(TimelineStopKind.End, stop.Kind);
        Assert.Equal(trace.End!.Step, timeline.Position);
        Assert.Equal(trace.End.FinalHash, timeline.ComputeHash());
        Assert.False(timeline.StepForward());
        Assert.True(timeline.StepBackward());
        Assert.Equal(TimelineStopKind.Reached, timeline.Seek(0).Kind);
        Assert.False(timeline.StepBackward());
    }

    [Fact]
    public void The_demo_replays_its_input_and_output_from_any_checkpoint()
    {
        var trace = TimelineRecordings.Demo.Value;
        var reference = new Replayer(trace, _ => { });
        var fullOutput = new List<byte>();
        var replay = new Replayer(trace, fullOutput.Add);
        Assert.Equal(ReplayOutcome.Identical, replay.Run().Outcome);

        var timeline = new TimelineEngine(trace, new TimelineOptions { CheckpointInterval = 1UL << 15 });
        Assert.Equal(TimelineStopKind.End, timeline.Seek(ulong.MaxValue).Kind);
        Assert.Equal(fullOutput, timeline.Output);
        Assert.Equal(trace.End!.FinalHash, timeline.ComputeHash());

        // Back to every hash point, latest first: each one's state and the output written so far.
        foreach (var point in trace.HashPoints.Reverse().Where((_, i) => i % 3 == 0))
        {
            timeline.Seek(point.Step);
            Assert.Equal(point.Hash, timeline.ComputeHash());
        }
        // And forward again over all the input.
        timeline.Seek(trace.End.Step);
        Assert.Equal(fullOutput, timeline.Output);
        Assert.Equal(trace.End.FinalHash, timeline.ComputeHash());
    }

    [Fact]
    public void Input_event_navigation_visits_every_recorded_input_in_order()
    {
        var trace = TimelineRecordings.Demo.Value;
        var timeline = new TimelineEngine(trace, new TimelineOptions { CheckpointInterval = 1UL << 15 });
        var expected = trace.Events.Where(e => e is ConsoleInputEvent or WallClockEvent or EntropyEvent).Select(e => e.Step).Distinct().ToList();
        Assert.True(expected.Count > 5);
        var visited = new List<ulong>();
        TimelineStop stop;
        while ((stop = timeline.NextInputEvent()).Kind == TimelineStopKind.InputEvent) visited.Add(stop.Step);
        Assert.Equal(expected, visited);
        Assert.Equal(TimelineStopKind.End, stop.Kind);

        var back = new List<ulong>();
        while ((stop = timeline.PreviousInputEvent()).Kind == TimelineStopKind.InputEvent) back.Add(stop.Step);
        back.Reverse();
        Assert.Equal(expected, back);
        Assert.Equal(0UL, timeline.Position);
    }

    [Fact]
    public void Explicit_checkpoints_survive_thinning_and_the_budget_holds()
    {
        var timeline = new TimelineEngine(TimelineRecordings.Bench.Value, new TimelineOptions { CheckpointInterval = 1UL << 14, CheckpointMemory = 24L << 20, Density = 4 });
        timeline.Seek(3_333_333);
        var pinned = timeline.AddCheckpoint();
        timeline.Seek(timeline.End);
        timeline.Seek(100);
        Assert.Contains(pinned, timeline.Checkpoints.All);
        Assert.True(timeline.Checkpoints.MemoryBytes <= 24L << 20, $"{timeline.Checkpoints.MemoryBytes} bytes");
        Assert.Equal(pinned, timeline.Checkpoints.Nearest(3_400_000));
    }
}
