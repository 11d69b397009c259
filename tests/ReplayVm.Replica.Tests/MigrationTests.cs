using System.Text;
using System.Text.RegularExpressions;
using ReplayVm.Replica.Tests.Support;

namespace ReplayVm.Replica.Tests;

public sealed class MigrationTests
{
    /// <summary>
    /// Migrate the demo between its keystrokes: the target joins, catches up, takes over at the step
    /// the source stopped; the client carries on typing to it; its console is the demo's transcript
    /// once, and the target's trace (the whole history) replays to exactly that console.
    /// </summary>
    [Fact]
    public void A_guest_migrated_mid_session_continues_as_one_history()
    {
        using var pair = new ReplicaPair();
        pair.StartPrimary(ReplicaProcess.Guest("demo.elf"));
        var targetTrace = TraceOf(pair, "target");
        using var target = StartTarget(pair, "target");
        int targetLog = target.Port("backup"), targetConsole = target.Port("backup console");
        using var console = new ReplicaProcess(["console", $"127.0.0.1:{pair.PrimaryConsolePort},127.0.0.1:{targetConsole}", "--patience", "60"], pair.ConfigHome, "console");
        var lines = File.ReadAllLines(Path.Combine(ReplicaProcess.RepoRoot, "tools", "guests", "expected", "demo.stdin"));
        console.Stdin.Write(Encoding.UTF8.GetBytes(string.Join("", lines.Take(6).Select(l => l + "\n"))));
        console.Stdin.Flush();
        Thread.Sleep(500);
        var migrate = ReplicaProcess.Run(pair.ConfigHome, "migrate", "--from", $"127.0.0.1:{pair.PrimaryConsolePort}", "--to", $"127.0.0.1:{targetLog}");
        Assert.True(migrate.Exit == 0, migrate.Stderr + "\n--- target ---\n" + target.Stderr);
        Assert.Matches(@"replayvm: migrated to 127\.0\.0\.1:\d+ at step \d+", migrate.Stderr);
        Assert.Equal(0, pair.Primary!.WaitForExit());
        target.WaitForLine(@"took over the guest at step \d+ \(migration\)");
        console.Stdin.Write(Encoding.UTF8.GetBytes(string.Join("", lines.Skip(6).Select(l => l + "\n"))));
        console.Stdin.Close();
        Assert.Equal(0, console.WaitForExit());
        Assert.Equal(0, target.WaitForExit());
        var replay = pair.Replay(targetTrace);
        Assert.True(replay.Exit == 0, replay.Stderr);
        Assert.Contains("replay identical", replay.Stderr);
        Assert.Equal(console.Stdout, replay.Console);
        static string Masked(byte[] b) => string.Join('\n', Encoding.UTF8.GetString(b).Split('\n').Select(l => l.StartsWith("rand: ") ? "rand: *" : l));
        Assert.Equal(Masked(File.ReadAllBytes(Path.Combine(ReplicaProcess.RepoRoot, "tools", "guests", "expected", "demo.out"))), Masked(console.Stdout));
    }

    /// <summary>
    /// The cause of a CI hang: on a loaded machine the target replays no faster than the guest runs
    /// (the demo spins in its input loop at full speed), so its replay never came within the
    /// handover's bound of the guest and migrate waited silently. Here the target is stopped half
    /// of the time, so it certainly replays slower than the guest runs: the source must hold the
    /// guest back until the target is close, and the target must take over at the step the source
    /// stopped at. An idle demo takes no steps, so the source runs it with <c>--idle-spin</c>: the
    /// guest must keep running for the target to fall behind it.
    /// </summary>
    [Fact]
    public void A_target_that_replays_slower_than_the_guest_runs_still_takes_the_guest_over()
    {
        using var pair = new ReplicaPair();
        pair.StartPrimary(ReplicaProcess.Guest("demo.elf"), null, "--idle-spin");
        using var target = StartTarget(pair, "target");
        int targetLog = target.Port("backup"), targetConsole = target.Port("backup console");
        using var migrate = new ReplicaProcess(["migrate", "--from", $"127.0.0.1:{pair.PrimaryConsolePort}", "--to", $"127.0.0.1:{targetLog}"], pair.ConfigHome, "migrate");
        migrate.Stdin.Close();
        int exit;
        using (Signals.Throttle(target.Id))
            exit = migrate.WaitForExit(300);
        Assert.True(exit == 0, migrate.Stderr + "\n--- source ---\n" + pair.Primary!.Stderr + "\n--- target ---\n" + target.Stderr);
        Assert.Matches(@"replayvm: migrate: the target holds the log through step \d+ and has replayed \d+ steps; holding the guest within \d+ steps of it", migrate.Stderr);
        var stopped = Assert.Single(Regex.Matches(migrate.Stderr, @"replayvm: migrated to 127\.0\.0\.1:\d+ at step (\d+)")).Groups[1].Value;
        Assert.Equal(0, pair.Primary.WaitForExit());
        Assert.Equal(stopped, target.WaitForLine(@"took over the guest at step (\d+) \(migration\)").Groups[1].Value);
        var status = ReplicaProcess.Run(pair.ConfigHome, "status", $"127.0.0.1:{targetConsole}");
        Assert.True(status.Exit == 0, status.Stderr);
        Assert.StartsWith("role primary\n", Encoding.UTF8.GetString(status.Stdout));
    }

