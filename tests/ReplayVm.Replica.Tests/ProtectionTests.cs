using ReplayVm.Replica.Tests.Support;

namespace ReplayVm.Replica.Tests;

/// <summary>Split brain, lost backups, re-protection and strangers, with real processes.</summary>
public sealed class ProtectionTests
{
    [Fact]
    public void A_second_primary_on_the_same_arbiter_is_refused_with_one_line()
    {
        using var pair = new ReplicaPair();
        pair.StartPrimary(ReplicaProcess.Guest("demo.elf"));
        var second = ReplicaProcess.Run(pair.ConfigHome, "primary", "--arbiter", pair.Arbiter, ReplicaProcess.Guest("demo.elf"));
        Assert.Equal(2, second.Exit);
        Assert.Equal("replayvm: another replica is live: the arbiter " + pair.Arbiter + " is held (a second primary is refused)", second.Stderr.Trim());
    }

    [Fact]
    public void A_client_with_another_key_is_refused_and_the_replica_logs_it()
    {
        using var pair = new ReplicaPair();
        pair.StartPrimary(ReplicaProcess.Guest("demo.elf"));
        var keyFile = Path.Combine(pair.Dir, "other.key");
        File.WriteAllBytes(keyFile, Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray());
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var status = ReplicaProcess.Run(pair.ConfigHome, "status", "--key", keyFile, $"127.0.0.1:{pair.PrimaryConsolePort}");
        Assert.Equal(2, status.Exit);
        Assert.Single(status.Stderr.Trim().Split('\n'));
        Assert.Contains("does not hold our replica key", status.Stderr);
        pair.Primary!.WaitForLine(@"refused 127\.0\.0\.1:\d+: ");
        // The default key file was created private.
        var defaultKey = Path.Combine(pair.ConfigHome, "replayvm", "replica.key");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(defaultKey));
        var ok = ReplicaProcess.Run(pair.ConfigHome, "status", $"127.0.0.1:{pair.PrimaryConsolePort}");
        Assert.Equal(0, ok.Exit);
        Assert.StartsWith("role primary\n", System.Text.Encoding.UTF8.GetString(ok.Stdout));
    }

    /// <summary>
    /// A partition that cuts only the log channel: the backup stops (the arbiter is held by the live
    /// primary), the primary runs on unprotected, the client sees the whole run once, and there is
    /// never a second live replica.
    /// </summary>
    [Fact]
    public void Cutting_only_the_log_channel_never_leaves_two_live_replicas()
    {
        using var pair = new ReplicaPair();
        pair.StartBackup();
        using var proxy = new CuttableProxy(pair.BackupLogPort);
        // The guest waits for a key before its last line, so the cut lands while it runs, however
        // fast the machine gets through the bursts.
        pair.StartPrimary(ChatterGuest.KeyWaitingPath, proxy.Port);
        pair.Backup!.WaitForLine("following the primary");
        pair.Primary!.WaitForLine("caught up");
        using var console = pair.StartConsole();
        Thread.Sleep(300);
        proxy.Cut();
        Assert.Equal(ExitStatuses.LostArbiter, pair.Backup.WaitForExit());
        // Either the live primary still held the arbiter, or it had already finished: in both cases the
        // arbiter refuses this backup, whose log stopped where the primary went on without it.
        pair.Backup.WaitForLine("(is held by another replica|the primary had gone on without this backup).* this backup stops");
        Assert.DoesNotContain("live at step", pair.Backup.Stderr);
        console.Stdin.Write("k"u8);
        console.Stdin.Close();
        Assert.Equal(0, console.WaitForExit());
        Assert.Equal(0, pair.Primary!.WaitForExit());
        pair.Primary.WaitForLine("backup lost: .*running unprotected");
        var expected = ReplicaProcess.Run(pair.ConfigHome, "run", ChatterGuest.Path);
        Assert.Equal(expected.Stdout, console.Stdout);
        Assert.Equal(expected.Stdout, pair.Replay(pair.PrimaryTrace).Console);
    }

    /// <summary>
    /// A slow network on the log channel (each piece held up to 40 ms, in order, both ways): the
    /// backup follows to the end without diverging or going live, the primary never loses it, the
    /// client sees the console-heavy guest's output once, and both traces replay to it.
    /// </summary>
    [Fact]
    public void A_slow_log_channel_holds_the_output_longer_but_never_diverges()
    {
        using var pair = new ReplicaPair();
        pair.StartBackup();
        using var proxy = new CuttableProxy(pair.BackupLogPort) { MaxDelayMs = 40 };
        pair.StartPrimary(ChatterGuest.Path, proxy.Port);
        using var console = pair.StartConsole();
        console.Stdin.Close();
        Assert.Equal(0, console.WaitForExit());
        Assert.Equal(0, pair.Primary!.WaitForExit());
        Assert.Equal(0, pair.Backup!.WaitForExit());
        // The primary's goodbye travels the slow channel too: on a loaded machine it can arrive after
        // the backup has heard nothing for its heartbeat timeout and found the arbiter free (the
        // primary released it on exit). Taking over after the end, only to serve the console's rest,
        // is then the right call; either way the backup replayed the whole run and never diverged.
        pair.Backup.WaitForLine(@"the primary ended the run at step \d+; this backup replayed all of it|took over after the end of the run \(step \d+\)");
        Assert.DoesNotContain("live at step", pair.Backup.Stderr);
        Assert.DoesNotContain("backup lost", pair.Primary.Stderr);
        var expected = ReplicaProcess.Run(pair.ConfigHome, "run", ChatterGuest.Path);
        Assert.Equal(expected.Stdout, console.Stdout);
        Assert.Equal(expected.Stdout, pair.Replay(pair.PrimaryTrace).Console);
        Assert.Equal(expected.Stdout, pair.Replay(pair.BackupTrace).Console);
    }

    /// <summary>
    /// A network that reorders the log (the primary's fourth frame delivered after its fifth): each
    /// frame is authenticated with its position in the stream, so the backup refuses the stream
    /// with one line and stops (exit 3) instead of replaying a log out of order; the primary runs
    /// on unprotected, the client still sees the console once, and the backup never goes live.
    /// </summary>
    [Fact]
    public void A_log_channel_that_reorders_frames_stops_the_backup_and_the_primary_runs_on()
    {
        using var pair = new ReplicaPair();
        pair.StartBackup();
        using var proxy = new CuttableProxy(pair.BackupLogPort) { SwapFrame = 3 };
        pair.StartPrimary(ChatterGuest.Path, proxy.Port);
        using var console = pair.StartConsole();
        console.Stdin.Close();
        Assert.Equal(ExitStatuses.Diverged, pair.Backup!.WaitForExit());
        pair.Backup.WaitForLine(@"sent a frame that fails authentication \(corrupted, reordered or replayed\)");
        Assert.DoesNotContain("live at step", pair.Backup.Stderr);
        Assert.Equal(0, console.WaitForExit());
        Assert.Equal(0, pair.Primary!.WaitForExit());
        pair.Primary.WaitForLine("backup lost: .*running unprotected");
        var expected = ReplicaProcess.Run(pair.ConfigHome, "run", ChatterGuest.Path);
        Assert.Equal(expected.Stdout, console.Stdout);
        Assert.Equal(expected.Stdout, pair.Replay(pair.PrimaryTrace).Console);
    }

    /// <summary>
    /// Kill the backup: the primary says so and runs on; a new backup joins the running primary,
    /// replays its log from step 0 and follows it; then the new backup takes over when the primary
    /// is killed in turn — join, fail over, and the console is the demo's transcript exactly once.
    /// </summary>
    [Fact]
    public void A_killed_backup_is_replaced_by_one_that_joins_the_running_primary_and_takes_over()
    {
        using var pair = new ReplicaPair();
        pair.StartBackup();
        pair.StartPrimary(ReplicaProcess.Guest("demo.elf"));
        pair.Backup!.WaitForLine("following the primary");
        pair.Backup.KillHard();
        pair.Primary!.WaitForLine("backup lost: .*running unprotected");
        var unprotected = ReplicaProcess.Run(pair.ConfigHome, "status", $"127.0.0.1:{pair.PrimaryConsolePort}");
        Assert.Contains("backup none (unprotected)", System.Text.Encoding.UTF8.GetString(unprotected.Stdout));

        var joinedTrace = Path.Combine(pair.Dir, "joined.rvtrace");
        using var joiner = new ReplicaProcess(["backup", "--listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0", "--arbiter", pair.Arbiter,
            "-o", joinedTrace, "--deterministic", .. ReplicaPair.Timing, "--join", $"127.0.0.1:{pair.PrimaryConsolePort}"], pair.ConfigHome, "joiner");
        int joinerConsole = joiner.Port("backup console");
        joiner.WaitForLine("join: streaming the log to");
        joiner.WaitForLine("following the primary");
        using var console = new ReplicaProcess(["console", $"127.0.0.1:{pair.PrimaryConsolePort},127.0.0.1:{joinerConsole}", "--patience", "60"], pair.ConfigHome, "console");
        var lines = File.ReadAllLines(Path.Combine(ReplicaProcess.RepoRoot, "tools", "guests", "expected", "demo.stdin"));
        void Type(IEnumerable<string> keys)
        {
            foreach (var line in keys) console.Stdin.Write(System.Text.Encoding.UTF8.GetBytes(line + "\n"));
            console.Stdin.Flush();
        }
        Type(lines.Take(8));
        Thread.Sleep(1000);
        pair.Primary.KillHard();
        joiner.WaitForLine(": live at step ");
        Type(lines.Skip(8));
        console.Stdin.Close();
        Assert.Equal(0, console.WaitForExit());
        Assert.Equal(0, joiner.WaitForExit());
        var replay = pair.Replay(joinedTrace);
        Assert.True(replay.Exit == 0, replay.Stderr);
        Assert.Equal(console.Stdout, replay.Console);
        static string Masked(byte[] b) => string.Join('\n', System.Text.Encoding.UTF8.GetString(b).Split('\n').Select(l => l.StartsWith("rand: ") ? "rand: *" : l));
        Assert.Equal(Masked(File.ReadAllBytes(Path.Combine(ReplicaProcess.RepoRoot, "tools", "guests", "expected", "demo.out"))), Masked(console.Stdout));
    }
}
