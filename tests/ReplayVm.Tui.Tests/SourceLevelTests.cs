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
}
