using System.Text;
using ReplayVm.Core;
using ReplayVm.Replay.Input;
using ReplayVm.Replay.Timeline;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.Timeline;

/// <summary>Recording while debugging: a live timeline moves about like a replayed one and leaves a trace that replays exactly.</summary>
public sealed class LiveTimelineTests
{
    private static readonly TimelineOptions Small = new() { CheckpointInterval = 1UL << 16 };

    /// <summary>The demo's whole session typed a line at a time.</summary>
    private static ScriptedInputPort DemoInput()
    {
        var lines = File.ReadAllLines(Path.Combine(TestGuests.RepoRoot, "tools", "guests", "expected", "demo.stdin"));
        var script = lines.Select((line, i) => new ScriptedKeys(300_000 * (ulong)(i + 1), Encoding.ASCII.GetBytes(line + "\n")));
        // Clock and entropy independent of the step: where live input lands depends on where runs are cut.
        return new ScriptedInputPort(script, _ => 1_767_225_600UL * 1_000_000_000UL,
            (_, destination) => Core.Input.DeterministicEntropy.Fill(0x5eed, destination));
    }

    private static TimelineEngine Live(MemoryStream file, ulong hashInterval = 250_000) =>
        TimelineEngine.Record(TestGuests.Committed("demo"), file,
            new LiveTimelineOptions { Input = DemoInput(), StateHashInterval = hashInterval }, Small);

    [Fact]
    public void Going_back_and_forth_over_live_input_reproduces_it_and_prints_nothing_twice()
    {
        var file = new MemoryStream();
        var printed = new List<byte>();
        using var timeline = Live(file);
        timeline.NewOutput += printed.Add;
        Assert.True(timeline.IsLive && timeline.CanExtend);

        Assert.Equal(TimelineStopKind.Reached, timeline.Seek(2_000_000).Kind);
        Assert.Equal(2_000_000UL, timeline.End);
        var atFrontier = timeline.ComputeHash();
        string output = Encoding.ASCII.GetString(timeline.Output.ToArray());
        Assert.Contains("demo> ", output);
        Assert.True(timeline.InputEventSteps.Count > 3, "the typed lines were logged");

        for (int i = 0; i < 10; i++) Assert.True(timeline.StepBackward());
        timeline.Seek(1_000);
        timeline.Seek(2_000_000);
        Assert.Equal(atFrontier, timeline.ComputeHash());
        Assert.Equal(output, Encoding.ASCII.GetString(timeline.Output.ToArray()));
        Assert.Equal(output, Encoding.ASCII.GetString(printed.ToArray()));

        // On past the frontier: the session keeps typing from where the live input left off.
        Assert.Equal(TimelineStopKind.Reached, timeline.Seek(4_000_000).Kind);
        Assert.Equal(4_000_000UL, timeline.End);
        Assert.Equal(Encoding.ASCII.GetString(timeline.Output.ToArray()), Encoding.ASCII.GetString(printed.ToArray()));
    }

    [Fact]
    public void A_live_session_runs_to_the_guest_exit_and_its_file_replays_with_every_hash()
    {
        var file = new MemoryStream();
        var timeline = Live(file);
        timeline.Seek(500_000);
        timeline.StepBackward();
        var stop = timeline.Continue(null, null);
        Assert.Equal(TimelineStopKind.End, stop.Kind);
        Assert.False(timeline.CanExtend);
        Assert.Equal(StopReason.GuestExit, timeline.Trace.End!.Reason);
        ulong end = timeline.End;
        var final = timeline.ComputeHash();
        var output = timeline.Output.ToArray();
        Assert.False(timeline.StepForward());
        timeline.Dispose();

        var trace = TraceReader.Read(new MemoryStream(file.ToArray()));
        Assert.False(trace.Truncated);
        Assert.Equal(end, trace.End!.Step);
        Assert.Equal(final, trace.End.FinalHash);
        Assert.True(trace.HashPoints.Count() > 10);
        var result = new Replayer(trace, _ => { }).Run();
        Assert.Equal(ReplayOutcome.Identical, result.Outcome);

        // The same guest under the plain recorder with the same input prints the same session (the
        // steps at which live keys land depend on where runs are cut, so only the text must agree).
        var recorded = RoundTrip.Record(TestGuests.Committed("demo"), DemoInput(), 250_000, ulong.MaxValue);
        Assert.Equal(StopReason.GuestExit, recorded.Result.Run.Reason);
        Assert.Equal(recorded.Output, Encoding.Latin1.GetString(output.ToArray()));
    }

    [Fact]
    public void Ending_a_session_midway_writes_an_end_record_at_the_frontier_even_when_rewound()
    {
        var file = new MemoryStream();
        var timeline = Live(file);
        timeline.Seek(1_500_000);
        var frontier = timeline.ComputeHash();
        timeline.Seek(10);
        timeline.Dispose();

        var trace = TraceReader.Read(new MemoryStream(file.ToArray()));
        Assert.Equal(1_500_000UL, trace.End!.Step);
        Assert.Equal(StopReason.HostRequest, trace.End.Reason);
        Assert.Equal(frontier, trace.End.FinalHash);
        Assert.Equal(ReplayOutcome.Identical, new Replayer(trace, _ => { }).Run().Outcome);
        // And the replayed timeline checks every hash point the live one wrote.
        var replayed = new TimelineEngine(trace, Small);
        replayed.Seek(trace.End.Step);
        Assert.Equal(replayed.HashPointCount, replayed.VerifiedHashPoints);
    }

    [Fact]
    public void Cancelling_a_live_continue_stops_it_at_once_and_keeps_the_position_reachable()
    {
        var file = new MemoryStream();
        using var timeline = Live(file);
        using var cancel = new CancellationTokenSource();
        timeline.NewOutput += b => { if (b == '>') cancel.Cancel(); };
        var stop = timeline.Continue(null, null, cancel.Token);
        Assert.Equal(TimelineStopKind.Cancelled, stop.Kind);
        Assert.True(timeline.CanExtend);
        ulong at = timeline.Position;
        var hash = timeline.ComputeHash();
        timeline.Seek(0);
        timeline.Seek(at);
        Assert.Equal(hash, timeline.ComputeHash());
    }
}
