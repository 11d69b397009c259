using System.Diagnostics;

namespace ReplayVm.Cli.Tests.Support;

/// <summary>What the JIT compiled in one Release CLI process (DOTNET_JitStdOutFile, DOTNET_JitDisasmSummary).</summary>
public static class ReleaseJitList
{
    /// <summary>
    /// The JIT's list of what a Release CLI process compiled. tools/replayvm runs first, without the
    /// list, to build the Release CLI when sources changed (the build's own processes would write
    /// to the list too); then the CLI runs alone.
    /// </summary>
    public static string[] CompiledBy(params string[] arguments) => CompiledBy(0, arguments);

    /// <summary>As <see cref="CompiledBy(string[])"/>, for a run that ends with <paramref name="exitCode"/> (124: an instruction limit).</summary>
    public static string[] CompiledBy(int exitCode, params string[] arguments)
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-startup-jit-").FullName;
        try
        {
            Run("bash", ["tools/replayvm", .. arguments], jitList: null, exitCode);
            string jitList = Path.Combine(dir, "jit.txt");
            Run("dotnet", [Path.Combine(CliProcess.RepoRoot, "src", "ReplayVm.Cli", "bin", "Release", "net10.0", "replayvm.dll"), .. arguments], jitList, exitCode);
            return File.ReadAllLines(jitList);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static void Run(string program, string[] arguments, string? jitList, int exitCode)
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
        Assert.True(process.ExitCode == exitCode, $"exit {process.ExitCode}: {stderr.Result}");
        _ = stdout.Result;
    }
}
