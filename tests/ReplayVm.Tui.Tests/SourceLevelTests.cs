using Terminal.Gui.Input;
using Xunit.Abstractions;

namespace ReplayVm.Tui.Tests;

/// <summary>The source-level panes and watch expressions in the headless window (gdb agreement is in the Cli tests' DebugSourceLevelTests).</summary>
[Collection("TerminalGui")]
public class SourceLevelTests(ITestOutputHelper output)
{
    [Fact]
    public void At_copy_name_the_backtrace_locals_and_watch_panes_show_the_frames_and_values()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession(), 200, 60);
        ui.Command("b copy_name");
        ui.Key(Key.F5);
        ui.Command("display state.count");
        string screen = ui.Screen;
        output.WriteLine(screen);
        Assert.Contains("#0  copy_name (dst=0x", screen);
        Assert.Contains("#1  0x", screen);
        Assert.Contains("dst = 0x", string.Join('\n', ui.Session.LocalLines().Concat(ui.Session.BacktraceLines())));
        Assert.Contains("1: state.count = 1", screen);
    }

    [Fact]
    public void Watch_on_a_struct_field_array_element_pointer_target_and_whole_struct_takes_the_type_size()
    {
        var session = Recordings.DemoSession();
        session.Execute("b copy_name");
        session.Execute("c");
        var secret = session.Execute("watch state.secret");
        Assert.False(secret.IsError, secret.Text);
        Assert.Contains("(uint32_t, 4 bytes at 0x", secret.Text);
        Assert.Contains("(char, 1 bytes at 0x", session.Execute("watch state.table[1].name[3]").Text);
        var target = session.Execute("watch *src");
        Assert.Contains("(const char, 1 bytes at 0x", target.Text);
        var whole = session.Execute("watch state");
        Assert.False(whole.IsError, whole.Text);
        Assert.Matches(@"\(struct \{\.\.\.\}, \d+ bytes at 0x", whole.Text);
        var element = session.Execute("watch state.table[2]");
        Assert.Contains("(struct entry, 20 bytes at 0x", element.Text);
        Assert.Equal(session.Evaluate("&state.table[2]").Integer, session.Points[^1].Address);
        Assert.Equal(20UL, session.Points[^1].Length);

        // The watchpoint on the secret stops where the deliberate bug writes it, or not at all in this script.
        Assert.True(session.Execute("watch 42").IsError);
    }

    [Fact]
    public void Until_and_advance_with_a_location_stop_there_or_where_the_frame_returns_and_refuse_bad_locations()
    {
        var session = Recordings.DemoSession();
        session.Execute("b copy_name");
        session.Execute("c");
        session.Execute("delete 1");
        ulong step = session.Position;
        // copy_name returns before console_puts runs: advance stops in the caller, at the return address.
        var advanced = session.Execute("advance console_puts");
        Assert.False(advanced.IsError, advanced.Text);
        Assert.Equal("main", session.Backtrace()[0].Function?.Name);
        Assert.True(session.Position > step);
        Assert.Equal("console_puts", session.Execute("advance console_puts").Text.Split('<', '>')[1]);
        Assert.Equal("main", session.Execute("until main").Text.Split('<', '+')[1]); // console_puts returned
        // A user breakpoint on the way stops the run, as in gdb (copy_name is never in main's frame).
        session.Execute("b console_readline");
        Assert.StartsWith("breakpoint hit", session.Execute("until copy_name").Text);

        Assert.Equal("advance: Argument required (a location: FUNCTION, FILE:LINE, LINE or *ADDRESS).", session.Execute("advance").Text);
        Assert.Equal("until: Function \"no_such\" not defined.", session.Execute("until no_such").Text);
        Assert.Equal("advance: no source file 'nowhere.c' in the line table", session.Execute("advance nowhere.c:3").Text);
        Assert.True(session.Execute("until *nonsense").IsError);
        Assert.Contains("until [LOC]  advance LOC", session.Execute("help").Text);
    }
}

/// <summary>Issue 11, points 12 and 13: panes that are never cut, and addresses labelled only by symbols that own them.</summary>
[Collection("TerminalGui")]
public class LayoutTests(ITestOutputHelper output)
{
    [Fact]
    public void At_100x30_every_register_is_whole_and_the_memory_pane_keeps_its_ascii_column()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession(), 100, 30);
        ui.Command("goto 5000");
        string registers = ui.Region(ui.Window.RegistersPane);
        output.WriteLine(registers);
        var hart = ui.Session.Hart;
        // The pane scrolls (r), so look at the lines it holds: each register's whole value is there.
        string all = string.Join('\n', ui.Window.RegistersPane.Lines.Select(l => l.Text));
        for (int i = 1; i < 32; i++) Assert.Contains($"{ReplayVm.Debugger.Disassembly.Registers.X(i),-4} {hart.GetX(i):x16}", all);
        int width = ui.Window.RegistersPane.Viewport.Width;
        Assert.All(ui.Window.RegistersPane.Lines, l => Assert.True(l.Text.TrimEnd().Length <= width, $"'{l.Text}' is wider than {width}"));

        ui.Command("mem 0x80002be0"); // the demo's line buffer: "add alice" is ASCII
        string memory = ui.Screen;
        output.WriteLine(memory);
        // Each row: the address, its bytes in hex, then the same bytes as ASCII, all inside the pane.
        Assert.All(ui.Window.MemoryPane.Lines, l =>
        {
            var m = System.Text.RegularExpressions.Regex.Match(l.Text, @"^[0-9a-f]{8}  ((?:[0-9a-f]{2}  ?)+) (.+)$");
            Assert.True(m.Success, l.Text);
            Assert.Equal(m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length, m.Groups[2].Value.Length);
        });
        Assert.All(ui.Window.MemoryPane.Lines, l => Assert.True(l.Text.Length <= ui.Window.MemoryPane.Viewport.Width, $"'{l.Text}' is cut"));
    }

    [Fact]
    public void A_stack_address_is_not_labelled_after_a_far_away_linker_symbol()
    {
        var session = Recordings.DemoSession();
        session.Execute("goto 5000");
        ulong sp = session.Hart.GetX(2);
        Assert.Null(session.Symbols.NameAt(sp));
        Assert.Equal("copy_name", session.Symbols.NameAt(session.Symbols.Find("copy_name")!.Value));
        Assert.Equal("copy_name+0x4", session.Symbols.NameAt(session.Symbols.Find("copy_name")!.Value + 4));
        ulong state = session.Symbols.Find("state")!.Value;
        Assert.Equal("state+0x6", session.Symbols.NameAt(state + 6));
    }
}
