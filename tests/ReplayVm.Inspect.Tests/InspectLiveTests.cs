using System.Text.Json;
using ReplayVm.Cli.Tests.Support;
using ReplayVm.Inspect.Tests.Support;
using ReplayVm.Replay;

namespace ReplayVm.Inspect.Tests;

/// <summary>
/// <c>replayvm inspect PID</c> on a recorder of the demo guest fed slowly through a pipe: the
/// machine it reports moves between two inspections, and its registers are what the recording
/// replays to at the reported step.
/// </summary>
public sealed class InspectLiveTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-inspect-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Inspecting_a_recorder_twice_shows_it_moving_with_the_registers_its_trace_replays_to()
    {
        string trace = Path.Combine(_dir, "demo.rvtrace");
        using var recorder = GuestProcess.Start(null, "record", "-o", trace, CliProcess.Guest("demo.elf"));
        recorder.WaitFor("demo> ");
        var first = InspectJson(recorder.Id);

        recorder.Type("help\n");
        recorder.WaitFor("demo> ");
        var second = InspectJson(recorder.Id);

        Assert.Equal(143, recorder.Terminate()); // 128 + SIGTERM, with the trace closed
        var a = Machine(first);
        var b = Machine(second);
        Assert.Equal("record", a.GetProperty("role").GetString());
        Assert.Equal(Path.GetFullPath(trace), a.GetProperty("recording").GetProperty("tracePath").GetString());
        Assert.EndsWith("demo> ", a.GetProperty("consoleTail").GetString());
        Assert.Contains("help", b.GetProperty("consoleTail").GetString());
        Assert.True(b.GetProperty("step").GetUInt64() > a.GetProperty("step").GetUInt64(), "the step did not move between inspections");
        Assert.True(b.GetProperty("recording").GetProperty("eventsLogged").GetInt64() > a.GetProperty("recording").GetProperty("eventsLogged").GetInt64(),
            "typing 'help' logged no input event");
        Assert.Contains(first.GetProperty("threads").EnumerateArray(),
            t => t.GetProperty("frames").EnumerateArray().Any(f => f.GetString()!.StartsWith("ReplayVm.Replay.Recorder.Run", StringComparison.Ordinal)));

        foreach (var m in new[] { a, b })
            AssertReplaysTo(trace, m);
    }

    /// <summary>
    /// The reported pc and registers equal the replayed machine's at the reported step — or, if the
    /// hart was caught inside its run loop, with the instruction at pc possibly already executed.
    /// </summary>
    private static void AssertReplaysTo(string trace, JsonElement m)
    {
        ulong step = m.GetProperty("step").GetUInt64();
        ulong pc = m.GetProperty("pc").GetUInt64();
        var x = m.GetProperty("x").EnumerateArray().Select(e => e.GetUInt64()).ToArray();
        var f = m.GetProperty("f").EnumerateArray().Select(e => e.GetUInt64()).ToArray();
        var replayer = new Replayer(TraceReader.ReadFile(trace), _ => { });
        Assert.Null(replayer.RunTo(step));
        Assert.Equal(step, replayer.Steps);
        var hart = replayer.Machine.Hart;
        Assert.Equal($"0x{hart.Pc:x}", $"0x{pc:x}");
        Assert.Equal(m.GetProperty("privilege").GetString(), hart.Mode switch { Core.Hart.PrivilegeLevel.Machine => "M", Core.Hart.PrivilegeLevel.Supervisor => "S", _ => "U" });
        bool Same() => Enumerable.Range(1, 31).All(r => hart.GetX(r) == x[r]) && Enumerable.Range(0, 32).All(r => hart.GetF(r) == f[r]);
        if (Same()) return;
        Assert.True(m.GetProperty("executingGuestCode").GetBoolean(), $"registers differ from the replay at step {step}, and the hart was not running");
        Assert.Null(replayer.RunTo(step + 1));
        Assert.True(Same(), $"registers differ from the replay at step {step} and {step + 1}");
    }

    private static JsonElement Machine(JsonElement report)
    {
        var machines = report.GetProperty("machines");
        Assert.Equal(1, machines.GetArrayLength());
        return machines[0];
    }

    private static JsonElement InspectJson(int pid)
    {
        var outcome = CliProcess.Run("inspect", pid.ToString(), "--json");
        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        return JsonDocument.Parse(outcome.StdoutText).RootElement.Clone();
    }
}
