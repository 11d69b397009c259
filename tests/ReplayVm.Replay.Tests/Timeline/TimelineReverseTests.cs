using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core;
using ReplayVm.Core.Hart;
using ReplayVm.Replay.Timeline;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.Timeline;

/// <summary>
/// Reverse execution against brute force: reverse-continue must find exactly the hit a forward
/// scan finds last, and the last-write query exactly the last store a single-step scan sees.
/// </summary>
public sealed class TimelineReverseTests
{
    private static readonly TimelineOptions Small = new() { CheckpointInterval = 1UL << 16 };

    private static readonly string[] Functions = ["memcpy", "memset", "quicksort.constprop.0", "stdio_put", "printf"];

    public static class Cases
    {
        public static Arbitrary<(ulong Position, string Function)> Breakpoints()
        {
            ulong end = TimelineRecordings.Bench.Value.End!.Step;
            return (from p in Gen.Choose(0, (int)end)
                    from f in Gen.Elements(Functions)
                    select ((ulong)p, f)).ToArbitrary();
        }

        /// <summary>A position early in bench and a few bytes of its stack or of buffer_a.</summary>
        public static Arbitrary<(ulong Position, ulong Address, ulong Length)> Writes()
        {
            ulong stackTop = TimelineRecordings.Symbol("bench", "__stack_top"), buffer = TimelineRecordings.Symbol("bench", "buffer_a");
            return (from p in Gen.Choose(1, 400_000)
                    from onStack in Gen.Elements(true, false)
                    from offset in Gen.Choose(0, 511)
                    from length in Gen.Choose(1, 8)
                    select ((ulong)p, onStack ? stackTop - 512 + (ulong)offset : buffer + (ulong)offset * 8, (ulong)length)).ToArbitrary();
        }
    }

    /// <summary>
    /// The positions (step counts) at which the hart is about to run one of <paramref name="pcs"/>,
    /// before <paramref name="until"/>: a plain replay single-stepped one instruction at a time, the
    /// pc read before each step. No breakpoint or watch machinery (the hart's, the timeline's) is
    /// involved, so the reference does not share code with what it checks.
    /// </summary>
    private static Dictionary<ulong, List<ulong>> PcVisitsBySingleStepping(TraceFile trace, IReadOnlyCollection<ulong> pcs, ulong until)
    {
        var machine = new Replayer(trace, _ => { }).Machine;
        var hart = machine.Hart;
        var visits = pcs.Distinct().ToDictionary(pc => pc, _ => new List<ulong>());
        while (hart.Steps < until)
        {
            if (visits.TryGetValue(hart.Pc, out var list)) list.Add(hart.Steps);
            ulong before = hart.Steps;
            var run = machine.Run(1);
            Assert.True(hart.Steps == before + 1, $"a single step from {before} went to {hart.Steps} ({run.Reason})");
            if (run.Reason == StopReason.GuestExit) break;
        }
        return visits;
    }

    /// <summary>Every visit of bench's <see cref="Functions"/> over its whole recording, scanned once per test run.</summary>
    private static readonly Lazy<Dictionary<ulong, List<ulong>>> BenchVisits = new(() =>
        PcVisitsBySingleStepping(TimelineRecordings.Bench.Value, Functions.Select(f => TimelineRecordings.Symbol("bench", f)).ToList(),
            TimelineRecordings.Bench.Value.End!.Step));

    /// <summary>The last visit of <paramref name="pc"/> at a position before <paramref name="before"/>, or null.</summary>
    private static ulong? LastVisitBefore(List<ulong> visits, ulong before)
    {
        int i = visits.BinarySearch(before);
        int count = i >= 0 ? i : ~i; // visits strictly before `before`
        return count == 0 ? null : visits[count - 1];
    }

    [Fact]
    public void The_reference_scan_sees_every_bench_function_run()
    {
        // The copying and sorting parts run in bench's first 12 M steps (its output comes later); a
        // scan that saw nothing would make every reverse-continue case expect "no hit" and pass for
        // a timeline that never stops.
        foreach (var f in new[] { "memcpy", "memset", "quicksort.constprop.0" })
            Assert.True(BenchVisits.Value[TimelineRecordings.Symbol("bench", f)].Count > 0, $"{f} never ran");
    }

