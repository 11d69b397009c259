using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using ReplayVm.Replica.Tests.Support;

namespace ReplayVm.Replica.Tests;

/// <summary>An idle primary waits for its clients as <c>record</c> waits for stdin, instead of spinning.</summary>
public sealed class IdleTests
{
    private static TimeSpan Cpu(int pid) => Process.GetProcessById(pid).TotalProcessorTime;

    /// <summary>
    /// The demo waits at its prompt (wfi with only the UART's interrupt enabled) under a primary and
    /// a backup. While nobody types, the guest takes no step at all (it spun millions of steps a
    /// second before), and neither replica burns a core: over at least 3 s of wall time each uses
    /// less than a quarter of it. Idle, they use ~3% (heartbeats and acknowledgements every 25 ms);
    /// spinning, the primary and the backup each took about half of the wall time even with the
    /// machine loaded to 10 on 2 cores, so the bound is a behaviour check, not a speed check (the
    /// step count check does not depend on load at all). Then a client's input wakes the guest at
    /// once, its answer comes back through the output rule, and both traces replay identically.
    /// </summary>
    [Fact]
    public void An_idle_primary_takes_no_steps_and_burns_no_core_until_a_client_types()
    {
        using var pair = new ReplicaPair();
        pair.StartBackup();
        pair.StartPrimary(ReplicaProcess.Guest("demo.elf"));
        pair.Primary!.WaitForLine("caught up");
        // The guest reaches its prompt within a few million steps of boot: from then on its step stays put.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        ulong last = ReplicaProcess.StatusStep(pair.ConfigHome, pair.PrimaryConsolePort), now;
        while (true)
        {
            Thread.Sleep(500);
            if ((now = ReplicaProcess.StatusStep(pair.ConfigHome, pair.PrimaryConsolePort)) == last) break;
            Assert.True(DateTime.UtcNow < deadline, $"the guest at its prompt was still taking steps after 60 s (step {now})");
            last = now;
        }

        ulong before = ReplicaProcess.StatusStep(pair.ConfigHome, pair.PrimaryConsolePort);
        var wall = Stopwatch.StartNew();
        TimeSpan primaryCpu = Cpu(pair.Primary.Id), backupCpu = Cpu(pair.Backup!.Id);
        Thread.Sleep(3000);
        primaryCpu = Cpu(pair.Primary.Id) - primaryCpu;
        backupCpu = Cpu(pair.Backup.Id) - backupCpu;
        var idled = wall.Elapsed;
        ulong after = ReplicaProcess.StatusStep(pair.ConfigHome, pair.PrimaryConsolePort);
        Assert.True(after == before, $"the idle guest ran from step {before} to {after} while nobody typed");
        Assert.True(primaryCpu < idled / 4, $"the idle primary used {primaryCpu.TotalSeconds:0.00} s of CPU in {idled.TotalSeconds:0.00} s");
        Assert.True(backupCpu < idled / 4, $"the backup of an idle primary used {backupCpu.TotalSeconds:0.00} s of CPU in {idled.TotalSeconds:0.00} s");

        using var console = pair.StartConsole();
        console.Stdin.Write("help\nquit\n"u8.ToArray());
        console.Stdin.Close();
        Assert.Equal(0, console.WaitForExit());
        Assert.Contains("commands:\n", Encoding.UTF8.GetString(console.Stdout));
        Assert.EndsWith("bye\n", Encoding.UTF8.GetString(console.Stdout));
        Assert.Equal(0, pair.Primary.WaitForExit());
        Assert.Equal(0, pair.Backup.WaitForExit());
        foreach (var trace in new[] { pair.PrimaryTrace, pair.BackupTrace })
        {
            var replay = pair.Replay(trace);
            Assert.True(replay.Exit == 0, replay.Stderr);
            Assert.Contains("replay identical", replay.Stderr);
            Assert.Equal(console.Stdout, replay.Console);
        }
    }
}
