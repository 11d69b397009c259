using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core.Hart;
using ReplayVm.Replay.Timeline;
using ReplayVm.Replay.TraceIndex;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.TraceIndex;

/// <summary>
/// Continue and reverse-continue to write, read and access watchpoints pass over index stretches
/// that stored to (loaded from) none of the watched pages, and find exactly what a scan of every
/// step without the index finds.
/// </summary>
public sealed class WatchSkippingTests
{
    private static IndexedRecording Get(string name) => name == "bench" ? IndexedRecordings.Bench.Value : IndexedRecordings.Kernel.Value;

    /// <summary>Every page some stretch of the guest's index says it stored to or loaded from: watches there can hit.</summary>
    private static readonly Lazy<Dictionary<string, ulong[]>> AccessedPages = new(() => new[] { "bench", "kernel" }.ToDictionary(g => g, g =>
    {
        using var index = Get(g).Open();
        return index.Snapshots.SelectMany(s => (s.StoredPages ?? []).Concat(s.LoadedPages ?? []))
            .Concat(index.TailStoredPages ?? []).Concat(index.TailLoadedPages ?? []).Distinct().Order().ToArray();
    }));

    /// <summary>A watch on reads, writes or both (an access watch).</summary>
    public sealed record Case(string Guest, double Where, ulong Address, ulong Length, bool Forward, int Jobs, bool WithBreakpoint, bool OnRead, bool OnWrite);

    public static class Cases
    {
        public static Arbitrary<Case> Arb() =>
            (from guest in Gen.Elements("bench", "kernel")
             from at in Gen.Choose(0, 1000)
             from source in Gen.Choose(0, 3)
             from pick in Gen.Choose(0, 1 << 20)
             from offset in Gen.Choose(0, 4095)
             from ram in Gen.Choose(0, (16 << 20) - 1)
             from length in Gen.Elements(1UL, 2UL, 4UL, 8UL, 64UL, 4096UL, 3 * 4096UL)
             from forward in Gen.Elements(false, true)
             from jobs in Gen.Choose(1, 3)
             from withBreakpoint in Gen.Elements(false, false, false, true)
             from kind in Gen.Choose(0, 2)
             let pages = AccessedPages.Value[guest]
             // Mostly pages the guest stores to (so there are hits), sometimes anywhere in RAM or nowhere near it.
             let address = source switch
             {
                 0 => 0x8000_0000UL + (ulong)ram,
                 1 => 0xffff_ffc0_0000_0000UL + (ulong)pick * 4096 + (ulong)offset,
                 _ => pages[pick % pages.Length] * 4096 + (ulong)offset,
             }
             select new Case(guest, at / 1000.0, address, length, forward, jobs, withBreakpoint, OnRead: kind != 1, OnWrite: kind != 0)).ToArbitrary();
    }

    [Property(Arbitrary = [typeof(Cases)], MaxTest = 20)]
    public void The_indexed_answer_equals_a_plain_scan(Case c)
    {
        var recording = Get(c.Guest);
        using var index = recording.Open();
        ulong end = recording.Trace.End!.Step;
        ulong position = (ulong)(end * c.Where);
        WatchRange[] watch = [new WatchRange(c.Address, c.Length, c.OnRead, c.OnWrite)];
        // Sometimes a breakpoint too (the entry, run once at the start): both kinds of list then decide.
        ulong[] breakpoints = c.WithBreakpoint ? [EntryOf(c.Guest)] : [];
        var plain = new TimelineEngine(recording.Trace, new TimelineOptions { ScanJobs = 1 });
        var indexed = new TimelineEngine(recording.Trace, new TimelineOptions { Index = index, ScanJobs = c.Jobs });
        plain.Seek(position);
        indexed.Seek(position);
        for (int move = 0; move < 2; move++)
        {
            var expected = c.Forward ? plain.Continue(breakpoints, watch) : plain.ReverseContinue(breakpoints, watch);
            var actual = c.Forward ? indexed.Continue(breakpoints, watch) : indexed.ReverseContinue(breakpoints, watch);
            Assert.Equal(expected, actual);
            Assert.Equal(plain.Position, indexed.Position);
            Assert.Equal(plain.ComputeHash(), indexed.ComputeHash());
        }
        if (c.OnWrite) Assert.Equal(plain.LastWriteBefore(c.Address, c.Length), indexed.LastWriteBefore(c.Address, c.Length));
    }

    private static ulong EntryOf(string guest) => Tests.Timeline.TimelineRecordings.Symbol(guest, "_start");

