using ReplayVm.Debugger.Disassembly;
using ReplayVm.Replay.Timeline;
using ReplayVm.Tui.Session;

namespace ReplayVm.Tui.Tests;

public class DebugSessionTests
{
    private static ulong Symbol(DebugSession s, string name) => s.Symbols.Find(name) ?? throw new InvalidOperationException(name);

    [Fact]
    public void The_demo_recording_ends_after_its_whole_session()
    {
        var s = Recordings.DemoSession();
        Assert.True(s.End > 400_000, $"end {s.End}");
        Assert.NotNull(s.Symbols.Find("copy_name"));
    }

    [Fact]
    public void Si_and_rsi_move_one_step_and_mark_changed_registers()
    {
        var s = Recordings.DemoSession();
        s.Execute("goto 1000");
        ulong pc = s.Hart.Pc;
        var r = s.Execute("si");
        Assert.False(r.IsError, r.Text);
        Assert.Equal(1001UL, s.Position);
        Assert.Contains("step 1001", r.Text);
        Assert.True(s.PcChanged);
        s.Execute("rsi");
        Assert.Equal(1000UL, s.Position);
        Assert.Equal(pc, s.Hart.Pc);
    }

    [Fact]
    public void A_changed_register_is_marked_and_unchanged_ones_are_not()
    {
        var s = Recordings.DemoSession();
        // Step until some instruction writes an integer register.
        for (int i = 0; i < 50 && !Enumerable.Range(1, 31).Any(s.Changed); i++) s.StepInto();
        int changed = Enumerable.Range(1, 31).First(s.Changed);
        Assert.Contains(Enumerable.Range(1, 31), r => !s.Changed(r));
        string registers = Panes.PaneText.Registers(s);
        Assert.Contains($"{Registers.X(changed),-4} {s.Hart.GetX(changed):x16}*", registers);
    }

    [Fact]
    public void Breakpoint_on_a_symbol_then_continue_stops_there_and_reverse_continue_comes_back()
    {
        var s = Recordings.DemoSession();
        ulong copyName = Symbol(s, "copy_name");
        var b = s.Execute("b copy_name");
        Assert.False(b.IsError, b.Text);
        Assert.Equal($"breakpoint 1 at 0x{copyName:x} <copy_name>", b.Text);

        var first = s.Execute("c");
        Assert.Contains("breakpoint hit", first.Text);
        Assert.Equal(copyName, s.Hart.Pc);
        ulong firstStep = s.Position;

        s.Execute("c");
        Assert.Equal(copyName, s.Hart.Pc);
        Assert.True(s.Position > firstStep);

        var back = s.Execute("rc");
        Assert.Contains("breakpoint hit", back.Text);
        Assert.Equal(firstStep, s.Position);
        Assert.Equal(copyName, s.Hart.Pc);

        var start = s.Execute("rc");
        Assert.Contains("start of recording", start.Text);
        Assert.Equal(0UL, s.Position);
    }

    [Fact]
    public void Breakpoint_at_an_address_and_info_and_delete()
    {
        var s = Recordings.DemoSession();
        ulong main = Symbol(s, "main");
        Assert.Equal($"breakpoint 1 at 0x{main:x} <main>", s.Execute($"b *0x{main:x}").Text);
        Assert.Contains("breakpoint 2", s.Execute("b *main+4").Text);
        var info = s.Execute("info b").Text.Split('\n');
        Assert.Equal(2, info.Length);
        Assert.StartsWith("1  break  0x", info[0]);
        Assert.Contains("<main+0x4>", info[1]);
        Assert.Equal("deleted 1", s.Execute("delete 1").Text);
        Assert.True(s.Execute("delete 1").IsError);
        Assert.Single(s.Points);
        s.Execute("delete 2");
        Assert.Equal("no breakpoints or watchpoints", s.Execute("info b").Text);
    }

    [Fact]
    public void F9_toggles_a_breakpoint_at_pc()
    {
        var s = Recordings.DemoSession();
        s.Execute("goto 500");
        Assert.True(s.ToggleBreakpointAtPc());
        Assert.True(s.HasBreakpointAt(s.Hart.Pc));
        Assert.False(s.ToggleBreakpointAtPc());
        Assert.Empty(s.Points);
    }