    [Property(Arbitrary = [typeof(Cases)], MaxTest = 12)]
    public void Reverse_continue_finds_the_hit_a_forward_scan_finds_last((ulong Position, string Function) c)
    {
        var trace = TimelineRecordings.Bench.Value;
        ulong pc = TimelineRecordings.Symbol("bench", c.Function);
        ulong? expected = LastVisitBefore(BenchVisits.Value[pc], c.Position);

        var timeline = new TimelineEngine(trace, Small);
        timeline.Seek(c.Position);
        var stop = timeline.ReverseContinue([pc], null);
        if (expected is null)
        {
            Assert.Equal(TimelineStopKind.Start, stop.Kind);
            Assert.Equal(0UL, timeline.Position);
            return;
        }
        Assert.Equal(TimelineStopKind.Breakpoint, stop.Kind);
        Assert.Equal(expected, stop.Step);
        Assert.Equal(expected, timeline.Position);
        Assert.Equal(pc, timeline.Machine.Hart.Pc);

        // Continuing forward from there reaches the next hit at or after the starting position, never one in between.
        var next = timeline.Continue([pc], null);
        Assert.True(next.Step >= c.Position, $"forward continue stopped at {next.Step}, before {c.Position}");
    }

    [Property(Arbitrary = [typeof(Cases)], MaxTest = 6)]
    public void Last_write_before_matches_a_single_step_scan((ulong Position, ulong Address, ulong Length) c)
    {
        var trace = TimelineRecordings.Bench.Value;
        var machine = new Replayer(trace, _ => { }).Machine;
        machine.Hart.SetWatchpoints([new WatchRange(c.Address, c.Length, OnRead: false, OnWrite: true)]);
        ulong? expected = null;
        while (machine.Hart.Steps < c.Position)
        {
            ulong step = machine.Hart.Steps;
            if (machine.Run(1).Reason == StopReason.DebugStop)
            {
                var stop = machine.TakeDebugStop()!.Value;
                Assert.Equal(step, stop.Step);
                expected = step;
            }
        }

        var timeline = new TimelineEngine(trace, Small);
        timeline.Seek(c.Position);
        var here = timeline.ComputeHash();
        Assert.Equal(expected, timeline.LastWriteBefore(c.Address, c.Length));
        Assert.Equal(c.Position, timeline.Position);
        Assert.Equal(here, timeline.ComputeHash());

        // A write watchpoint run backwards stops right before that store (the first one undone).
        var back = timeline.ReverseContinue(null, [new WatchRange(c.Address, c.Length, OnRead: false, OnWrite: true)]);
        if (expected is null)
        {
            Assert.Equal(TimelineStopKind.Start, back.Kind);
            return;
        }
        Assert.Equal(TimelineStopKind.Watchpoint, back.Kind);
        Assert.Equal(expected, back.Hit!.Value.Step);
        Assert.Equal(expected, back.Step);
        Assert.Equal(expected, timeline.Position);
        Assert.Equal(AccessType.Store, back.Hit.Value.Access);
    }

    [Fact]
    public void Step_over_a_call_returns_to_the_next_instruction_and_step_back_over_undoes_it()
    {
        var trace = TimelineRecordings.Bench.Value;
        var timeline = new TimelineEngine(trace, Small);
        ulong quicksort = TimelineRecordings.Symbol("bench", "quicksort.constprop.0");
        // Stop at quicksort's entry, step back onto the call that got there, and step over it.
        Assert.Equal(TimelineStopKind.Breakpoint, timeline.Continue([quicksort], null).Kind);
        timeline.StepBackward();
        var hart = timeline.Machine.Hart;
        ulong callAt = timeline.Position, callPc = hart.Pc, sp = hart.GetX(2);

        var over = timeline.StepOver();
        Assert.Equal(TimelineStopKind.Reached, over.Kind);
        Assert.True(timeline.Position > callAt + 10, "quicksort ran in between");
        Assert.InRange(hart.Pc, callPc + 2, callPc + 4);
        Assert.Equal(sp, hart.GetX(2));

        var backOver = timeline.StepBackOver();
        Assert.Equal(TimelineStopKind.Reached, backOver.Kind);
        Assert.Equal(callAt, timeline.Position);
        Assert.Equal(callPc, hart.Pc);

        // On an ordinary instruction, step over is a single step.
        timeline.Seek(1_000);
        timeline.StepOver();
        Assert.True(timeline.Position >= 1_001);
    }

