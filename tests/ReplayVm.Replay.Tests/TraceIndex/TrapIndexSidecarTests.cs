using ReplayVm.Replay.Timeline;
using ReplayVm.Replay.TraceIndex;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.TraceIndex;

/// <summary>
/// The traps and interrupts a sidecar holds: exactly those a replay finds, read back without a
/// replay (a record at a time, as queries need them), fed to the debugger's trap index by a
/// background build, and refused when forged: at opening for what a record's summary says, at the
/// first query decoding it for its markers.
/// </summary>
public sealed class TrapIndexSidecarTests
{
    public static TheoryData<string> Recordings => ["bench", "kernel"];

    private static IndexedRecording Get(string name) => name == "bench" ? IndexedRecordings.Bench.Value : IndexedRecordings.Kernel.Value;

    /// <summary>Every marker a scanning index finds, by replaying the recording itself.</summary>
    private static List<TrapMarker> Scanned(TraceFile trace)
    {
        using var scan = new TimelineIndex(trace);
        scan.Completion.Wait();
        Assert.Equal(TimelineIndexState.Complete, scan.State);
        return All(scan);
    }

    private static List<TrapMarker> All(TimelineIndex index)
    {
        var found = new List<TrapMarker>();
        for (var m = index.Any(TrapMarkerKinds.All, 0, 1) ? index.Previous(TrapMarkerKinds.All, 1) : index.Next(TrapMarkerKinds.All, 0);
             m is { } marker; m = index.Next(TrapMarkerKinds.All, marker.Step))
            found.Add(marker);
        return found;
    }

    [Theory]
    [MemberData(nameof(Recordings))]
    public void The_sidecar_holds_every_trap_a_replay_finds(string name)
    {
        var recording = Get(name);
        using var index = recording.Open();
        Assert.True(index.TrapsComplete);
        var expected = Scanned(recording.Trace);
        if (name == "kernel") Assert.True(expected.Count > 10, $"only {expected.Count} traps in the kernel's run"); // ecalls, timer and UART interrupts
        Assert.Equal(expected, index.Traps.All());
        Assert.Equal(expected.Count, index.Traps.Count(TrapMarkerKinds.All));
        Assert.Equal(expected.CountBy(m => (m.Interrupt, m.Cause)).Select(p => (p.Key, (long)p.Value)).Order(),
            index.Traps.CountsByCause().Select(p => (p.Key, p.Value)).Order());
    }

    /// <summary>
    /// Opening reads the trap records' summaries only, and a query decodes at most the two records
    /// around its step: opening a Linux recording's sidecar no longer reads its millions of markers.
    /// </summary>
    [Fact]
    public void Opening_decodes_no_trap_record_and_a_query_at_most_two()
    {
        var kernel = IndexedRecordings.Kernel.Value;
        using var index = kernel.Open();
        var traps = index.Traps;
        Assert.True(traps.RecordCount > 10, $"only {traps.RecordCount} trap records");
        Assert.True(traps.Count(TrapMarkerKinds.All) > 10);
        Assert.Equal(0, traps.RecordsDecoded);
        ulong end = kernel.Trace.End!.Step;
        foreach (var kinds in new[] { TrapMarkerKinds.Ecall, TrapMarkerKinds.TimerInterrupt, TrapMarkerKinds.All })
        {
            int before = traps.RecordsDecoded;
            traps.Previous(kinds, end);
            traps.Next(kinds, end / 2);
            traps.Any(kinds, end / 3, end / 3 + 1);
            Assert.InRange(traps.RecordsDecoded - before, 1, 6);
        }
    }

    [Fact]
    public void The_timeline_takes_its_trap_index_from_the_sidecar_without_a_replay()
    {
        var recording = IndexedRecordings.Kernel.Value;
        using var sidecar = recording.Open();
        var timeline = new TimelineEngine(recording.Trace, new TimelineOptions { Index = sidecar });
        var traps = timeline.TrapIndex();
        // Complete on return: nothing was replayed (a scan needs a thread and the whole recording).
        Assert.Equal(TimelineIndexState.Complete, traps.State);
        Assert.Same(traps, timeline.TrapIndex());
        Assert.Equal(Scanned(recording.Trace), All(traps));
    }