    [Fact]
    public void Watchpoint_stops_after_the_store_and_last_write_finds_it()
    {
        var s = Recordings.DemoSession();
        s.Execute("b copy_name");
        s.Execute("c");
        ulong destination = s.Hart.GetX(10); // a0 = dst
        s.Execute("delete 1");
        var w = s.Execute("watch *a0");
        Assert.False(w.IsError, w.Text);
        var hit = s.Execute("c");
        Assert.Contains("watchpoint hit", hit.Text);
        Assert.Contains($"address 0x{destination:x}", hit.Text);
        ulong after = s.Position;

        s.Execute("si");
        s.Execute("si");
        var last = s.Execute($"last-write 0x{destination:x}");
        Assert.False(last.IsError, last.Text);
        // The writing instruction is the step just before the watchpoint stop.
        Assert.Contains($"at step {after - 1}", last.Text);
        Assert.Equal(after + 2, s.Position); // the query does not move
    }

    [Fact]
    public void Rwatch_stops_after_the_load_that_reads_and_awatch_takes_a_length()
    {
        var s = Recordings.DemoSession();
        s.Execute("b copy_name");
        s.Execute("c");
        ulong source = s.Hart.GetX(11); // a1 = src: copy_name's first instruction is lbu a5,0(a1)
        s.Execute("delete 1");
        var r = s.Execute("rwatch *a1 1");
        Assert.Equal($"watchpoint 2 on reads of 0x{source:x}..0x{source:x}", r.Text);
        var hit = s.Execute("c");
        Assert.Contains($"watchpoint hit (read at address 0x{source:x}", hit.Text);
        Assert.Contains("2  rwatch  0x", s.Execute("info b").Text);

        // A write-only watch on the same byte does not stop at that read; an access watch would.
        s.Execute("delete 2");
        Assert.False(s.Execute("awatch *a1 2").IsError);
        Assert.Contains("3  awatch  0x", s.Execute("info b").Text);
        Assert.Contains("(2 bytes)", s.Execute("info b").Text);

        Assert.True(s.Execute("watch *a1 0").IsError);
        Assert.True(s.Execute("watch *a1 5000").IsError);
        Assert.True(s.Execute("rwatch no_such_symbol").IsError);
        Assert.False(s.Execute("watch state").IsError); // a symbol: its address
    }

    [Fact]
    public void Next_steps_over_a_call_and_reverse_next_steps_back_over_it()
    {
        var s = Recordings.DemoSession();
        ulong copyName = Symbol(s, "copy_name");
        s.AddBreakpoint(copyName);
        s.Continue();
        s.Delete(1);
        ulong returnAddress = s.Hart.GetX(1);
        s.Execute("rsi"); // back on the call instruction
        ulong callStep = s.Position;
        s.Execute("ni");
        Assert.Equal(returnAddress, s.Hart.Pc);
        Assert.True(s.Position > callStep + 2);
        s.Execute("rni");
        Assert.Equal(callStep, s.Position);
    }

    [Fact]
    public void Console_output_rewinds_with_the_position()
    {
        var s = Recordings.DemoSession();
        Assert.Equal("", s.ConsoleText);
        s.Execute($"goto {s.End}");
        string all = s.ConsoleText;
        Assert.Contains("alice", all);
        s.Execute("b copy_name");
        s.Execute("rc"); // the last copy_name call: adding dave
        Assert.Contains("alice", s.ConsoleText);
        Assert.DoesNotContain("dave_the", s.ConsoleText.Split("add dave")[^1]);
        Assert.True(s.ConsoleText.Length < all.Length);
        s.Execute("goto 0");
        Assert.Equal("", s.ConsoleText);
    }

    [Fact]
    public void Goto_past_the_end_stops_at_the_end()
    {
        var s = Recordings.DemoSession();
        var r = s.Execute("goto 999999999999");
        Assert.Contains("end of recording", r.Text);
        Assert.Equal(s.End, s.Position);
        Assert.Contains("end of recording", s.Execute("si").Text);
    }

    [Fact]
    public void Examine_memory_in_words_and_giant_words()
    {
        var s = Recordings.DemoSession();
        s.Execute("b copy_name");
        s.Execute("c");
        ulong sp = s.Hart.GetX(2);
        var words = s.Execute("x/8x sp");
        Assert.False(words.IsError, words.Text);
        var lines = words.Text.Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"0x{sp:x}", lines[0]);
        Assert.Equal(4, lines[0].Split(": ")[1].Split(' ').Length);

