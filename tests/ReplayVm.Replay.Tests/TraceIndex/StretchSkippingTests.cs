using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core.Loading;
using ReplayVm.Replay.Timeline;
using ReplayVm.Replay.TraceIndex;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.TraceIndex;

/// <summary>
/// Continue and reverse-continue pass over index stretches whose executed pages hold no breakpoint,
/// and find exactly what a scan of every step on one machine without the index finds.
/// </summary>
public sealed class StretchSkippingTests
{
    private static IndexedRecording Get(string name) => name == "bench" ? IndexedRecordings.Bench.Value : IndexedRecordings.Kernel.Value;

    /// <summary>Function entries and a pc inside each function (the instruction after its first) of a guest's ELF.</summary>
    private static ulong[] CodePcs(string guest)
    {
        var elf = Tests.Timeline.TimelineRecordings.Elf(guest);
        return [.. elf.Symbols.Where(s => s.Type == ElfSymbolType.Function && s.Size >= 8)
            .SelectMany(s => new[] { s.Value, s.Value + (s.Size / 2 & ~1UL) }).Distinct().Order()];
    }

    private static readonly Lazy<Dictionary<string, ulong[]>> Pcs = new(() => new() { ["bench"] = CodePcs("bench"), ["kernel"] = CodePcs("kernel") });

    public sealed record Case(string Guest, double Where, ulong[] Breakpoints, bool Forward, int Jobs);

    public static class Cases
    {
        public static Arbitrary<Case> Arb() =>
            (from guest in Gen.Elements("bench", "kernel")
             from at in Gen.Choose(0, 1000)
             from count in Gen.Choose(0, 3)
             from picks in Gen.ArrayOf(Gen.Choose(0, 1 << 20), count)
             from forward in Gen.Elements(false, true)
             from jobs in Gen.Choose(1, 3)
             select new Case(guest, at / 1000.0, [.. picks.Select(p => Pcs.Value[guest][p % Pcs.Value[guest].Length])], forward, jobs)).ToArbitrary();
    }

    [Property(Arbitrary = [typeof(Cases)], MaxTest = 12)]
    public void The_indexed_answer_equals_a_plain_scan(Case c)
    {
        var recording = Get(c.Guest);
        using var index = recording.Open();
        ulong end = recording.Trace.End!.Step;
        ulong position = (ulong)(end * c.Where);
        var plain = new TimelineEngine(recording.Trace, new TimelineOptions { ScanJobs = 1 });
        var indexed = new TimelineEngine(recording.Trace, new TimelineOptions { Index = index, ScanJobs = c.Jobs });
        plain.Seek(position);
        indexed.Seek(position);
        for (int move = 0; move < 2; move++)
        {
            var expected = c.Forward ? plain.Continue(c.Breakpoints, null) : plain.ReverseContinue(c.Breakpoints, null);
            var actual = c.Forward ? indexed.Continue(c.Breakpoints, null) : indexed.ReverseContinue(c.Breakpoints, null);
            Assert.Equal(expected, actual);
            Assert.Equal(plain.Position, indexed.Position);
            Assert.Equal(plain.ComputeHash(), indexed.ComputeHash());
        }
    }

    /// <summary>
    /// Against the truth, one step at a time: every page the pc was on at any position of a stretch
    /// (both ends included; an interrupted pc counts) is in the stretch's list. A page missing from
    /// it would let a search skip a real hit.
    /// </summary>
    [Theory]
    [InlineData("bench")]
    [InlineData("kernel")]
    public void Every_page_the_pc_was_on_is_in_its_stretch(string guest)
    {
        var recording = Get(guest);
        using var index = recording.Open();
        var replayer = new Replayer(recording.Trace, _ => { });
        var machine = replayer.Machine;
        ulong end = recording.Trace.End!.Step;
        int closing = 0, missing = 0;
        var truth = new HashSet<ulong>();
        void Close()
        {
            var listed = closing < index.Snapshots.Count ? index.Snapshots[closing].ExecutedPages : index.TailExecutedPages;
            Assert.NotNull(listed);
            var absent = truth.Where(p => Array.BinarySearch(listed, p) < 0).ToList();
            missing += absent.Count;
            Assert.True(absent.Count == 0, $"stretch {closing} of {guest} lacks pages {string.Join(", ", absent.Select(p => $"0x{p:x}"))}");
            truth.Clear();
        }
        while (true)
        {
            truth.Add(machine.Hart.Pc >> 12);
            ulong step = machine.Hart.Steps;
            if (closing < index.Snapshots.Count && step == index.Snapshots[closing].Step)
            {
                Close();
                closing++;
                truth.Add(machine.Hart.Pc >> 12); // the boundary belongs to both stretches
            }
            if (step >= end || machine.Run(1).Reason is Core.StopReason.GuestExit or Core.StopReason.TrapLoop) break;
        }
        Assert.Equal(index.Snapshots.Count, closing);
        Close();
        Assert.Equal(0, missing);
    }

    [Fact]
    public void Every_stretch_records_the_pages_it_ran_and_cold_code_is_skipped()
    {
        var recording = IndexedRecordings.Bench.Value;
        using var index = recording.Open();
        ulong main = Tests.Timeline.TimelineRecordings.Symbol("bench", "main");
        // main runs throughout (it calls each part), so its page is in every stretch; its entry only in the first.
        for (int k = 0; k <= index.Snapshots.Count; k++)
            Assert.True(index.StretchMayRun(k, [main]), $"stretch {k} lacks main's page");
        Assert.NotNull(index.TailExecutedPages);
        Assert.All(index.Snapshots, s => Assert.NotNull(s.ExecutedPages));

        // A pc no code runs from: every stretch is passed over, both ways, and the answers are the ends.
        ulong nowhere = 0x9000_0000;
        Assert.DoesNotContain(Enumerable.Range(0, index.Snapshots.Count + 1), k => index.StretchMayRun(k, [nowhere]));
        var indexed = new TimelineEngine(recording.Trace, new TimelineOptions { Index = index, ScanJobs = 2 });
        indexed.Seek(recording.Trace.End!.Step / 2);
        Assert.Equal(new TimelineStop(TimelineStopKind.End, recording.Trace.End!.Step), indexed.Continue([nowhere], null));
        Assert.Equal(new TimelineStop(TimelineStopKind.Start, 0), indexed.ReverseContinue([nowhere], null));
        Assert.True(indexed.StretchesSkipped >= index.Snapshots.Count, $"{indexed.StretchesSkipped} stretches skipped");
    }

    [Theory]
    [InlineData(new byte[] { 2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 })] // one page beyond any 64-bit address
    [InlineData(new byte[] { 3, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f })] // the second page past the top
    [InlineData(new byte[] { 100, 1, 2 })] // more pages than bytes
    public void A_malformed_executed_page_list_is_refused(byte[] list)
    {
        var recording = IndexedRecordings.Bench.Value;
        // The end record's list, forged with valid CRCs: the sidecar is refused, not trusted.
        var e = Assert.Throws<TraceIndexException>(() => recording.OpenChanged(bytes =>
        {
            var end = SidecarBytes.Chunks(bytes)[^1];
            Assert.Equal(TraceIndexFormat.EndKind, end.Raw[0]);
            int at = 1;
            for (int field = 0; field < 3; field++) SidecarBytes.VarUInt(end.Raw, ref at);
            at++; // outcome
            SidecarBytes.VarUInt(end.Raw, ref at);
            return SidecarBytes.Replace(bytes, end, SidecarBytes.Encode(end.BaseStep, [.. end.Raw[..at], .. list]));
        }).Dispose());
        Assert.Contains("executed-page", e.Message);
    }
}
