using ReplayVm.Replay.Timeline;
using ReplayVm.Replay.TraceIndex;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.TraceIndex;

/// <summary>
/// The traps and interrupts a sidecar holds: exactly those a replay finds, read back without a
/// replay, fed to the debugger's trap index by a background build, and refused when forged.
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
        Assert.Equal(expected, index.Traps);
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

    [Fact]
    public void A_background_build_feeds_the_trap_index_on_its_way()
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-traps-").FullName;
        try
        {
            string path = Path.Combine(dir, "kernel.rvtrace");
            File.WriteAllBytes(path, IndexedRecordings.Kernel.Value.TraceBytes.Trace);
            var trace = TraceReader.ReadFile(path);
            using var build = BackgroundIndexBuild.Start(path, trace, new TraceIndexOptions { Every = 1 });
            var timeline = new TimelineEngine(trace, new TimelineOptions { IndexBuild = build });
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

    private static string Refusal(Func<byte[], byte[]> change, bool withTraps = true)
    {
        var e = Assert.Throws<TraceIndexException>(() => IndexedRecordings.Kernel.Value.OpenChanged(change, withTraps).Dispose());
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    /// <summary>The first trap record holding markers, replaced by <paramref name="forge"/>'s bytes re-framed with a valid CRC.</summary>
    private static string ForgedTraps(Func<SidecarBytes.Chunk, (ulong Through, byte[] Raw)> forge) => Refusal(b =>
    {
        var record = Records(b).First(c => c.Raw[0] == 3 && c.Raw.Length > 2);
        var (through, raw) = forge(record);
        return SidecarBytes.Replace(b, record, SidecarBytes.Encode(through, raw));
    });

    [Fact]
    public void The_genuine_sidecar_has_trap_records_and_opens()
    {
        var kernel = IndexedRecordings.Kernel.Value;
        Assert.Contains(Records(kernel.IndexBytes), c => c.Raw[0] == 3 && c.Raw.Length > 2);
        using var index = kernel.OpenChanged(b => b);
        Assert.NotEmpty(index.Traps);
    }

    [Fact]
    public void Forged_trap_records_with_valid_CRCs_are_refused()
    {
        // A trap beyond the step its record covers.
        Assert.Contains("beyond", ForgedTraps(c => (c.BaseStep, [3, 1, .. SidecarBytes.VarBytes(ulong.MaxValue >> 1), 0, 5, 0x33])));
        // A mode no hart has (2), and a cause above 63.
        Assert.Contains("impossible", ForgedTraps(c => (c.BaseStep, [3, 1, .. SidecarBytes.VarBytes(1), 0, 5, 0x32])));
        Assert.Contains("impossible", ForgedTraps(c => (c.BaseStep, [3, 1, .. SidecarBytes.VarBytes(1), 0, 64, 0x33])));
        // A count beyond the bytes, and bytes after the markers.
        ForgedTraps(c => (c.BaseStep, [3, .. SidecarBytes.VarBytes(1UL << 40)]));
        Assert.Contains("after its traps", ForgedTraps(c => (c.BaseStep, [.. c.Raw, 0])));
    }

    /// <summary>
    /// <c>replay --jobs</c> opens the sidecar without decoding its trap records: the same snapshots,
    /// no traps, and never taken for a complete trap index (a timeline given it would scan instead).
    /// </summary>
    [Fact]
    public void Opened_without_its_traps_the_sidecar_has_the_same_snapshots_and_no_trap_index()
    {
        var kernel = IndexedRecordings.Kernel.Value;
        using var with = kernel.Open();
        using var without = TraceIndexFile.Open(kernel.IndexPath, kernel.Trace, kernel.Identity, withTraps: false);
        Assert.NotEmpty(with.Traps);
        Assert.True(with.TrapsComplete);
        Assert.Empty(without.Traps);
        Assert.False(without.TrapsComplete);
        Assert.True(without.IsComplete);
        Assert.Equal(with.Snapshots.Select(s => (s.Step, s.Hash, s.Cursor, s.OutputEnd)), without.Snapshots.Select(s => (s.Step, s.Hash, s.Cursor, s.OutputEnd)));
        Assert.Equal((with.VerifiedThrough, with.HashPointsVerified), (without.VerifiedThrough, without.HashPointsVerified));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_end_record_that_disagrees_with_the_trap_records_is_refused(bool withTraps)
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
        }, withTraps));
    }
}
