using System.Text.RegularExpressions;
using ReplayVm.Cli.Tests.Support;
using ReplayVm.Replay;
using ReplayVm.Tui.Session;
using Xunit.Abstractions;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// The terminal debugger's source-level commands against gdb-multiarch's answers on the same
/// recording: gdb drives <c>replayvm gdb</c> through the same commands, and every pc and printed
/// value must agree. The expected values come from gdb, never from our own code.
/// </summary>
public sealed class DebugSourceLevelTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-source-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string RecordDemo()
    {
        string trace = Path.Combine(_dir, "demo.rvtrace");
        var recorded = CliProcess.Run(["record", "--deterministic", "--input", CliProcess.Expected("demo.stdin"), "-o", trace, CliProcess.Guest("demo.elf")], []);
        Assert.True(recorded.ExitCode == 0, recorded.ToString());
        return trace;
    }

    private static DebugSession Session(string trace) => new(new ReplayTimeline(TraceReader.ReadFile(trace)));

    /// <summary>gdb's answer to each command: the pc after it (p/x $pc), in order.</summary>
    private static List<ulong> GdbPcs(string transcript, string marker) =>
        Regex.Matches(transcript, $@"^{marker} (0x[0-9a-f]+)$", RegexOptions.Multiline).Select(m => Convert.ToUInt64(m.Groups[1].Value, 16)).ToList();

    private void AgreeOnMoves(string[] setup, string[] moves)
    {
        string gdb = GdbSession.GdbMultiarch();
        string trace = RecordDemo();
        string transcript;
        using (var server = GdbServerProcess.Start(trace))
        {
            var commands = setup.Append("printf \"PC 0x%lx\\n\", $pc").Concat(moves.SelectMany(m => new[] { m, "printf \"PC 0x%lx\\n\", $pc" })).ToArray();
            transcript = GdbSession.Run(gdb, server.Port, "tools/guests/elf/demo.elf", TimeSpan.FromSeconds(300), commands);
        }
        var expected = GdbPcs(transcript, "PC");
        Assert.True(expected.Count == moves.Length + 1, transcript);

        var session = Session(trace);
        foreach (string command in setup) session.Execute(command == "delete" ? "delete 1" : command);
        var actual = new List<ulong> { session.Hart.Pc };
        foreach (string move in moves)
        {
            var result = session.Execute(move);
            actual.Add(session.Hart.Pc);
            output.WriteLine($"{move,-24} gdb 0x{(actual.Count <= expected.Count ? expected[actual.Count - 1] : 0):x}  ours 0x{session.Hart.Pc:x}  {result.Text}");
            Assert.False(result.IsError, $"{move}: {result.Text}");
        }
        for (int i = 0; i < expected.Count; i++)
            output.WriteLine($"{(i == 0 ? "start" : moves[i - 1]),-16} gdb 0x{expected[i]:x}  ours 0x{actual[i]:x}{(expected[i] == actual[i] ? "" : "   <-- differs")}  {session.Lines.LineAt(expected[i])}");
        Assert.Equal(expected.Select(p => $"0x{p:x}"), actual.Select(p => $"0x{p:x}"));
    }

    [Fact]
    public void Next_and_reverse_next_by_line_agree_with_gdb()
    {
        AgreeOnMoves(["break copy_name", "continue", "delete"],
            ["next", "next", "next", "reverse-next", "reverse-next", "next", "next"]);
    }

    [Fact]
    public void Step_finish_and_their_reverses_agree_with_gdb()
    {
        AgreeOnMoves(["break copy_name", "continue", "delete"],
            ["finish", "reverse-step", "reverse-step", "step", "reverse-finish", "step", "step"]);
    }

    [Fact]
    public void Until_and_advance_to_a_location_agree_with_gdb()
    {
        // From copy_name (a leaf): advance returns to cmd_add first; then into console_puts and back
        // out of it with until; until LINE in console_readline's loop (same frame, twice round it);
        // advance FILE:LINE into cmd_list, until past its loop, advance *ADDR; and until copy_name
        // from main never stops in copy_name's frame: it runs until main returns to _start.
        AgreeOnMoves(["break copy_name", "continue", "delete"],
            ["advance console_puts", "advance console_puts", "until main", "advance console_readline", "until 114", "until 114",
             "until 102", "advance shell.c:194", "until shell.c:199", "advance *0x80000ce0", "until copy_name"]);
    }

    [Fact]
    public void Print_of_globals_locals_struct_fields_and_array_elements_agrees_with_gdb()
    {
        string[] expressions =
        [
            "state", "state.count", "state.secret", "state.table[0]", "state.table[0].name", "state.table[1].wins",
            "line", "line[4]", "dst", "src", "*src", "src[2]", "state.last_winner", "&state.table[1]", "sizeof_unused",
        ];
        string gdb = GdbSession.GdbMultiarch();
        string trace = RecordDemo();
        string transcript;
        using (var server = GdbServerProcess.Start(trace))
        {
            var commands = new List<string> { "break copy_name", "continue", "continue", "continue" };
            foreach (string e in expressions) commands.AddRange([$"echo VALUE {e}\\n", $"output {e}", "echo \\n"]);
            transcript = GdbSession.Run(gdb, server.Port, "tools/guests/elf/demo.elf", TimeSpan.FromSeconds(300), [.. commands]);
        }
        var lines = transcript.Split('\n');
        var session = Session(trace);
        session.Execute("break copy_name");
        for (int i = 0; i < 3; i++) session.Execute("continue");
        int compared = 0;
        foreach (string e in expressions)
        {
            int at = Array.IndexOf(lines, $"VALUE {e}");
            Assert.True(at >= 0 && at + 1 < lines.Length, transcript);
            string expected = lines[at + 1];
            var ours = session.Execute($"print {e}");
            string actual = ours.IsError ? ours.Text : Regex.Replace(ours.Text, @"^\$\d+ = ", "");
            output.WriteLine($"{e,-24} gdb: {expected}\n{"",-24} ours: {actual}");
            if (e == "sizeof_unused")
            {
                // An unknown name: gdb's error, word for word.
                Assert.Contains("No symbol \"sizeof_unused\" in current context.", transcript);
                Assert.Equal("No symbol \"sizeof_unused\" in current context.", actual);
                continue;
            }
            Assert.Equal(expected, actual);
            compared++;
        }
        Assert.Equal(expressions.Length - 1, compared);
    }
}
