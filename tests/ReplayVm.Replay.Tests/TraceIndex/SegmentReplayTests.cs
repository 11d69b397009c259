using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core.State;
using ReplayVm.Replay.TraceIndex;

namespace ReplayVm.Replay.Tests.TraceIndex;

/// <summary>
/// <c>replay --jobs</c>: segments between index snapshots replayed on several machines give exactly
/// the serial replay's result and output, wherever the snapshots sit and however many jobs run.
/// </summary>
public sealed class SegmentReplayTests
{
    private static (ReplayResult Result, byte[] Output) Serial(TraceFile trace)
    {
        var output = new List<byte>();
        var result = new Replayer(trace, output.Add).Run();
        return (result, [.. output]);
    }

    private static (ReplayResult Result, byte[] Output, List<string> Notices) Parallel(TraceFile trace, TraceIndexFile index, int jobs,
        ulong takeOver = SegmentReplay.DefaultTakeOverSteps)
    {
        var output = new List<byte>();
        var notices = new List<string>();
        var result = SegmentReplay.Run(trace, index, jobs, output.Add, notice: notices.Add, takeOverSteps: takeOver);
        return (result, [.. output], notices);
    }

    private static void AssertSame((ReplayResult Result, byte[] Output) serial, (ReplayResult Result, byte[] Output, List<string> Notices) parallel)
    {
        Assert.Equal(serial.Result.Outcome, parallel.Result.Outcome);
        Assert.Equal(serial.Result.Steps, parallel.Result.Steps);
        Assert.Equal(serial.Result.HashPointsChecked, parallel.Result.HashPointsChecked);
        Assert.Equal(serial.Result.Final, parallel.Result.Final);
        Assert.Equal(serial.Result.Divergence, parallel.Result.Divergence);
        Assert.Equal(serial.Result.RecordedEnd, parallel.Result.RecordedEnd);
        Assert.Equal(serial.Output, parallel.Output);
    }

    public static class Placements
    {
        /// <summary>Snapshot spacing in hash intervals of the demo recording (250 K steps), a budget factor, a job
        /// count, and the fewest steps a worker takes over from another (0: any stretch between snapshots).</summary>
        public static Arbitrary<(int Every, int BudgetEighths, int Jobs, ulong TakeOver)> Arb() =>
            (from every in Gen.Choose(1, 12)
             from budget in Gen.Choose(1, 8)
             from jobs in Gen.Choose(1, 4)
             from takeOver in Gen.Elements(0UL, 1_000_000UL, SegmentReplay.DefaultTakeOverSteps)
             select (every, budget, jobs, takeOver)).ToArbitrary();
    }