    /// <summary>
    /// migrate never waits silently: a target cut off once it has joined is lost (the source stops
    /// streaming to it after the heartbeat timeout) and migrate fails with one line, the guest running
    /// on at the source and the cut-off target never going live; a source that falls silent
    /// mid-migration (SIGSTOP) makes migrate give up after --patience with one line.
    /// The proxy drops the target's acknowledgements from the start, so the migration can neither
    /// converge nor hand over: it failed under load when the test, slow to read the target's line,
    /// cut (or stopped the source) only after a healthy migration had already completed — which
    /// takes about a second once the target has joined. Now the test has the source's heartbeat
    /// timeout (15 s, <see cref="ReplicaPair.Timing"/>) to act in, however loaded the machine.
    /// </summary>
    [Fact]
    public void A_migration_whose_target_or_source_falls_silent_fails_with_one_line_and_the_guest_runs_on()
    {
        using var pair = new ReplicaPair();
        pair.StartPrimary(ReplicaProcess.Guest("demo.elf"));
        string from = $"127.0.0.1:{pair.PrimaryConsolePort}";

        using (var target = StartTarget(pair, "target"))
        using (var proxy = new CuttableProxy(target.Port("backup")) { DropReplies = true })
        using (var migrate = new ReplicaProcess(["migrate", "--from", from, "--to", $"127.0.0.1:{proxy.Port}"], pair.ConfigHome, "migrate"))
        {
            migrate.Stdin.Close();
            pair.Primary!.WaitForLine($@"streaming the log to backup 127\.0\.0\.1:{proxy.Port} ");
            // Cut once the target has joined: cut earlier, it never hears of a primary and rightly waits on.
            target.WaitForLine("following the primary");
            proxy.Cut();
            Assert.True(migrate.WaitForExit() == 1, migrate.Stderr);
            // Its acknowledgements dropped, the target never gets as far as the handover.
            Assert.Matches(@"^replayvm: failed: the target 127\.0\.0\.1:\d+ was lost before the handover; the guest runs on here$",
                migrate.Stderr.Split('\n')[^1]);
            Assert.Equal(ExitStatuses.LostArbiter, target.WaitForExit());
            Assert.DoesNotContain("took over the guest", target.Stderr);
            target.WaitForLine("is held by another replica.* this backup stops");
        }

        using (var target = StartTarget(pair, "target2"))
        using (var proxy = new CuttableProxy(target.Port("backup")) { DropReplies = true })
        using (var migrate = new ReplicaProcess(["migrate", "--from", from, "--to", $"127.0.0.1:{proxy.Port}", "--patience", "3"], pair.ConfigHome, "migrate"))
        {
            migrate.Stdin.Close();
            pair.Primary.WaitForLine($@"streaming the log to backup 127\.0\.0\.1:{proxy.Port} ");
            Assert.True(Signals.TrySend("STOP", pair.Primary.Id), "kill -STOP failed: the source exited?\n" + pair.Primary.Stderr);
            proxy.Cut();
            try
            {
                Assert.True(migrate.WaitForExit() == 2, migrate.Stderr);
            }
            finally
            {
                Signals.Send("CONT", pair.Primary.Id);
            }
            // The source is stopped right after it starts streaming to the target, which may be before
            // it has reported the join to migrate (a join now sends a snapshot first): with or without
            // that last report, the failure is one line naming the silent source.
            Assert.Matches($@"^replayvm: {Regex.Escape(from)}: the replica went silent for 3 s during the migration(; its last report: the target 127\.0\.0\.1:{proxy.Port} joined at step \d+.*)?$",
                migrate.Stderr.Split('\n')[^1]);
        }

        // The source, continued, is still the live replica and serves its guest.
        var status = ReplicaProcess.Run(pair.ConfigHome, "status", from);
        Assert.True(status.Exit == 0, status.Stderr);
        Assert.StartsWith("role primary\n", Encoding.UTF8.GetString(status.Stdout));
        Assert.False(pair.Primary.HasExited, pair.Primary.Stderr);
    }

    /// <summary>
    /// Before it has anything to report, the source connects to the target and has the guest pause
    /// for the target's join (up to 10 + 30 s). Here the target answers the source's connection 6 s
    /// late (a proxy holds it) and migrate's patience is 3 s: a source that is alive and working must
    /// keep migrate informed all that while, so the migration completes, rather than migrate giving
    /// up on a "silent" source.
    /// </summary>
    [Fact]
    public void A_source_slow_to_reach_its_target_is_not_taken_for_silent()
    {
        using var pair = new ReplicaPair();
        pair.StartPrimary(ReplicaProcess.Guest("demo.elf"));
        using var target = StartTarget(pair, "target");
        using var proxy = new CuttableProxy(target.Port("backup")) { HoldFor = TimeSpan.FromSeconds(6) };
        var migrate = ReplicaProcess.Run(pair.ConfigHome, "migrate", "--from", $"127.0.0.1:{pair.PrimaryConsolePort}", "--to", $"127.0.0.1:{proxy.Port}", "--patience", "3");
        Assert.True(migrate.Exit == 0, migrate.Stderr + "\n--- source ---\n" + pair.Primary!.Stderr + "\n--- target ---\n" + target.Stderr);
        var stopped = Assert.Single(Regex.Matches(migrate.Stderr, @"replayvm: migrated to 127\.0\.0\.1:\d+ at step (\d+)")).Groups[1].Value;
        Assert.Equal(0, pair.Primary.WaitForExit());
        Assert.Equal(stopped, target.WaitForLine(@"took over the guest at step (\d+) \(migration\)").Groups[1].Value);
    }

    private static string TraceOf(ReplicaPair pair, string name) => Path.Combine(pair.Dir, name + ".rvtrace");

    private static ReplicaProcess StartTarget(ReplicaPair pair, string name) =>
        new(["backup", "--listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0", "--arbiter", pair.Arbiter,
            "-o", TraceOf(pair, name), "--deterministic", .. ReplicaPair.Timing], pair.ConfigHome, name);
}
