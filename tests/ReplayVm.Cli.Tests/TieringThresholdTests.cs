using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// The Release CLI recompiles a method at tier 1 only after 20000 calls
/// (System.Runtime.TieredCompilation.CallCountThreshold in its runtime configuration), not the
/// runtime's 30: its code is precompiled (ReadyToRun) and the interpreter's loop does most of the
/// work, so the two background compilations tiered PGO makes of every method called 30 times
/// (instrumented, then final) cost an OS run more than the faster code gives back. The runtime's
/// own list of what it compiled shows how many of the machine's methods were instrumented.
/// </summary>
public sealed class TieringThresholdTests
{
    [Fact]
    public void Linux_spawning_processes_instruments_only_the_machines_hottest_methods()
    {
        var guest = LinuxGuest.Get();
        // Boot + 200 fork/exec/exit to 1.2e8 steps on the interpreter (about a second): with the
        // runtime's default about 110 of the machine's methods are instrumented, with 20000 about 58
        // (those the slice loop, CSRs, atomics and page walks call more often than that).
        var compiled = ReleaseJitList.CompiledBy(124, "run", "--engine", "interpreter", "--max-instructions", "120M",
            "-m", "128M", "--bios", RequiredTools.OpenSbiFwJump, "--kernel", guest.Image, "--initrd", guest.Initramfs,
            "--append", LinuxGuest.CommandLine + " -- spawn 200", "--drive", guest.Disk);
        Assert.Contains(compiled, line => line.Contains("JIT compiled", StringComparison.Ordinal));
        var instrumented = compiled.Where(line => line.Contains("ReplayVm.", StringComparison.Ordinal)
            && line.Contains("Instrumented Tier1", StringComparison.Ordinal)).ToList();
        Assert.True(instrumented.Count <= 80, $"{instrumented.Count} of the machine's methods instrumented for tier 1:\n" + string.Join('\n', instrumented));
    }
}
