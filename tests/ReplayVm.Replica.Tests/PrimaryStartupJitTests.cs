using System.Reflection;
using ReplayVm.Replica.Tests.Support;

namespace ReplayVm.Replica.Tests;

/// <summary>
/// Every method a primary JIT-compiles is CPU that <c>record</c> does not spend, and the issue's
/// goal sets the primary's CPU beside record's on a half-second run. The Release CLI precompiles
/// the replica's own code; what it still compiles at tier 0 is framework code that no image holds
/// for this CPU, so the replica's paths must not reach for such code where precompiled code does
/// the same: the log stream's id was a Guid formatted by <c>Guid.ToString("N")</c>, whose vectorized
/// formatter every primary JIT-compiled at its first backup (1.1 ms of CPU), and the client input
/// queue started empty on <c>Array.Empty</c> of a tuple over Guid, whose initializer it compiled
/// too. The runtime's own list of what it compiled (DOTNET_JitStdOutFile) shows them.
/// </summary>
public sealed class PrimaryStartupJitTests
{
    [Fact]
    public void A_primary_streaming_to_its_backup_compiles_none_of_the_replica_code_nor_a_guid_formatter()
    {
        // Only the Release CLI is precompiled: a Debug build JIT-compiles everything.
        if (typeof(PrimaryStartupJitTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration != "Release") return;
        using var pair = new ReplicaPair();
        pair.StartBackup();
        string jitList = Path.Combine(pair.Dir, "jit.txt");
        using var primary = new ReplicaProcess(
            ["primary", "--backup", $"127.0.0.1:{pair.BackupLogPort}", "--arbiter", pair.Arbiter, "--linger", "0", ReplicaProcess.Guest("hello.elf")],
            pair.ConfigHome, "primary", new Dictionary<string, string> { ["DOTNET_JitStdOutFile"] = jitList, ["DOTNET_JitDisasmSummary"] = "1" });
        Assert.Equal(0, primary.WaitForExit());
        Assert.Contains("streaming the log to backup", primary.Stderr);
        var compiled = File.ReadAllLines(jitList);
        Assert.Contains(compiled, line => line.Contains("JIT compiled", StringComparison.Ordinal));
        var avoidable = compiled.Where(line => line.Contains("Tier0", StringComparison.Ordinal)
            && (line.Contains("ReplayVm.Replica.", StringComparison.Ordinal)
                || line.Contains("System.Guid", StringComparison.Ordinal)
                || line.Contains("System.HexConverter", StringComparison.Ordinal))).ToList();
        Assert.True(avoidable.Count == 0, "JIT-compiled at tier 0:\n" + string.Join('\n', avoidable));
    }
}
