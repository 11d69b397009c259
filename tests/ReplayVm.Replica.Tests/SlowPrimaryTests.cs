using ReplayVm.Replica.Tests.Support;

namespace ReplayVm.Replica.Tests;

/// <summary>
/// A primary that is merely slow (stopped for a second with SIGSTOP, then continued) looks dead to a
/// backup on the default heartbeat timeout (150 ms). The backup suspects it, but the arbiter — held
/// by the stopped primary — says it is alive: the backup follows on, the primary keeps its backup,
/// and the backup is still a valid successor when the primary really dies later.
/// </summary>
public sealed class SlowPrimaryTests
{
    [Fact]
    public void A_backup_never_goes_live_while_a_stopped_primary_holds_the_arbiter_and_stays_its_successor()
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

        // Silence far beyond the timeout: the backup suspected the primary, found the arbiter held by
        // the (stopped, not dead) primary, and followed on; it hears the primary again.
        backup.WaitForLine($"the primary at 127\\.0\\.0\\.1:\\d+ has been silent for \\d+ ms but holds the arbiter {System.Text.RegularExpressions.Regex.Escape(pair.Arbiter)}: it is alive; still following");
        backup.WaitForLine("the primary at .* is heard again: still following");
        Assert.DoesNotContain("live at step", backup.Stderr);
        Assert.False(backup.HasExited, backup.Stderr);

        // The primary, continued, is the one live replica, still protected by the same backup.
        var status = ReplicaProcess.Run(pair.ConfigHome, "status", $"127.0.0.1:{consolePort}");
        Assert.True(status.Exit == 0, status.Stderr);
        Assert.StartsWith("role primary\n", System.Text.Encoding.UTF8.GetString(status.Stdout));
        Assert.DoesNotContain("backup lost", primary.Stderr);

        // And the backup is still its successor: a real death now is a failover.
        primary.KillHard();
        backup.WaitForLine(@": live at step \d+");
    }
}
