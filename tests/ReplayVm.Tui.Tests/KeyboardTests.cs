using Terminal.Gui.Input;
using Xunit.Abstractions;

namespace ReplayVm.Tui.Tests;

/// <summary>Issue 11, points 1, 2 and 5: Esc never quits, typed keys are never hotkeys, and commands answer in full in the output pane.</summary>
[Collection("TerminalGui")]
public class KeyboardTests(ITestOutputHelper output)
{
    [Fact]
    public void Esc_never_quits_on_the_main_screen_or_the_command_line()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        ui.Command("b copy_name");
        ui.Key(Key.Esc);
        Assert.False(ui.Window.QuitRequested);
        Assert.False(ui.Window.StopRequested, "the window was asked to stop on Esc");
        Assert.Contains("nothing to cancel (q or Ctrl-Q quits)", ui.Line(ui.Rows - 2));

        ui.Key(Key.Tab);
        foreach (char c in "goto 12") ui.Key(new Key(c));
        ui.Key(Key.Esc);
        Assert.Equal("", ui.Window.CommandLine.Text);
        Assert.Contains("command cancelled", ui.Line(ui.Rows - 2));
        ui.Key(Key.Esc);
        ui.Key(Key.Esc);
        Assert.False(ui.Window.QuitRequested);
        Assert.False(ui.Window.StopRequested);
        Assert.Equal(0UL, ui.Session.Position);
        Assert.Single(ui.Session.Points); // the breakpoint survived

        ui.Key(Key.Q);
        Assert.True(ui.Window.QuitRequested);
        Assert.True(ui.Window.StopRequested);
    }

    [Fact]
    public void Ctrl_q_quits_a_recording_at_once_and_even_from_the_command_line()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        ui.Key(Key.Tab);
        ui.Key(Key.Q);
        Assert.False(ui.Window.QuitRequested);
        ui.Key(Key.Q.WithCtrl);
        Assert.True(ui.Window.QuitRequested);
    }

    [Fact]
    public void Esc_at_the_end_of_a_long_run_cancels_or_does_nothing_but_never_quits()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        ui.Window.RunMovesInline = false;
        ui.Command("b copy_name");
        ui.Key(Key.F5);
        ui.Key(Key.Esc); // while it runs (or just as it ends): a cancel
        ui.FinishRunning();
        ui.Key(Key.Esc); // after it ended
        Assert.False(ui.Window.QuitRequested);
        Assert.False(ui.Window.StopRequested);
        Assert.False(ui.Window.IsRunningCommand);
    }

    [Fact]
    public void Keys_typed_into_the_command_line_while_a_command_runs_are_typed_not_obeyed_and_the_line_runs_after()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        ui.Window.RunMovesInline = false;
        ui.Command("goto 5000");
        Assert.True(ui.Window.IsRunningCommand);
        // ':' opens the command line even while the seek runs; "s", "t", "i" and "c" are letters there, not keys.
        ui.Key(new Key(':'));
        foreach (char c in "goto 7") ui.Key(new Key(c));
        Assert.Equal("goto 7", ui.Window.CommandLine.Text);
        ui.Key(Key.Enter);
        Assert.Equal("", ui.Window.CommandLine.Text);
        Assert.Contains("queued: goto 7", ui.Line(ui.Rows - 2));
        ui.Key(new Key(':'));
        foreach (char c in "last-write sp") ui.Key(new Key(c));
        ui.Key(Key.Enter);
        ui.FinishRunning();
        Assert.False(ui.Window.IsRunningCommand);
        Assert.Equal(7UL, ui.Session.Position); // the queued goto ran after the first, and no letter stepped
        string log = ui.Region(ui.Window.OutputPane);
        output.WriteLine(log);
        Assert.Contains("> goto 5000", log);
        Assert.Contains("> goto 7", log);
        Assert.Contains("> last-write sp", log);
        Assert.True(log.IndexOf("> goto 5000", StringComparison.Ordinal) < log.IndexOf("> goto 7", StringComparison.Ordinal));
    }

    [Fact]
    public void A_command_typed_without_tab_opens_the_command_line_as_gdbs_single_key_mode_does()
    {
        // The README's first hint, typed as a gdb user types it: 'b' is no key binding, so it opens
        // the command line and is typed there; the 'c' and 'n' of copy_name are then letters, not moves.
        var firstCall = GuestTools.VisitsBySingleStepping(Recordings.DemoTrace, GuestTools.Symbol("copy_name"), Recordings.DemoTrace.End!.Step)[0];
        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        foreach (char c in "b copy_name") ui.Key(new Key(c));
        Assert.Equal("b copy_name", ui.Window.CommandLine.Text);
        Assert.Equal(0UL, ui.Session.Position);
        ui.Key(Key.Enter);
        Assert.Equal("", ui.Window.CommandLine.Text);
        Assert.Single(ui.Session.Points);
        // Back outside the command line, bound letters move again: c runs to the breakpoint.
        ui.Key(new Key('c'));
        Assert.Equal(firstCall, ui.Session.Position);
        Assert.Contains("breakpoint hit", ui.Screen);
    }

    [Fact]
    public void Letters_typed_after_tab_land_in_the_command_line_and_move_nothing()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession());
        ui.Key(Key.Tab);
        foreach (char c in "last-write *0x80002c4c") ui.Key(new Key(c));
        Assert.Equal("last-write *0x80002c4c", ui.Window.CommandLine.Text);
        Assert.Equal(0UL, ui.Session.Position);
    }

    [Fact]
    public void The_output_pane_keeps_every_line_of_info_breakpoints_and_x_and_scrolls()
    {
        using var ui = new HeadlessDebugger(Recordings.DemoSession(), 160, 50);
        for (int i = 0; i < 12; i++) ui.Command($"b *0x{0x80000000 + 4 * i:x}");
        ui.Command("info b");
        ui.Command("x/64x 0x80000000");
        var log = ui.Window.OutputLines;
        int info = log.IndexOf("> info b");
        Assert.True(info >= 0);
        for (int i = 1; i <= 12; i++) Assert.StartsWith($"{i}  break  0x{0x80000000 + 4 * (i - 1):x}", log[info + i]);
        int x = log.IndexOf("> x/64x 0x80000000");
        Assert.Equal(16, log.Skip(x + 1).Count(l => l.StartsWith("0x8", StringComparison.Ordinal)));
        // The newest answer is in view; PgUp scrolls back to the older ones.
        string pane = ui.Region(ui.Window.OutputPane);
        Assert.Contains("0x800000f0", pane);
        Assert.DoesNotContain("> info b", pane);
        for (int i = 0; i < 10 && !ui.Region(ui.Window.OutputPane).Contains("> info b", StringComparison.Ordinal); i++) ui.Key(Key.PageUp);
        Assert.Contains("> info b", ui.Region(ui.Window.OutputPane));
    }
}

