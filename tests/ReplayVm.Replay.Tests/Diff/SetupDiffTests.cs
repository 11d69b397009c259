using ReplayVm.Core;
using ReplayVm.Replay.Diff;
using ReplayVm.Replay.Input;

namespace ReplayVm.Replay.Tests.Diff;

/// <summary>
/// Traces of different machines — other disks, a disk more, another board revision — are never
/// called identical or "equal by determinism": the setup difference is named, and the two are
/// replayed side by side to the first step where they really part.
/// </summary>
public class SetupDiffTests
{
    private static string GuestFile(params string[] parts) => Path.Combine([TestGuests.RepoRoot, "tools", "guests", .. parts]);

    private static TraceFile RecordKernel(byte[] disk)
    {
        var setup = MachineSetup.ForElf(new MachineConfig(), "kernel.elf", File.ReadAllBytes(GuestFile("elf", "kernel.elf")))
            with { Disks = [GuestDisk.Embedded("disk.img", disk)] };
        var input = new ScriptedInputPort([new ScriptedKeys(0, File.ReadAllBytes(GuestFile("expected", "kernel.stdin")))]);
        return TraceReader.Read(RoundTrip.Record(setup, input, interval: 100_000).Trace);
    }

    [Fact]
    public void Same_guest_and_input_on_different_disks_differ_at_the_step_the_disk_is_read()
    {
        var disk = File.ReadAllBytes(GuestFile("kernel", "disk.img"));
        var other = disk.ToArray();
        other[0] = (byte)'X'; // "ReplayVm disk!" becomes "XeplayVm disk!": the guest prints what it reads
        var a = RecordKernel(disk);
        var b = RecordKernel(other);

        var result = TraceDiff.Compare(a, b);

        Assert.Equal(TraceDiffOutcome.SetupDiffers, result.Outcome);
        Assert.False(result.Identical);
        Assert.Contains(result.SetupDifferences, d => d.StartsWith("disk 1 ('disk.img' vs 'disk.img'): contents differ"));
        var divergence = Assert.IsType<StateDivergence>(result.Divergence);
        Assert.True(divergence.Step > 1000, $"the disk is read well after boot, not at step {divergence.Step}");
        Assert.Equal(divergence.Step, result.Step);
        Assert.DoesNotContain(result.Notes, n => n.Contains("not run"));
        // The very step is right: the states agree just before it, and differ after it.
        Assert.Null(TraceDiff.DifferencesAt(a, b, divergence.Step - 1));
        Assert.NotNull(TraceDiff.DifferencesAt(a, b, divergence.Step));
    }

    [Fact]
    public void A_guest_recorded_with_and_without_a_disk_is_never_identical()
    {
        var plain = DiffFixtures.Record((byte)'a', 5_000);
        var withDisk = DiffFixtures.Record((byte)'a', 5_000, setup: TestGuests.Echo with { Disks = [GuestDisk.Embedded("d.img", new byte[4096])] });

        var result = TraceDiff.Compare(plain, withDisk);

        Assert.Equal(TraceDiffOutcome.SetupDiffers, result.Outcome);
        Assert.Contains("0 disk(s) vs 1", result.SetupDifferences);
        // The echo guest never touches the disk: replayed side by side, the states agree to the end,
        // and the report says exactly that instead of calling the traces identical.
        Assert.Null(result.Divergence);
        Assert.Contains(result.Notes, n => n.StartsWith("replayed side by side, the machine states never differ up to step"));
    }

    [Fact]
    public void Another_board_revision_is_a_setup_difference()
    {
        var a = TraceReader.Read(TraceBuilder.Write(new TraceHeader(TestGuests.Echo, 1000, "t"), []));
        var b = TraceReader.Read(TraceBuilder.Write(new TraceHeader(TestGuests.Echo, 1000, "t") { BoardRevision = MachineConfig.BoardRevision + 1 }, []));
        Assert.Contains($"board revision {MachineConfig.BoardRevision} vs {MachineConfig.BoardRevision + 1}", SetupComparison.Differences(a.Header, b.Header));
        Assert.Equal(TraceDiffOutcome.SetupDiffers, TraceDiff.Compare(a, b).Outcome);
    }

    [Fact]
    public void Equal_by_determinism_is_claimed_only_after_the_images_are_checked()
    {
        var a = DiffFixtures.Record((byte)'a', 5_000);
        var result = TraceDiff.Compare(a, DiffFixtures.Record((byte)'a', 5_000));
        Assert.Equal(TraceDiffOutcome.Identical, result.Outcome);
        Assert.Contains(result.Notes, n => n.Contains("images and disks checked by SHA-256"));
    }
}