    [Property(Arbitrary = [typeof(Placements)], MaxTest = 10)]
    public void Any_snapshot_placement_and_job_count_gives_the_serial_result((int Every, int BudgetEighths, int Jobs, ulong TakeOver) c)
    {
        var demo = IndexedRecordings.Demo.Value;
        long fullSize = demo.IndexBytes.Length;
        var recording = IndexedRecording.Make($"demo-{c.Every}-{c.BudgetEighths}", demo.TraceBytes, new TraceIndexOptions
        {
            Every = (ulong)c.Every * 250_000,
            Budget = Math.Max(TraceIndexFormat.MinBudget, fullSize * c.BudgetEighths / 8),
        });
        using var index = recording.Open();
        var parallel = Parallel(recording.Trace, index, c.Jobs, c.TakeOver);
        AssertSame(Serial(recording.Trace), parallel);
        Assert.Empty(parallel.Notices);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void The_bench_recording_replays_identically_on_several_machines(int jobs)
    {
        var recording = IndexedRecordings.Bench.Value;
        using var index = recording.Open();
        var parallel = Parallel(recording.Trace, index, jobs);
        Assert.Equal(ReplayOutcome.Identical, parallel.Result.Outcome);
        AssertSame(Serial(recording.Trace), parallel);
    }

    /// <summary>
    /// The second worker held back until the first has finished its piece: the first then takes over
    /// half of the other's (before or after its own, whichever worker started first), restoring a
    /// snapshot into the machine it already ran. The finished segments tile the trace and the result
    /// and output are the serial replay's.
    /// </summary>
    [Fact]
    public void A_worker_done_first_takes_over_half_of_the_others_piece_and_the_result_is_the_serial_one()
    {
        var recording = IndexedRecordings.Bench.Value;
        using var index = recording.Open();
        using var firstDone = new ManualResetEventSlim();
        int prepared = 0;
        var segments = new List<(ulong Start, ulong End)>();
        var output = new List<byte>();
        var result = SegmentReplay.Run(recording.Trace, index, 2, output.Add, takeOverSteps: 0,
            prepare: _ =>
            {
                if (Interlocked.Increment(ref prepared) == 2) Assert.True(firstDone.Wait(TimeSpan.FromMinutes(2)), "the first worker never finished");
            },
            segmentDone: (start, end) =>
            {
                lock (segments) segments.Add((start, end));
                firstDone.Set();
            });
        AssertSame(Serial(recording.Trace), (result, [.. output], []));
        Assert.Equal(2, prepared); // each worker kept its machine
        Assert.True(segments.Count >= 3, $"segments: {string.Join(", ", segments)}");
        segments.Sort();
        Assert.Equal(0UL, segments[0].Start);
        Assert.Equal(recording.Trace.End!.Step, segments[^1].End);
        for (int i = 1; i < segments.Count; i++) Assert.Equal(segments[i - 1].End, segments[i].Start);
    }

    /// <summary>
    /// Segment machines on the translator sharing one cache of compiled regions, every entry translated
    /// at its first arrival, on the segment's own thread: the kernel guest's user processes run different programs at the same
    /// virtual addresses, in segments replayed at once on separate threads. Every state hash of the
    /// trace (recorded on the interpreter) must still match, the output and result be the serial
    /// replay's, and the segments must actually have shared code.
    /// </summary>
    [Theory]
    [InlineData("kernel", 2)]
    [InlineData("kernel", 3)]
    [InlineData("bench", 2)]
    public void Segment_machines_sharing_translations_replay_as_the_serial_interpreter(string guest, int jobs)
    {
        var recording = guest == "kernel" ? IndexedRecordings.Kernel.Value : IndexedRecordings.Bench.Value;
        using var index = recording.Open();
        var cache = new Core.Translation.TranslationCache();
        var output = new List<byte>();
        var notices = new List<string>();
        var result = SegmentReplay.Run(recording.Trace, index, jobs, output.Add, notice: notices.Add, prepare: machine =>
        {
            machine.Hart.Engine = Core.Translation.ExecutionEngine.Translator;
            machine.Hart.TranslationThreshold = 1;
            machine.Hart.TranslateInBackground = false; // each thread compiles what it meets, the cache takes the first of equal regions
            machine.Hart.Translations = cache;
        });
        Assert.Equal(ReplayOutcome.Identical, result.Outcome);
        Assert.Empty(notices);
        AssertSame(Serial(recording.Trace), (result, [.. output], notices));
        Assert.True(cache.Added > 0, "nothing was translated");
        Assert.True(cache.Hits > 0, "no segment machine took a region another compiled");
    }

    [Theory]
    [InlineData(1, SegmentReplay.DefaultTakeOverSteps)]
    [InlineData(3, SegmentReplay.DefaultTakeOverSteps)]
    [InlineData(2, 0UL)]
    [InlineData(3, 0UL)]
    public void A_divergence_inside_a_segment_is_reported_as_the_serial_replay_reports_it(int jobs, ulong takeOver)
    {
        // The trace with the hash at 5 M steps altered (between snapshots at 4 M and 6 M): the index still opens against it.
        var recording = IndexedRecordings.Bench.Value;
        var events = recording.Trace.Events.Select(e => e is StateHashEvent { Step: 5_000_000 } h
            ? h with { Hash = new StateHash(h.Hash.High ^ 1, h.Hash.Low) } : e).ToList();
        var tampered = recording.Trace with { Events = events };
        using var index = TraceIndexFile.Open(recording.IndexPath, tampered, recording.Identity);
        var serial = Serial(tampered);
        Assert.Equal(ReplayOutcome.Diverged, serial.Result.Outcome);
        Assert.Equal(5_000_000UL, serial.Result.Divergence!.Step);
        AssertSame(serial, Parallel(tampered, index, jobs, takeOver));
    }

    [Fact]
    public void A_wrong_snapshot_is_caught_and_the_replay_falls_back_to_one_machine_without_repeating_output()
    {
        var recording = IndexedRecordings.Demo.Value;
        using var index = recording.OpenChanged(b =>
        {
            // x5 changed in the snapshots after the first quarter, CRCs made valid: only restoring one shows it is
            // wrong (the second of two jobs starts at the one nearest the middle), after the segment before it
            // has handed on its output.
            ulong quarter = recording.Trace.End!.Step / 4;
            foreach (var chunk in SidecarBytes.Chunks(b).Where(c => c.Raw.Length > 0 && c.Raw[0] == 1 && c.BaseStep > quarter).Reverse())
            {
                var record = SidecarBytes.SnapshotRecord.Parse(chunk.Raw);
                var hart = record.Hart.ToArray();
                hart[5 * 8] ^= 0x40;
                b = SidecarBytes.Replace(b, chunk, SidecarBytes.Encode(chunk.BaseStep, (record with { Hart = hart }).Encode()));
            }
            return b;
        });
        var parallel = Parallel(recording.Trace, index, 2);
        AssertSame(Serial(recording.Trace), parallel);
        Assert.Single(parallel.Notices);
        Assert.Contains("ignored", parallel.Notices[0]);
    }

    /// <summary>
    /// The index opened while the workers build their machines (<c>replay --jobs</c>): the result is the
    /// serial one, and every worker runs on the machine it built first, the one that takes the segment
    /// at step 0 too, without building another.
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void An_index_opened_while_the_machines_are_built_gives_the_serial_result_with_one_machine_per_worker(int jobs)
    {
        var recording = IndexedRecordings.Bench.Value;
        int prepared = 0, noIndex = 0;
        var output = new List<byte>();
        var result = SegmentReplay.Run(recording.Trace, () => recording.Open(), jobs, output.Add,
            noIndex: () => noIndex++, prepare: _ => Interlocked.Increment(ref prepared));
        AssertSame(Serial(recording.Trace), (result, [.. output], []));
        Assert.Equal(0, noIndex);
        Assert.Equal(jobs, prepared);
    }

    [Fact]
    public void With_no_index_found_the_caller_is_told_and_the_trace_replays_on_one_machine()
    {
        var recording = IndexedRecordings.Demo.Value;
        int noIndex = 0;
        var output = new List<byte>();
        var notices = new List<string>();
        var result = SegmentReplay.Run(recording.Trace, () => null, 2, output.Add, notice: notices.Add, noIndex: () => noIndex++);
        AssertSame(Serial(recording.Trace), (result, [.. output], notices));
        Assert.Equal(1, noIndex);
        Assert.Empty(notices);
    }

    [Fact]
    public void An_index_that_fails_to_open_is_ignored_with_one_notice_and_the_trace_replays_on_one_machine()
    {
        var recording = IndexedRecordings.Demo.Value;
        var output = new List<byte>();
        var notices = new List<string>();
        var result = SegmentReplay.Run(recording.Trace, () => throw new TraceIndexException("forged"), 2, output.Add, notice: notices.Add);
        AssertSame(Serial(recording.Trace), (result, [.. output], notices));
        Assert.Single(notices);
        Assert.Contains("forged", notices[0]);
        Assert.StartsWith("the index ignored: forged", notices[0]);
    }
}
