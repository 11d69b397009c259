using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using ReplayVm.Cli.Tests.Support;
using static ReplayVm.Cli.Tests.Support.GdbTranscript;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// <c>replayvm gdb</c> as a session a user lives in, with the real gdb-multiarch: the end of the
/// recording is a place gdb stays at, a second gdb is told the server is busy, Ctrl-C stops a long
/// run, and the commands of tools/gdb/replayvm.py do what they say.
/// </summary>
public sealed class GdbSessionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-gdb-session-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Demo = "tools/guests/elf/demo.elf";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    [Fact]
    public void Continue_to_the_end_stays_connected_and_reverse_continue_goes_back()
    {
        string gdb = GdbSession.GdbMultiarch();
        using var server = GdbServerProcess.Start(Record("demo.elf", "--input", CliProcess.Expected("demo.stdin")));

        string output = GdbSession.Run(gdb, server.Port, Demo, Patience,
            "continue",
            "monitor when",
            "printf \"END pc=%lx\\n\", $pc",
            "stepi",
            "monitor when",
            "break copy_name",
            "reverse-continue",
            "printf \"BACK pc=%lx\\n\", $pc",
            "monitor when",
            "continue",
            "printf \"FORWARD pc=%lx\\n\", $pc");

        Assert.Contains("replayvm: the guest exited with status 0 here, at the end of the recording", output);
        Assert.Contains("No more reverse-execution history.", output);
        Assert.DoesNotContain("exited normally", output);
        Assert.DoesNotContain("Remote connection closed", output);
        var events = Regex.Matches(output, @"Current event: (\d+)").Select(m => ulong.Parse(m.Groups[1].Value)).ToList();
        Assert.Equal(3, events.Count);
        Assert.Equal(events[0], events[1]); // stepi at the end stays at the end
        Assert.True(events[2] < events[0], output);
        // Back at the last call of copy_name before the end.
        Assert.Contains("Breakpoint 1, copy_name", output);
        Assert.NotEqual(Hex(Line(output, "END"), "pc"), Hex(Line(output, "BACK"), "pc"));
        Assert.Equal(0, server.Stop());
    }

    [Fact]
    public void A_second_gdb_is_refused_while_the_first_is_connected_and_idle_and_served_once_it_leaves()
    {
        string gdb = GdbSession.GdbMultiarch();
        using var server = GdbServerProcess.Start(Record("demo.elf", "--input", CliProcess.Expected("demo.stdin")));

        using (var first = new TcpClient("127.0.0.1", server.Port))
        {
            // The first client says hello and then nothing: the way a stuck or forgotten client looks.
            var stream = first.GetStream();
            stream.Write(Encoding.ASCII.GetBytes(Packet("qSupported")));
            var reply = new byte[512];
            Assert.True(stream.Read(reply) > 0);

            string refused = GdbSession.Run(gdb, server.Port, Demo, Patience, "monitor when");
            Assert.Contains("replayvm serves one gdb at a time and another gdb (from 127.0.0.1:", refused);
            Assert.DoesNotContain("Current event", refused);
        }

        string served = GdbSession.Run(gdb, server.Port, Demo, Patience, "monitor when");
        Assert.Contains("Current event: 0", served);
        Assert.Equal(0, server.Stop());
        Assert.Contains("refused gdb from 127.0.0.1:", server.Errors);
    }

    [Fact]
    public void Ctrl_c_in_gdb_interrupts_a_long_continue_that_shows_its_progress()
    {
        string gdb = GdbSession.GdbMultiarch();
        // bench.elf runs 4.2e8 instructions: on the interpreter a continue over it takes about a second,
        // long enough to interrupt (the translator replays it in under half a second); progress every
        // 100 ms, so its first line comes well before the run's end.
        using var server = GdbServerProcess.Start(["--engine", "interpreter", Record("bench.elf")], stdin: null, progressInterval: TimeSpan.FromMilliseconds(100));

        string output = GdbSession.RunInterrupting(gdb, server.Port, "tools/guests/elf/bench.elf", Patience,
            interruptWhen: "Ctrl-C stops it",
            "continue",
            "monitor when",
            "monitor info");

        Assert.Matches(@"replayvm: continue \d+%, at event \d+", output);
        Assert.Contains("Program received signal SIGINT, Interrupt.", output);
        ulong stoppedAt = ulong.Parse(Regex.Match(output, @"Current event: (\d+)").Groups[1].Value);
        ulong end = ulong.Parse(Regex.Match(output, @"recording: events 0\.\.(\d+)").Groups[1].Value);
        Assert.InRange(stoppedAt, 1UL, end - 1);
        Assert.Equal(0, server.Stop());
    }

    [Fact]
    public void The_python_extension_commands_work()
    {
        string gdb = GdbSession.GdbMultiarch();
        using var server = GdbServerProcess.Start(Record("demo.elf", "--input", CliProcess.Expected("demo.stdin")));

        string output = GdbSession.RunWith(gdb, server.Port, Demo, Patience, ["-x", "tools/gdb/replayvm.py"],
            "break copy_name",
            "continue",
            "echo @@when\\n", "when",
            "echo @@checkpoint\\n", "checkpoint",
            "printf \"AT pc=%lx a0=%lx\\n\", $pc, $a0",
            "echo @@last-write\\n", "last-write state.secret",
            "echo @@last-write-reg\\n", "last-write a0",
            "echo @@traps\\n", "traps 2",
            "delete",
            "stepi", "stepi", "stepi",
            "echo @@seek\\n", "seek 100",
            "printf \"SEEK pc=%lx\\n\", $pc",
            "echo @@restart\\n", "restart 1",
            "printf \"RESTART pc=%lx a0=%lx\\n\", $pc, $a0",
            "echo @@info\\n", "info checkpoints",
            "echo @@write\\n", "set var state.secret = 7",
            "set var $a0 = 7",
            "echo @@end\\n");

        string Section(string name)
        {
            int from = output.IndexOf("@@" + name + "\n", StringComparison.Ordinal);
            Assert.True(from >= 0, $"no section {name}:\n{output}");
            int to = output.IndexOf("@@", from + 2, StringComparison.Ordinal);
            return to < 0 ? output[from..] : output[from..to];
        }

        ulong here = ulong.Parse(Regex.Match(Section("when"), @"Current event: (\d+)").Groups[1].Value);
        Assert.Contains($"Checkpoint 1 at event {here}", Section("checkpoint"));

        // last-write of a C lvalue: its address and size come from gdb; the writer is a store before here.
        var write = Regex.Match(Section("last-write"), @"^0x([0-9a-f]+)\.\.0x([0-9a-f]+) was last written at event (\d+) by pc 0x[0-9a-f]+: s[bhwd] ", RegexOptions.Multiline);
        Assert.True(write.Success, Section("last-write"));
        Assert.Equal(3UL, Convert.ToUInt64(write.Groups[2].Value, 16) - Convert.ToUInt64(write.Groups[1].Value, 16)); // an int: 4 bytes
        Assert.True(ulong.Parse(write.Groups[3].Value) < here);
        Assert.Matches(@"a0 was last written at event \d+ by pc 0x", Section("last-write-reg"));
        Assert.Matches(@"(no )?traps( and interrupts)? ", Section("traps"));

        // seek moves and gdb shows the new place without a manual register-cache flush.
        Assert.Contains("Current event: 100", Section("seek"));
        Assert.Contains("_start", Section("seek"));
        Assert.DoesNotContain("maintenance flush", Section("seek"));
        Assert.NotEqual(Hex(Line(output, "AT"), "pc"), Hex(Line(output, "SEEK"), "pc"));

        // restart 1 comes back to the checkpoint: same pc and registers as when it was made.
        Assert.Contains($"Restarted checkpoint 1: current event {here}", Section("restart"));
        Assert.Contains("copy_name", Section("restart"));
        Assert.Equal(Line(output, "AT"), Line(output, "RESTART"));
        Assert.Contains($"* 1 at event {here}", Section("info"));

        // A recording is read-only, and gdb says so rather than "Cannot access memory" (errors go to
        // stderr, which is not ordered with the section markers on stdout).
        Assert.Contains("Writing to memory is not allowed", output);
        Assert.Contains("Could not write register \"a0\"; remote failure reply 'E.a recording is read-only", output);
        Assert.Equal(0, server.Stop());
    }

    private string Record(string guest, params string[] options)
    {
        string trace = Path.Combine(_dir, Path.ChangeExtension(guest, ".rvtrace"));
        var recorded = CliProcess.Run(["record", "--deterministic", .. options, "-o", trace, CliProcess.Guest(guest)], []);
        Assert.True(recorded.ExitCode == 0, recorded.ToString());
        return trace;
    }

    private static string Packet(string payload) =>
        $"${payload}#{Encoding.ASCII.GetBytes(payload).Aggregate(0, (sum, b) => (sum + b) & 0xFF):x2}";
}
