using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace ReplayVm.Cli.Tests.Support;

/// <summary>What a replayvm process did.</summary>
public sealed record CliOutcome(int ExitCode, byte[] Stdout, string Stderr)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{StdoutText}\n--- stderr ---\n{Stderr}";
}

/// <summary>
/// Runs the built replayvm CLI as its own process, exactly as a user would, from the build of the
/// same configuration as these tests.
/// </summary>
public static class CliProcess
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string CliDll
    {
        get
        {
            string configuration = typeof(CliProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            string path = Path.Combine(RepoRoot, "src", "ReplayVm.Cli", "bin", configuration, "net10.0", "replayvm.dll");
            if (!File.Exists(path)) throw new FileNotFoundException($"the CLI is not built: {path}");
            return path;
        }
    }

    public static string Guest(string name) => Path.Combine(RepoRoot, "tools", "guests", "elf", name);

    public static string Expected(string name) => Path.Combine(RepoRoot, "tools", "guests", "expected", name);

    public static CliOutcome Run(params string[] arguments) => Run(arguments, stdin: []);

    public static CliOutcome Run(string[] arguments, byte[] stdin, int timeoutSeconds = 120)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoRoot,
        };
        info.ArgumentList.Add(CliDll);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);

        using var process = Process.Start(info)!;
        var stdout = new MemoryStream();
        var copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            process.StandardInput.BaseStream.Write(stdin);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The CLI may exit (bad arguments) before reading its input.
        }
        if (!process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"replayvm {string.Join(' ', arguments)} did not finish in {timeoutSeconds} s");
        }
        copyOut.Wait();
        return new CliOutcome(process.ExitCode, stdout.ToArray(), stderr.Result);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ReplayVm.sln"))) return dir.FullName;
        throw new InvalidOperationException("ReplayVm.sln not found above " + AppContext.BaseDirectory);
    }
}
