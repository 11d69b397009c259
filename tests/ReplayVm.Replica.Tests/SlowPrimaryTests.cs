using ReplayVm.Replica.Tests.Support;

namespace ReplayVm.Replica.Tests;

/// <summary>
/// A primary that is merely slow (stopped for a second with SIGSTOP, then continued) looks dead to a
/// backup on the default heartbeat timeout (150 ms); the backup may give up, but it must never go
/// live while the primary is alive and holds the arbiter.
/// </summary>
public sealed class SlowPrimaryTests
{
    [Fact]
    public void A_backup_never_goes_live_while_a_stopped_primary_holds_the_arbiter()
    {
        using var pair = new ReplicaPair();
        // The default heartbeat timing on purpose (no ReplicaPair.Timing): the stop must look like a death.
        using var backup = new ReplicaProcess(["backup", "--listen", "127.0.0.1:0", "--arbiter", pair.Arbiter, "-o", pair.BackupTrace, "--deterministic"],
            pair.ConfigHome, "backup");
        int logPort = backup.Port("backup");
        using var primary = new ReplicaProcess(["primary", "--backup", $"127.0.0.1:{logPort}", "--console-listen", "127.0.0.1:0", "--arbiter", pair.Arbiter,
            "-o", pair.PrimaryTrace, "--deterministic", ReplicaProcess.Guest("demo.elf")], pair.ConfigHome, "primary");
        int consolePort = primary.Port("primary console");
        primary.WaitForLine("caught up");

        Signals.Send("STOP", primary.Id);
        Thread.Sleep(1000);
        Signals.Send("CONT", primary.Id);

        // Silence far beyond the timeout: the backup declares the primary dead, finds the arbiter
        // held by the (stopped, not dead) primary, and stops without going live.
        Assert.Equal(ExitStatuses.LostArbiter, backup.WaitForExit());
        backup.WaitForLine("(is held by another replica|the primary had gone on without this backup).* this backup stops");
        Assert.DoesNotContain("live at step", backup.Stderr);

        // The primary, continued, is the one live replica and still serves its guest.
        var status = ReplicaProcess.Run(pair.ConfigHome, "status", $"127.0.0.1:{consolePort}");
        Assert.True(status.Exit == 0, status.Stderr);
        Assert.StartsWith("role primary\n", System.Text.Encoding.UTF8.GetString(status.Stdout));
        Assert.False(primary.HasExited, primary.Stderr);
    }
}
