using System.Diagnostics;
using System.Runtime.InteropServices;
using ReplayVm.Cli.Tests.Support;
using ReplayVm.Inspect.Tests.Support;
using ReplayVm.Replay;

namespace ReplayVm.Inspect.Tests;

/// <summary>
/// A recorder dumped with createdump mid-session and then killed with SIGKILL, its typed input
/// never flushed to its trace: <c>inspect CORE --salvage</c> rebuilds a trace that replays the
/// session's console output byte for byte and exits 4, truncated by the host.
/// </summary>
public sealed class SalvageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-salvage-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The runtime's own dump writer, beside libcoreclr.so.</summary>
    public static string CreateDump
    {
        get
        {
            string path = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "createdump");
            return File.Exists(path) ? path : throw new Xunit.Sdk.XunitException($"{path} is missing: the .NET runtime ships it");
        }
    }

    internal static void Dump(int pid, string core)
    {
        using var p = Process.Start(new ProcessStartInfo(CreateDump, ["-f", core, pid.ToString()]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0 && File.Exists(core), $"createdump failed ({p.ExitCode}): {output}");
    }

    [Fact]
    public void A_killed_recorder_is_salvaged_from_its_dump_with_the_input_it_never_flushed()
    {
        string trace = Path.Combine(_dir, "demo.rvtrace");
        string core = Path.Combine(_dir, "recorder.core");
        string salvaged = Path.Combine(_dir, "salvaged.rvtrace");
        // Timed flushes held off, so the typed commands exist only in the recorder's memory.
        var hold = new Dictionary<string, string> { ["REPLAYVM_TEST_FLUSH_INTERVAL_MS"] = "3600000" };
        byte[] printed;
        using (var recorder = GuestProcess.Start(hold, "record", "-o", trace, CliProcess.Guest("demo.elf")))
        {
            recorder.WaitFor("demo> ");
            foreach (var command in new[] { "help", "add ada", "list" })
            {
                recorder.Type(command + "\n");
                recorder.WaitFor(command);
                recorder.WaitFor("demo> ");
            }
            Dump(recorder.Id, core);
            recorder.KillHard();
            printed = recorder.Output;
        }
        Assert.Contains("1. ada", System.Text.Encoding.ASCII.GetString(printed));
        var onDisk = TraceReader.ReadFile(trace);
        Assert.DoesNotContain(onDisk.Events, e => e is ConsoleInputEvent);

        // The dump, inspected: the typed commands are logged events the trace never got.
        var inspected = CliProcess.Run("inspect", core, "--json");
        Assert.True(inspected.ExitCode == 0, inspected.ToString());
        var machine = System.Text.Json.JsonDocument.Parse(inspected.StdoutText).RootElement.GetProperty("machines")[0];
        Assert.Equal("record", machine.GetProperty("role").GetString());
        Assert.EndsWith("demo> ", machine.GetProperty("consoleTail").GetString());
        var recording = machine.GetProperty("recording");
        Assert.Equal(0, recording.GetProperty("eventsWritten").GetInt64());
        Assert.True(recording.GetProperty("eventsNotFlushed").GetInt64() >= 4, recording.ToString()); // the step-0 hash and 3 commands (or more polls)

        var salvage = CliProcess.Run("inspect", core, "--salvage", "-o", salvaged);
        Assert.True(salvage.ExitCode == 0, salvage.ToString());
        Assert.Contains("pending (never flushed)", salvage.Stderr);
        Assert.Contains("checked against the dump at step", salvage.Stderr);

        var replay = CliProcess.Run("replay", salvaged);
        Assert.True(replay.ExitCode == 4, replay.ToString());
        Assert.Contains("replay identical", replay.Stderr);
        Assert.Contains("truncated by the host", replay.Stderr);
        Assert.Equal(printed, replay.Stdout);

        var info = CliProcess.Run("info", salvaged);
        Assert.True(info.ExitCode == 0, info.ToString());
        Assert.Contains("truncated by the host", info.StdoutText);
    }

    [Fact]
    public void A_crashing_recorder_dumps_itself_and_prints_the_salvage_command_that_recovers_its_session()
    {
        string trace = Path.Combine(_dir, "crash.rvtrace");
        var environment = new Dictionary<string, string>
        {
            ["REPLAYVM_TEST_FLUSH_INTERVAL_MS"] = "3600000",
            ["REPLAYVM_TEST_CRASH_ON_SIGUSR1"] = "1",
        };
        byte[] printed;
        string stderr;
        using (var recorder = GuestProcess.Start(environment, "record", "-o", trace, CliProcess.Guest("demo.elf")))
        {
            recorder.WaitFor("demo> ");
            recorder.Type("add grace\n");
            recorder.WaitFor("demo> ");
            Process.Start("kill", ["-USR1", recorder.Id.ToString()])!.WaitForExit();
            Assert.NotEqual(0, recorder.WaitForExit());
            printed = recorder.Output;
            stderr = recorder.Stderr;
        }
        Assert.Contains("the recorder crashed: InvalidOperationException", stderr);
        string core = trace + ".core";
        string command = stderr.Split('\n').Single(l => l.Contains("replayvm inspect ", StringComparison.Ordinal));
        Assert.EndsWith($"replayvm inspect {core} --salvage -o {Path.Combine(_dir, "crash")}.salvaged.rvtrace", command);

        var salvage = CliProcess.Run("inspect", core, "--salvage", "-o", Path.Combine(_dir, "crash.salvaged.rvtrace"));
        Assert.True(salvage.ExitCode == 0, salvage.ToString());
        var replay = CliProcess.Run("replay", Path.Combine(_dir, "crash.salvaged.rvtrace"));
        Assert.True(replay.ExitCode == 4, replay.ToString());
        Assert.Equal(printed, replay.Stdout);
        Assert.Contains("added grace", replay.StdoutText);
    }

    [Fact]
    public void A_salvage_refuses_to_overwrite_the_recorders_own_trace_and_a_process_that_records_nothing()
    {
        string trace = Path.Combine(_dir, "own.rvtrace");
        using (var recorder = GuestProcess.Start(null, "record", "-o", trace, CliProcess.Guest("demo.elf")))
        {
            recorder.WaitFor("demo> ");
            var own = CliProcess.Run("inspect", recorder.Id.ToString(), "--salvage", "-o", trace);
            Assert.Equal(2, own.ExitCode);
            Assert.Contains("is the recorder's own trace", own.Stderr);
            Assert.Single(own.StderrLines);
        }
        using var runner = GuestProcess.Start(null, "run", CliProcess.Guest("demo.elf"));
        runner.WaitFor("demo> ");
        var none = CliProcess.Run("inspect", runner.Id.ToString(), "--salvage", "-o", Path.Combine(_dir, "x.rvtrace"));
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("holds no recorder", none.Stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "x.rvtrace")));
    }
}
