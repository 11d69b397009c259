using ReplayVm.Tui.Panes;
using ReplayVm.Tui.Session;

namespace ReplayVm.Tui.Tests;

public class PaneTextTests
{
    [Fact]
    public void Code_marks_the_pc_line_and_breakpoints_and_names_the_function()
    {
        var s = Recordings.DemoSession();
        s.Execute("b copy_name");
        s.Execute("c");
        string code = PaneText.Code(s);
        var pcLine = code.Split('\n').Single(l => l.StartsWith("=>"));
        Assert.StartsWith($"=>* 0x{s.Hart.Pc:x}:", pcLine);
        Assert.Contains("<copy_name>:", code);
    }

    [Fact]
    public void Code_lines_before_pc_decode_up_to_it_exactly()
    {
        var s = Recordings.DemoSession();
        s.Execute("goto 5000");
        var lines = PaneText.Code(s).Split('\n').Where(l => l.Contains(": ") && !l.StartsWith('<')).ToList();
        int at = lines.FindIndex(l => l.StartsWith("=>"));
        Assert.True(at > 0, string.Join('\n', lines));
    }

    [Fact]
    public void Registers_show_pc_with_its_symbol()
    {
        var s = Recordings.DemoSession();
        s.Execute("b copy_name");
        s.Execute("c");
        string text = PaneText.Registers(s);
        Assert.StartsWith($"pc   {s.Hart.Pc:x16}* <copy_name>", text);
        Assert.Contains($"sp   {s.Hart.GetX(2):x16}", text);
        Assert.Contains("mstatus", text);
    }

    [Fact]
    public void Timeline_after_reverse_continue_shows_the_position()
    {
        var s = Recordings.DemoSession();
        s.Execute($"goto {s.End}");
        Assert.StartsWith($"step {s.End} / {s.End}", PaneText.Timeline(s));
        s.Execute("b copy_name");
        s.Execute("rc");
        string text = PaneText.Timeline(s, 40);
        Assert.StartsWith($"step {s.Position} / {s.End}\n[", text);
        Assert.Single(text, '#');
        Assert.True(s.Position < s.End);
    }

    [Fact]
    public void Memory_dump_shows_hex_and_ascii()
    {
        var s = Recordings.DemoSession();
        s.Execute($"goto {s.End}");
        ulong pc = s.Hart.Pc;
        string dump = PaneText.Memory(s, pc, 2);
        var first = dump.Split('\n')[0];
        Assert.StartsWith($"{pc:x8}  ", first); // 8 digits: every address shown fits in 32 bits
        Assert.Equal(2, dump.TrimEnd('\n').Split('\n').Length);
        Assert.Contains("(not mapped)", PaneText.Memory(s, 0x10, 1));
    }

    [Fact]
    public void Breakpoint_list_names_symbols()
    {
        var s = Recordings.DemoSession();
        Assert.StartsWith("(none", PaneText.Breakpoints(s));
        s.Execute("b main");
        Assert.Contains("<main>", PaneText.Breakpoints(s));
    }
}
