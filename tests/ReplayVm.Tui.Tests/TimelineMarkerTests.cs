using ReplayVm.Core;
using ReplayVm.Core.Input;
using ReplayVm.Replay;
using ReplayVm.Replay.Timeline;
using ReplayVm.Tui.Panes;
using ReplayVm.Tui.Session;

namespace ReplayVm.Tui.Tests;

/// <summary>
/// The timeline bar's trap, interrupt and breakpoint-hit marks, its column-to-step mapping, and the
/// next-trap / prev-trap / next-irq / prev-irq commands, over a recording of the traps guest.
/// </summary>
public sealed class TimelineMarkerTests
{
    private static readonly Lazy<byte[]> TrapsBytes = new(() =>
    {
        string elf = Path.Combine(Recordings.RepoRoot, "tools", "guests", "elf", "traps.elf");
        var setup = MachineSetup.ForElf(new MachineConfig { RamSize = 16UL << 20 }, "traps.elf", File.ReadAllBytes(elf));
        var stream = new MemoryStream();
        using (var recorder = new Recorder(setup, NoInput.Instance, _ => { }, stream,
                   new RecorderOptions { StateHashInterval = 50_000, Writer = new TraceWriterOptions { FlushInterval = TimeSpan.Zero } }))
            Assert.Equal(StopReason.GuestExit, recorder.Run(50_000_000).Run.Reason);
        return stream.ToArray();
    });

    private static readonly Lazy<TraceFile> Traps = new(() => TraceReader.Read(TrapsBytes.Value));

    private static DebugSession IndexedTrapsSession()
    {
        var session = new DebugSession(new Timeline(Traps.Value, new TimelineOptions { CheckpointInterval = 4096 }));
        var index = session.StartIndex()!;
        index.Completion.Wait();
        Assert.Equal(TimelineIndexState.Complete, index.State);
        return session;
    }

    private static List<TrapMarker> All(TimelineIndex index, TrapMarkerKinds kinds)
    {
        var all = new List<TrapMarker>();
        for (var m = index.Previous(kinds, 1) ?? index.Next(kinds, 0); m is { } marker; m = index.Next(kinds, marker.Step)) all.Add(marker);
        return all;
    }

    private static string Bar(string timeline) => timeline.Split('\n')[1].Trim('[', ']');

    [Fact]
    public void Traps_and_interrupts_are_marked_in_the_cells_their_steps_fall_in()
    {
        var s = IndexedTrapsSession();
        s.Execute("goto 100");
        const int width = 150;
        string text = PaneText.Timeline(s, width);
        string bar = Bar(text);
        Assert.Equal(width, bar.Length);
        var traps = All(s.Index!, TrapMarkerKinds.Traps);
        var interrupts = All(s.Index!, TrapMarkerKinds.Interrupts);
        Assert.Equal(20, traps.Count);
        Assert.Equal(4, interrupts.Count);

        var trapCells = traps.Select(m => PaneText.TimelineCell(m.Step, width, s.End)).ToHashSet();
        var interruptCells = interrupts.Select(m => PaneText.TimelineCell(m.Step, width, s.End)).ToHashSet();
        int here = PaneText.TimelineCell(s.Position, width, s.End);
        for (int cell = 0; cell < width; cell++)
        {
            char expected = cell == here ? '#' : trapCells.Contains(cell) ? 't' : interruptCells.Contains(cell) ? '!' : '-';
            Assert.True(expected == bar[cell], $"cell {cell}: '{bar[cell]}', expected '{expected}' in\n{bar}");
        }
        Assert.Equal("i input (0)  t trap (20)  ! interrupt (4)  B breakpoint hit (0)", text.Split('\n')[2]);
        Assert.Equal($"step 100 / {s.End}", text.Split('\n')[0]);
    }

