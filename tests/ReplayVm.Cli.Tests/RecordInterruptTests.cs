using System.Diagnostics;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// A recording the host ends — Ctrl-A x in a terminal, SIGTERM — still closes the trace with its
/// end record, and the trace replays exactly what the guest printed up to there.
/// </summary>
public sealed class RecordInterruptTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-interrupt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Ctrl_a_x_in_a_terminal_ends_the_recording_with_an_end_record()
    {
        string trace = Path.Combine(_dir, "typed.rvtrace");
        string output = Path.Combine(_dir, "typed.out");
        // script(1) gives the recorder a terminal; tee keeps its exact stdout bytes for comparison.
        using var session = ConsoleSession.Start(RequiredTools.Script,
            ["-qefc", $"dotnet '{CliProcess.CliDll}' record -o '{trace}' '{CliProcess.Guest("demo.elf")}' | tee '{output}'; echo status=$?", "/dev/null"]);
        session.WaitFor("demo> ");
        session.Type("help\r");
        session.WaitFor("demo> ");
        session.Type("\x01x");
        session.WaitFor("replayvm: terminated");
        session.WaitFor("status=0");
        session.WaitForExit();

        var info = CliProcess.Run("info", trace);
        Assert.Matches(@"ends\s+stopped by the host", info.StdoutText);
        Assert.Matches(@"status\s+complete", info.StdoutText);
        var replayed = CliProcess.Run("replay", trace);
        Assert.True(replayed.ExitCode == 0, replayed.ToString());
        Assert.Equal(File.ReadAllBytes(output), replayed.Stdout);
        Assert.Contains("demo> help", replayed.StdoutText);
    }

    [Fact]
    public async Task Sigterm_ends_the_recording_cleanly()
    {
        string trace = Path.Combine(_dir, "term.rvtrace");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { CliProcess.CliDll, "record", "-o", trace, CliProcess.Guest("demo.elf") }) info.ArgumentList.Add(a);
        using var recorder = Process.Start(info)!;
        var stdout = new MemoryStream();
        var copy = recorder.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = recorder.StandardError.ReadToEndAsync();
        // Stdin stays open: the guest waits at its prompt for more.
        recorder.StandardInput.Write("help\n");
        recorder.StandardInput.Flush();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && !System.Text.Encoding.ASCII.GetString(stdout.ToArray()).Contains("demo> help"))
            Thread.Sleep(50);
        Thread.Sleep(300);
        using (var kill = Process.Start("kill", ["-TERM", recorder.Id.ToString()])) kill.WaitForExit();
        Assert.True(recorder.WaitForExit(TimeSpan.FromSeconds(30)));
        await copy;

        Assert.Equal(143, recorder.ExitCode);
        Assert.Matches(@"replayvm: recorded \d+ steps", await stderr);
        var replayed = CliProcess.Run("replay", trace);
        Assert.True(replayed.ExitCode == 0, replayed.ToString());
        Assert.Equal(stdout.ToArray(), replayed.Stdout);
    }
}
