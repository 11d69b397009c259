using ReplayVm.Replica.Tests.Support;

namespace ReplayVm.Replica.Tests;

/// <summary><c>primary --stats</c> ends, as <c>run --stats</c> does, with the steps run and the process's JIT and CPU figures, to set beside record's.</summary>
public sealed class PrimaryStatsTests
{
    [Fact]
    public void Primary_stats_end_with_the_steps_and_the_process_line()
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-primary-stats-").FullName;
        try
        {
            using var primary = new ReplicaProcess(
                ["primary", "--stats", "--arbiter", "file:" + Path.Combine(dir, "arbiter"), "--linger", "0", ReplicaProcess.Guest("hello.elf")], dir);
            Assert.Equal(0, primary.WaitForExit());
            var lines = primary.Stderr.Split('\n');
            Assert.Matches(@"^instructions: [1-9][0-9]*$", lines[^2]);
            Assert.Matches(@"^process: [1-9][0-9]* methods JIT-compiled in [0-9]+ ms; CPU [0-9]+ ms \(user [0-9]+, system [0-9]+\)$", lines[^1]);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