/// <summary>The F1 help dialog, drawn headless on its own.</summary>
[Collection("TerminalGui")]
public class HelpDialogTests(ITestOutputHelper output)
{
    [Fact]
    public void The_help_is_left_aligned()
    {
        Environment.SetEnvironmentVariable("DisableRealDriverIO", "1");
        using var app = Terminal.Gui.App.Application.Create(new Terminal.Gui.Time.VirtualTimeProvider()).Init(Terminal.Gui.Drivers.DriverRegistry.Names.ANSI);
        app.Driver!.SetScreenSize(160, 50);
        using var dialog = ReplayVm.Tui.Views.DebuggerWindow.CreateHelpDialog();
        var token = app.Begin(dialog);
        app.LayoutAndDraw(true);
        var cells = app.Driver.Contents!;
        var rows = Enumerable.Range(0, cells.GetLength(0))
            .Select(r => string.Concat(Enumerable.Range(0, cells.GetLength(1)).Select(c => cells[r, c].Grapheme is { Length: > 0 } g ? g : " ")))
            .ToList();
        output.WriteLine(string.Join('\n', rows));
        var helpLines = ReplayVm.Tui.Views.DebuggerWindow.HelpText.Split('\n').Where(l => l.Length > 0).ToList();
        var starts = helpLines.Select(l => rows.Select(r => r.IndexOf(l.TrimEnd(), StringComparison.Ordinal)).FirstOrDefault(c => c >= 0, -1)).ToList();
        Assert.DoesNotContain(-1, starts);
        Assert.Single(starts.Distinct()); // every line starts in the same column
        app.End(token!);
    }
}