    /// <summary>
    /// With the trace's sidecar the session's traps come from its trap records (complete at once,
    /// no replay): the bar, its legend and every trap and interrupt jump are those of a replay's.
    /// </summary>
    [Fact]
    public void From_the_trace_sidecar_the_bar_and_the_jumps_are_those_of_a_replay()
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-tui-traps-").FullName;
        try
        {
            string path = Path.Combine(dir, "traps.rvtrace");
            File.WriteAllBytes(path, TrapsBytes.Value);
            var trace = TraceReader.ReadFile(path);
            var identity = Replay.TraceIndex.TraceIdentity.OfFile(path);
            string sidecar = Replay.TraceIndex.TraceIndexFormat.SidecarPath(path);
            using (var output = File.Create(sidecar))
                Replay.TraceIndex.TraceIndexBuilder.Build(trace, identity, output, new Replay.TraceIndex.TraceIndexOptions { Every = 1 });
            using var index = Replay.TraceIndex.TraceIndexFile.Open(sidecar, trace, identity);
            var scanned = IndexedTrapsSession();
            var indexed = new DebugSession(new Timeline(trace, new TimelineOptions { CheckpointInterval = 4096, Index = index }));
            Assert.Equal(TimelineIndexState.Complete, indexed.StartIndex()!.State);
            foreach (string verb in new[] { "next-trap", "next-irq", "prev-trap", "prev-irq" })
            {
                for (int jump = 0; jump < 40; jump++)
                {
                    foreach (int width in new[] { 10, 61, 150 }) Assert.Equal(PaneText.Timeline(scanned, width), PaneText.Timeline(indexed, width));
                    var expected = scanned.Execute(verb);
                    Assert.Equal(expected, indexed.Execute(verb));
                    Assert.Equal(scanned.Position, indexed.Position);
                    if (expected.IsError) break;
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_running_index_says_how_far_it_has_got_and_without_one_only_inputs_are_marked()
    {
        var plain = new DebugSession(new Timeline(Traps.Value));
        string text = PaneText.Timeline(plain, 40);
        Assert.DoesNotContain('t', Bar(text));
        Assert.Equal("i input (0)  B breakpoint hit (0)", text.Split('\n')[2]);

        var scanning = new DebugSession(new Timeline(Traps.Value));
        var index = scanning.StartIndex(new TimelineIndexOptions { ChunkSteps = 1 })!; // slow on purpose
        string first = PaneText.Timeline(scanning, 40).Split('\n')[0];
        index.Cancel();
        await index.Completion;
        Assert.True(first.StartsWith($"step 0 / {scanning.End}  (finding traps: ", StringComparison.Ordinal) || index.State == TimelineIndexState.Complete, first);
        Assert.Equal($"step 0 / {scanning.End}  (trap search stopped)", PaneText.Timeline(scanning, 40).Split('\n')[0]);
    }

    [Fact]
    public void Breakpoint_hits_are_remembered_and_marked()
    {
        var s = Recordings.DemoSession();
        s.Execute("b copy_name");
        s.Execute("c");
        ulong hit = s.Position;
        Assert.Equal([hit], s.BreakpointHits);
        s.Execute("goto 0");
        const int width = 60;
        string text = PaneText.Timeline(s, width);
        Assert.Equal('B', Bar(text)[PaneText.TimelineCell(hit, width, s.End)]);
        Assert.Equal('#', Bar(text)[0]);
        Assert.EndsWith("B breakpoint hit (1)", text);
        foreach (ulong input in s.Timeline.InputEventSteps)
            Assert.Contains(Bar(text)[PaneText.TimelineCell(input, width, s.End)], "iB#");
    }

    [Fact]
    public void Column_to_step_is_the_inverse_of_step_to_column()
    {
        foreach (int width in new[] { 10, 11, 37, 80, 150, 299 })
        foreach (ulong end in new ulong[] { 1, 9, 10, 31_069, 1_000_000_007, 1_200_000_000, 10_000_000_000_000 })
        {
            Assert.Equal(0UL, PaneText.TimelineStepAt(0, width, end));
            Assert.Equal(end, PaneText.TimelineStepAt(width - 1, width, end));
            for (int cell = 0; cell < width; cell++)
            {
                ulong step = PaneText.TimelineStepAt(cell, width, end);
                Assert.InRange(step, 0UL, end);
                // With fewer steps than cells some cells show no step: a click there goes to the next one that does.
                if (end >= (ulong)(width - 1)) Assert.Equal(cell, PaneText.TimelineCell(step, width, end));
                else Assert.True(PaneText.TimelineCell(step, width, end) >= cell);
                // It is the first step of its cell: the step before lies in an earlier one.
                if (step > 0) Assert.True(PaneText.TimelineCell(step - 1, width, end) < cell);
            }
        }
    }

    [Fact]
    public void Next_and_prev_trap_go_to_steps_where_the_hart_really_traps()
    {
        var s = IndexedTrapsSession();
        var r = s.Execute("next-trap");
        Assert.False(r.IsError, r.Text);
        Assert.StartsWith("ecall from M (Machine -> Machine, saved pc 0x", r.Text);
        ulong first = s.Position;
        ulong pc = s.Hart.Pc;
        ulong exceptions = s.Hart.ExceptionsTaken;
        s.Execute("si");
        Assert.Equal(exceptions + 1, s.Hart.ExceptionsTaken); // the step at the mark is the trapping one
        Assert.Equal(pc, s.Hart.ReadCsr(0x341)); // mepc
        Assert.Equal(11UL, s.Hart.ReadCsr(0x342)); // mcause: ecall from M

        Assert.False(s.Execute("next-trap").IsError);
        ulong second = s.Position;
        Assert.True(second > first);
        Assert.False(s.Execute("prev-trap").IsError);
        Assert.Equal(first, s.Position);
        Assert.True(s.Execute("prev-trap").IsError);
        Assert.Equal($"no trap before step {first}", s.Execute("prev-trap").Text);
    }

    [Fact]
    public void Next_and_prev_irq_go_to_the_steps_interrupts_are_taken_before()
    {
        var s = IndexedTrapsSession();
        var r = s.Execute("next-irq");
        Assert.False(r.IsError, r.Text);
        Assert.StartsWith("software interrupt (M)", r.Text);
        ulong at = s.Position, pc = s.Hart.Pc;
        s.Execute("si");
        Assert.Equal(0x8000_0000_0000_0003UL, s.Hart.ReadCsr(0x342)); // taken before this step: MSI
        Assert.Equal(pc, s.Hart.ReadCsr(0x341));
        var timer = s.Execute("next-irq");
        Assert.StartsWith("timer interrupt (M)", timer.Text);
        Assert.True(s.Position > at);
        var back = s.Execute("prev-irq");
        Assert.StartsWith("software interrupt (M)", back.Text);
        Assert.Equal(at, s.Position);
        s.Execute($"goto {s.End}");
        Assert.Equal($"no interrupt after step {s.End}", s.Execute("next-irq").Text);
        Assert.StartsWith("unexpected argument", s.Execute("next-irq 3").Text);
    }

    [Fact]
    public async Task Without_an_index_the_jump_commands_say_so()
    {
        var s = Recordings.DemoSession();
        var r = s.Execute("next-trap");
        Assert.True(r.IsError);
        Assert.Equal("next-trap: traps are not indexed in this session (only recordings are)", r.Text);
        await s.StartIndex()!.Completion;
        Assert.Equal("no trap after step 0", s.Execute("next-trap").Text); // the demo guest never traps
        Assert.Contains("next-trap", s.Execute("help").Text);
    }
}

/// <summary>The background index build's progress beside the timeline: share, steps per second and time left.</summary>
public sealed class IndexingProgressTextTests
{
    [Theory]
    [InlineData(0.37, 212_345_678.0, 12.4, "  (indexing: 37%, 212.3 M steps/s, about 12 s left)")]
    [InlineData(0.5, 9_870.0, 300.0, "  (indexing: 50%, 9.9 k steps/s, about 5 min left)")]
    [InlineData(0.99, 1_500_000_000.0, 0.2, "  (indexing: 99%, 1.5 G steps/s, about 1 s left)")]
    public void Shows_the_pace_and_the_time_left(double progress, double rate, double secondsLeft, string expected) =>
        Assert.Equal(expected, Panes.PaneText.Indexing(progress, (rate, TimeSpan.FromSeconds(secondsLeft))));

    [Fact]
    public void Before_any_pace_is_measured_only_the_share() =>
        Assert.Equal("  (indexing: 0%)", Panes.PaneText.Indexing(0, null));
}
