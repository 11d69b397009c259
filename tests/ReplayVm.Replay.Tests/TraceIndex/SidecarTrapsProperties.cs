using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core.Hart;
using ReplayVm.Replay.Format;
using ReplayVm.Replay.Timeline;
using ReplayVm.Replay.TraceIndex;

namespace ReplayVm.Replay.Tests.TraceIndex;

/// <summary>
/// A sidecar's traps read a record at a time answer every query exactly as the whole list of
/// markers, read at once, does: the first after a step, the last before one, whether a range holds
/// one, how many of each kind — whatever the records' boundaries, with many markers on one step
/// and on the boundaries themselves.
/// </summary>
public sealed class SidecarTrapsProperties
{
    private static readonly (bool Interrupt, byte Cause)[] Causes = [(false, 2), (false, 8), (false, 9), (false, 13), (true, 1), (true, 5), (true, 9), (true, 7)];
    private static readonly TrapMarkerKinds[] Kinds =
        [TrapMarkerKinds.Exception, TrapMarkerKinds.Ecall, TrapMarkerKinds.TimerInterrupt, TrapMarkerKinds.Interrupts, TrapMarkerKinds.Traps, TrapMarkerKinds.All,
         TrapMarkerKinds.SoftwareInterrupt | TrapMarkerKinds.Ecall];

    /// <summary>The markers (ascending steps, often equal), and the batches the writer is given: a marker count and how far past its last marker the batch is complete.</summary>
    public sealed record Case(TrapMarker[] Markers, (int Count, ulong Beyond)[] Batches, (int Kind, ulong Step, ulong Width)[] Queries);

