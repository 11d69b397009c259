using System.Text.RegularExpressions;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// <c>replayvm index</c> and <c>replay --jobs</c> as a user runs them: the sidecar is written, kept
/// while sound, rebuilt with a one-line notice when damaged or foreign, and a parallel replay prints
/// and exits exactly as a serial one.
/// </summary>
public sealed class IndexCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-indexcli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Record(string name, string guest, params string[] extra)
    {
        string trace = Path.Combine(_dir, name);
        var recorded = CliProcess.Run(["record", "-o", trace, "--hash-interval", "1000", .. extra, CliProcess.Guest(guest)]);
        Assert.True(File.Exists(trace), recorded.ToString());
        return trace;
    }

    private string Demo() => Record("demo.rvtrace", "demo.elf", "--input", CliProcess.Expected("demo.stdin"));

    [Fact]
    public void Index_writes_the_sidecar_keeps_it_while_sound_and_rebuilds_a_damaged_one()
    {
        string trace = Demo();
        string sidecar = trace + ".rvindex";
        var first = CliProcess.Run("index", trace, "--every", "2000");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Matches(@"^replayvm: wrote .*demo\.rvtrace\.rvindex: [1-9]\d* snapshots over \d+ steps, \d+ bytes .* [1-9]\d* state hashes matched$", first.StderrLines[^1]);
        var bytes = File.ReadAllBytes(sidecar);

        var again = CliProcess.Run("index", trace, "--every", "2000");
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("is up to date", again.Stderr);
        Assert.Equal(bytes, File.ReadAllBytes(sidecar));

        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(sidecar, bytes);
        var rebuilt = CliProcess.Run("index", trace, "--every", "2000");
        Assert.Equal(0, rebuilt.ExitCode);
        Assert.Single(rebuilt.StderrLines, l => l.Contains("ignored") && l.Contains("rebuilding"));
        Assert.Contains("up to date", CliProcess.Run("index", trace, "--every", "2000").Stderr);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
    }

    [Fact]
    public void Another_traces_sidecar_is_ignored_with_a_notice_and_replaced()
    {
        string demo = Demo();
        string hello = Record("hello.rvtrace", "hello.elf");
        Assert.Equal(0, CliProcess.Run("index", demo).ExitCode);
        File.Copy(demo + ".rvindex", hello + ".rvindex");
        var replay = CliProcess.Run("replay", "--jobs", "2", hello);
        Assert.Equal(0, replay.ExitCode);
        Assert.Contains("belongs to another trace", replay.Stderr);
        var index = CliProcess.Run("index", hello);
        Assert.Equal(0, index.ExitCode);
        Assert.Contains("belongs to another trace", index.Stderr);
        Assert.Contains("wrote", index.StderrLines[^1]);
    }

    [Theory]
    [InlineData("demo.elf", 3)]
    [InlineData("fail.elf", 2)]
    public void Replay_with_jobs_prints_and_exits_as_a_serial_replay(string guest, int jobs)
    {
        string trace = guest == "demo.elf" ? Demo() : Record("fail.rvtrace", guest);
        Assert.Equal(0, CliProcess.Run("index", trace, "--every", "1000").ExitCode);
        var serial = CliProcess.Run("replay", trace);
        var parallel = CliProcess.Run("replay", "--jobs", jobs.ToString(), trace);
        Assert.Equal(serial.ExitCode, parallel.ExitCode);
        Assert.Equal(serial.Stdout, parallel.Stdout);
        Assert.Equal(serial.StderrLines[^1], parallel.StderrLines[^1]);
    }

    [Fact]
    public void Replay_with_jobs_but_no_index_says_so_and_replays_on_one_machine()
    {
        string trace = Demo();
        var serial = CliProcess.Run("replay", trace);
        var parallel = CliProcess.Run("replay", "-j", "2", trace);
        Assert.Equal(serial.Stdout, parallel.Stdout);
        Assert.Equal(serial.ExitCode, parallel.ExitCode);
        Assert.Contains("no usable index", parallel.Stderr);
    }

    [Theory]
    [InlineData("--jobs", "0")]
    [InlineData("--budget", "lots")]
    [InlineData("--every", "0")]
    public void Bad_options_are_one_line_and_status_2(string option, string value)
    {
        string trace = Demo();
        var outcome = option == "--jobs" ? CliProcess.Run("replay", option, value, trace) : CliProcess.Run("index", option, value, trace);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Single(outcome.StderrLines);
        Assert.Contains(option, outcome.Stderr);
    }

    /// <summary>Polls (a file appears when a background build renames it into place) until <paramref name="done"/> or a generous deadline.</summary>
    private static void WaitFor(Func<bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (!done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"gave up waiting for {what}");
            Thread.Sleep(100);
        }
    }

    [Fact]
    public void Gdb_builds_a_missing_sidecar_in_the_background_and_rebuilds_a_damaged_one()
    {
        // Long enough for the automatic build (5x10^7 steps), with the default hash interval.
        string trace = Path.Combine(_dir, "bench.rvtrace");
        CliProcess.Run("record", "-o", trace, "--max-instructions", "60M", CliProcess.Guest("bench.elf"));
        string sidecar = trace + ".rvindex";
        Assert.False(File.Exists(sidecar));

        using (var server = GdbServerProcess.Start(trace))
        {
            WaitFor(() => File.Exists(sidecar), "the sidecar");
            Assert.Equal(0, server.Stop());
            Assert.Contains($"replayvm: no index for {trace}: building {sidecar} in the background", server.Errors);
        }
        Assert.Contains("is up to date", CliProcess.Run("index", trace).Stderr);
        var sound = File.ReadAllBytes(sidecar);

        var damaged = (byte[])sound.Clone();
        damaged[damaged.Length / 2] ^= 0x01;
        File.WriteAllBytes(sidecar, damaged);
        using (var server = GdbServerProcess.Start(trace))
        {
            WaitFor(() => File.ReadAllBytes(sidecar).AsSpan().SequenceEqual(sound), "the rebuilt sidecar");
            Assert.Equal(0, server.Stop());
            Assert.Single(server.Errors.Split('\n'), l => l.StartsWith($"replayvm: index {sidecar} ignored: ") && l.EndsWith("; rebuilding it in the background"));
        }
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
    }

    [Fact]
    public void Gdb_stopped_while_it_builds_leaves_no_working_file_and_no_sidecar()
    {
        string trace = Path.Combine(_dir, "bench.rvtrace");
        CliProcess.Run("record", "-o", trace, "--max-instructions", "400M", CliProcess.Guest("bench.elf"));
        using var server = GdbServerProcess.Start(trace);
        WaitFor(() => Directory.GetFiles(_dir, "*.tmp-*").Length > 0 || File.Exists(trace + ".rvindex"), "the build to start");
        Assert.Equal(0, server.Stop());
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
        // Stopped before the end (a 4x10^8-step build takes seconds): no sidecar; or it had finished: a sound one.
        if (File.Exists(trace + ".rvindex")) Assert.Contains("is up to date", CliProcess.Run("index", trace).Stderr);
    }

    [Fact]
    public void Ctrl_c_in_gdb_interrupts_a_reverse_continue_over_the_index_back_where_it_began()
    {
        string gdb = GdbSession.GdbMultiarch();
        string trace = Path.Combine(_dir, "bench.rvtrace");
        CliProcess.Run("record", "-o", trace, CliProcess.Guest("bench.elf"));
        Assert.Equal(0, CliProcess.Run("index", trace).ExitCode);
        using var server = GdbServerProcess.Start([trace], stdin: null, progressInterval: TimeSpan.FromMilliseconds(100));
        // A read watchpoint on main's saved return address (read only when main returns, at the very
        // end) is never hit before step 4x10^8, and it lies on the stack's top page, which every stretch
        // of the index loads from, so no stretch is passed over: the scan crosses every window back to
        // step 0 (4x10^8 steps, on several machines), long enough to show its progress and be interrupted.
        string output = GdbSession.RunInterrupting(gdb, server.Port, "tools/guests/elf/bench.elf", TimeSpan.FromMinutes(5),
            interruptWhen: "Ctrl-C stops it",
            "monitor seek 400000000",
            "rwatch *(long *)((char *)&__stack_top - 8)",
            "reverse-continue",
            "monitor when",
            "printf \"PC %lx\\n\", $pc");
        Assert.Matches(@"replayvm: reverse-continue (\d+%, )?at event \d+|replayvm: reverse-continue \d+%", output);
        Assert.Contains("Program received signal SIGINT, Interrupt.", output);
        // Cancelled, it is back where it began: a position it had, with the registers of that position.
        Assert.Contains("Current event: 400000000", output);
        Assert.Equal(0, server.Stop());
        string pcThere = Regex.Match(output, @"PC ([0-9a-f]+)").Groups[1].Value;
        using var second = GdbServerProcess.Start(trace);
        string again = GdbSession.Run(gdb, second.Port, "tools/guests/elf/bench.elf", TimeSpan.FromMinutes(5),
            "monitor seek 400000000", "maintenance flush register-cache", "printf \"PC %lx\\n\", $pc");
        Assert.Equal(0, second.Stop());
        Assert.NotEqual("", pcThere);
        Assert.Equal(pcThere, Regex.Match(again, @"PC ([0-9a-f]+)").Groups[1].Value);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Ctrl_c_during_index_leaves_the_sidecar_as_it_was(bool sidecarBefore)
    {
        string trace = Path.Combine(_dir, "bench.rvtrace");
        CliProcess.Run("record", "-o", trace, CliProcess.Guest("bench.elf"));
        string sidecar = trace + ".rvindex";
        byte[]? before = null;
        if (sidecarBefore)
        {
            Assert.Equal(0, CliProcess.Run("index", trace, "--every", "100M").ExitCode);
            before = File.ReadAllBytes(sidecar);
        }
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = CliProcess.RepoRoot };
        foreach (var argument in new[] { CliProcess.CliDll, "index", trace, "--force" }) info.ArgumentList.Add(argument);
        using var index = System.Diagnostics.Process.Start(info)!;
        var errors = index.StandardError.ReadToEndAsync();
        WaitFor(() => Directory.GetFiles(_dir, "*.tmp-*").Length > 0 || index.HasExited, "the build to start");
        using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", index.Id.ToString()])) kill.WaitForExit();
        Assert.True(index.WaitForExit(TimeSpan.FromMinutes(2)), "index ignored SIGINT");
        string told = await errors;
        Assert.True(index.ExitCode == 130, $"exit {index.ExitCode}: {told}");
        Assert.Equal($"replayvm: index interrupted; {(sidecarBefore ? $"{sidecar} is as it was" : "no sidecar written")}", told.Trim());
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
        if (sidecarBefore) Assert.Equal(before, File.ReadAllBytes(sidecar));
        else Assert.False(File.Exists(sidecar));
    }
}
