using ReplayVm.Debugger.Symbols;
using ReplayVm.Tui.Panes;
using ReplayVm.Tui.Session;

namespace ReplayVm.Tui.Tests;

/// <summary>C source in the code pane and line breakpoints, from the demo guest's DWARF line table.</summary>
public class SourceLinesTests
{
    private static readonly string GuestSources = Path.Combine(Recordings.RepoRoot, "tools", "guests");

    private static DebugSession Session(params string[] sourceDirectories) =>
        new(Recordings.DemoSession().Timeline) { Sources = new SourceFiles(sourceDirectories) };

    private static string[] ShellC => File.ReadAllLines(Path.Combine(GuestSources, "demo", "shell.c"));

    [Fact]
    public void Code_pane_at_main_shows_shell_c_lines_before_their_instructions()
    {
        var s = Session(GuestSources);
        Assert.StartsWith("breakpoint 1", s.Execute("b main").Text);
        s.Execute("c");
        Assert.Equal(GuestTools.Symbol("main"), s.Hart.Pc); // nm's address of main

        var lines = PaneText.Code(s).TrimEnd('\n').Split('\n');
        int pcLine = Array.FindIndex(lines, l => l.StartsWith("=>", StringComparison.Ordinal));
        // main's first instruction belongs to its opening line (addr2line's answer): "<main>:", then the source, then "=>".
        var (file, line) = GuestTools.LineOf(s.Hart.Pc);
        Assert.Equal("shell.c", file);
        Assert.Contains(ShellC[Math.Max(0, line - 3)..line], l => l.Contains("main("));
        Assert.Equal("<main>:", lines[pcLine - 2]);
        Assert.Equal($"shell.c:{line}  {ShellC[line - 1].Trim()}", lines[pcLine - 1]);

        // Every source line shown is the file's text at that line.
        var sourceLines = lines.Where(l => l.StartsWith("shell.c:", StringComparison.Ordinal)).ToList();
        Assert.True(sourceLines.Count >= 3, string.Join('\n', lines));
        foreach (string shown in sourceLines)
        {
            int number = int.Parse(shown["shell.c:".Length..].Split(' ')[0]);
            Assert.Equal($"shell.c:{number}  {ShellC[number - 1].Trim()}".TrimEnd(), shown);
        }
        Assert.Contains(lines, l => l.Contains("console_puts(\"ReplayVm demo shell. Type help.\\n\");"));
    }

    [Fact]
    public void Without_the_source_files_the_pane_shows_file_and_line_only()
    {
        string empty = Directory.CreateTempSubdirectory("replayvm-nosource-").FullName;
        try
        {
            var s = Session(empty);
            s.Execute("b main");
            s.Execute("c");
            var lines = PaneText.Code(s).TrimEnd('\n').Split('\n');
            int pcLine = Array.FindIndex(lines, l => l.StartsWith("=>", StringComparison.Ordinal));
            Assert.Equal(GuestTools.Symbol("main"), s.Hart.Pc);
            Assert.Equal($"shell.c:{GuestTools.LineOf(s.Hart.Pc).Line}", lines[pcLine - 1]);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public void Break_at_file_and_line_stops_in_the_code_of_that_line()
    {
        var s = Session(GuestSources);
        int loop = Array.FindIndex(ShellC, l => l.Contains("while ((*dst++ = *src++) != 0)")) + 1; // inside copy_name
        string reply = s.Execute($"b shell.c:{loop}").Text;
        Assert.Matches($@"^breakpoint 1 at 0x[0-9a-f]+ <copy_name(\+0x[0-9a-f]+)?>: shell\.c:{loop}$", reply);
        s.Execute("c");
        Assert.StartsWith("breakpoint hit", s.LastStop);
        // It stopped at the breakpoint's address, which the line table (as objdump decodes it) gives
        // to that line, inside copy_name (addr2line), the first time the pc got there (a plain replay).
        ulong address = Convert.ToUInt64(System.Text.RegularExpressions.Regex.Match(reply, "at 0x([0-9a-f]+)").Groups[1].Value, 16);
        Assert.Equal(address, s.Hart.Pc);
        Assert.Contains(GuestTools.DecodedLines.Value, row => row.File == "shell.c" && row.Line == loop && row.Address == address);
        Assert.Equal(("shell.c", loop), GuestTools.LineOf(address));
        Assert.Equal("copy_name", GuestTools.FunctionOf(address));
        Assert.Equal([s.Position], GuestTools.VisitsBySingleStepping(Recordings.DemoTrace, address, s.Position + 1));
    }

    [Fact]
    public void Break_at_a_bare_line_uses_the_file_of_pc_and_skips_to_a_line_with_code()
    {
        var s = Session(GuestSources);
        s.Execute("b main");
        s.Execute("c");
        int define = Array.FindIndex(ShellC, l => l.StartsWith("#define", StringComparison.Ordinal)) + 1;
        Assert.True(define > 0);
        string reply = s.Execute($"b {define}").Text;
        Assert.EndsWith($"(line {define} has no code)", reply);
        var match = System.Text.RegularExpressions.Regex.Match(reply, @"^breakpoint 2 at 0x([0-9a-f]+) <[a-z_]+(\+0x[0-9a-f]+)?>: shell\.c:(\d+) ");
        Assert.True(match.Success, reply);
        int moved = int.Parse(match.Groups[3].Value);
        Assert.True(moved > define);
        // By the line table (objdump's decoding): no code for the lines from the #define up to the one
        // chosen, code for that one, at the address the breakpoint was put.
        var rows = GuestTools.DecodedLines.Value.Where(r => r.File == "shell.c").ToList();
        Assert.DoesNotContain(rows, r => r.Line >= define && r.Line < moved);
        Assert.Contains(rows, r => r.Line == moved && r.Address == Convert.ToUInt64(match.Groups[1].Value, 16));
        Assert.Equal(2, s.Points.Count);
    }

    [Theory]
    [InlineData("b nosuch.c:3", "b: no source file 'nosuch.c' in the line table")]
    [InlineData("b shell.c:99999", "b: no code for line 99999 of 'shell.c' (or the 100 lines after it)")]
    public void Bad_line_breakpoints_are_one_line_errors(string command, string message)
    {
        var result = Session(GuestSources).Execute(command);
        Assert.True(result.IsError);
        Assert.Equal(message, result.Text);
    }

    [Fact]
    public void Line_specs_parse_as_gdb_writes_them()
    {
        Assert.True(AddressParser.TryParseLineSpec("shell.c:42", out string? file, out int line));
        Assert.Equal(("shell.c", 42), (file, line));
        Assert.True(AddressParser.TryParseLineSpec("demo/shell.c:7", out file, out line));
        Assert.Equal(("demo/shell.c", 7), (file, line));
        Assert.True(AddressParser.TryParseLineSpec("42", out file, out line));
        Assert.Equal((null, 42), (file, line));
        Assert.False(AddressParser.TryParseLineSpec("0x42", out _, out _));
        Assert.False(AddressParser.TryParseLineSpec("main+4", out _, out _));
        Assert.False(AddressParser.TryParseLineSpec("shell.c:", out _, out _));
        Assert.False(AddressParser.TryParseLineSpec("0", out _, out _));
    }
}
