using ReplayVm.Cli.Tests.Support;
using static ReplayVm.Cli.Tests.Support.GdbTranscript;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// <c>replayvm gdb --live</c>: gdb-multiarch debugs the demo guest while it is being recorded from
/// piped console input — forward into live execution, backwards over what already ran — and the
/// trace left behind replays to exactly what the session printed, printed once.
/// </summary>
public sealed class GdbLiveTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-gdb-live-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // copy_name in tools/guests/elf/demo.elf, as nm gives it.
    private static readonly (ulong Start, ulong End) CopyName = GuestSymbols.Range(CliProcess.Guest("demo.elf"), "copy_name");
    private static ulong CopyNameStart => CopyName.Start;
    private static ulong CopyNameEnd => CopyName.End;

    [Fact]
    public void Gdb_debugs_a_live_recording_backwards_and_the_trace_replays_what_it_printed()
    {
        string gdb = GdbSession.GdbMultiarch();
        string trace = Path.Combine(_dir, "live.rvtrace");
        using var server = GdbServerProcess.Start(
            ["--live", "--deterministic", "-o", trace, CliProcess.Guest("demo.elf")],
            File.ReadAllBytes(CliProcess.Expected("demo.stdin")));

        string output = GdbSession.Run(gdb, server.Port, "tools/guests/elf/demo.elf", TimeSpan.FromSeconds(120),
            "break copy_name",
            "continue",
            "printf \"AT0 pc=%lx a0=%lx a5=%lx\\n\", $pc, $a0, $a5",
            "stepi",
            "stepi",
            "printf \"AT2 pc=%lx a0=%lx a5=%lx\\n\", $pc, $a0, $a5",
            "reverse-stepi",
            "reverse-stepi",
            "printf \"BACK0 pc=%lx a0=%lx a5=%lx\\n\", $pc, $a0, $a5",
            "delete",
            "watch -l state.secret",
            "continue",
            "continue",
            "reverse-continue", // the write the last continue stopped at, again (as on rr)
            "reverse-continue",
            "printf \"REVERSE pc=%lx\\n\", $pc",
            "delete",
            "continue");

        Assert.Contains("Breakpoint 1, copy_name", output);
        Assert.Equal(CopyNameStart, Hex(Line(output, "AT0"), "pc"));
        Assert.Equal(Line(output, "AT0"), Line(output, "BACK0"));
        Assert.NotEqual(Line(output, "AT0"), Line(output, "AT2"));
        Assert.Contains("New value = 35", output);
        Assert.InRange(Hex(Line(output, "REVERSE"), "pc"), CopyNameStart, CopyNameEnd - 1);
        // And forwards again to the recording's end, the guest's exit: a place gdb stays at, not an exit.
        Assert.Contains("replayvm: the guest exited with status 0 here, at the end of the recording", output);
        Assert.Contains("No more reverse-execution history.", output);
        Assert.DoesNotContain("exited normally", output);

        Assert.Equal(0, server.Stop());
        Assert.Matches(@"replayvm: recorded \d+ steps to ", server.Errors);
        // The guest's console printed each byte once, whatever gdb did with the timeline in between...
        Assert.Contains("demo> add dave_the_magnificent#", server.Output);
        // ...and the trace replays exactly that, every state hash matching.
        var replayed = CliProcess.Run("replay", trace);
        Assert.True(replayed.ExitCode == 0, replayed.ToString());
        Assert.Equal(replayed.StdoutText, server.Output);
        Assert.Contains("identical", replayed.Stderr);
    }

    [Fact]
    public void Guest_options_without_live_are_one_line_and_exit_2()
    {
        var result = CliProcess.Run("gdb", "--bios", CliProcess.Guest("hello.elf"), "x.rvtrace");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("replayvm: --bios describes a guest to run: add --live to record one (a trace already holds its machine)", result.Stderr.Trim());
    }

    [Fact]
    public void A_live_guest_that_is_not_an_elf_is_one_line_and_exit_2_and_leaves_no_trace()
    {
        string trace = Path.Combine(_dir, "bad.rvtrace");
        string notElf = Path.Combine(_dir, "guest.elf");
        File.WriteAllText(notElf, "hello");
        var result = CliProcess.Run("gdb", "--live", "-o", trace, notElf);
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.False(File.Exists(trace));
    }
}
