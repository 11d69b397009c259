using ReplayVm.Core.State;
using ReplayVm.Replay.Input;
using ReplayVm.Replay.Timeline;
using ReplayVm.Replay.TraceIndex;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.TraceIndex;

/// <summary>Sidecars written, read back, restored, and used by the timeline: never a state the trace does not have.</summary>
public sealed class TraceIndexRoundTripTests
{
    private static StateHash ReplayHash(TraceFile trace, ulong step)
    {
        var replayer = new Replayer(trace, _ => { });
        Assert.Null(replayer.RunTo(step));
        return replayer.ComputeHash();
    }

    public static TheoryData<string> Recordings => ["bench", "demo"];

    private static IndexedRecording Get(string name) => name == "bench" ? IndexedRecordings.Bench.Value : IndexedRecordings.Demo.Value;

    [Theory]
    [MemberData(nameof(Recordings))]
    public void Every_snapshot_restores_to_the_hash_the_trace_records_at_its_step(string name)
    {
        var recording = Get(name);
        using var index = recording.Open();
        var recorded = recording.Trace.HashPoints.ToDictionary(p => p.Step, p => p.Hash);
        Assert.True(index.Snapshots.Count >= 5, $"only {index.Snapshots.Count} snapshots");
        Assert.Equal(recording.Summary.Snapshots, index.Snapshots.Count);
        Assert.Equal(recording.Trace.HashPoints.Count() + 1, index.HashPointsVerified); // and the end record
        // In a shuffled order, on one machine: composing against whatever RAM holds must not matter.
        var replayer = new Replayer(recording.Trace, _ => { });
        foreach (int i in Enumerable.Range(0, index.Snapshots.Count).OrderBy(i => (i * 7919) % 13))
        {
            var record = index.Snapshots[i];
            replayer.Machine.RestoreSnapshot(index.Compose(replayer.Machine, i));
            Assert.Equal(record.Step, replayer.Steps);
            Assert.Equal(recorded[record.Step], replayer.ComputeHash());
        }
    }

    [Theory]
    [MemberData(nameof(Recordings))]
    public void A_replay_started_from_any_snapshot_matches_the_rest_of_the_trace(string name)
    {
        var recording = Get(name);
        using var index = recording.Open();
        var serial = new Replayer(recording.Trace, _ => { }).Run();
        foreach (int i in new[] { 0, index.Snapshots.Count / 2, index.Snapshots.Count - 1 })
        {
            var output = new List<byte>();
            var replayer = new Replayer(recording.Trace, output.Add);
            replayer.StartFrom(index.Compose(replayer.Machine, i), index.Snapshots[i].Cursor);
            var result = replayer.Run();
            Assert.Equal(ReplayOutcome.Identical, result.Outcome);
            Assert.Equal(serial.Steps, result.Steps);
            Assert.Equal(serial.Final, result.Final);
            // The console output from there on completes the sidecar's output up to there into the whole.
            var whole = index.OutputUpTo(i).ToArray().Concat(output).ToArray();
            var reference = new List<byte>();
            new Replayer(recording.Trace, reference.Add).Run();
            Assert.Equal(reference, whole);
        }
    }

