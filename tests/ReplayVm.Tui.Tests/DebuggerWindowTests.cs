using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using ReplayVm.Replay;
using ReplayVm.Tui.Views;
using Xunit.Abstractions;
using Registers = ReplayVm.Debugger.Disassembly.Registers;

namespace ReplayVm.Tui.Tests;

/// <summary>Terminal.Gui applications share process-wide settings: their tests run one at a time.</summary>
[CollectionDefinition("TerminalGui", DisableParallelization = true)]
public sealed class TerminalGuiCollection;

/// <summary>The debugger window drawn headless by Terminal.Gui (see <see cref="HeadlessDebugger"/>), asserted cell by cell.</summary>
[Collection("TerminalGui")]
public class DebuggerWindowTests(ITestOutputHelper output)
{
    private static readonly Color Yellow = new(ColorName16.BrightYellow);

    [Fact]
    public void Registers_changed_by_a_step_are_drawn_in_the_highlight_colour()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        var hart = ui.Session.Hart;
        ui.Key(Key.S); // QEMU's reset vector: auipc t0,0 at 0x1000, then addi a2,t0,40
        ulong[] before = Enumerable.Range(0, 32).Select(r => hart.GetX(r)).ToArray();
        ui.Key(Key.S);
        // Which registers the step changed, from the register file before and after (not the session's notion of it).
        var changedSet = Enumerable.Range(1, 31).Where(r => hart.GetX(r) != before[r]).ToList();
        Assert.Equal([12], changedSet); // a2 only, as the reset vector's second instruction says
        int changed = changedSet[0];
        int unchanged = Enumerable.Range(1, 31).First(r => !changedSet.Contains(r));

        var (changedColumn, changedRow) = ui.Find($"{Registers.X(changed),-4} {hart.GetX(changed):x16}");
        var (plainColumn, plainRow) = ui.Find($"{Registers.X(unchanged),-4} {hart.GetX(unchanged):x16}");
        var highlighted = ui.AttributeAt(changedColumn + 5, changedRow);
        var plain = ui.AttributeAt(plainColumn + 5, plainRow);
        output.WriteLine($"{Registers.X(changed)}: {highlighted}; {Registers.X(unchanged)}: {plain}");
        Assert.NotEqual(plain, highlighted);
        Assert.Equal(Yellow, highlighted.Foreground);
        Assert.Equal('*', ui.Line(changedRow)[changedColumn + 5 + 16]);
        // The register's name is not part of the highlight, only its value.
        Assert.Equal(plain, ui.AttributeAt(changedColumn, changedRow));
        // Every other register the pane shows is drawn plain.
        int shown = 0;
        for (int r = 1; r < 32; r++)
        {
            string text = $"{Registers.X(r),-4} {hart.GetX(r):x16}";
            if (r == changed || !ui.Screen.Contains(text)) continue;
            shown++;
            var (column, row) = ui.Find(text);
            Assert.True(plain == ui.AttributeAt(column + 5, row), $"{Registers.X(r)} is highlighted but did not change");
        }
        Assert.True(shown >= 10, $"only {shown} registers on screen");

