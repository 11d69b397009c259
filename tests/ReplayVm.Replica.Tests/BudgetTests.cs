using System.Text;
using ReplayVm.Replica.Tests.Support;

namespace ReplayVm.Replica.Tests;

/// <summary><c>primary --max-instructions</c> on a guest that idles ends as <c>record --max-instructions</c> does.</summary>
public sealed class BudgetTests
{
    /// <summary>The demo reaches its prompt (wfi, waiting for a key) within a few million steps: the rest of the budget is spent idle.</summary>
    private const string Budget = "25000000";

    /// <summary>
    /// <c>record --deterministic --max-instructions N</c> with no input: the demo idles at its
    /// prompt, WFI runs on as a no-op once stdin has ended, and the run stops at step N with status
    /// 124 and "instruction limit N reached". A deterministic primary with the same budget (where an
    /// idle guest used to wait for a client for ever) and its backup end the same way, and their
    /// traces are the recording's run, step for step (<c>replayvm diff</c>: identical). Then the
    /// primary is killed as soon as its guest is protected: the backup takes over and keeps to the
    /// primary's budget (carried in the log's header), ending at the same step with the same
    /// status and line, its trace again the recording's run.
    /// </summary>
    [Fact]
    public void A_budgeted_primary_with_an_idle_guest_ends_as_record_does_and_so_does_a_backup_that_took_over()
    {
        var demo = ReplicaProcess.Guest("demo.elf");
        string dir = Directory.CreateTempSubdirectory("replayvm-budget-").FullName;
        try
        {
            string recorded = Path.Combine(dir, "record.rvtrace");
            var record = ReplicaProcess.Run(dir, "record", "--deterministic", "--max-instructions", Budget, "-o", recorded, demo);
            Assert.True(record.Exit == 124, record.Stderr);
            Assert.Contains($"replayvm: instruction limit {Budget} reached", record.Stderr);

            using (var pair = new ReplicaPair())
            {
                pair.StartBackup();
                pair.StartPrimary(demo, null, "--max-instructions", Budget);
                Assert.Equal(124, pair.Primary!.WaitForExit());
                Assert.Equal(124, pair.Backup!.WaitForExit());
                Assert.Contains($"replayvm: instruction limit {Budget} reached", pair.Primary.Stderr);
                AssertSameRun(pair, recorded, pair.PrimaryTrace);
                AssertSameRun(pair, recorded, pair.BackupTrace);
            }

            using (var pair = new ReplicaPair())
            {
                pair.StartBackup();
                pair.StartPrimary(demo, null, "--max-instructions", Budget);
                pair.Primary!.WaitForLine("caught up");
                pair.Primary.KillHard();
                int backupExit = pair.Backup!.WaitForExit();
                Assert.True(backupExit == 124, pair.Backup.Stderr);
                Assert.Contains(": live at step ", pair.Backup.Stderr);
                Assert.Contains($"replayvm: instruction limit {Budget} reached", pair.Backup.Stderr);
                AssertSameRun(pair, recorded, pair.BackupTrace);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static void AssertSameRun(ReplicaPair pair, string recorded, string trace)
    {
        var diff = ReplicaProcess.Run(pair.ConfigHome, "diff", recorded, trace);
        string said = Encoding.UTF8.GetString(diff.Stdout) + diff.Stderr;
        Assert.True(diff.Exit == 0, said);
        Assert.Contains("identical", said);
        Assert.Contains($"({Budget} steps compared)", said);
    }
}
