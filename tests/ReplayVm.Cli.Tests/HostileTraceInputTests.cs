using System.Diagnostics;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// Things that are not traces, and option values that make no sense, given to record, replay and
/// info: each is one line and exit status 2, quickly (a device or a FIFO is never read), and a
/// recording is never lost to a second recorder or written over one of its own inputs.
/// </summary>
public class HostileTraceInputTests
{
    private static string Temp(string name) => Path.Combine(Path.GetTempPath(), $"replayvm-hostile-{Environment.ProcessId}-{name}");

    public static TheoryData<string, string[], string> Cases()
    {
        string empty = Temp("empty.rvtrace");
        File.WriteAllBytes(empty, []);
        string fifo = Temp("fifo.rvtrace");
        if (!File.Exists(fifo)) Process.Start("mkfifo", fifo)!.WaitForExit();
        string hello = CliProcess.Guest("hello.elf");
        return new()
        {
            { "replay a device", ["replay", "/dev/zero"], "/dev/zero: is a character device, not a trace file" },
            { "info on a device", ["info", "/dev/zero"], "/dev/zero: is a character device, not a trace file" },
            { "info on a FIFO", ["info", fifo], "is a FIFO (named pipe), not a trace file" },
            { "replay a directory", ["replay", "/tmp"], "/tmp: is a directory, not a trace file" },
            { "diff with a directory", ["diff", "/tmp", "/tmp"], "/tmp: is a directory, not a trace file" },
            { "empty trace", ["info", empty], "empty file: the recorder was killed before it wrote anything" },
            { "negative -m", ["run", "-m", "-5", hello], "bad memory size '-5' for -m/--memory" },
            { "negative --memory", ["record", "-o", Temp("x.rvtrace"), "--memory", "-5", hello], "bad memory size '-5' for -m/--memory" },
            { "-m below a page", ["run", "-m", "1K", hello], "bad memory size '1K' for -m/--memory (a multiple of 4 KiB up to 1 TiB" },
            { "-m beyond the host", ["run", "-m", "1T", hello], "it needs 1 TiB of memory (RAM 1 TiB" },
            { "zero instruction limit", ["run", "--max-instructions", "0", hello], "bad instruction count '0' for --max-instructions (a positive count" },
            { "record over its guest", ["record", "-o", hello, hello], "is also an input of this recording" },
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gives_one_line_and_status_2(string what, string[] arguments, string expected)
    {
        var outcome = CliProcess.Run(arguments, stdin: [], timeoutSeconds: 60);
        Assert.True(outcome.ExitCode == 2, $"{what}: {outcome}");
        Assert.Single(outcome.StderrLines);
        Assert.Contains(expected, outcome.Stderr);
        Assert.DoesNotContain("Parameter", outcome.Stderr);
        Assert.DoesNotContain("   at ", outcome.Stderr);
    }

    [Fact]
    public void Record_refuses_to_write_over_one_of_its_inputs_and_leaves_it_alone()
    {
        string guest = Temp("guest.elf");
        File.Copy(CliProcess.Guest("hello.elf"), guest, overwrite: true);
        string link = Temp("link.rvtrace");
        File.Delete(link);
        File.CreateSymbolicLink(link, guest);
        byte[] before = File.ReadAllBytes(guest);
        try
        {
            foreach (var output in new[] { guest, link })
            {
                var outcome = CliProcess.Run("record", "-o", output, guest);
                Assert.Equal(2, outcome.ExitCode);
                Assert.Contains("is also an input of this recording", outcome.Stderr);
                Assert.Equal(before, File.ReadAllBytes(guest));
            }
        }
        finally
        {
            File.Delete(link);
            File.Delete(guest);
        }
    }

    [Fact]
    public async Task A_second_recorder_on_the_same_output_is_refused_and_the_first_recording_survives()
    {
        string trace = Temp("same.rvtrace");
        File.Delete(trace);
        using var first = DemoRecorder.Start(trace);
        try
        {
            var second = CliProcess.Run("record", "-o", trace, "--input", "/dev/null", CliProcess.Guest("hello.elf"));
            Assert.Equal(2, second.ExitCode);
            Assert.Contains("another replayvm is recording to this file", second.Stderr);
            await first.QuitAndAssertItReplays();
        }
        finally
        {
            File.Delete(trace);
        }
    }

    /// <summary>
    /// A live session's <c>-o</c> (<c>gdb --live</c>; <c>debug GUEST</c> opens its output the same way)
    /// takes the lock <c>record</c> takes: while it records, neither <c>record</c> nor a second live
    /// session may write its file, and its recording survives them whole.
    /// </summary>
    [Fact]
    public void A_live_session_holds_its_output_against_record_and_another_live_session()
    {
        string trace = Temp("live-locked.rvtrace");
        File.Delete(trace);
        try
        {
            using (var live = GdbServerProcess.Start(["--live", "--deterministic", "-o", trace, CliProcess.Guest("demo.elf")], stdin: []))
            {
                // Listening means the session has opened its trace and written the header.
                Assert.True(new FileInfo(trace).Length > 0, "the live session wrote no header before listening");
                var record = CliProcess.Run(["record", "-o", trace, "--input", "/dev/null", CliProcess.Guest("hello.elf")], stdin: [], timeoutSeconds: 60);
                Assert.True(record.ExitCode == 2, record.ToString());
                Assert.Equal($"replayvm: {trace}: another replayvm is recording to this file; wait for it to finish or give another -o", record.Stderr.Trim());
                var second = CliProcess.Run(["gdb", "--live", "-o", trace, CliProcess.Guest("hello.elf"), "--port", "0"], stdin: [], timeoutSeconds: 60);
                Assert.True(second.ExitCode == 2, second.ToString());
                Assert.Contains("another replayvm is recording to this file", second.Stderr);
                Assert.Equal(0, live.Stop());
            }
            var info = CliProcess.Run("info", trace);
            Assert.True(info.ExitCode == 0, info.ToString());
            Assert.Contains("demo.elf", info.StdoutText);
            var replay = CliProcess.Run("replay", trace);
            Assert.True(replay.ExitCode == 0, replay.ToString());
            Assert.Contains("replay identical", replay.Stderr);
        }
        finally
        {
            File.Delete(trace);
        }
    }

    [Fact]
    public async Task A_live_session_cannot_take_a_file_record_is_writing()
    {
        string trace = Temp("recording-locked.rvtrace");
        File.Delete(trace);
        using var first = DemoRecorder.Start(trace);
        try
        {
            long header = first.HeaderLength;
            var live = CliProcess.Run(["gdb", "--live", "-o", trace, CliProcess.Guest("hello.elf"), "--port", "0"], stdin: [], timeoutSeconds: 60);
            Assert.True(live.ExitCode == 2, live.ToString());
            Assert.Equal($"replayvm: {trace}: another replayvm is recording to this file; wait for it to finish or give another -o", live.Stderr.Trim());
            Assert.True(new FileInfo(trace).Length >= header, "the refused live session emptied the recorder's file");
            await first.QuitAndAssertItReplays();
        }
        finally
        {
            File.Delete(trace);
        }
    }

    [Fact]
    public void A_live_session_refuses_to_write_over_its_guest()
    {
        string guest = Temp("live-guest.elf");
        File.Copy(CliProcess.Guest("hello.elf"), guest, overwrite: true);
        byte[] before = File.ReadAllBytes(guest);
        try
        {
            var outcome = CliProcess.Run(["gdb", "--live", "-o", guest, guest, "--port", "0"], stdin: [], timeoutSeconds: 60);
            Assert.True(outcome.ExitCode == 2, outcome.ToString());
            Assert.Equal($"replayvm: {guest}: is also an input of this recording ({guest}); write the trace to another file", outcome.Stderr.Trim());
            Assert.Equal(before, File.ReadAllBytes(guest));
        }
        finally
        {
            File.Delete(guest);
        }
    }

    /// <summary>
    /// A trace whose header declares RAM the machine cannot have: <c>replay</c>, <c>gdb</c> and
    /// <c>debug</c> refuse it with one line naming the size (never .NET's "(Parameter 'size')").
    /// </summary>
    [Theory]
    [InlineData((16UL << 20) + 1, "impossible RAM size of 16777217 bytes")]
    [InlineData(1UL << 40, "it needs 1 TiB of memory (RAM 1 TiB")]
    public void A_header_RAM_size_the_machine_cannot_have_is_one_line(ulong ramSize, string expected)
    {
        string trace = Temp($"ram-{ramSize}.rvtrace");
        var setup = ReplayVm.Replay.MachineSetup.ForElf(new ReplayVm.Core.MachineConfig { RamSize = ramSize }, "hello.elf", File.ReadAllBytes(CliProcess.Guest("hello.elf")));
        using (var writer = ReplayVm.Replay.TraceWriter.Create(trace, new ReplayVm.Replay.TraceHeader(setup, 1000, "test"),
                   new ReplayVm.Replay.TraceWriterOptions { FlushInterval = TimeSpan.Zero }))
        {
            writer.Append(new ReplayVm.Replay.StateHashEvent(0, new(1, 2)));
            writer.Append(new ReplayVm.Replay.EndEvent(0, ReplayVm.Core.StopReason.InstructionLimit, 0, new(1, 2), null));
        }
        try
        {
            // info reads the header only: it describes a machine it need not build, or refuses an impossible one.
            var info = CliProcess.Run("info", trace);
            Assert.True(info.ExitCode == 0 || (info.ExitCode == 2 && info.Stderr.Contains(expected)), info.ToString());
            foreach (var arguments in new[] { new[] { "replay", trace }, ["gdb", trace, "--port", "0"], ["debug", trace] })
            {
                var outcome = CliProcess.Run(arguments, stdin: [], timeoutSeconds: 60);
                Assert.True(outcome.ExitCode == 2, $"{string.Join(' ', arguments)}: {outcome}");
                Assert.Single(outcome.StderrLines);
                Assert.Contains(expected, outcome.Stderr);
                Assert.DoesNotContain("Parameter", outcome.Stderr);
                Assert.DoesNotContain("   at ", outcome.Stderr);
            }
        }
        finally
        {
            File.Delete(trace);
        }
    }

    /// <summary>Where docs/trace-format.md says a trace is malformed, the CLI says so in one line (exit 2).</summary>
    [Theory]
    [InlineData("stop reason 4", "unknown stop reason (4)")]
    [InlineData("hash off the interval", "not the next multiple of the interval")]
    [InlineData("forged step delta", "past step 1000 where a state hash was due")]
    public void A_trace_the_format_forbids_is_one_line(string what, string expected)
    {
        string trace = Temp($"forged-{what.Replace(' ', '-')}.rvtrace");
        var setup = ReplayVm.Replay.MachineSetup.ForElf(new ReplayVm.Core.MachineConfig { RamSize = 16UL << 20 }, "hello.elf", File.ReadAllBytes(CliProcess.Guest("hello.elf")));
        var events = new List<ReplayVm.Replay.TraceEvent> { new ReplayVm.Replay.StateHashEvent(0, new(1, 2)) };
        events.Add(what switch
        {
            "stop reason 4" => new ReplayVm.Replay.EndEvent(0, ReplayVm.Core.StopReason.DebugStop, 0, new(1, 2), null),
            "hash off the interval" => new ReplayVm.Replay.StateHashEvent(999, new(1, 2)),
            _ => new ReplayVm.Replay.ConsoleInputEvent(1UL << 62, [(byte)'a']),
        });
        using (var writer = ReplayVm.Replay.TraceWriter.Create(trace, new ReplayVm.Replay.TraceHeader(setup, 1000, "test"),
                   new ReplayVm.Replay.TraceWriterOptions { FlushInterval = TimeSpan.Zero }))
            foreach (var e in events) writer.Append(e);
        try
        {
            foreach (var command in new[] { "info", "replay" })
            {
                var outcome = CliProcess.Run([command, trace], stdin: [], timeoutSeconds: 60);
                Assert.True(outcome.ExitCode == 2, $"{command} on a trace with a {what}: {outcome}");
                Assert.Single(outcome.StderrLines);
                Assert.Contains(expected, outcome.Stderr);
                Assert.DoesNotContain("   at ", outcome.Stderr);
            }
        }
        finally
        {
            File.Delete(trace);
        }
    }

    /// <summary>
    /// <c>record --deterministic</c> of the demo guest, waiting at its prompt, so it holds its output
    /// file (the header is written) until <see cref="QuitAndAssertItReplays"/> types quit.
    /// </summary>
    private sealed class DemoRecorder : IDisposable
    {
        private readonly Process _process;
        private readonly string _trace;
        private readonly Task<string> _stdout, _stderr;

        private DemoRecorder(Process process, string trace)
        {
            _process = process;
            _trace = trace;
            _stdout = process.StandardOutput.ReadToEndAsync();
            _stderr = process.StandardError.ReadToEndAsync();
        }

        /// <summary>The trace's length once the recorder had written its header.</summary>
        public long HeaderLength { get; private set; }

        public static DemoRecorder Start(string trace)
        {
            var process = new Process
            {
                StartInfo = new ProcessStartInfo("dotnet")
                {
                    ArgumentList = { CliProcess.CliDll, "record", "-o", trace, "--deterministic", CliProcess.Guest("demo.elf") },
                    RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
                },
            };
            process.Start();
            var recorder = new DemoRecorder(process, trace);
            // The demo waits at its prompt: once the trace has its header the recorder holds the file.
            for (int i = 0; i < 600 && (!File.Exists(trace) || new FileInfo(trace).Length == 0); i++) Thread.Sleep(100);
            recorder.HeaderLength = File.Exists(trace) ? new FileInfo(trace).Length : 0;
            Assert.True(recorder.HeaderLength > 0, "the recorder never wrote its header");
            return recorder;
        }

        /// <summary>Types quit; the recorder must finish and its trace replay identically.</summary>
        public async Task QuitAndAssertItReplays()
        {
            _process.StandardInput.Write("quit\n");
            _process.StandardInput.Close();
            Assert.True(_process.WaitForExit(120_000), "the recorder did not finish");
            Assert.Contains("recorded", await _stderr);
            _ = await _stdout;
            var replay = CliProcess.Run("replay", _trace);
            Assert.True(replay.ExitCode == 0, replay.ToString());
            Assert.Contains("replay identical", replay.Stderr);
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill();
            _process.Dispose();
        }
    }
}