        // One more step that leaves that register alone: it goes back to the plain colour.
        ulong value = hart.GetX(changed);
        ui.Key(Key.S);
        Assert.Equal(value, hart.GetX(changed));
        (changedColumn, changedRow) = ui.Find($"{Registers.X(changed),-4} {value:x16}");
        Assert.Equal(plain, ui.AttributeAt(changedColumn + 5, changedRow));
    }

    [Fact]
    public void The_current_code_line_and_breakpoint_lines_are_coloured()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        ui.Key(Key.F9); // a breakpoint at 0x1000, the current line
        ui.Key(Key.S);
        var (column, row) = ui.Find("=>  0x1004:");
        var current = ui.AttributeAt(column + 5, row);
        var (bpColumn, bpRow) = ui.Find("  * 0x1000:");
        var breakpoint = ui.AttributeAt(bpColumn + 5, bpRow);
        var (plainColumn, plainRow) = ui.Find("    0x1008:");
        var plain = ui.AttributeAt(plainColumn + 5, plainRow);
        output.WriteLine($"current {current}; breakpoint {breakpoint}; plain {plain}");
        Assert.NotEqual(plain, current);
        Assert.NotEqual(plain, breakpoint);
        Assert.NotEqual(current, breakpoint);
        Assert.Equal(new Color(ColorName16.BrightRed), breakpoint.Foreground);
        // The highlight runs to the end of the pane, past the text.
        Assert.Equal(current, ui.AttributeAt(column + 60, row));
    }

    [Fact]
    public void The_console_pane_rewinds_with_a_reverse_step()
    {
        // The first step at which the guest has echoed "add alice", found by plain replays (no timeline, no session).
        var trace = Recordings.DemoTrace;
        ulong low = 0, high = trace.End!.Step;
        while (low < high)
        {
            ulong mid = low + (high - low) / 2;
            if (GuestTools.ConsoleAt(trace, mid).Contains("add alice", StringComparison.Ordinal)) high = mid; else low = mid + 1;
        }
        ulong echoed = low;
        Assert.Contains("add alic", GuestTools.ConsoleAt(trace, echoed - 1));

        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        ui.Command($"goto {echoed}");
        Assert.Equal(echoed, ui.Session.Position);
        string console = ui.Region(ui.Window.ConsolePane);
        output.WriteLine(console);
        Assert.Contains("add alice", console);

        ui.Command("rsi");
        Assert.Equal(echoed - 1, ui.Session.Position);
        console = ui.Region(ui.Window.ConsolePane);
        Assert.DoesNotContain("add alice", console);
        Assert.Contains("add alic", console);

        ui.Command("si");
        Assert.Contains("add alice", ui.Region(ui.Window.ConsolePane));
    }

    [Fact]
    public void After_reverse_continue_the_timeline_marker_sits_at_the_breakpoint_hit()
    {
        // Where the last call of copy_name is: nm's address, found by a plain single-stepped replay.
        var trace = Recordings.DemoTrace;
        var visits = GuestTools.VisitsBySingleStepping(trace, GuestTools.Symbol("copy_name"), trace.End!.Step);
        Assert.True(visits.Count >= 2, $"copy_name ran {visits.Count} times in the demo session");
        ulong lastHit = visits[^1];

        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        ui.Command("b copy_name");
        ui.Key(Key.End);
        int endColumn = MarkerColumn(ui);
        ui.Key(Key.F5.WithShift);
        Assert.Equal(lastHit, ui.Session.Position);
        Assert.Contains("breakpoint hit", ui.Screen);
        Assert.Contains($"step {lastHit} / {ui.Session.End}", ui.Screen);

        int column = MarkerColumn(ui, out int markerRow);
        int barLeft = ui.Line(markerRow).LastIndexOf('[', column);
        int barWidth = ui.Window.TimelinePane.BarWidth;
        Assert.Equal((int)(lastHit * (ulong)(barWidth - 1) / ui.Session.End), column - barLeft - 1);
        Assert.True(column < endColumn, $"marker at {column}, was {endColumn} at the end");
        Assert.Equal(1, ui.Line(markerRow).Count(c => c == '#'));
    }

    /// <summary>The screen column of the highlighted '#' on the timeline bar (the only cell in the marker colour).</summary>
    private static int MarkerColumn(HeadlessDebugger ui) => MarkerColumn(ui, out _);

    private static int MarkerColumn(HeadlessDebugger ui, out int markerRow)
    {
        var bar = ui.Window.TimelinePane;
        var frame = bar.FrameToScreen();
        for (int row = frame.Top; row < frame.Bottom; row++)
        {
            string line = ui.Line(row);
            for (int column = frame.Left; column < frame.Right; column++)
                if (line[column] == '#' && ui.AttributeAt(column, row).Background == Yellow)
                {
                    markerRow = row;
                    return column;
                }
        }
        throw new Xunit.Sdk.XunitException("no highlighted marker on the timeline:\n" + ui.Screen);
    }

    [Fact]
    public void A_click_on_the_timeline_bar_seeks_to_that_column()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        var (barLeft, barRow) = ui.Find("[#");
        int cell = 40;
        ui.Click(barLeft + 1 + cell, barRow);
        ulong expected = TimelineView.StepForCell(cell, ui.Window.TimelinePane.BarWidth, ui.Session.End);
        Assert.Equal(expected, ui.Session.Position);
        // The step is one whose cell, by the bar's scale (step * (width - 1) / end), is the clicked one.
        Assert.Equal((ulong)cell, ui.Session.Position * (ulong)(ui.Window.TimelinePane.BarWidth - 1) / ui.Session.End);
        Assert.Equal(barLeft + 1 + cell, MarkerColumn(ui));
    }

    [Fact]
    public void Brackets_jump_between_input_events_and_home_end_go_to_the_ends()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        // The steps of the recording's input events, from the trace itself.
        var inputs = Recordings.DemoTrace.Events.Where(e => e is ConsoleInputEvent or WallClockEvent or EntropyEvent)
            .Select(e => e.Step).Distinct().Order().ToList();
        Assert.True(inputs.Count >= 2 && inputs[0] > 0);
        ui.Key(new Key(']'));
        Assert.Equal(inputs[0], ui.Session.Position);
        ui.Key(new Key(']'));
        Assert.Equal(inputs[1], ui.Session.Position);
        ui.Key(new Key('['));
        Assert.Equal(inputs[0], ui.Session.Position);
        ui.Key(Key.End);
        Assert.Equal(ui.Session.End, ui.Session.Position);
        ui.Key(Key.Home);
        Assert.Equal(0UL, ui.Session.Position);
        Assert.Contains("step 0 / ", ui.Screen);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 12)]
    public void Clicked_cells_map_to_steps_that_put_the_marker_on_that_cell(int unused, int seed)
    {
        _ = unused;
        var random = new Random(seed);
        for (int trial = 0; trial < 500; trial++)
        {
            int width = random.Next(10, 300);
            ulong end = (ulong)random.NextInt64(width, 10_000_000_000);
            int cell = random.Next(0, width);
            ulong step = TimelineView.StepForCell(cell, width, end);
            Assert.InRange(step, 0UL, end);
            Assert.Equal((ulong)cell, Math.Min((ulong)(width - 1), (ulong)((UInt128)step * (ulong)(width - 1) / end)));
        }
    }

    [Fact]
    public void The_status_bar_lists_the_debugger_keys_and_each_key_acts_once()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        string bottom = ui.Line(ui.Rows - 1);
        output.WriteLine(bottom);
        foreach (string title in new[] { "Help", "Cont", "Rev", "Over", "Back", "Step", "Finish", "Break", "Quit" })
            Assert.Contains(title, bottom);
        Assert.Contains("F5", bottom);
        ui.Key(Key.F11);
        Assert.Equal(1UL, ui.Session.Position);
        ui.Key(Key.S.WithShift); // reverse-step: one instruction here, where there is no line info
        Assert.Equal(0UL, ui.Session.Position);
        Assert.Contains("at step 0", ui.Line(ui.Rows - 2)); // the status line above the bar
    }

    [Fact]
    public void Typing_q_on_the_command_line_types_it_rather_than_quitting()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        ui.Key(Key.Tab);
        ui.Key(Key.Q);
        ui.Key(Key.S);
        Assert.Equal("qs", ui.Window.CommandLine.Text);
        Assert.Equal(0UL, ui.Session.Position);
    }

    [Fact]
    public void A_small_terminal_shows_a_message_until_it_is_resized()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession(), 60, 20);
        Assert.True(ui.Window.IsTooSmall);
        Assert.Contains("terminal too small (need at least 80x24; now 60x20)", ui.Screen);
        Assert.DoesNotContain("Registers", ui.Screen);
        ui.Key(Key.S); // ignored while too small
        Assert.Equal(0UL, ui.Session.Position);

        ui.Resize(8, 3);
        Assert.True(ui.Window.IsTooSmall);

        ui.Resize(100, 30);
        Assert.False(ui.Window.IsTooSmall);
        Assert.DoesNotContain("too small", ui.Screen);
        Assert.Contains("Registers", ui.Screen);
        Assert.Contains("step 0 / ", ui.Screen);

        ui.Resize(79, 30);
        Assert.Contains("now 79x30", ui.Screen);
    }

    [Fact]
    public void Keys_grow_and_shrink_the_code_pane()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession(), 160, 50);
        var before = ui.Window.CodeFrame.Frame;
        ui.Keys(new Key('>'), new Key('>'));
        var wider = ui.Window.CodeFrame.Frame;
        Assert.True(wider.Width > before.Width, $"{before} -> {wider}");
        Assert.Equal(wider.Right, ui.Find("Registers").Column - 2);
        ui.Key(Key.CursorUp.WithCtrl);
        Assert.True(ui.Window.CodeFrame.Frame.Height < before.Height);
        ui.Key(new Key('+'));
        ui.Key(new Key('<'));
        Assert.Equal((65, 60), ui.Window.CodeSplit);
    }

    [Fact]
    public void Dragging_the_code_pane_border_resizes_it_and_its_neighbours_follow()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession(), 160, 50);
        var before = ui.Window.CodeFrame.FrameToScreen();
        ui.Drag((before.Right - 1, before.Top + 5), (before.Right - 21, before.Top + 5));
        var after = ui.Window.CodeFrame.FrameToScreen();
        output.WriteLine($"{before} -> {after}");
        Assert.Equal(before.Width - 20, after.Width);
        Assert.Equal(after.Right, ui.Find("Registers").Column - 2);
    }

    [Fact]
    public void The_registers_pane_shows_csrs_and_floating_point_registers_by_section()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        string pane = ui.Region(ui.Window.RegistersPane);
        Assert.Contains("pc   0000000000001000", pane);
        ui.Key(new Key('r'));
        pane = ui.Region(ui.Window.RegistersPane);
        Assert.StartsWith(RegisterLines.CsrHeading, pane.TrimStart());
        foreach (string csr in new[] { "priv", "mstatus", "mcause", "mepc", "mtval", "satp", "sstatus", "scause", "sepc" })
            Assert.Contains(csr, pane);
        ui.Key(new Key('r'));
        pane = ui.Region(ui.Window.RegistersPane);
        Assert.Contains("ft0  0000000000000000  d 0", pane);
        ui.Key(new Key('r'));
        Assert.Contains("pc   0000000000001000", ui.Region(ui.Window.RegistersPane));
    }

    [Fact]
    public void Floating_point_values_show_single_precision_when_nan_boxed()
    {
        Assert.Equal("s 1.5", RegisterLines.FloatValue(0xFFFF_FFFF_3FC0_0000));
        Assert.Equal("d 1.5", RegisterLines.FloatValue(0x3FF8_0000_0000_0000));
        Assert.Equal("d 0", RegisterLines.FloatValue(0));
    }

    [Fact]
    public void A_bad_command_says_so_on_the_status_line()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        ui.Command("frobnicate");
        Assert.Contains("unknown command 'frobnicate'", ui.Line(ui.Rows - 2));
        ui.Command("mem nowhere");
        Assert.Contains("mem: bad address 'nowhere'", ui.Line(ui.Rows - 2));
    }
}
