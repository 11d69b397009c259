using System.Net;
using System.Net.Sockets;
using ReplayVm.Cli.Tests.Support;
using static ReplayVm.Cli.Tests.Support.GdbTranscript;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// <c>replayvm gdb</c> as a user meets it: gdb-multiarch in batch mode against a recording of the
/// demo guest, with breakpoints, reverse stepping, reverse-finish / reverse-next, and the demo's
/// deliberate bug found with a watchpoint and reverse-continue.
/// </summary>
public sealed class GdbCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-gdb-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // copy_name in tools/guests/elf/demo.elf (as nm gives it): a leaf of six instructions (lbu, addi, addi, sb, bnez, ret).
    private static readonly (ulong Start, ulong End) CopyName = GuestSymbols.Range(CliProcess.Guest("demo.elf"), "copy_name");
    private static ulong CopyNameStart => CopyName.Start;
    private static ulong CopyNameEnd => CopyName.End;

    [Fact]
    public void Gdb_steps_back_and_finds_the_store_that_overwrote_the_secret()
    {
        string gdb = GdbSession.GdbMultiarch();
        string trace = RecordDemo();
        using var server = GdbServerProcess.Start(trace);

        string output = GdbSession.Run(gdb, server.Port, "tools/guests/elf/demo.elf", TimeSpan.FromSeconds(120),
            "break copy_name",
            "continue",
            Registers("AT0"),
            "stepi",
            Registers("AT1"),
            "stepi",
            Registers("AT2"),
            "reverse-stepi",
            Registers("BACK1"),
            "reverse-stepi",
            Registers("BACK0"),
            "delete",
            "stepi",
            "reverse-finish",
            "printf \"FINISHED pc=%lx\\n\", $pc",
            "reverse-next",
            "printf \"NEXTED pc=%lx\\n\", $pc",
            "monitor when",
            "watch -l state.secret",
            "continue",
            "printf \"FORWARD pc=%lx\\n\", $pc",
            "continue",
            "printf \"CLEARED pc=%lx\\n\", $pc",
            "echo @@again\\n",
            "reverse-continue",
            "printf \"AGAIN pc=%lx\\n\", $pc",
            "echo @@earlier\\n",
            "reverse-continue",
            "printf \"REVERSE pc=%lx\\n\", $pc",
            "x/i $pc",
            "delete",
            "continue");

        Assert.Contains("Breakpoint 1, copy_name", output);
        // reverse-stepi restores the pc and the registers of the instruction before.
        Assert.Equal(Line(output, "AT1"), Line(output, "BACK1"));
        Assert.Equal(Line(output, "AT0"), Line(output, "BACK0"));
        Assert.NotEqual(Line(output, "AT1"), Line(output, "AT2"));
        Assert.Equal(CopyNameStart, Hex(Line(output, "AT0"), "pc"));

        // reverse-finish leaves copy_name for the call in its caller; reverse-next goes back further in the caller.
        ulong finished = Hex(Line(output, "FINISHED"), "pc"), nexted = Hex(Line(output, "NEXTED"), "pc");
        Assert.False(finished >= CopyNameStart && finished < CopyNameEnd, output);
        Assert.False(nexted >= CopyNameStart && nexted < CopyNameEnd, output);
        Assert.True(nexted < finished, output);
        Assert.Matches(@"Current event: \d+", output);

        // Forwards, the next write is the overflowing copy_name overwriting the secret (with '#', 35).
        Assert.Contains("New value = 35", output);
        Assert.InRange(Hex(Line(output, "FORWARD"), "pc"), CopyNameStart, CopyNameEnd - 1);
        // Backwards from the win's write (which clears it), reverse-continue stops at that same write
        // first, as gdb on rr does: on the store, with the value it overwrote (the '#').
        ulong cleared = Hex(Line(output, "CLEARED"), "pc"), again = Hex(Line(output, "AGAIN"), "pc");
        Assert.InRange(cleared - again, 2UL, 4UL);
        string againSection = output[output.IndexOf("@@again", StringComparison.Ordinal)..output.IndexOf("@@earlier", StringComparison.Ordinal)];
        Assert.Contains("New value = 35", againSection);
        // The next reverse-continue finds the write before it: the store in copy_name.
        ulong writer = Hex(Line(output, "REVERSE"), "pc");
        Assert.InRange(writer, CopyNameStart, CopyNameEnd - 1);
        Assert.Matches(@"<copy_name\+\d+>:\s+sb\s", output);

        // And forwards again to the recording's end, the guest's exit: a place gdb stays at, not an exit.
        Assert.Contains("replayvm: the guest exited with status 0 here, at the end of the recording", output);
        Assert.Contains("No more reverse-execution history.", output);
        Assert.DoesNotContain("exited normally", output);

        Assert.Equal(0, server.Stop());
    }

    /// <summary>
    /// As in gdb on rr, reverse-continue from a breakpoint stop goes to the previous time the
    /// breakpoint was reached, not to the one gdb stands on (and back to the start after the first).
    /// </summary>
    [Fact]
    public void Reverse_continue_from_a_breakpoint_stop_reaches_the_previous_hit()
    {
        string gdb = GdbSession.GdbMultiarch();
        string trace = RecordDemo();
        using var server = GdbServerProcess.Start(trace);

        // copy_name's loop comes back to its first instruction for each byte copied: the second
        // stop is the second byte (a0, the destination, one further), and going back must reach the first.
        string output = GdbSession.Run(gdb, server.Port, "tools/guests/elf/demo.elf", TimeSpan.FromSeconds(120),
            "break copy_name",
            "continue",
            "printf \"FIRST pc=%lx a0=%lx\\n\", $pc, $a0",
            "continue",
            "printf \"SECOND pc=%lx a0=%lx\\n\", $pc, $a0",
            "reverse-continue",
            "printf \"BACK pc=%lx a0=%lx\\n\", $pc, $a0",
            "reverse-continue",
            "printf \"START pc=%lx\\n\", $pc");

        Assert.Equal(CopyNameStart, Hex(Line(output, "SECOND"), "pc"));
        Assert.Equal(Hex(Line(output, "FIRST"), "a0") + 1, Hex(Line(output, "SECOND"), "a0"));
        Assert.Equal(Line(output, "FIRST"), Line(output, "BACK"));
        Assert.Equal(0x1000UL, Hex(Line(output, "START"), "pc")); // the reset vector: step 0
        Assert.Contains("No more reverse-execution history.", output);
        Assert.Equal(0, server.Stop());
    }

    [Fact]
    public void A_port_in_use_is_one_line_and_exit_2()
    {
        string trace = RecordDemo();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var outcome = CliProcess.Run("gdb", trace, "--port", port.ToString());

        Assert.Equal(2, outcome.ExitCode);
        var line = Assert.Single(outcome.StderrLines);
        Assert.StartsWith($"replayvm: cannot listen on 127.0.0.1:{port}", line);
    }

    [Fact]
    public void A_file_that_is_not_a_trace_is_one_line_and_exit_2()
    {
        var outcome = CliProcess.Run("gdb", CliProcess.Guest("demo.elf"), "--port", "0");
        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith("replayvm: ", Assert.Single(outcome.StderrLines));
    }

    [Fact]
    public void A_bad_port_is_one_line_and_exit_2()
    {
        var outcome = CliProcess.Run("gdb", "x.rvtrace", "--port", "70000");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("bad port '70000'", Assert.Single(outcome.StderrLines));
    }

    private string RecordDemo()
    {
        string trace = Path.Combine(_dir, "demo.rvtrace");
        var recorded = CliProcess.Run(["record", "--deterministic", "--input", CliProcess.Expected("demo.stdin"), "-o", trace, CliProcess.Guest("demo.elf")], []);
        Assert.True(recorded.ExitCode == 0, recorded.ToString());
        return trace;
    }

    private static string Registers(string label) =>
        $"printf \"{label} pc=%lx ra=%lx sp=%lx a0=%lx a1=%lx a5=%lx\\n\", $pc, $ra, $sp, $a0, $a1, $a5";
}