    /// <summary>
    /// A guest whose RAM holds 3 MiB of data from the start (an idle loop before it): the first
    /// snapshot's pages fill several page chunks, and composing it (alone, and after another with the
    /// pages shared) gives the machine the trace's state there.
    /// </summary>
    [Fact]
    public void A_snapshot_whose_pages_fill_several_chunks_composes_to_the_recorded_state()
    {
        var image = new byte[4 + (3 << 20)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(image, 0x0000_006f); // j . (jal x0, 0)
        new Random(7).NextBytes(image.AsSpan(4));
        var setup = MachineSetup.ForRaw(TestGuests.Config, "pages.bin", image, 0x8000_0000);
        var recording = IndexedRecording.Make("pages", RoundTrip.Record(setup, new ScriptedInputPort([]), 10_000, 50_000), new TraceIndexOptions { Every = 1 });
        using var index = recording.Open();
        Assert.True(index.Snapshots[0].Chunks.Length >= 3, $"{index.Snapshots[0].Chunks.Length} page chunks");
        var cache = new IndexPageCache();
        var replayer = new Replayer(recording.Trace, _ => { });
        Core.State.MachineSnapshot? last = null;
        foreach (int i in new[] { 0, index.Snapshots.Count - 1, 0 })
        {
            last = index.Compose(replayer.Machine, i, cache, last);
            replayer.StartFrom(last, index.Snapshots[i].Cursor);
            Assert.Equal(index.Snapshots[i].Hash, replayer.ComputeHash());
            var alone = new Replayer(recording.Trace, _ => { });
            alone.StartFrom(index.Compose(alone.Machine, i), index.Snapshots[i].Cursor);
            Assert.Equal(index.Snapshots[i].Hash, alone.ComputeHash());
        }
        Assert.Equal(ReplayOutcome.Identical, replayer.Run().Outcome);
    }

    /// <summary>
    /// One replayer moved back and forth between snapshots (as a <c>replay --jobs</c> worker takes
    /// over segments before and after the one it ran): from each it checks exactly the hash points
    /// after it and produces exactly the output a fresh replayer started there would.
    /// </summary>
    [Fact]
    public void A_replayer_moved_back_to_an_earlier_snapshot_replays_from_there_as_a_fresh_one()
    {
        var recording = IndexedRecordings.Demo.Value;
        using var index = recording.Open();
        int late = index.Snapshots.Count * 3 / 4, early = index.Snapshots.Count / 4, middle = index.Snapshots.Count / 2;
        var output = new List<byte>();
        var moved = new Replayer(recording.Trace, output.Add);
        foreach (int i in new[] { late, early, middle, early })
        {
            var fresh = new List<byte>();
            var reference = new Replayer(recording.Trace, fresh.Add);
            reference.StartFrom(index.Compose(reference.Machine, i), index.Snapshots[i].Cursor);
            var expected = reference.Run();

            output.Clear();
            moved.StartFrom(index.Compose(moved.Machine, i), index.Snapshots[i].Cursor);
            Assert.Equal(index.Snapshots[i].Hash, moved.ComputeHash());
            var result = moved.Run();
            Assert.Equal(ReplayOutcome.Identical, result.Outcome);
            Assert.Equal(expected.HashPointsChecked, result.HashPointsChecked);
            Assert.True(result.HashPointsChecked > 0);
            Assert.Equal(expected.Steps, result.Steps);
            Assert.Equal(expected.Final, result.Final);
            Assert.Equal(fresh, output);
        }
    }

    [Fact]
    public void The_timeline_seeks_from_the_index_to_the_same_states_as_without()
    {
        var recording = IndexedRecordings.Bench.Value;
        using var index = recording.Open();
        var options = new TimelineOptions { CheckpointInterval = 1UL << 16 };
        var with = new TimelineEngine(recording.Trace, options with { Index = index });
        var without = new TimelineEngine(recording.Trace, options);
        ulong end = recording.Trace.End!.Step;
        foreach (ulong step in new[] { end - 3, 7_654_321UL, 2_000_000UL, 11_999_999UL, 123UL, 4_000_001UL })
        {
            with.Seek(step);
            without.Seek(step);
            Assert.Equal(step, with.Position);
            Assert.Equal(without.ComputeHash(), with.ComputeHash());
            Assert.Equal(ReplayHash(recording.Trace, step), with.ComputeHash());
        }
        Assert.True(with.IndexSnapshotsRestored > 0);
        Assert.Null(with.IndexProblem);
    }

    [Fact]
    public void Reverse_continue_from_the_far_end_with_the_index_finds_the_same_hit()
    {
        var recording = IndexedRecordings.Demo.Value;
        using var index = recording.Open();
        ulong breakpoint = Timeline.TimelineRecordings.Symbol("demo", "copy_name");
        var with = new TimelineEngine(recording.Trace, new TimelineOptions { Index = index });
        var without = new TimelineEngine(recording.Trace);
        ulong end = recording.Trace.End!.Step;
        with.Seek(end);
        without.Seek(end);
        var a = with.ReverseContinue([breakpoint], null);
        var b = without.ReverseContinue([breakpoint], null);
        Assert.Equal(TimelineStopKind.Breakpoint, b.Kind);
        Assert.Equal(b, a);
        Assert.Equal(without.ComputeHash(), with.ComputeHash());
        Assert.Equal(without.Output, with.Output);
        Assert.True(with.IndexSnapshotsRestored > 0);
    }

    [Fact]
    public void Console_output_and_input_after_a_seek_from_the_index_match_a_plain_replay()
    {
        var recording = IndexedRecordings.Demo.Value;
        using var index = recording.Open();
        var with = new TimelineEngine(recording.Trace, new TimelineOptions { Index = index });
        var without = new TimelineEngine(recording.Trace);
        ulong end = recording.Trace.End!.Step;
        foreach (ulong step in new[] { end, end / 2 + 12_345, end / 3 })
        {
            with.Seek(step);
            without.Seek(step);
            Assert.Equal(without.Output, with.Output);
            Assert.Equal(without.ComputeHash(), with.ComputeHash());
        }
        Assert.True(with.IndexSnapshotsRestored > 0);
    }

    [Fact]
    public void A_budget_bounds_the_file_and_its_snapshots_still_reach_the_end()
    {
        var full = IndexedRecordings.Demo.Value;
        long budget = full.IndexBytes.Length / 3;
        var small = IndexedRecording.Make("demo-small", RoundTrip.Record(TestGuests.Committed("demo"), new Input.ScriptedInputPort([]), 250_000, 20_000_000),
            new TraceIndexOptions { Every = 1, Budget = Math.Max(budget, TraceIndexFormat.MinBudget) });
        long size = new FileInfo(small.IndexPath).Length;
        Assert.True(size <= Math.Max(budget, TraceIndexFormat.MinBudget), $"{size} bytes over a budget of {budget}");
        Assert.Equal(size, small.Summary.Bytes);
        using var index = small.Open();
        Assert.NotEmpty(index.Snapshots);
    }
}
