using System.Diagnostics;
using ReplayVm.Cli.Tests.Support;
using ReplayVm.Inspect.Tests.Support;

namespace ReplayVm.Inspect.Tests;

/// <summary>
/// Every target inspect cannot read gives one line saying why, and exit status 2: no such process,
/// not a .NET process, a .NET process that is not replayvm, no permission to attach, a process that
/// exits during the inspection, a file that is not a dump, bad option combinations.
/// </summary>
public sealed class InspectBadInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-inspect-bad-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static void AssertOneLine(CliOutcome outcome, string expected)
    {
        Assert.True(outcome.ExitCode == 2, outcome.ToString());
        Assert.Single(outcome.StderrLines);
        Assert.StartsWith("replayvm: ", outcome.Stderr);
        Assert.Contains(expected, outcome.Stderr);
        Assert.DoesNotContain("   at ", outcome.Stderr);
        Assert.Empty(outcome.Stdout);
    }

    [Fact]
    public void No_such_process_or_file() =>
        AssertOneLine(CliProcess.Run("inspect", "2147483646"), "no process 2147483646");

    [Fact]
    public void A_file_that_is_not_a_dump()
    {
        string path = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(path, "not a core dump\n");
        AssertOneLine(CliProcess.Run("inspect", path), "not a readable core dump");
        AssertOneLine(CliProcess.Run("inspect", _dir), "is a directory");
        AssertOneLine(CliProcess.Run("inspect", Path.Combine(_dir, "missing.core")), "no such process id or dump file");
    }

    [Fact]
    public void A_process_that_is_not_dotnet()
    {
        using var sleep = Process.Start("sleep", "60");
        try
        {
            AssertOneLine(CliProcess.Run("inspect", sleep.Id.ToString()), "is not a .NET process");
        }
        finally
        {
            sleep.Kill();
        }
    }

    [Fact]
    public void A_dotnet_process_that_is_not_replayvm()
    {
        // F# Interactive, shipped with the SDK, waits on its stdin: a .NET process without ReplayVm.Core.
        string fsi = Directory.GetFiles(Path.Combine(Path.GetDirectoryName(Environment.ProcessPath!)!, "sdk"), "fsi.dll", SearchOption.AllDirectories).FirstOrDefault()
            ?? throw new Xunit.Sdk.XunitException("fsi.dll not found in the .NET SDK");
        var info = new ProcessStartInfo("dotnet", [fsi, "--nologo"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        try
        {
            process.StandardOutput.BaseStream.ReadExactly(new byte[1]); // its prompt: the runtime is up
            AssertOneLine(CliProcess.Run("inspect", process.Id.ToString()), "is a .NET process but not replayvm");
        }
        finally
        {
            process.Kill();
        }
    }

    [Fact]
    public void No_permission_to_attach()
    {
        using var recorder = GuestProcess.Start(null, "run", CliProcess.Guest("demo.elf"));
        recorder.WaitFor("demo> ");
        // As user nobody, without capabilities, ptrace of a root process is refused.
        var outcome = RunAs("nobody", "inspect", recorder.Id.ToString());
        AssertOneLine(outcome, "cannot attach to process");
        Assert.Contains("run replayvm inspect as the same user as the process", outcome.Stderr);
    }

    [Fact]
    public void A_process_that_exits_during_the_inspection()
    {
        using var recorder = GuestProcess.Start(null, "run", CliProcess.Guest("demo.elf"));
        recorder.WaitFor("demo> ");
        var outcome = Run(["env", "REPLAYVM_TEST_KILL_TARGET=1", "dotnet", CliProcess.CliDll, "inspect", recorder.Id.ToString()]);
        AssertOneLine(outcome, $"process {recorder.Id} exited during the inspection");
    }

    [Fact]
    public void A_process_caught_mid_change_is_read_again_and_gives_up_after_four_tries_in_one_line()
    {
        using var guest = GuestProcess.Start(null, "run", CliProcess.Guest("demo.elf"));
        guest.WaitFor("demo> ");

        var again = Run(["env", "REPLAYVM_TEST_MOMENTARY_FAILURES=2", "dotnet", CliProcess.CliDll, "inspect", guest.Id.ToString(), "--json"]);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("read on attempt 3; caught mid-change before", again.Stderr);
        Assert.Equal("run", System.Text.Json.JsonDocument.Parse(again.StdoutText).RootElement.GetProperty("machines")[0].GetProperty("role").GetString());

        var never = Run(["env", "REPLAYVM_TEST_MOMENTARY_FAILURES=4", "dotnet", CliProcess.CliDll, "inspect", guest.Id.ToString()]);
        AssertOneLine(never, "caught mid-change 4 times running); inspect it again");
        Assert.True(InspectTarget.IsRunning(guest.Id), "the target did not run on after the attempts");
    }

    [Fact]
    public void Salvage_options_go_together()
    {
        AssertOneLine(CliProcess.Run("inspect", "1", "--salvage"), "--salvage needs -o FILE.rvtrace");
        AssertOneLine(CliProcess.Run("inspect", "1", "-o", Path.Combine(_dir, "x.rvtrace")), "-o is for --salvage");
    }

    [Fact]
    public void A_dump_of_another_dotnet_version_is_refused_naming_both()
    {
        var e = Assert.Throws<InspectException>(() => InspectTarget.CheckRuntimeVersion("core.1234", "8.0.11", "10.0.12"));
        Assert.Equal("core.1234 runs .NET 8.0.11, this replayvm runs on .NET 10.0.12 and reads only that runtime's processes and dumps; " +
                     "inspect it with a replayvm running on .NET 8.0.11", e.Message);
        InspectTarget.CheckRuntimeVersion("core.1234", "10.0.12", "10.0.12");
    }

    private static CliOutcome RunAs(string user, params string[] arguments) =>
        Run(["setpriv", "--reuid", user, "--regid", "nogroup", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
            "env", "HOME=/tmp", "DOTNET_CLI_TELEMETRY_OPTOUT=1", "dotnet", CliProcess.CliDll, .. arguments]);

    /// <summary>Runs a command line (a replayvm run through env or setpriv), stdin empty.</summary>
    private static CliOutcome Run(string[] commandLine)
    {
        var info = new ProcessStartInfo(commandLine[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/tmp",
        };
        foreach (var a in commandLine[1..]) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        p.StandardInput.Close();
        var output = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(output);
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        copy.Wait();
        return new CliOutcome(p.ExitCode, output.ToArray(), stderr);
    }
}
