using System.Diagnostics;
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
        var compiled = JitCompiledBy("run", CliProcess.Guest("hello.elf"));
        Assert.Contains(compiled, line => line.Contains("JIT compiled", StringComparison.Ordinal));
        var avoidable = compiled.Where(line =>
            (line.Contains("System.CommandLine.", StringComparison.Ordinal) && line.Contains("System.Nullable`1", StringComparison.Ordinal))
            || line.Contains("ReplayVm.Core.Isa.", StringComparison.Ordinal)
            || line.Contains("System.SZArrayHelper", StringComparison.Ordinal)
            || line.Contains("SZGenericArrayEnumerator", StringComparison.Ordinal)).ToList();
        if (Avx2.IsSupported)
            Assert.True(avoidable.Count == 0, "JIT-compiled at start-up:\n" + string.Join('\n', avoidable));
    }

    /// <summary>
    /// The JIT's list of what a Release CLI process compiled. tools/replayvm runs first, without the
    /// list, to build the Release CLI when sources changed (the build's own processes would write
    /// to the list too); then the CLI runs alone.
    /// </summary>
    private static string[] JitCompiledBy(params string[] arguments)
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-startup-jit-").FullName;
        try
        {
            Run("bash", ["tools/replayvm", .. arguments], jitList: null);
            string jitList = Path.Combine(dir, "jit.txt");
            Run("dotnet", [Path.Combine(CliProcess.RepoRoot, "src", "ReplayVm.Cli", "bin", "Release", "net10.0", "replayvm.dll"), .. arguments], jitList);
            return File.ReadAllLines(jitList);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static void Run(string program, string[] arguments, string? jitList)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = CliProcess.RepoRoot,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        if (jitList is not null)
        {
            info.Environment["DOTNET_JitStdOutFile"] = jitList;
            info.Environment["DOTNET_JitDisasmSummary"] = "1";
        }
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // tools/replayvm rebuilds the Release CLI first when its sources changed (a minute or two).
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), $"{program} {string.Join(' ', arguments)} did not finish");
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {stderr.Result}");
        _ = stdout.Result;
    }
}
