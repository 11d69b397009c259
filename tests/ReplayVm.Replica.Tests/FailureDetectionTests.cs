using System.Text;
using ReplayVm.Replica.Tests.Support;

namespace ReplayVm.Replica.Tests;

/// <summary>
/// Failure detection on a loaded machine, on the default heartbeat timing (25 ms interval, 150 ms
/// timeout): silence only makes a replica suspect its peer, the arbiter decides. A starved replica
/// is simulated exactly by stopping it (SIGSTOP) for longer than the timeout: to its peer a process
/// that gets no CPU and a stopped one look the same.
/// </summary>
public sealed class FailureDetectionTests
{
    private static string[] DefaultTiming => ["--linger", "5"];

    /// <summary>
    /// Both replicas stopped in turn for 400 ms at a time (far beyond the 150 ms timeout) while the
    /// chatter guest runs to its end: the backup suspects the primary, finds it holding the
    /// arbiter and follows on; the primary never drops its backup; there is no failover at all, and
    /// the client's console and both traces are the guest's whole run.
    /// </summary>
    [Fact]
    public void Starved_replicas_on_the_default_heartbeat_never_fail_over()
    {
        var chatter = ChatterGuest.Path;
        var expected = ReplicaProcess.Run(Path.GetTempPath(), "run", chatter);
        Assert.Equal(0, expected.Exit);
        using var pair = new ReplicaPair();
        using var backup = new ReplicaProcess(["backup", "--listen", "127.0.0.1:0", "--arbiter", pair.Arbiter, "-o", pair.BackupTrace, "--deterministic", .. DefaultTiming],
            pair.ConfigHome, "backup");
        int logPort = backup.Port("backup");
        using var primary = new ReplicaProcess(["primary", "--backup", $"127.0.0.1:{logPort}", "--console-listen", "127.0.0.1:0", "--arbiter", pair.Arbiter,
            "-o", pair.PrimaryTrace, "--deterministic", .. DefaultTiming, chatter], pair.ConfigHome, "primary");
        int consolePort = primary.Port("primary console");
        backup.WaitForLine("following the primary");
        using var console = new ReplicaProcess(["console", $"127.0.0.1:{consolePort}", "--patience", "60"], pair.ConfigHome, "console");
        console.Stdin.Close();
        int consoleExit, primaryExit;
        using (Signals.Throttle(primary.Id, 800))
        using (Signals.Throttle(backup.Id, 800, offsetMs: 200))
        {
            consoleExit = console.WaitForExit(300);
            primaryExit = primary.WaitForExit(300);
        }
        int backupExit = backup.WaitForExit();
        string context = $"console {consoleExit}, primary {primaryExit}, backup {backupExit}\n--- primary ---\n{primary.Stderr}\n--- backup ---\n{backup.Stderr}\n--- console ---\n{console.Stderr}";
        Assert.True(consoleExit == 0 && primaryExit == 0 && backupExit == 0, context);
        // The starvation was real: the backup suspected the primary at least once, and the arbiter kept it following.
        Assert.True(backup.Stderr.Contains("but holds the arbiter " + pair.Arbiter + ": it is alive; still following", StringComparison.Ordinal), context);
        Assert.DoesNotContain("live at step", backup.Stderr);
        Assert.DoesNotContain("backup lost", primary.Stderr);
        backup.WaitForLine("the primary ended the run at step \\d+; this backup replayed all of it");
        Assert.Equal(expected.Stdout, console.Stdout);
        var primaryReplay = pair.Replay(pair.PrimaryTrace);
        var backupReplay = pair.Replay(pair.BackupTrace);
        Assert.True(primaryReplay.Exit == 0 && backupReplay.Exit == 0, primaryReplay.Stderr + "\n" + backupReplay.Stderr);
        Assert.Equal(expected.Stdout, backupReplay.Console);
    }

    /// <summary>
    /// A primary that dies without its connection closing (a host crash, or a partition followed by
    /// a death: here the log channel is cut, then the primary is killed): no socket error ever
    /// reaches the backup, only silence. The backup suspects, wins the arbiter the dead primary no
    /// longer holds, and takes over; the client's console is the survivor's trace's console, once.
    /// </summary>
    [Fact]
    public void A_silent_dead_primary_is_taken_over_when_the_arbiter_says_so()
    {
        // The guest waits for a key before it ends, so it is still running when the channel is cut.
        var chatter = ChatterGuest.KeyWaitingPath;
        using var pair = new ReplicaPair();
        using var backup = new ReplicaProcess(["backup", "--listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0", "--arbiter", pair.Arbiter,
            "-o", pair.BackupTrace, "--deterministic", .. DefaultTiming], pair.ConfigHome, "backup");
        int logPort = backup.Port("backup"), backupConsole = backup.Port("backup console");
        using var proxy = new CuttableProxy(logPort);
        using var primary = new ReplicaProcess(["primary", "--backup", $"127.0.0.1:{proxy.Port}", "--console-listen", "127.0.0.1:0", "--arbiter", pair.Arbiter,
            "-o", pair.PrimaryTrace, "--deterministic", .. DefaultTiming, chatter], pair.ConfigHome, "primary");
        int consolePort = primary.Port("primary console");
        primary.WaitForLine("caught up");
        using var console = new ReplicaProcess(["console", $"127.0.0.1:{consolePort},127.0.0.1:{backupConsole}", "--patience", "60"], pair.ConfigHome, "console");
        proxy.Cut();
        primary.KillHard();
        backup.WaitForLine(@"was silent for \d+ ms and no longer holds the arbiter: live at step");
        console.Stdin.Write("k"u8);
        console.Stdin.Close();
        int consoleExit = console.WaitForExit(), backupExit = backup.WaitForExit();
        string context = $"console {consoleExit}, backup {backupExit}\n--- backup ---\n{backup.Stderr}\n--- console ---\n{console.Stderr}";
        Assert.True(consoleExit == 0 && backupExit == 0, context);
        Assert.Matches(@"the primary at 127\.0\.0\.1:\d+ was silent for \d+ ms and no longer holds the arbiter: live at step \d+", backup.Stderr);
        var replay = pair.Replay(pair.BackupTrace);
        Assert.True(replay.Exit == 0, context + "\n--- replay ---\n" + replay.Stderr);
        Assert.Equal(replay.Console, console.Stdout);
        Assert.EndsWith("chatter done\n", Encoding.UTF8.GetString(console.Stdout));
    }
}
