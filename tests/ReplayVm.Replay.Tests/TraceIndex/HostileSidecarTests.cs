using ReplayVm.Replay.Timeline;
using ReplayVm.Replay.TraceIndex;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.TraceIndex;

/// <summary>
/// Sidecars as a hostile user or a bad disk leaves them: every one is refused with a one-line
/// <see cref="TraceIndexException"/> (never another exception), or, if it passes every check
/// (a forged state with valid CRCs), it cannot change what the timeline shows.
/// </summary>
public sealed class HostileSidecarTests
{
    private static IndexedRecording Bench => IndexedRecordings.Bench.Value;

    private static string Refusal(Func<byte[], byte[]> change)
    {
        var e = Assert.Throws<TraceIndexException>(() => Bench.OpenChanged(change).Dispose());
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    [Fact]
    public void The_genuine_sidecar_opens()
    {
        using var index = Bench.OpenChanged(b => b);
        Assert.Equal(Bench.Summary.Snapshots, index.Snapshots.Count);
    }

    [Fact]
    public void A_flipped_bit_anywhere_is_refused()
    {
        int length = Bench.IndexBytes.Length;
        int header = SidecarBytes.FirstChunkOffset(Bench.IndexBytes);
        // Every byte of the preamble and header and of each chunk's header, and a spread of payload bytes.
        var positions = Enumerable.Range(0, header)
            .Concat(SidecarBytes.Chunks(Bench.IndexBytes).SelectMany(c => Enumerable.Range(c.Offset, 24)))
            .Concat(Enumerable.Range(0, 300).Select(i => (int)((long)i * 7_919_993 % length)))
            .Distinct().ToList();
        foreach (int position in positions)
        {
            int bit = position % 8;
            Refusal(b =>
            {
                b[position] ^= (byte)(1 << bit);
                return b;
            });
        }
    }

    [Fact]
    public void A_truncated_sidecar_is_refused_at_any_length()
    {
        int length = Bench.IndexBytes.Length;
        var cuts = Enumerable.Range(0, 200).Select(i => (int)((long)i * length / 200))
            .Concat(SidecarBytes.Chunks(Bench.IndexBytes).SelectMany(c => new[] { c.Offset, c.Offset + 23, c.Offset + c.Length - 1 }));
        foreach (int cut in cuts.Distinct())
            Refusal(b => b[..cut]);
    }

    [Fact]
    public void Bytes_after_the_end_record_are_refused() =>
        Assert.Contains("after its end record", Refusal(b => [.. b, .. SidecarBytes.Encode(0, [2, 0, 0, 0, 0])]).Replace("follow", "after"));

    [Fact]
    public void Another_traces_sidecar_is_refused()
    {
        var demo = IndexedRecordings.Demo.Value;
        var e = Assert.Throws<TraceIndexException>(() => TraceIndexFile.Open(Bench.IndexPath, demo.Trace, demo.Identity));
        Assert.Contains("another trace", e.Message);
    }

    /// <summary>The first snapshot record with one field forged, re-framed with a valid CRC.</summary>
    private static string ForgedRecord(Func<SidecarBytes.SnapshotRecord, byte[]> forge, uint? payloadClaim = null, uint? rawClaim = null) =>
        Refusal(b =>
        {
            var first = SidecarBytes.Chunks(b).First(c => c.Raw.Length > 0 && c.Raw[0] == 1);
            var record = SidecarBytes.SnapshotRecord.Parse(first.Raw);
            return SidecarBytes.Replace(b, first, SidecarBytes.Encode(first.BaseStep, forge(record), payloadClaim, rawClaim));
        });

    [Fact]
    public void Forged_lengths_with_valid_CRCs_are_refused()
    {
        // Counts and lengths far beyond the data: checked against what is there before anything is allocated.
        ForgedRecord(r => [.. (r with { PageList = [] }).Encode()[..^0], .. SidecarBytes.VarBytes(1UL << 40), 0]);
        ForgedRecord(r => [.. (r with { PageList = SidecarBytes.VarBytes(int.MaxValue) }).Encode()]);
        ForgedRecord(r =>
        {
            var raw = (r with { Output = [] }).Encode();
            // The output blob's length (one byte, 0) claims 2^62 bytes.
            int at = 1 + SidecarBytes.VarBytes(r.Step).Length + 16 + r.Cursor.Sum(c => SidecarBytes.VarBytes(c).Length);
            return [.. raw[..at], .. SidecarBytes.VarBytes(1UL << 62), .. raw[(at + 1)..]];
        });
        ForgedRecord(r => (r with { Hart = r.Hart[..100] }).Encode());
        ForgedRecord(r => (r with { Hart = [.. r.Hart, 0] }).Encode());
        // A page number beyond RAM (16 MiB = 4096 pages).
        ForgedRecord(r => (r with { PageList = [.. SidecarBytes.VarBytes(1), .. SidecarBytes.VarBytes(5000 << 1), .. SidecarBytes.VarBytes(1)] }).Encode());
        // An input cursor beyond the recorded input (bench has none).
        ForgedRecord(r => (r with { Cursor = [1, 0, 0] }).Encode());
        // A step that is not a hash point, and a hash that is not the trace's.
        ForgedRecord(r => (r with { Step = r.Step + 1 }).Encode());
        ForgedRecord(r => (r with { Hash = [.. r.Hash.Select(x => (byte)~x)] }).Encode());
        // The chunk header's own lengths: raw length above the limit, payload length beyond the file.
        ForgedRecord(r => r.Encode(), rawClaim: 1u << 30);
        ForgedRecord(r => r.Encode(), payloadClaim: int.MaxValue);
    }

    [Fact]
    public void A_forged_state_that_passes_every_check_is_caught_on_restore_and_changes_nothing()
    {
        var notices = new List<string>();
        using var index = Bench.OpenChanged(b =>
        {
            // Register x5 of every snapshot changed: CRCs valid, hash fields still the trace's.
            foreach (var chunk in SidecarBytes.Chunks(b).Where(c => c.Raw.Length > 0 && c.Raw[0] == 1).Reverse())
            {
                var record = SidecarBytes.SnapshotRecord.Parse(chunk.Raw);
                var hart = record.Hart.ToArray();
                hart[5 * 8] ^= 0x40;
                b = SidecarBytes.Replace(b, chunk, SidecarBytes.Encode(chunk.BaseStep, (record with { Hart = hart }).Encode()));
            }
            return b;
        });
        var timeline = new TimelineEngine(Bench.Trace, new TimelineOptions { Index = index, IndexNotice = notices.Add });
        var plain = new TimelineEngine(Bench.Trace);
        ulong far = Bench.Trace.End!.Step - 10;
        timeline.Seek(far);
        plain.Seek(far);
        Assert.Equal(plain.ComputeHash(), timeline.ComputeHash());
        Assert.Equal(far, timeline.Position);
        Assert.Null(timeline.Index);
        Assert.Single(notices);
        Assert.Contains("ignored", notices[0]);
        Assert.Equal(0, timeline.IndexSnapshotsRestored);
    }
}
