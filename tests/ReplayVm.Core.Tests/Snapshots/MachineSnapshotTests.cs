using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core.State;

namespace ReplayVm.Core.Tests.Snapshots;

/// <summary>
/// Restoring a machine snapshot and running on must reproduce the first run exactly: same state
/// hash, same console output, same stop. Covers the committed guests, each exercising different
/// state: bench (RAM, CPU), traps (CSRs, CLINT interrupts, U-mode), kernel (Sv39, PLIC, UART
/// interrupts, virtio-blk writes into its overlay), demo (waiting on input that never comes).
/// </summary>
public sealed class MachineSnapshotTests
{
    public sealed record Case(string Guest, ulong Before, ulong After, ulong Later)
    {
        public override string ToString() => $"{Guest}: {Before} steps, snapshot, {After} steps, snapshot, {Later} steps";
    }

    public static class Cases
    {
        public static Arbitrary<Case> Arb() =>
            (from guest in Gen.Elements(GuestRun.Names)
             from before in Gen.Choose(0, 3_000_000)
             from after in Gen.Choose(1, 2_000_000)
             from later in Gen.Choose(1, 2_000_000)
             select new Case(guest, (ulong)before, (ulong)after, (ulong)later)).ToArbitrary();
    }

    [Property(Arbitrary = [typeof(Cases)], MaxTest = 24)]
    public void Restoring_a_snapshot_reproduces_the_run_that_followed_it(Case c)
    {
        var run = GuestRun.Boot(c.Guest);
        run.Machine.Run(c.Before);
        var point = run.Capture();
        var expected = run.Observe(run.Machine.Run(c.After));

        run.Restore(point);
        Assert.Equal(point.Snapshot.Step, run.Machine.Hart.Steps);
        var actual = run.Observe(run.Machine.Run(c.After));

        Assert.Equal(expected.Steps, actual.Steps);
        Assert.Equal(expected.Reason, actual.Reason);
        Assert.Equal(expected.Output, actual.Output);
        Assert.Equal(expected.Hash, actual.Hash);
    }

    [Property(Arbitrary = [typeof(Cases)], MaxTest = 16)]
    public void Older_and_newer_snapshots_restore_in_any_order(Case c)
    {
        var run = GuestRun.Boot(c.Guest);
        run.Machine.Run(c.Before);
        var older = run.Capture();
        var atOlder = run.Hash();
        run.Machine.Run(c.After);
        var newer = run.Capture(older.Snapshot);
        var atNewer = run.Hash();
        var end = run.Observe(run.Machine.Run(c.Later));

        // newest first, then the older one, then forward again from the newer one
        run.Restore(older);
        Assert.Equal(atOlder, run.Hash());
        run.Restore(newer);
        Assert.Equal(atNewer, run.Hash());
        Assert.Equal(end.Hash, run.Observe(run.Machine.Run(c.Later)).Hash);

        // and from the older one all the way, through the newer point
        run.Restore(older);
        run.Machine.Run(c.After);
        Assert.Equal(atNewer, run.Hash());
        var again = run.Observe(run.Machine.Run(c.Later));
        Assert.Equal(end.Output, again.Output);
        Assert.Equal(end.Hash, again.Hash);
    }

    [Fact]
    public void A_snapshot_against_a_basis_copies_only_pages_written_since()
    {
        var run = GuestRun.Boot("bench");
        run.Machine.Run(1_000_000);
        var first = run.Machine.CaptureSnapshot();
        run.Machine.Run(1_000);
        var second = run.Machine.CaptureSnapshot(first);

        Assert.True(first.PrivatePages.Count > 0);
        Assert.True(second.PrivatePages.Count < first.PrivatePages.Count / 4,
            $"{second.PrivatePages.Count} private pages after 1000 steps, {first.PrivatePages.Count} in the full snapshot");
        Assert.True(second.PrivateBytes < first.PrivateBytes);
        int shared = Enumerable.Range(0, second.PageCount).Count(p => second.SharesPage(p, first));
        Assert.Equal(second.PageCount - second.PrivatePages.Count, shared);
    }

    [Fact]
    public void Restore_rewinds_the_disk_overlay_and_a_pending_exit()
    {
        var run = GuestRun.Boot("kernel");
        var start = run.Capture();
        var finished = run.Machine.Run(2_000_000_000);
        Assert.Equal(StopReason.GuestExit, finished.Reason);
        Assert.Contains("kernel: all checks passed", System.Text.Encoding.ASCII.GetString(run.Output.ToArray()));
        var overlay = run.Disk!;
        Assert.True(overlay.DirtyPageCount > 0, "the kernel writes sector 1");

        run.Restore(start);
        Assert.Equal(0, overlay.DirtyPageCount);
        Assert.Equal(StopReason.InstructionLimit, run.Machine.Run(10).Reason);

        var again = run.Machine.Run(2_000_000_000);
        Assert.Equal(finished.InstructionsRetired, again.InstructionsRetired);
        Assert.Equal(finished.ExitCode, again.ExitCode);
    }

    [Fact]
    public void A_snapshot_from_another_machine_is_refused()
    {
        var a = GuestRun.Boot("bench");
        var b = GuestRun.Boot("bench");
        var snapshot = a.Machine.CaptureSnapshot();
        Assert.Throws<ArgumentException>(() => b.Machine.RestoreSnapshot(snapshot));
    }
}
