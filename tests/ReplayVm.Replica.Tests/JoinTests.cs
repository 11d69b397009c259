using System.Text;
using System.Text.RegularExpressions;
using ReplayVm.Replica.Tests.Support;

namespace ReplayVm.Replica.Tests;

/// <summary>Joining a running primary by state transfer, failing over to the joined backup, re-protecting and failing over again.</summary>
public sealed class JoinTests
{
    /// <summary>Steps the primary runs alone before the first backup joins: far more than a backup replaying from step 0 would want to catch up on.</summary>
    private const ulong LongRun = 50_000_000;

    private static ReplicaProcess Backup(ReplicaPair pair, string trace, string name, params string[] extra) =>
        new(["backup", "--listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0", "--arbiter", pair.Arbiter,
            "-o", trace, "--deterministic", .. ReplicaPair.Timing, .. extra], pair.ConfigHome, name);

    /// <summary>
    /// The demo runs alone for 5×10⁷ steps; a backup joins and starts from a snapshot at least
    /// that far in (it does not replay the history); the primary is killed and the joined backup
    /// takes over; it then protects itself with a second backup (its <c>--backup</c>), which joins
    /// it the same way; the first is killed and the second takes over. One client, typing all
    /// along, sees the demo's transcript exactly once, and the last replica's trace, which holds
    /// the whole history from step 0, replays to the same console. The demo idles at its prompt
    /// until typed at, and an idle live replica takes no steps, so the primary runs with
    /// <c>--idle-spin</c> (its wfi is a no-op, as QEMU's <c>-icount sleep=off</c>) to build the long
    /// history; the backups go live without it, so the second joins a replica idling at the prompt.
    /// </summary>
    [Fact]
    public void A_backup_joins_a_long_running_primary_by_snapshot_takes_over_and_is_itself_re_protected()
    {
        using var pair = new ReplicaPair();
        pair.StartPrimary(ReplicaProcess.Guest("demo.elf"), null, "--idle-spin");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        ulong seen;
        while ((seen = ReplicaProcess.StatusStep(pair.ConfigHome, pair.PrimaryConsolePort)) < LongRun)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the primary reached only step {seen} in 5 minutes");
            // Each look starts a process: look every 2 s, not back to back, or the looking starves the guest on 2 cores.
            Thread.Sleep(2000);
        }

        var secondTrace = Path.Combine(pair.Dir, "second.rvtrace");
        using var second = Backup(pair, secondTrace, "second backup");
        int secondLog = second.Port("backup"), secondConsole = second.Port("backup console");
        using var first = Backup(pair, Path.Combine(pair.Dir, "first.rvtrace"), "first backup",
            "--join", $"127.0.0.1:{pair.PrimaryConsolePort}", "--backup", $"127.0.0.1:{secondLog}");
        int firstConsole = first.Port("backup console");
        ulong joinedAt = ulong.Parse(first.WaitForLine(@"joined at step (\d+) by state transfer: .* state hash checked").Groups[1].Value);
        Assert.True(joinedAt >= seen, $"joined at step {joinedAt}, before the {seen} the primary had run");
        pair.Primary!.WaitForLine(@"streaming the log to backup 127\.0\.0\.1:\d+ with a snapshot at step " + joinedAt);
        pair.Primary.WaitForLine("caught up");

        using var console = new ReplicaProcess(["console", $"127.0.0.1:{pair.PrimaryConsolePort},127.0.0.1:{firstConsole},127.0.0.1:{secondConsole}",
            "--patience", "60"], pair.ConfigHome, "console");
        var lines = File.ReadAllLines(Path.Combine(ReplicaProcess.RepoRoot, "tools", "guests", "expected", "demo.stdin"));
        void Type(IEnumerable<string> keys)
        {
            foreach (var line in keys) console.Stdin.Write(Encoding.UTF8.GetBytes(line + "\n"));
            console.Stdin.Flush();
        }
        Type(lines.Take(6));
        pair.Primary.KillHard();
        ulong firstLive = ulong.Parse(first.WaitForLine(@": live at step (\d+)").Groups[1].Value);
        Assert.True(firstLive >= joinedAt);
        Type(lines.Skip(6).Take(6));

        ulong rejoinedAt = ulong.Parse(second.WaitForLine(@"joined at step (\d+) by state transfer: .* state hash checked").Groups[1].Value);
        Assert.True(rejoinedAt >= firstLive, $"the second backup joined at step {rejoinedAt}, before the first went live at {firstLive}");
        first.WaitForLine("caught up");
        first.KillHard();
        second.WaitForLine(": live at step ");
        Type(lines.Skip(12));
        console.Stdin.Close();
        Assert.Equal(0, console.WaitForExit());
        Assert.Equal(0, second.WaitForExit());

        // Guest time runs on with the steps: the clock line depends on when "time" was typed, and "rand" is the host's.
        static string Masked(byte[] b) => string.Join('\n', Encoding.UTF8.GetString(b).Split('\n')
            .Select(l => l.StartsWith("rand: ") ? "rand: *" : l.StartsWith("time: ") ? "time: *" : l));
        Assert.Equal(Masked(File.ReadAllBytes(Path.Combine(ReplicaProcess.RepoRoot, "tools", "guests", "expected", "demo.out"))), Masked(console.Stdout));
        var replay = pair.Replay(secondTrace);
        Assert.True(replay.Exit == 0, replay.Stderr);
        Assert.Equal(console.Stdout, replay.Console);
    }

    /// <summary>
    /// A protect request (what <c>backup --join</c> sends) is answered only once the primary has
    /// reached the backup and the guest has paused for its join (up to 10 + 30 s). Here the backup
    /// answers the primary's connection 6 s late (a proxy holds it) and the request's patience is
    /// 3 s: the primary must keep the requester informed all that while, and the request gets its
    /// answer rather than giving up on a "silent" primary.
    /// </summary>
    [Fact]
    public void A_protect_request_whose_backup_answers_late_is_kept_informed_until_answered()
    {
        using var pair = new ReplicaPair();
        pair.StartPrimary(ReplicaProcess.Guest("demo.elf"));
        using var backup = Backup(pair, Path.Combine(pair.Dir, "late.rvtrace"), "late backup");
        using var proxy = new CuttableProxy(backup.Port("backup")) { HoldFor = TimeSpan.FromSeconds(6) };
        var key = ReplicaKey.Load(Path.Combine(pair.ConfigHome, "replayvm", "replica.key"));
        string answer = ReplicaRequests.Protect(new Wire.Endpoint("127.0.0.1", pair.PrimaryConsolePort), new Wire.Endpoint("127.0.0.1", proxy.Port), key,
            TimeSpan.FromSeconds(3));
        Assert.Equal($"streaming the log to 127.0.0.1:{proxy.Port}", answer);
        pair.Primary!.WaitForLine("caught up");
    }
}