    // Both orders of the race between the build's thread and the first question: the answer must be
    // the same whichever wins (a fast machine finishes the build before the timeline asks).
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_background_build_feeds_the_trap_index_on_its_way(bool buildFinishesFirst)
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-traps-").FullName;
        try
        {
            string path = Path.Combine(dir, "kernel.rvtrace");
            File.WriteAllBytes(path, IndexedRecordings.Kernel.Value.TraceBytes.Trace);
            var trace = TraceReader.ReadFile(path);
            using var build = BackgroundIndexBuild.Start(path, trace, new TraceIndexOptions { Every = 1 });
            var timeline = new TimelineEngine(trace, new TimelineOptions { IndexBuild = build });
            if (buildFinishesFirst) Assert.True(build.Wait(TimeSpan.FromMinutes(5)));
            var traps = timeline.TrapIndex();
            Assert.True(build.Wait(TimeSpan.FromMinutes(5)));
            Assert.Equal(IndexBuildState.Complete, build.State);
            Assert.Same(build.Traps, traps);
            Assert.Equal(TimelineIndexState.Complete, traps.State);
            Assert.Equal(Scanned(trace), All(traps));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Record chunks in file order (page chunks skipped by the counts their records give).</summary>
    private static List<SidecarBytes.Chunk> Records(byte[] file)
    {
        var records = new List<SidecarBytes.Chunk>();
        var chunks = SidecarBytes.Chunks(file);
        for (int i = 0; i < chunks.Count; i++)
        {
            records.Add(chunks[i]);
            if (chunks[i].Raw[0] == 1)
            {
                var list = SidecarBytes.SnapshotRecord.Parse(chunks[i].Raw).PageList;
                // The changed-page count, a varint per page, then the number of page chunks that follow.
                int at = 0;
                ulong changed = SidecarBytes.VarUInt(list, ref at);
                for (ulong k = 0; k < changed; k++) SidecarBytes.VarUInt(list, ref at);
                i += (int)SidecarBytes.VarUInt(list, ref at);
            }
        }
        return records;
    }

    private static string Refusal(Func<byte[], byte[]> change)
    {
        var e = Assert.Throws<TraceIndexException>(() => IndexedRecordings.Kernel.Value.OpenChanged(change).Dispose());
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    /// <summary>The first trap record holding markers (an empty one is [3, 0, 0]), replaced by <paramref name="forge"/>'s raw bytes re-framed with a valid CRC.</summary>
    private static Func<byte[], byte[]> ForgeTraps(Func<SidecarBytes.Chunk, byte[]> forge) => b =>
    {
        var record = Records(b).First(c => c.Raw[0] == 3 && c.Raw.Length > 3);
        return SidecarBytes.Replace(b, record, SidecarBytes.Encode(record.BaseStep, forge(record)));
    };

    /// <summary>A trap record holding one marker of cause byte <paramref name="cause"/> (its summary says so), with <paramref name="marker"/>'s bytes.</summary>
    private static byte[] OneTrap(byte cause, params byte[] marker) => [3, 1, 1, cause, 1, .. marker];

    /// <summary>
    /// What the forged record's first query says: the sidecar opened (its summaries are sound), the
    /// timeline's trap index answers nothing and fails with one line naming the sidecar and the problem.
    /// </summary>
    private static string QueryRefusal(Func<SidecarBytes.Chunk, byte[]> forge)
    {
        var kernel = IndexedRecordings.Kernel.Value;
        using var index = kernel.OpenChanged(ForgeTraps(forge));
        var e = Assert.Throws<TraceIndexException>(() => index.Traps.All().ToList());
        Assert.DoesNotContain('\n', e.Message);
        var traps = new TimelineEngine(kernel.Trace, new TimelineOptions { Index = index }).TrapIndex();
        Assert.Equal(TimelineIndexState.Complete, traps.State);
        // The forged record is the first holding markers: the first marker lies in it.
        Assert.Null(traps.Next(TrapMarkerKinds.All, 0));
        Assert.Equal(TimelineIndexState.Failed, traps.State);
        Assert.NotNull(traps.Error);
        Assert.DoesNotContain('\n', traps.Error);
        Assert.Contains($"index {index.Path} ignored: {e.Message}", traps.Error);
        Assert.Null(traps.Previous(TrapMarkerKinds.All, ulong.MaxValue));
        return e.Message;
    }

    [Fact]
    public void The_genuine_sidecar_has_trap_records_and_opens()
    {
        var kernel = IndexedRecordings.Kernel.Value;
        Assert.Contains(Records(kernel.IndexBytes), c => c.Raw[0] == 3 && c.Raw.Length > 2);
        using var index = kernel.OpenChanged(b => b);
        Assert.NotEmpty(index.Traps.All());
    }

    [Fact]
    public void Forged_trap_summaries_with_valid_CRCs_are_refused_on_opening()
    {
        // A cause above 63; causes out of order; a cause counted twice as many times as the record holds traps.
        Assert.Contains("cause list", Refusal(ForgeTraps(_ => OneTrap(64, 0, 0, 64, 0x33))));
        Assert.Contains("cause list", Refusal(ForgeTraps(_ => [3, 2, 2, 8, 1, 5, 1, 0, 0, 8, 0x01, 0, 0, 5, 0x11])));
        Refusal(ForgeTraps(_ => [3, 1, 1, 8, 2, 0, 0, 8, 0x01]));
        // Causes adding up to less than the count.
        Assert.Contains("its causes", Refusal(ForgeTraps(_ => [3, 2, 1, 8, 1, 0, 0, 8, 0x01, 0, 0, 8, 0x01])));
        // A count beyond the bytes.
        Refusal(ForgeTraps(_ => [3, .. SidecarBytes.VarBytes(1UL << 40)]));
        Refusal(ForgeTraps(_ => [3, 3, 1, 8, 3, 0, 0, 8, 0x01, 0, 0]));
    }

    [Fact]
    public void Forged_trap_markers_with_valid_CRCs_are_refused_by_the_first_query_that_decodes_them()
    {
        // A trap beyond the step its record covers.
        Assert.Contains("beyond", QueryRefusal(_ => OneTrap(5 | 0x80, [.. SidecarBytes.VarBytes(ulong.MaxValue >> 1), 0, 5 | 0x80, 0x33])));
        // A mode no hart has (2).
        Assert.Contains("impossible", QueryRefusal(_ => OneTrap(5 | 0x80, 0, 0, 5 | 0x80, 0x32)));
        // A cause other than the summary counts, and bytes after the markers.
        Assert.Contains("other causes", QueryRefusal(_ => OneTrap(5 | 0x80, 0, 0, 8, 0x01)));
        Assert.Contains("after its traps", QueryRefusal(c => [.. c.Raw, 0]));
    }

    /// <summary>A trap record damaged on disk (a flipped bit, a cut) is refused on opening with one line: the sidecar is ignored, and rebuilt by whoever opened it.</summary>
    [Fact]
    public void A_damaged_or_cut_trap_record_is_refused_on_opening()
    {
        var record = Records(IndexedRecordings.Kernel.Value.IndexBytes).First(c => c.Raw[0] == 3 && c.Raw.Length > 3);
        foreach (int at in new[] { record.Offset + 24, record.Offset + record.Length / 2, record.Offset + record.Length - 1 })
            Assert.Contains("CRC", Refusal(b =>
            {
                b[at] ^= 0x10;
                return b;
            }));
        foreach (int cut in new[] { record.Offset + 10, record.Offset + record.Length / 2, record.Offset + record.Length - 1 })
            Refusal(b => b[..cut]);
    }

    /// <summary>A sidecar of the format before trap records were self-contained (version 5) is refused with one line, not misread.</summary>
    [Fact]
    public void A_sidecar_of_an_older_format_version_is_refused()
    {
        Assert.Contains("index format version 5", Refusal(b =>
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(8), 5);
            int headerLength = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(12));
            uint crc = Format.Crc32C.Finish(Format.Crc32C.Append(Format.Crc32C.Append(Format.Crc32C.Start, b.AsSpan(8, 8)), b.AsSpan(20, headerLength)));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), crc);
            return b;
        }));
    }

    [Fact]
    public void An_end_record_that_disagrees_with_the_trap_records_is_refused()
    {
        Assert.Contains("traps are complete through", Refusal(b =>
        {
            var end = Records(b)[^1];
            Assert.Equal(2, end.Raw[0]);
            // After the snapshot count, hash points, step reached and outcome byte comes the step traps
            // are complete through (then the executed-page list): claim one step less.
            var raw = end.Raw.ToArray();
            int at = 1;
            for (int field = 0; field < 3; field++) SidecarBytes.VarUInt(raw, ref at);
            at++;
            int start = at;
            ulong through = SidecarBytes.VarUInt(raw, ref at);
            return SidecarBytes.Replace(b, end, SidecarBytes.Encode(end.BaseStep, [.. raw[..start], .. SidecarBytes.VarBytes(through - 1), .. raw[at..]]));
        }));
    }
}
