using System.Diagnostics;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// <c>record</c>, <c>replay</c> and <c>info</c> run as real processes: a replay prints exactly
/// what the recording printed and exits alike; damaged traces give a one-line report, never a
/// stack trace.
/// </summary>
public sealed class RecordReplayTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-record-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string TracePath(string name) => Path.Combine(_dir, name);

    private static string DemoInput => CliProcess.Expected("demo.stdin");

    [Theory]
    [InlineData("hello.elf")]
    [InlineData("fail.elf")]
    public void Replay_prints_what_the_recording_printed_and_exits_alike(string guest)
    {
        string trace = TracePath(guest + ".rvtrace");
        var recorded = CliProcess.Run("record", "-o", trace, CliProcess.Guest(guest));
        var replayed = CliProcess.Run("replay", trace);

        Assert.Equal(File.ReadAllBytes(CliProcess.Expected(Path.ChangeExtension(guest, ".out"))), recorded.Stdout);
        Assert.Equal(recorded.Stdout, replayed.Stdout);
        Assert.Equal(int.Parse(File.ReadAllText(CliProcess.Expected(Path.ChangeExtension(guest, ".status")))), recorded.ExitCode);
        Assert.Equal(recorded.ExitCode, replayed.ExitCode);
        Assert.Matches(@"^replayvm: recorded \d+ steps, \d+ events to .*\.rvtrace$", recorded.StderrLines[^1]);
        Assert.Contains("replay identical", replayed.Stderr);
    }

    [Fact]
    public void The_demo_recorded_from_an_input_file_replays_byte_for_byte_with_every_hash()
    {
        string trace = TracePath("demo.rvtrace");
        var recorded = CliProcess.Run("record", "-o", trace, "--hash-interval", "1000", "--input", DemoInput, CliProcess.Guest("demo.elf"));
        Assert.True(recorded.ExitCode == 0, recorded.ToString());
        Assert.EndsWith("bye\n", recorded.StdoutText);
        Assert.Contains("demo> add dave_the_magnificent#", recorded.StdoutText);

        var replayed = CliProcess.Run("replay", trace);
        Assert.Equal(0, replayed.ExitCode);
        Assert.Equal(recorded.Stdout, replayed.Stdout);
        Assert.Matches(@"replay identical: \d+ steps, [1-9]\d+ state hashes matched", replayed.Stderr);
    }

    [Fact]
    public void Piped_stdin_is_recorded_and_replayed()
    {
        string trace = TracePath("piped.rvtrace");
        var recorded = CliProcess.Run(["record", "-o", trace, CliProcess.Guest("demo.elf")], File.ReadAllBytes(DemoInput));
        Assert.True(recorded.ExitCode == 0, recorded.ToString());
        var replayed = CliProcess.Run("replay", trace);
        Assert.Equal(0, replayed.ExitCode);
        Assert.Equal(recorded.Stdout, replayed.Stdout);
    }

    [Fact]
    public void Info_shows_the_machine_the_images_and_the_contents()
    {
        string trace = TracePath("demo.rvtrace");
        CliProcess.Run("record", "-o", trace, "-m", "64M", "--hash-interval", "5000", "--input", DemoInput, CliProcess.Guest("demo.elf"));
        var info = CliProcess.Run("info", trace);
        Assert.Equal(0, info.ExitCode);
        string text = info.StdoutText;
        Assert.Matches($@"format\s+version {ReplayVm.Replay.Format.TraceFormat.Version}\b", text);
        Assert.Matches(@"machine\s+virt, RAM 64 MiB", text);
        string sha = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(CliProcess.Guest("demo.elf")))).ToLowerInvariant();
        Assert.Matches($@"image\s+elf demo\.elf, \d+ bytes, sha256 {sha}", text);
        Assert.Matches(@"events\s+ConsoleInput \d+, WallClock 1, Entropy 2, StateHash \d+, End 1", text);
        Assert.Matches(@"hash points\s+\d+ \(every 5000 steps", text);
        Assert.Matches(@"chunks\s+\d+", text);
        Assert.Matches(@"exit status\s+0", text);
        Assert.Matches(@"status\s+complete", text);

        var json = CliProcess.Run("info", "--json", trace);
        Assert.Equal(0, json.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(json.Stdout);
        Assert.False(doc.RootElement.GetProperty("truncated").GetBoolean());
        Assert.Equal(64UL << 20, doc.RootElement.GetProperty("ramBytes").GetUInt64());
    }

    [Fact]
    public void A_flipped_bit_or_a_cut_gives_a_truncation_report_or_one_line_error_never_a_stack_trace()
    {
        string trace = TracePath("hello.rvtrace");
        CliProcess.Run("record", "-o", trace, "--hash-interval", "100", CliProcess.Guest("hello.elf"));
        byte[] good = File.ReadAllBytes(trace);
        var random = new Random(4);
        for (int i = 0; i < 6; i++)
        {
            byte[] bad = good.ToArray();
            int bit = random.Next(bad.Length * 8);
            bad[bit / 8] ^= (byte)(1 << (bit % 8));
            AssertCleanFailure(bad, $"bit {bit} flipped");
            AssertCleanFailure(good[..random.Next(good.Length)], "cut");
        }
        // A cut inside the chunks (past the header) keeps the header: a truncation report.
        var cut = CliProcess.Run("replay", Write(good[..(good.Length - 3)]));
        Assert.Equal(4, cut.ExitCode);
        Assert.Contains("truncated", cut.Stderr);
    }

    [Fact]
    public void A_newer_format_version_is_refused_with_a_clear_message()
    {
        string trace = TracePath("hello.rvtrace");
        CliProcess.Run("record", "-o", trace, CliProcess.Guest("hello.elf"));
        byte[] bytes = File.ReadAllBytes(trace);
        bytes[8] = 99; // u16 format version at offset 8
        string path = Write(bytes);
        foreach (var command in new[] { "replay", "info" })
        {
            var outcome = CliProcess.Run(command, path);
            Assert.Equal(2, outcome.ExitCode);
            Assert.Single(outcome.StderrLines);
            Assert.Matches(@"^replayvm: .*trace format version 99 is newer than this ReplayVm reads", outcome.StderrLines[0]);
        }
    }

    [Fact]
    public void A_recorder_killed_with_SIGKILL_leaves_a_trace_that_replays_to_its_last_chunk()
    {
        string trace = TracePath("bench.rvtrace");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        // On the interpreter: the translator records all of bench.elf in about half a second, before
        // three hash points' chunks can be seen on disk; the engine does not matter to what is tested.
        foreach (var a in new[] { CliProcess.CliDll, "record", "--engine", "interpreter", "-o", trace, "--hash-interval", "1M", CliProcess.Guest("bench.elf") })
            info.ArgumentList.Add(a);
        using (var recorder = Process.Start(info)!)
        {
            _ = recorder.StandardOutput.ReadToEndAsync();
            _ = recorder.StandardError.ReadToEndAsync();
            // Kill once a few hash points are on disk: far sooner than the whole benchmark ends.
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(60) && !recorder.HasExited && HashPointsOnDisk(trace) < 3)
                Thread.Sleep(100);
            Assert.False(recorder.HasExited, "the benchmark finished before it could be killed");
            recorder.Kill(); // SIGKILL
            recorder.WaitForExit();
        }

        var described = CliProcess.Run("info", trace);
        Assert.Equal(0, described.ExitCode);
        Assert.Matches(@"status\s+truncated: ", described.StdoutText);
        Assert.DoesNotMatch(@"exit status", described.StdoutText);

        var replayed = CliProcess.Run("replay", trace);
        Assert.Equal(4, replayed.ExitCode);
        Assert.Single(replayed.StderrLines);
        Assert.Matches(@"truncated .*replayed to step [1-9]\d*, [1-9]\d* state hashes matched", replayed.Stderr);
    }

    [Fact]
    public void Every_committed_trace_replays_with_its_recorded_exit_status()
    {
        var traces = Directory.GetFiles(Path.Combine(CliProcess.RepoRoot, "traces"), "*.rvtrace");
        Assert.NotEmpty(traces);
        foreach (var trace in traces)
        {
            var info = CliProcess.Run("info", trace);
            var status = System.Text.RegularExpressions.Regex.Match(info.StdoutText, @"exit status\s+(\d+)");
            Assert.True(status.Success, info.ToString());
            var replayed = CliProcess.Run("replay", trace);
            Assert.True(replayed.ExitCode == int.Parse(status.Groups[1].Value), $"{trace}: {replayed.Stderr}");
        }
    }

    [Fact]
    public void A_recording_stopped_by_its_instruction_limit_replays_to_the_same_status()
    {
        string trace = TracePath("limited.rvtrace");
        var recorded = CliProcess.Run("record", "-o", trace, "--max-instructions", "2M", CliProcess.Guest("bench.elf"));
        Assert.Equal(124, recorded.ExitCode);
        var replayed = CliProcess.Run("replay", trace);
        Assert.Equal(124, replayed.ExitCode);
        Assert.Equal(recorded.Stdout, replayed.Stdout);
    }

    [Fact]
    public void Replay_of_a_missing_or_non_trace_file_is_one_line_and_exit_2()
    {
        foreach (var path in new[] { TracePath("missing.rvtrace"), CliProcess.Guest("hello.elf") })
        {
            var outcome = CliProcess.Run("replay", path);
            Assert.Equal(2, outcome.ExitCode);
            Assert.StartsWith("replayvm: ", Assert.Single(outcome.StderrLines));
        }
    }

    /// <summary>Hash points in a trace being written, as <c>info --json</c> reads them (0 before the header is there).</summary>
    private static int HashPointsOnDisk(string trace)
    {
        if (!File.Exists(trace)) return 0;
        var info = CliProcess.Run("info", "--json", trace);
        if (info.ExitCode != 0) return 0;
        using var doc = System.Text.Json.JsonDocument.Parse(info.Stdout);
        return doc.RootElement.GetProperty("hashPoints").GetInt32();
    }

    private string Write(byte[] bytes)
    {
        string path = TracePath($"damaged-{Guid.NewGuid():N}.rvtrace");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Replay and info of a damaged trace: a truncation report (4), a divergence (3) or a bad-trace error (2), each as one line.</summary>
    private void AssertCleanFailure(byte[] bytes, string what)
    {
        string path = Write(bytes);
        var replayed = CliProcess.Run("replay", path);
        Assert.True(replayed.ExitCode is 2 or 3 or 4, $"{what}: {replayed}");
        Assert.DoesNotContain("   at ", replayed.Stderr);
        Assert.True(replayed.StderrLines.Length == 1 && replayed.StderrLines[0].StartsWith("replayvm: "), $"{what}: {replayed}");
        var described = CliProcess.Run("info", path);
        Assert.True(described.ExitCode is 0 or 2, $"{what}: {described}");
        Assert.DoesNotContain("   at ", described.Stderr);
    }
}
