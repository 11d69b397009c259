using System.Text;
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
        var targetTrace = Path.Combine(pair.Dir, "target.rvtrace");
        using var target = new ReplicaProcess(["backup", "--listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0", "--arbiter", pair.Arbiter,
            "-o", targetTrace, "--deterministic", .. ReplicaPair.Timing], pair.ConfigHome, "target");
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
}