    /// <summary>
    /// Against the truth, one step at a time with a write (read) watch on all memory: the page of every
    /// store (load) is in its stretch's stored-page (loaded-page) list. A page missing from it would let a search skip a real hit.
    /// </summary>
    [Theory]
    [InlineData("bench", false)]
    [InlineData("kernel", false)]
    [InlineData("bench", true)]
    [InlineData("kernel", true)]
    public void Every_page_stored_to_or_loaded_from_is_in_its_stretch(string guest, bool loads)
    {
        var recording = Get(guest);
        using var index = recording.Open();
        var replayer = new Replayer(recording.Trace, _ => { });
        var machine = replayer.Machine;
        machine.Hart.SetWatchpoints([new WatchRange(0, ulong.MaxValue, OnRead: loads, OnWrite: !loads)]);
        ulong end = recording.Trace.End!.Step;
        int closing = 0, accesses = 0;
        var truth = new HashSet<ulong>();
        void Close()
        {
            var listed = loads
                ? closing < index.Snapshots.Count ? index.Snapshots[closing].LoadedPages : index.TailLoadedPages
                : closing < index.Snapshots.Count ? index.Snapshots[closing].StoredPages : index.TailStoredPages;
            Assert.NotNull(listed);
            var absent = truth.Where(p => Array.BinarySearch(listed, p) < 0).ToList();
            Assert.True(absent.Count == 0, $"stretch {closing} of {guest} lacks {(loads ? "loaded" : "stored")} pages {string.Join(", ", absent.Select(p => $"0x{p:x}"))}");
            truth.Clear();
        }
        while (true)
        {
            ulong step = machine.Hart.Steps;
            if (closing < index.Snapshots.Count && step == index.Snapshots[closing].Step)
            {
                Close();
                closing++;
            }
            if (step >= end) break;
            var run = machine.Run(1);
            if (machine.TakeDebugStop() is { Kind: DebugStopKind.Watchpoint } stop)
            {
                truth.Add(stop.Address >> 12);
                accesses++;
            }
            if (run.Reason is Core.StopReason.GuestExit or Core.StopReason.TrapLoop) break;
        }
        Assert.Equal(index.Snapshots.Count, closing);
        Close();
        Assert.True(accesses > 1000, $"only {accesses} {(loads ? "loads" : "stores")} seen");
    }

    /// <summary>
    /// The translator keeps both logs too (so a recording or build writing a sidecar keeps its engine):
    /// the same pages as the interpreter, and the same sidecar, byte for byte.
    /// </summary>
    [Fact]
    public void The_translator_logs_the_pages_the_interpreter_logs()
    {
        var recording = IndexedRecordings.Bench.Value; // its sidecar was built on the interpreter
        var trace = recording.Trace;
        var setup = trace.Header.Setup;
        Assert.Equal(Core.Translation.ExecutionEngine.Interpreter, setup.Config.Engine);
        var translated = trace with { Header = trace.Header with { Setup = setup with { Config = setup.Config with { Engine = Core.Translation.ExecutionEngine.Translator } } } };

        // Per stretch, cleared as the builder clears them, but short ones (7000 steps, over the first
        // 3 M steps) so that hot loops fill whole stretches; the translator at its eagerest (every
        // entry translated on arrival, at once): a region the dispatcher failed to note is missed.
        List<(ulong[] Executed, ulong[] Stored)> Logged(TraceFile t, bool translator, out ulong regionRuns)
        {
            var replayer = new Replayer(t, _ => { });
            var hart = replayer.Machine.Hart;
            if (translator)
            {
                hart.TranslationThreshold = 1;
                hart.TranslateInBackground = false;
            }
            var executed = new ExecutedPageLog();
            var stored = new StoredPageLog();
            hart.ExecutedPages = executed;
            hart.StoredPages = stored;
            var stretches = new List<(ulong[], ulong[])>();
            for (ulong step = 7_000; step < 3_000_000; step += 7_000)
            {
                Assert.Null(replayer.RunTo(step));
                stretches.Add((executed.Pages(), stored.Pages()));
                executed.Clear();
                hart.ExecutedPagesCleared();
                stored.Clear();
                hart.StoredPagesCleared();
            }
            Assert.Equal(ReplayOutcome.Identical, replayer.Run().Outcome);
            stretches.Add((executed.Pages(), stored.Pages()));
            regionRuns = hart.TranslatorStats.RegionRuns;
            return stretches;
        }
        var byInterpreter = Logged(trace, translator: false, out ulong interpreted);
        var byTranslator = Logged(translated, translator: true, out ulong regionRuns);
        Assert.Equal(0UL, interpreted);
        Assert.True(regionRuns > 100_000, $"only {regionRuns} translated region runs");
        Assert.Equal(byInterpreter.Count, byTranslator.Count);
        for (int i = 0; i < byInterpreter.Count; i++)
        {
            Assert.Equal(byInterpreter[i].Executed, byTranslator[i].Executed);
            Assert.Equal(byInterpreter[i].Stored, byTranslator[i].Stored);
        }

        using var output = new MemoryStream();
        TraceIndexBuilder.Build(translated, recording.Identity, output, new TraceIndexOptions { Every = 2_000_000 });
        Assert.Equal(recording.IndexBytes, output.ToArray());
    }

