using System.Runtime.Intrinsics.X86;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// Every process pays for the methods the JIT compiles before the guest runs (each a fraction of a
/// millisecond at tier 0, with the type loading around it). The Release CLI's precompiled images
/// hold the parser's options and the decoder's tables as long as the code avoids constructs no
/// image can hold: an option over a value type (System.CommandLine's code instantiated for it)
/// and an enum array searched through IReadOnlyList (the runtime's generic array-interface code).
/// The runtime's own list of what it JIT-compiled (DOTNET_JitStdOutFile) shows them.
/// </summary>
public sealed class StartupJitTests
{
    [Fact]
    public void A_release_run_compiles_no_option_or_decoder_generics()
    {
        var compiled = ReleaseJitList.CompiledBy("run", CliProcess.Guest("hello.elf"));
        Assert.Contains(compiled, line => line.Contains("JIT compiled", StringComparison.Ordinal));
        var avoidable = compiled.Where(line =>
            (line.Contains("System.CommandLine.", StringComparison.Ordinal) && line.Contains("System.Nullable`1", StringComparison.Ordinal))
            || line.Contains("ReplayVm.Core.Isa.", StringComparison.Ordinal)
            || line.Contains("System.SZArrayHelper", StringComparison.Ordinal)
            || line.Contains("SZGenericArrayEnumerator", StringComparison.Ordinal)).ToList();
        if (Avx2.IsSupported)
            Assert.True(avoidable.Count == 0, "JIT-compiled at start-up:\n" + string.Join('\n', avoidable));
    }
}
