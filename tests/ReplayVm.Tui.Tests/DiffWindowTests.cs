using System.Text;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using ReplayVm.Replay.Diff;
using ReplayVm.Tui.Views;
using Xunit.Abstractions;
using Registers = ReplayVm.Debugger.Disassembly.Registers;
using TextStyle = ReplayVm.Tui.Views.TextStyle;

namespace ReplayVm.Tui.Tests;

/// <summary>The two-run window drawn headless (<see cref="HeadlessDiff"/>) over demo recordings that differ in one word or in when two lines were typed.</summary>
[Collection("TerminalGui")]
public class DiffWindowTests(ITestOutputHelper output)
{
    private static readonly Color Yellow = new(ColorName16.BrightYellow);

    [Fact]
    public void Opens_at_step_0_and_the_first_divergence_key_lands_on_the_step_diff_reports()
    {
        var diff = TraceDiff.Compare(DiffRecordings.Base.Value, DiffRecordings.Word.Value);
        Assert.Equal(TraceDiffOutcome.StateDiffers, diff.Outcome);
        using var ui = new HeadlessDiff(DiffRecordings.Pair(DiffRecordings.Base.Value, DiffRecordings.Word.Value));
        Assert.Contains("step 0 · equal here", ui.Window.StatusText);
        Assert.Equal(0UL, ui.Session.A.Position);
        Assert.Equal(0UL, ui.Session.B.Position);

        ui.Key(Key.F7);
        output.WriteLine(ui.Window.StatusText);
        Assert.Equal(diff.Step, ui.Session.A.Position);
        Assert.Equal(diff.Step, ui.Session.B.Position);
        Assert.StartsWith($"step {diff.Step} · differ here · differ at step {diff.Step}", ui.Window.StatusText);
        ui.Find($"differ at step {diff.Step}"); // on screen, in the status line and the output pane
    }

    [Fact]
    public void The_register_pane_marks_exactly_the_differing_registers()
    {
        using var ui = new HeadlessDiff(DiffRecordings.Pair(DiffRecordings.Base.Value, DiffRecordings.Word.Value));
        ui.Key(Key.F7);
        var (a, b) = (ui.Session.A.Hart, ui.Session.B.Hart);
        var differing = Enumerable.Range(1, 31).Where(i => a.GetX(i) != b.GetX(i)).ToList();
        Assert.NotEmpty(differing);
        foreach (var line in ui.Window.RegistersPane.Lines)
        {
            string name = line.Text.Split(' ')[0];
            int index = Enumerable.Range(1, 31).FirstOrDefault(i => Registers.X(i) == name);
            if (index == 0) continue;
            bool marked = line.Spans.Any(s => s.Style == TextStyle.Changed);
            Assert.Equal(differing.Contains(index), marked);
            Assert.Equal(differing.Contains(index), line.Text.Contains(DiffLines.Differs, StringComparison.Ordinal));
        }
        // On screen: the differing value in the highlight colour, an equal one not.
        int reg = differing[0];
        var (column, row) = ui.Find($"{Registers.X(reg),-8} {a.GetX(reg):x16}!");
        Assert.Equal(Yellow, ui.AttributeAt(column + 9, row).Foreground);
        int same = Enumerable.Range(1, 31).First(i => !differing.Contains(i));
        var (plainColumn, plainRow) = ui.Find($"{Registers.X(same),-8} {a.GetX(same):x16} ");
        Assert.NotEqual(Yellow, ui.AttributeAt(plainColumn + 9, plainRow).Foreground);
    }

    [Fact]
    public void The_console_panes_mark_output_from_the_first_differing_byte()
    {
        using var ui = new HeadlessDiff(DiffRecordings.Pair(DiffRecordings.Base.Value, DiffRecordings.Word.Value));
        ui.Key(Key.End);
        var outA = ui.Session.A.Timeline.Output;
        var outB = ui.Session.B.Timeline.Output;
        int common = 0;
        while (outA[common] == outB[common]) common++;
        Assert.Contains($"differ from byte {common}", ui.Window.ConsoleFrameA.Title);
        // The unmarked text is exactly the common prefix (as the pane shows bytes: no control characters but newlines).
        foreach (var (pane, bytes) in new[] { (ui.Window.ConsolePaneA, outA), (ui.Window.ConsolePaneB, outB) })
        {
            var lines = pane.Lines;
            var plain = new StringBuilder();
            bool marking = false;
            foreach (var line in lines)
            {
                foreach (var span in line.Spans)
                {
                    if (span.Style == TextStyle.Changed) marking = true;
                    else Assert.False(marking, "unmarked text after the first marked byte");
                    if (!marking) plain.Append(span.Text);
                }
                if (!marking) plain.Append('\n');
            }
            string expected = new(bytes.Take(common).Where(c => c == '\n' || c == '\t' || c is >= 0x20 and < 0x7F).Select(c => (char)c).ToArray());
            Assert.Equal(expected, plain.ToString()[..expected.Length]);
            Assert.True(marking);
        }
        // The B side's marked text starts with the byte that differs: the 'O' of "bOb".
        var firstMarked = ui.Window.ConsolePaneB.Lines.SelectMany(l => l.Spans).First(s => s.Style == TextStyle.Changed);
        Assert.StartsWith("O", firstMarked.Text);
    }

