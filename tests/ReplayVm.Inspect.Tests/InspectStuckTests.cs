using System.Text.Json;
using ReplayVm.Cli.Tests.Support;
using ReplayVm.Inspect.Tests.Support;

namespace ReplayVm.Inspect.Tests;

/// <summary>Where a stuck replayvm is stuck: a guest in a tight loop, and a host thread blocked on its output.</summary>
public sealed class InspectStuckTests
{
    [Fact]
    public void A_guest_spinning_with_interrupts_off_is_found_at_its_loop()
    {
        using var guest = GuestProcess.Start(null, "run", StuckGuests.Spin);
        // Between slices the machine thread is in Machine.EnterStep (polling input, interrupt lines),
        // where the inspector rightly says it is not executing guest code; a spin whose slices are a few
        // thousand steps is caught there now and then, so the report is taken again until it is inside one.
        var report = InspectUntil(guest.Id, r => r.GetProperty("machines")[0].GetProperty("step").GetUInt64() > 1000
            && r.GetProperty("machines")[0].GetProperty("executingGuestCode").GetBoolean());
        var m = report.GetProperty("machines")[0];
        Assert.Equal("run", m.GetProperty("role").GetString());
        Assert.Equal("spin", m.GetProperty("symbol").GetString());
        Assert.Equal("j\t80000004 <spin>", m.GetProperty("instruction").GetString());
        Assert.Equal("M", m.GetProperty("privilege").GetString());
        Assert.True(m.GetProperty("executingGuestCode").GetBoolean());
        Assert.Equal(0UL, m.GetProperty("csrs").EnumerateArray().First(c => c.GetProperty("name").GetString() == "mstatus").GetProperty("value").GetUInt64() & 8);

        var text = CliProcess.Run("inspect", guest.Id.ToString());
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("pc  0x0000000080000004 <spin>  j 80000004 <spin>", text.StdoutText);
    }

    [Fact]
    public void A_host_thread_blocked_writing_the_console_is_named_and_the_machine_does_not_move()
    {
        // Nobody reads this replayvm's stdout: once the pipe is full, the thread running the guest blocks in write(2).
        var info = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(CliProcess.CliDll);
        info.ArgumentList.Add("run");
        info.ArgumentList.Add(StuckGuests.Flood);
        using var process = System.Diagnostics.Process.Start(info)!;
        try
        {
            var first = InspectUntil(process.Id, Blocked);
            var second = Inspect(process.Id);
            ulong step = first.GetProperty("machines")[0].GetProperty("step").GetUInt64();
            Assert.Equal(step, second.GetProperty("machines")[0].GetProperty("step").GetUInt64());
            Assert.True(Blocked(second), "no thread is blocked writing the console");
            Assert.EndsWith("xxxxxxxx", second.GetProperty("machines")[0].GetProperty("consoleTail").GetString());
            // The console pump's timer skips its tick while a flush is blocked, instead of parking a
            // thread-pool thread behind it every 20 ms.
            Assert.True(second.GetProperty("threads").GetArrayLength() < 30, $"{second.GetProperty("threads").GetArrayLength()} threads");
        }
        finally
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    [Fact]
    public void A_recording_whose_console_nobody_reads_still_stops_on_sigterm_and_closes_its_trace()
    {
        // write(2) into a full pipe cannot be interrupted from another thread; the stop must not wait on it.
        string dir = Directory.CreateTempSubdirectory("replayvm-stuck-record-").FullName;
        string trace = Path.Combine(dir, "flood.rvtrace");
        var info = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { CliProcess.CliDll, "record", "-o", trace, StuckGuests.Flood }) info.ArgumentList.Add(arg);
        using var process = System.Diagnostics.Process.Start(info)!;
        try
        {
            InspectUntil(process.Id, Blocked);
            System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "replayvm blocked on its console did not stop on SIGTERM");
            Assert.Equal(128 + 15, process.ExitCode);
            Assert.Contains("recorded ", process.StandardError.ReadToEnd());
            var replay = CliProcess.Run("replay", trace);
            Assert.True(replay.ExitCode == 0, replay.ToString());
            Assert.Contains("replay identical", replay.Stderr);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
            process.WaitForExit();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Some thread sits in the console's write(2), and the thread running the guest is stopped inside
    /// the UART's write: in that write(2) itself, or waiting for the console pump whose flusher (a
    /// thread-pool timer) holds it while it writes — which of the two depends on who filled the pipe.
    /// </summary>
    private static bool Blocked(JsonElement report)
    {
        var stacks = report.GetProperty("threads").EnumerateArray()
            .Select(t => t.GetProperty("frames").EnumerateArray().Select(f => f.GetString()!).ToList()).ToList();
        static int Find(List<string> frames, string method) => frames.FindIndex(f => f.StartsWith(method, StringComparison.Ordinal));
        bool someoneWrites = stacks.Any(frames => Find(frames, "ReplayVm.Cli.Hosting.FileDescriptorStream.Write") >= 0);
        bool guestStuck = stacks.Any(frames =>
        {
            int uart = Find(frames, "ReplayVm.Core.Devices.Uart16550.Write");
            int write = Find(frames, "ReplayVm.Cli.Hosting.FileDescriptorStream.Write");
            int pump = Find(frames, "ReplayVm.Cli.Hosting.ConsoleOutputPump.Write");
            return uart >= 0 && ((write >= 0 && write < uart) || (pump >= 0 && pump < uart));
        });
        return someoneWrites && guestStuck;
    }

    /// <summary>Inspects every 200 ms until <paramref name="ready"/> holds for the report (a minute at most).</summary>
    private static JsonElement InspectUntil(int pid, Func<JsonElement, bool> ready)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            // Right after its start the process has not loaded ReplayVm.Core yet, and inspect says
            // so (exit 2): on a loaded machine the first polls can come that early.
            var outcome = CliProcess.Run("inspect", pid.ToString(), "--json");
            bool starting = outcome.ExitCode != 0 && outcome.Stderr.Contains("ReplayVm.Core is not loaded");
            if (!starting)
            {
                Assert.True(outcome.ExitCode == 0, outcome.ToString());
                var report = JsonDocument.Parse(outcome.StdoutText).RootElement.Clone();
                if (report.GetProperty("machines").GetArrayLength() == 1 && ready(report)) return report;
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the process never got there: {outcome}");
            Thread.Sleep(200);
        }
    }

    private static JsonElement Inspect(int pid)
    {
        var outcome = CliProcess.Run("inspect", pid.ToString(), "--json");
        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        return JsonDocument.Parse(outcome.StdoutText).RootElement.Clone();
    }
}