        var code = s.Execute("x/2g pc").Text;
        Assert.StartsWith($"0x{s.Hart.Pc:x} <copy_name>:", code);
        var bytes = new byte[8];
        Assert.True(s.ReadMemory(s.Hart.Pc, bytes));
        Assert.Contains($"0x{BitConverter.ToUInt64(bytes):x16}", code);
    }

    [Theory]
    [InlineData("frobnicate", "unknown command 'frobnicate'")]
    [InlineData("b nosuchsymbol", "b: no symbol or address")]
    [InlineData("b", "b: give a symbol")]
    [InlineData("watch 0x80001000", "watch: Cannot watch constant value `0x80001000'.")]
    [InlineData("watch *zzz", "watch: No symbol \"zzz\" in current context.")]
    [InlineData("x/4x nowhere", "x: bad address 'nowhere'")]
    [InlineData("x/4q sp", "x: unknown format letter 'q'")]
    [InlineData("x/0x sp", "x: bad count")]
    [InlineData("x/4x 0x10", "x: cannot read")]
    [InlineData("goto soon", "goto: 'soon' is not a step number")]
    [InlineData("last-write ???", "last-write: bad address")]
    [InlineData("delete x", "delete: 'x' is not a breakpoint number")]
    [InlineData("si 3", "unexpected argument '3'")]
    [InlineData("info frobs", "unknown command 'info'")]
    public void Bad_commands_are_one_line_errors(string line, string expected)
    {
        var s = Recordings.DemoSession();
        var r = s.Execute(line);
        Assert.True(r.IsError, r.Text);
        Assert.Contains(expected, r.Text);
        Assert.DoesNotContain('\n', r.Text);
        Assert.Equal(0UL, s.Position);
    }

    [Fact]
    public void An_empty_line_does_nothing()
    {
        var s = Recordings.DemoSession();
        var r = s.Execute("   ");
        Assert.False(r.IsError);
        Assert.Equal("", r.Text);
    }

    [Fact]
    public void Continue_cancelled_before_it_starts_stops_where_it_is()
    {
        var s = Recordings.DemoSession();
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var stop = s.Continue(cancel.Token);
        Assert.Equal(TimelineStopKind.Cancelled, stop.Kind);
        Assert.Contains("cancelled", s.LastStop);
    }

    [Fact]
    public void Last_write_of_a_register_reports_the_writing_step_and_instruction_without_moving()
    {
        var s = Recordings.DemoSession();
        s.Execute("b copy_name");
        s.Execute("c");
        s.Execute("delete 1");
        for (int i = 0; i < 3; i++) s.Execute("si");
        ulong here = s.Position;

        var r = s.Execute("last-write a0");
        Assert.False(r.IsError, r.Text);
        var m = System.Text.RegularExpressions.Regex.Match(r.Text,
            @"^a0 last written at step (\d+) by pc 0x([0-9a-f]+)( <[^>]+>)? \((\S+) a0,[^)]*\), value 0x([0-9a-f]+); goto \1 to see it$");
        Assert.True(m.Success, r.Text);
        Assert.Equal(here, s.Position); // the query does not move
        Assert.Equal(r.Text, s.Execute("last-write $a0").Text);
        Assert.Equal(r.Text, s.Execute("last-write x10").Text);

        ulong step = ulong.Parse(m.Groups[1].Value);
        Assert.True(step < here);
        s.Execute($"goto {step}");
        Assert.Equal(Convert.ToUInt64(m.Groups[2].Value, 16), s.Hart.Pc);
        s.Execute("si");
        Assert.Equal(Convert.ToUInt64(m.Groups[5].Value, 16), s.Hart.GetX(10));

        Assert.StartsWith("ft3 ", s.Execute("last-write f3").Text);
        Assert.StartsWith("fa0 ", s.Execute("last-write fa0").Text);
        Assert.Equal("zero is never written (writes to x0 are discarded)", s.Execute("last-write zero").Text);
        // With '*' the word is an address expression: the memory at sp, not the register.
        var memory = s.Execute("last-write *sp");
        Assert.False(memory.IsError, memory.Text);
        Assert.StartsWith($"0x{s.Hart.GetX(2):x} ", memory.Text);
        Assert.Contains("last-write REG|*ADDR", DebugSession.CommandHelp);
    }
}