    [Fact]
    public void Next_and_previous_divergence_move_between_separate_divergences_and_a_reverse_step_restores_equal_state()
    {
        var pair = DiffRecordings.Pair(DiffRecordings.Base.Value, DiffRecordings.Late.Value);
        using var ui = new HeadlessDiff(pair);
        ui.Key(Key.F7);
        ulong first = ui.Session.A.Position;
        ui.Key(Key.D);
        ulong second = ui.Session.A.Position;
        output.WriteLine($"{first} {second}: {ui.Window.StatusText}");
        Assert.True(second > first, "d moves forward");
        Assert.Contains($"differ at step {second}", ui.Window.StatusText);
        Assert.Equal([first, second], ui.Session.Pair.KnownDivergences);
        // Between the two, the runs were equal again.
        Assert.Single(ui.Session.Pair.KnownJoins, j => j > first && j < second);
        ui.Key(Key.D.WithShift);
        Assert.Equal(first, ui.Session.A.Position);
        Assert.Equal(first, ui.Session.B.Position);

        // One instruction back on both sides: equal again, and nothing marked.
        ui.Command("rsi");
        Assert.Equal(first - 1, ui.Session.A.Position);
        Assert.Equal(first - 1, ui.Session.B.Position);
        Assert.Contains("equal here", ui.Window.StatusText);
        Assert.DoesNotContain(ui.Window.RegistersPane.Lines, l => l.Text.Contains(DiffLines.Differs, StringComparison.Ordinal));
    }

    [Fact]
    public void Diverge_on_a_differing_byte_names_the_input_that_caused_it()
    {
        using var ui = new HeadlessDiff(DiffRecordings.Pair(DiffRecordings.Base.Value, DiffRecordings.Word.Value));
        ui.Key(Key.End);
        var range = ui.Session.Pair.DifferencesNow()!.Memory.First(m => m.B.Contains((byte)'O'));
        ulong address = range.Address + (ulong)Array.IndexOf(range.B, (byte)'O');
        ui.Command($"diverge *0x{address:x}");
        string answer = string.Join('\n', ui.Window.OutputLines);
        output.WriteLine(answer);
        Assert.Contains($"0x{address:x} differs since step ", answer);
        Assert.Contains("(now A 0x6f, B 0x4f)", answer);
        Assert.Contains("A received 'add bob\\n', B received 'add bOb\\n'", answer);
        Assert.Matches(@"A last wrote it at step \d+ by pc 0x[0-9a-f]+ <[a-z_]+(\+0x[0-9a-f]+)?> \(sb ", answer);
        // The user stays where they were.
        Assert.Equal(ui.Session.A.End, ui.Session.A.Position);
    }

    [Fact]
    public void A_command_typed_without_tab_opens_the_command_line_as_in_the_one_run_window()
    {
        using var ui = new HeadlessDiff(DiffRecordings.Pair(DiffRecordings.Base.Value, DiffRecordings.Late.Value));
        // 'g' is no key binding: it opens the command line, so the 'o', 't' and 's' after it are typed, not obeyed.
        foreach (char c in "goto 1000") ui.Key(new Terminal.Gui.Input.Key(c));
        Assert.Equal((0UL, 0UL), (ui.Session.A.Position, ui.Session.B.Position));
        ui.Key(Terminal.Gui.Input.Key.Enter);
        Assert.Equal((1000UL, 1000UL), (ui.Session.A.Position, ui.Session.B.Position));
        // Outside it, bound letters still move: s steps both runs.
        ui.Key(new Terminal.Gui.Input.Key('s'));
        Assert.NotEqual((1000UL, 1000UL), (ui.Session.A.Position, ui.Session.B.Position));
    }

    [Fact]
    public void Movements_lock_both_runs_and_an_offset_shifts_b()
    {
        using var ui = new HeadlessDiff(DiffRecordings.Pair(DiffRecordings.Base.Value, DiffRecordings.Late.Value));
        ui.Command("goto 1000");
        Assert.Equal((1000UL, 1000UL), (ui.Session.A.Position, ui.Session.B.Position));
        ui.Command("si");
        Assert.Equal((1001UL, 1001UL), (ui.Session.A.Position, ui.Session.B.Position));
        ui.Command("offset 420");
        Assert.Equal((1001UL, 1421UL), (ui.Session.A.Position, ui.Session.B.Position));
        ui.Command("si");
        Assert.Equal((1002UL, 1422UL), (ui.Session.A.Position, ui.Session.B.Position));
        Assert.Contains("offset +420", ui.Window.StatusText);
        // Divergences are defined at equal steps.
        ui.Command("next-divergence");
        Assert.Contains("'offset 0' first", ui.Window.OutputLines.Last());
        ui.Command("offset 0");
        Assert.Equal((1002UL, 1002UL), (ui.Session.A.Position, ui.Session.B.Position));
    }

    [Fact]
    public void Traces_of_different_ram_sizes_cannot_be_compared()
    {
        var big = DiffRecordings.Record(["help", "quit"], ramSize: 32UL << 20);
        var e = Assert.Throws<ArgumentException>(() => DiffRecordings.Pair(DiffRecordings.Base.Value, big));
        Assert.Contains("RAM size 16 MiB vs 32 MiB", e.Message);
        Assert.Contains("cannot be compared step by step", e.Message);
    }
}
