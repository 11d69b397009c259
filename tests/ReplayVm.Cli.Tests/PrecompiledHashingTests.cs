using System.Runtime.Intrinsics.X86;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// The Release CLI (what tools/replayvm, tools/bench and users run) carries precompiled code for
/// the state hasher's XxHash, so no process hashes at tier 0 while the tiered compiler gets round
/// to it: that took 4% of a recording's CPU samples on a 2.8 s run, and 8% of a primary's, whose
/// longer queue of methods to compile kept it there longer. The runtime's own list of the methods
/// it JIT-compiled (DOTNET_JitStdOutFile, DOTNET_JitDisasmSummary) shows which ones did not run
/// precompiled code.
/// </summary>
public sealed class PrecompiledHashingTests
{
    [Fact]
    public void A_release_recording_hashes_with_precompiled_code()
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-precompiled-").FullName;
        try
        {
            string trace = Path.Combine(dir, "hello.rvtrace");
            var compiled = ReleaseJitList.CompiledBy("record", "-o", trace, CliProcess.Guest("hello.elf"));
            Assert.True(File.Exists(trace), "no recording written");
            // The list names every method the JIT compiled; a recording hashes at step 0 and at its end.
            Assert.Contains(compiled, line => line.Contains("JIT compiled", StringComparison.Ordinal));
            var hashingAtTier0 = compiled.Where(line => line.Contains("System.IO.Hashing.", StringComparison.Ordinal) && line.Contains("Tier0", StringComparison.Ordinal)).ToList();
            if (Avx2.IsSupported)
                Assert.True(hashingAtTier0.Count == 0, "XxHash compiled at tier 0 (its precompiled code was not used):\n" + string.Join('\n', hashingAtTier0));
            else
                // Precompiled for x86-64-v3: without AVX2 the runtime falls back to the JIT, and the recording still works.
                Assert.NotEmpty(hashingAtTier0);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
