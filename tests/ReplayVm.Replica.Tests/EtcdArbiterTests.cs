using System.Text;
using ReplayVm.Replica.Arbiter;
using ReplayVm.Replica.Tests.Support;

namespace ReplayVm.Replica.Tests;

/// <summary>The etcd arbiter against a real etcd started by the test (127.0.0.1, free ports, a temporary data directory).</summary>
public sealed class EtcdArbiterTests
{
    [Fact]
    public void One_holder_at_a_time_and_the_next_reads_the_successor_the_last_one_named()
    {
        using var etcd = new EtcdServer();
        using var a = (EtcdArbiter)Arbiters.Open(etcd.Arbiter("unit"), "a");
        using var b = (EtcdArbiter)Arbiters.Open(etcd.Arbiter("unit"), "b");
        using var other = (EtcdArbiter)Arbiters.Open(etcd.Arbiter("another-guest"), "c");
        Assert.True(a.TryAcquire(TimeSpan.Zero));
        Assert.True(a.Held);
        Assert.Null(a.ReadSuccessor());
        Assert.False(b.TryAcquire(TimeSpan.FromMilliseconds(300)));
        Assert.False(b.Held);
        Assert.True(other.TryAcquire(TimeSpan.Zero)); // another name is another guest
        Assert.Throws<ReplicaException>(() => b.PublishSuccessor("forged"));
        a.PublishSuccessor("stream-1");
        a.PublishSuccessor("stream-2");
        a.Dispose(); // revokes the lease: the live key goes at once
        Assert.True(b.TryAcquire(TimeSpan.FromSeconds(5)));
        Assert.Equal("stream-2", b.ReadSuccessor());
    }

    [Fact]
    public void Bad_etcd_arbiter_specs_are_one_line_errors()
    {
        foreach (var spec in new[] { "etcd://", "etcd://127.0.0.1", "etcd://127.0.0.1:2379/a/b", "etcd://127.0.0.1:2379/x?ttl=0", "etcd://127.0.0.1:2379/x?lease=5" })
        {
            var e = Assert.Throws<ReplicaException>(() => Arbiters.Open(spec, "x").Dispose());
            Assert.DoesNotContain('\n', e.Message);
            Assert.StartsWith("--arbiter: ", e.Message);
        }
    }

    [Fact]
    public void An_unreachable_etcd_is_one_line_and_a_primary_refuses_to_start()
    {
        using var pair = new ReplicaPair { Arbiter = "etcd://127.0.0.1:1/test" };
        var primary = ReplicaProcess.Run(pair.ConfigHome, "primary", "--arbiter", pair.Arbiter, ReplicaProcess.Guest("demo.elf"));
        Assert.Equal(2, primary.Exit);
        Assert.Single(primary.Stderr.Trim().Split('\n'));
        Assert.StartsWith("replayvm: etcd://127.0.0.1:1/test: cannot reach etcd", primary.Stderr);
    }

    [Fact]
    public void A_second_primary_on_the_same_etcd_is_refused_with_one_line()
    {
        using var etcd = new EtcdServer();
        using var pair = new ReplicaPair { Arbiter = etcd.Arbiter() };
        pair.StartPrimary(ReplicaProcess.Guest("demo.elf"));
        var second = ReplicaProcess.Run(pair.ConfigHome, "primary", "--arbiter", pair.Arbiter, ReplicaProcess.Guest("demo.elf"));
        Assert.Equal(2, second.Exit);
        Assert.Equal("replayvm: another replica is live: the arbiter " + etcd.Arbiter() + " is held (a second primary is refused)", second.Stderr.Trim());
    }

    /// <summary>
    /// kill -9 of the primary during the chatter guest's output under the etcd arbiter: the backup
    /// goes live once the dead primary's lease expires, and the client's console is the survivor's
    /// trace's console, nothing lost or doubled.
    /// </summary>
    [Fact]
    public void A_killed_primary_is_taken_over_once_its_lease_expires()
    {
        // The guest waits for a key before it ends, so the kill lands while it still runs.
        var chatter = ChatterGuest.KeyWaitingPath;
        using var etcd = new EtcdServer();
        using var pair = new ReplicaPair { Arbiter = etcd.Arbiter() };
        pair.StartBackup();
        pair.StartPrimary(chatter);
        pair.Backup!.WaitForLine("following the primary");
        // Killed before it has named the backup its successor (in etcd), the primary would leave a
        // backup that rightly refuses to go live: kill it once the guest is protected.
        pair.Primary!.WaitForLine("caught up");
        using var console = pair.StartConsole();
        pair.Primary.KillHard();
        pair.Backup.WaitForLine(": live at step ");
        console.Stdin.Write("k"u8);
        console.Stdin.Close();
        int consoleExit = console.WaitForExit(), backupExit = pair.Backup.WaitForExit();
        string context = $"console {consoleExit}, backup {backupExit}\n--- backup ---\n{pair.Backup.Stderr}\n--- console ---\n{console.Stderr}";
        Assert.True(consoleExit == 0 && backupExit == 0, context);
        Assert.Contains(": live at step ", pair.Backup.Stderr);
        var replay = pair.Replay(pair.BackupTrace);
        Assert.True(replay.Exit == 0, context + "\n--- replay ---\n" + replay.Stderr);
        Assert.Equal(replay.Console, console.Stdout);
        Assert.EndsWith("chatter done\n", Encoding.UTF8.GetString(console.Stdout));
    }

    /// <summary>A partition of the log channel alone under etcd: the primary keeps its lease, the backup never goes live and stops with one line.</summary>
    [Fact]
    public void Cutting_only_the_log_channel_never_leaves_two_live_replicas_under_etcd()
    {
        using var etcd = new EtcdServer();
        using var pair = new ReplicaPair { Arbiter = etcd.Arbiter() };
        pair.StartBackup();
        using var proxy = new CuttableProxy(pair.BackupLogPort);
        pair.StartPrimary(ReplicaProcess.Guest("demo.elf"), proxy.Port);
        pair.Primary!.WaitForLine("caught up");
        proxy.Cut();
        Assert.Equal(ExitStatuses.LostArbiter, pair.Backup!.WaitForExit());
        pair.Backup.WaitForLine("(is held by another replica|the primary had gone on without this backup).* this backup stops");
        Assert.DoesNotContain("live at step", pair.Backup.Stderr);
        pair.Primary.WaitForLine("backup lost");
        var status = ReplicaProcess.Run(pair.ConfigHome, "status", $"127.0.0.1:{pair.PrimaryConsolePort}");
        Assert.True(status.Exit == 0, status.Stderr);
        Assert.StartsWith("role primary\n", Encoding.UTF8.GetString(status.Stdout));
        Assert.Contains($"arbiter {etcd.Arbiter()} (held)", Encoding.UTF8.GetString(status.Stdout));
    }
}
