using ReplayVm.Core;
using ReplayVm.Core.Devices.Storage;
using ReplayVm.Core.Input;
using ReplayVm.Core.State;
using ReplayVm.Replay.Format;
using ReplayVm.Replay.Input;

namespace ReplayVm.Replay.Tests;

/// <summary>
/// Disks and the board revision in the trace header: round trips, the kernel guest (virtio-blk)
/// recorded and replayed with its disk embedded or named by hash, and the refusals.
/// </summary>
public class DiskTraceTests
{
    private static string GuestFile(params string[] parts) => Path.Combine([TestGuests.RepoRoot, "tools", "guests", .. parts]);

    private static readonly byte[] KernelElf = File.ReadAllBytes(GuestFile("elf", "kernel.elf"));
    private static readonly byte[] KernelDisk = File.ReadAllBytes(GuestFile("kernel", "disk.img"));
    private static readonly byte[] KernelInput = File.ReadAllBytes(GuestFile("expected", "kernel.stdin"));

    private static MachineSetup KernelSetup(GuestDisk disk) =>
        MachineSetup.ForElf(new MachineConfig(), "kernel.elf", KernelElf) with { Disks = [disk] };

    private static TraceHeader Header(MachineSetup setup) => new(setup, 1000, "test");

    [Fact]
    public void Header_round_trips_embedded_and_hash_only_disks_and_the_board_revision()
    {
        var embedded = GuestDisk.Embedded("a.img", [1, 2, 3, 0, 0, 0, 0, 9]);
        var byHash = GuestDisk.ByHash("big.img", 1L << 40, Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        var setup = MachineSetup.ForElf(TestGuests.Config, "x.elf", [0x7F, (byte)'E']) with { Disks = [embedded, byHash] };

        var read = TraceReader.Read(TraceBuilder.Write(Header(setup), [])).Header;

        Assert.Equal(setup, read.Setup);
        Assert.True(read.Setup.Disks[0].IsEmbedded);
        Assert.False(read.Setup.Disks[1].IsEmbedded);
        Assert.Equal(MachineConfig.BoardRevision, read.BoardRevision);
        Assert.Equal(TraceFormat.Version, read.FormatVersion);
        Assert.True(TraceFormat.Version >= 2);
    }

    [Fact]
    public void An_embedded_disk_that_does_not_match_its_hash_is_refused_by_replay()
    {
        var disk = new GuestDisk("a.img", 4, new byte[32], new MemoryBlockStorage([1, 2, 3, 4]));
        var bytes = TraceBuilder.Write(Header(TestGuests.Echo with { Disks = [disk] }), []);
        var trace = TraceReader.Read(bytes); // reading the header never reads the disk
        var e = Assert.Throws<TraceFormatException>(() => new Replayer(trace, _ => { }));
        Assert.Contains("disk 'a.img' does not match its SHA-256", e.Message);
    }

    [Fact]
    public void Kernel_guest_with_an_embedded_disk_replays_identically()
    {
        var recording = RoundTrip.Record(KernelSetup(GuestDisk.Embedded("disk.img", KernelDisk.ToArray())),
            new ScriptedInputPort([new ScriptedKeys(0, KernelInput)]), interval: 20_000);
        Assert.Equal(File.ReadAllText(GuestFile("expected", "kernel.out")), recording.Output);
        Assert.Equal(StopReason.GuestExit, recording.Result.Run.Reason);

        var (result, output) = RoundTrip.Replay(recording.Trace);
        Assert.Equal(ReplayOutcome.Identical, result.Outcome);
        Assert.Equal(recording.Output, output);
        Assert.Equal(recording.Result.HashPoints + 1, result.HashPointsChecked);
    }

    [Fact]
    public void A_disk_named_by_hash_replays_from_a_matching_image_and_refuses_a_missing_or_different_one()
    {
        var disk = GuestDisk.ByHash("disk.img", KernelDisk.Length, GuestDisk.HashOf(new MemoryBlockStorage(KernelDisk)));
        var setup = KernelSetup(disk);
        var image = new MemoryBlockStorage(KernelDisk.ToArray(), readOnly: true);
        DiskSupply supply = (_, _) => new SuppliedDisk(image, "disk.img");

        var stream = new MemoryStream();
        var recorded = new List<byte>();
        using (var recorder = new Recorder(setup, new ScriptedInputPort([new ScriptedKeys(0, KernelInput)]), recorded.Add, stream,
                   new RecorderOptions { StateHashInterval = 50_000, Factory = (s, i, o) => s.Build(i, o, supply), Writer = new() { FlushInterval = TimeSpan.Zero } }))
            recorder.Run();
        // The guest wrote sector 1, into the overlay only.
        Assert.Equal(KernelDisk, image.Bytes);

        var trace = TraceReader.Read(stream.ToArray());
        var replayed = new List<byte>();
        var result = new Replayer(trace, replayed.Add, disks: supply).Run();
        Assert.Equal(ReplayOutcome.Identical, result.Outcome);
        Assert.Equal(recorded, replayed);

        var missing = Assert.Throws<TraceFormatException>(() => new Replayer(trace, _ => { }));
        Assert.Contains("is not embedded in the trace", missing.Message);
        Assert.Contains(disk.Sha256Hex, missing.Message);

        var other = KernelDisk.ToArray();
        other[100] ^= 1;
        var wrong = Assert.Throws<TraceFormatException>(() =>
            new Replayer(trace, _ => { }, disks: (_, _) => new SuppliedDisk(new MemoryBlockStorage(other), "other.img")));
        Assert.Contains("other.img does not match disk 1 'disk.img'", wrong.Message);
        Assert.Contains(disk.Sha256Hex, wrong.Message);
    }

    [Fact]
    public void A_trace_from_another_board_revision_is_refused_before_anything_runs()
    {
        var header = Header(TestGuests.Echo) with { BoardRevision = MachineConfig.BoardRevision + 1 };
        var trace = TraceReader.Read(TraceBuilder.Write(header, [new EndEvent(0, StopReason.InstructionLimit, 0, default(StateHash), null)]));
        Assert.Equal(MachineConfig.BoardRevision + 1, trace.Header.BoardRevision);
        var e = Assert.Throws<TraceFormatException>(() => new Replayer(trace, _ => { }));
        Assert.Contains($"recorded on board revision {MachineConfig.BoardRevision + 1}, this build has {MachineConfig.BoardRevision}", e.Message);
    }

    [Fact]
    public void The_committed_demo_trace_has_the_current_format_and_board_revision()
    {
        var trace = TraceReader.ReadFile(Path.Combine(TestGuests.RepoRoot, "traces", "demo.rvtrace"));
        Assert.Equal(TraceFormat.Version, trace.Header.FormatVersion);
        Assert.Equal(MachineConfig.BoardRevision, trace.Header.BoardRevision);
    }
}