    [Fact]
    public void A_page_stored_to_only_early_is_found_past_the_later_stretches()
    {
        var recording = IndexedRecordings.Bench.Value;
        using var index = recording.Open();
        Assert.All(index.Snapshots, s => Assert.NotNull(s.StoredPages));
        Assert.NotNull(index.TailStoredPages);
        // A page the first stretch stored to and the last did not: reverse-continue from the end
        // passes over stretches and finds the same last write as a plain scan.
        ulong page = index.Snapshots[0].StoredPages!.First(p => Array.BinarySearch(index.TailStoredPages!, p) < 0);
        var indexed = ReverseContinueFromTheEndAsAPlainScanDoes(recording, index, new WatchRange(page * 4096, 4096, OnRead: false, OnWrite: true));
        ulong end = recording.Trace.End!.Step;
        // A page nothing stores to: every stretch passed over, both ways.
        WatchRange[] nowhere = [new WatchRange(0x9000_0000, 8, OnRead: false, OnWrite: true)];
        int before = indexed.StretchesSkipped;
        Assert.Equal(new TimelineStop(TimelineStopKind.Start, 0), indexed.ReverseContinue(null, nowhere));
        Assert.Equal(new TimelineStop(TimelineStopKind.End, end), indexed.Continue(null, nowhere));
        Assert.True(indexed.StretchesSkipped - before >= index.Snapshots.Count, $"{indexed.StretchesSkipped - before} stretches skipped");
        // An access watch on a page nothing loads from or stores to: passed over too.
        before = indexed.StretchesSkipped;
        indexed.Seek(end / 2);
        Assert.Equal(new TimelineStop(TimelineStopKind.Start, 0), indexed.ReverseContinue(null, [new WatchRange(0x9000_0000, 8, OnRead: true, OnWrite: true)]));
        Assert.True(indexed.StretchesSkipped - before >= index.Snapshots.Count / 2, $"{indexed.StretchesSkipped - before} stretches skipped");
    }

    [Fact]
    public void A_page_loaded_from_only_early_is_found_past_the_later_stretches()
    {
        var recording = IndexedRecordings.Bench.Value;
        using var index = recording.Open();
        Assert.All(index.Snapshots, s => Assert.NotNull(s.LoadedPages));
        Assert.NotNull(index.TailLoadedPages);
        // A page the first stretch read and the last did not: a read watch's reverse-continue from the
        // end passes over stretches and stops at the same last load as a plain scan.
        ulong page = index.Snapshots[0].LoadedPages!.First(p => Array.BinarySearch(index.TailLoadedPages!, p) < 0);
        ReverseContinueFromTheEndAsAPlainScanDoes(recording, index, new WatchRange(page * 4096, 4096, OnRead: true, OnWrite: false));
    }

    /// <summary>From the recording's end, reverse-continue to <paramref name="watch"/> with the index stops
    /// where a plain scan does, in the same state, having passed over at least one stretch; returns the indexed timeline there.</summary>
    private static TimelineEngine ReverseContinueFromTheEndAsAPlainScanDoes(IndexedRecording recording, TraceIndexFile index, WatchRange watch)
    {
        var plain = new TimelineEngine(recording.Trace, new TimelineOptions { ScanJobs = 1 });
        var indexed = new TimelineEngine(recording.Trace, new TimelineOptions { Index = index, ScanJobs = 1 });
        ulong end = recording.Trace.End!.Step;
        plain.Seek(end);
        indexed.Seek(end);
        var expected = plain.ReverseContinue(null, [watch]);
        Assert.Equal(TimelineStopKind.Watchpoint, expected.Kind);
        Assert.Equal(expected, indexed.ReverseContinue(null, [watch]));
        Assert.Equal(plain.ComputeHash(), indexed.ComputeHash());
        Assert.True(indexed.StretchesSkipped >= 1, $"{indexed.StretchesSkipped} stretches skipped");
        return indexed;
    }
}