    [Fact]
    public void Reverse_continue_over_the_demo_finds_the_last_console_write_before_each_input()
    {
        var trace = TimelineRecordings.Demo.Value;
        var timeline = new TimelineEngine(trace, new TimelineOptions { CheckpointInterval = 1UL << 15 });
        ulong putc = TimelineRecordings.Symbol("demo", "console_putc");
        var input = trace.Events.OfType<ConsoleInputEvent>().Skip(2).First();
        timeline.Seek(input.Step);
        var stop = timeline.ReverseContinue([putc], null);
        Assert.Equal(TimelineStopKind.Breakpoint, stop.Kind);
        ulong? expected = LastVisitBefore(PcVisitsBySingleStepping(trace, [putc], input.Step)[putc], input.Step);
        Assert.Equal(expected, stop.Step);
    }

    /// <summary>
    /// gdb on rr: after a forward continue stops on a write, reverse-continue finds that same write
    /// (stopping before it), a second one the write before it, and a forward continue from there the
    /// same write again; and reverse-continue from a breakpoint stop goes to the previous visit,
    /// never the one the position stands on. Checkpoints every 4 Ki steps put window edges between
    /// the hits, so the rule holds across windows too.
    /// </summary>
    [Fact]
    public void Reverse_continue_from_a_stop_finds_that_write_again_but_not_that_breakpoint()
    {
        var trace = TimelineRecordings.Bench.Value;
        ulong buffer = TimelineRecordings.Symbol("bench", "buffer_a");
        WatchRange[] watch = [new WatchRange(buffer, 8, OnRead: false, OnWrite: true)];
        var timeline = new TimelineEngine(trace, new TimelineOptions { CheckpointInterval = 1UL << 12 });

        var first = timeline.Continue(null, watch);
        var second = timeline.Continue(null, watch);
        Assert.Equal(TimelineStopKind.Watchpoint, second.Kind);
        ulong firstStore = first.Hit!.Value.Step, secondStore = second.Hit!.Value.Step;
        Assert.Equal(secondStore + 1, timeline.Position);
        Assert.True(firstStore < secondStore);

        var again = timeline.ReverseContinue(null, watch);
        Assert.Equal(TimelineStopKind.Watchpoint, again.Kind);
        Assert.Equal(secondStore, again.Hit!.Value.Step);
        Assert.Equal(secondStore, again.Step);
        Assert.Equal(secondStore, timeline.Position);
        Assert.Equal(second.Hit.Value.Pc, timeline.Machine.Hart.Pc); // the store is next to run

        var before = timeline.ReverseContinue(null, watch);
        Assert.Equal(firstStore, before.Hit!.Value.Step);
        Assert.Equal(firstStore, timeline.Position);
        var forward = timeline.Continue(null, watch);
        Assert.Equal(firstStore, forward.Hit!.Value.Step);
        Assert.Equal(firstStore + 1, timeline.Position);

        ulong memset = TimelineRecordings.Symbol("bench", "memset");
        timeline.Seek(0);
        var visit1 = timeline.Continue([memset], null);
        var visit2 = timeline.Continue([memset], null);
        Assert.Equal(TimelineStopKind.Breakpoint, visit2.Kind);
        var back = timeline.ReverseContinue([memset], null);
        Assert.Equal(TimelineStopKind.Breakpoint, back.Kind);
        Assert.Equal(visit1.Step, back.Step);
        Assert.Equal(TimelineStopKind.Start, timeline.ReverseContinue([memset], null).Kind);
    }

    [Fact]
    public void Cancelled_reverse_continue_says_so()
    {
        var timeline = new TimelineEngine(TimelineRecordings.Bench.Value, Small);
        timeline.Seek(5_000_000);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var stop = timeline.ReverseContinue([0xdead_0000UL], null, cancel.Token);
        Assert.Equal(TimelineStopKind.Cancelled, stop.Kind);
    }
}