    public static class Cases
    {
        public static Arbitrary<Case> Arb()
        {
            var marker = from gap in Gen.Frequency((3, Gen.Constant(0)), (5, Gen.Choose(1, 4)), (1, Gen.Choose(5, 5000)))
                         from pc in Gen.Choose(0, 1 << 20)
                         from cause in Gen.Elements(Causes)
                         from from_ in Gen.Elements(PrivilegeLevel.User, PrivilegeLevel.Supervisor, PrivilegeLevel.Machine)
                         from to in Gen.Elements(PrivilegeLevel.Supervisor, PrivilegeLevel.Machine)
                         select (gap, pc: (ulong)pc * 2 + 0xffffffff80000000, cause, from_, to);
            return (from raw in Gen.ListOf(marker).Select(l => l.ToArray())
                    from cuts in Gen.ArrayOf(Gen.Choose(0, Math.Max(raw.Length, 1)))
                    from beyond in Gen.ArrayOf(Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(1, 6))))
                    from queries in Gen.ArrayOf(from k in Gen.Choose(0, Kinds.Length - 1)
                                                from s in Gen.Choose(0, Math.Max(1, raw.Sum(m => m.gap) + 3))
                                                from w in Gen.Choose(0, 40)
                                                select (k, (ulong)s, (ulong)w))
                    select Build(raw, cuts, beyond, queries)).ToArbitrary();
        }

        private static Case Build((int gap, ulong pc, (bool Interrupt, byte Cause) cause, PrivilegeLevel from, PrivilegeLevel to)[] raw, int[] cuts,
            int[] beyond, (int, ulong, ulong)[] queries)
        {
            ulong step = 1;
            var markers = raw.Select(m => new TrapMarker(step += (ulong)m.gap, m.pc, m.cause.Cause, m.cause.Interrupt, m.from, m.to)).ToArray();
            // Batches as a replay hands them over: cut at ascending marker counts, each complete a little past its last marker
            // (never past the next batch's first marker), the last one possibly holding none.
            var ends = cuts.Select(c => Math.Min(c, markers.Length)).Append(markers.Length).Order().ToArray();
            var batches = new List<(int, ulong)>();
            int start = 0;
            for (int b = 0; b < ends.Length; b++)
            {
                ulong last = ends[b] > 0 ? markers[ends[b] - 1].Step : 0;
                ulong room = ends[b] < markers.Length ? markers[ends[b]].Step - last : 10;
                batches.Add((ends[b] - start, Math.Min(room, beyond.Length > 0 ? (ulong)beyond[b % beyond.Length] : 0)));
                start = ends[b];
            }
            return new Case(markers, [.. batches], queries);
        }
    }

    /// <summary>Writes the batches as a sidecar's build does, then reads the records back as the reader does (summaries, and markers on demand).</summary>
    private static SidecarTraps WriteAndRead(Case c)
    {
        var records = new MemoryStream();
        var writer = new TraceIndexWriter(records, 1L << 30);
        int at = 0;
        foreach (var (count, beyond) in c.Batches)
        {
            var batch = c.Markers[at..(at + count)];
            ulong last = at + count > 0 ? c.Markers[at + count - 1].Step : 0;
            writer.AddTraps(batch, Math.Max(last + beyond, writer.TrapsThrough));
            at += count;
        }
        var bytes = records.ToArray();
        var summaries = new List<TrapRecordSummary>();
        var raws = new Dictionary<long, byte[]>();
        ulong from = 0;
        for (int offset = 0; offset < bytes.Length;)
        {
            var header = ChunkCodec.TryReadHeader(bytes.AsSpan(offset), bytes.Length - offset, out _)!.Value;
            var (_, raw, size) = ChunkCodec.TryDecode(bytes.AsSpan(offset), out _)!.Value;
            var summary = TrapRecordCodec.ReadSummary(raw, offset, header, from);
            summaries.Add(summary);
            raws[offset] = raw;
            from = header.BaseStep;
            offset += size;
        }
        return new SidecarTraps(summaries, s => TrapRecordCodec.ReadMarkers(raws[s.Offset], s));
    }

    [Property(Arbitrary = [typeof(Cases)], MaxTest = 300)]
    public void Records_read_on_demand_answer_as_the_whole_list(Case c)
    {
        var traps = WriteAndRead(c);
        var all = c.Markers;
        Assert.Equal(all, traps.All());
        foreach (var kinds in Kinds)
            Assert.Equal(all.LongCount(m => (m.Kind & kinds) != 0), traps.Count(kinds));
        foreach (var (k, step, width) in c.Queries)
        {
            var kinds = Kinds[k];
            Assert.Equal(all.Where(m => m.Step > step && (m.Kind & kinds) != 0).Cast<TrapMarker?>().FirstOrDefault(), traps.Next(kinds, step));
            Assert.Equal(all.Where(m => m.Step < step && (m.Kind & kinds) != 0).Cast<TrapMarker?>().LastOrDefault(), traps.Previous(kinds, step));
            Assert.Equal(all.Any(m => m.Step >= step && m.Step < step + width && (m.Kind & kinds) != 0), traps.Any(kinds, step, step + width));
        }
    }

    /// <summary>The same on a real recording's sidecar, read from its file: the kernel guest's ecalls, faults, timer and UART interrupts.</summary>
    public static class KernelQueries
    {
        public static Arbitrary<(int Kind, ulong Step, ulong Width)[]> Arb()
        {
            var markers = KernelMarkers.Value;
            ulong end = IndexedRecordings.Kernel.Value.Trace.End!.Step;
            // Around markers (on them, one before, one after) as often as anywhere.
            var step = Gen.OneOf(Gen.Choose(0, (int)Math.Min(end + 2, int.MaxValue)).Select(s => (ulong)s),
                from i in Gen.Choose(0, markers.Length - 1) from d in Gen.Choose(-1, 1) select (ulong)Math.Max(0, (long)markers[i].Step + d));
            var width = Gen.OneOf(Gen.Choose(0, 3), Gen.Choose(0, 200_000)).Select(w => (ulong)w);
            return Gen.ArrayOf(from k in Gen.Choose(0, Kinds.Length - 1) from s in step from w in width select (k, s, w)).ToArbitrary();
        }
    }

    private static readonly Lazy<TrapMarker[]> KernelMarkers = new(() =>
    {
        using var index = IndexedRecordings.Kernel.Value.Open();
        return [.. index.Traps.All()];
    });

    [Property(Arbitrary = [typeof(KernelQueries)], MaxTest = 60)]
    public void A_recordings_sidecar_answers_as_its_whole_list((int Kind, ulong Step, ulong Width)[] queries)
    {
        using var index = IndexedRecordings.Kernel.Value.Open();
        var all = KernelMarkers.Value;
        foreach (var (k, step, width) in queries)
        {
            var kinds = Kinds[k];
            Assert.Equal(all.Where(m => m.Step > step && (m.Kind & kinds) != 0).Cast<TrapMarker?>().FirstOrDefault(), index.Traps.Next(kinds, step));
            Assert.Equal(all.Where(m => m.Step < step && (m.Kind & kinds) != 0).Cast<TrapMarker?>().LastOrDefault(), index.Traps.Previous(kinds, step));
            Assert.Equal(all.Any(m => m.Step >= step && m.Step < step + width && (m.Kind & kinds) != 0), index.Traps.Any(kinds, step, step + width));
        }
    }
}
