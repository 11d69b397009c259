using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core.Hart;
using ReplayVm.Replay.Input;
using ReplayVm.Replay.Tests.TraceIndex;
using ReplayVm.Replay.Timeline;
using ReplayVm.Replay.TraceIndex;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.Timeline;

/// <summary>
/// A breakpoint at an instruction in front of which a timer interrupt is taken is not hit there
/// (the handler's first instruction runs at that step instead), and one at the handler is: the
/// same wherever checkpoints, index snapshots and scan windows begin, and the same as a run
/// stepping one instruction at a time says.
/// </summary>
public sealed class InterruptedBreakpointTests
{
    /// <summary>The timer guest run one step at a time: the pc each step shows before it and the pc it executes.</summary>
    private sealed record Reference(TraceFile Trace, ulong[] Shown, ulong[] Executed, ulong[] InterruptSteps, ulong[] LoopPcs)
    {
        /// <summary>The last step before <paramref name="position"/> executing a breakpoint.</summary>
        public ulong? LastHitBefore(ulong position, ulong[] breakpoints)
        {
            for (ulong s = position; s-- > 0;)
                if (breakpoints.Contains(Executed[s])) return s;
            return null;
        }

        /// <summary>The first step at or after <paramref name="position"/> executing a breakpoint, but for
        /// one at the pc the position shows there (a continue steps over the breakpoint it stands on).</summary>
        public ulong? FirstHitFrom(ulong position, ulong shownPc, ulong[] breakpoints)
        {
            for (ulong s = position; s < (ulong)Executed.Length; s++)
                if (breakpoints.Contains(Executed[s]) && !(s == position && Executed[s] == shownPc)) return s;
            return null;
        }
    }

    private const ulong Steps = 40_000;

    private static readonly Lazy<RoundTrip.Recording> Recording = new(() =>
        RoundTrip.Record(TestGuests.Timer, new ScriptedInputPort([]), interval: 3_000, maxSteps: Steps));

    private static readonly Lazy<Reference> Stepped = new(() =>
    {
        var trace = TraceReader.Read(Recording.Value.Trace);
        var machine = trace.Header.Setup.Build(new ScriptedInputPort([]), _ => { });
        var hart = machine.Hart;
        var observer = new InterruptPcs(hart);
        hart.TrapObserver = observer;
        var shown = new ulong[Steps];
        var executed = new ulong[Steps];
        for (ulong s = 0; s < Steps; s++)
        {
            Assert.Equal(s, hart.Steps);
            shown[s] = hart.Pc;
            machine.Run(1);
            executed[s] = observer.Taken.TryGetValue(s, out ulong vector) ? vector : shown[s];
        }
        var elf = Core.Loading.ElfImage.Parse(TestGuests.TimerImage);
        ulong loop = elf.FindSymbol("loop")!.Value, handler = elf.FindSymbol("handler")!.Value;
        ulong[] loopPcs = [.. executed.Where(pc => pc >= loop && pc < handler).Distinct().Order()];
        // The guest does what this test needs: interrupts taken in front of every loop instruction.
        Assert.True(observer.Taken.Count > 20);
        Assert.All(observer.Taken.Values, pc => Assert.Equal(handler, pc));
        Assert.Equal(6, loopPcs.Length);
        Assert.All(loopPcs, pc => Assert.Contains(observer.Taken.Keys, s => shown[s] == pc));
        return new Reference(trace, shown, executed, [.. observer.Taken.Keys.Where(s => s > 0).Order()], loopPcs);
    });

    /// <summary>The timer recording with a sidecar whose snapshots (every 500 steps) fall on interrupt steps too (they come every 100).</summary>
    private static readonly Lazy<IndexedRecording> Indexed = new(() =>
        IndexedRecording.Make("timer", Recording.Value, new TraceIndexOptions { Every = 500 }));

    private sealed class InterruptPcs(Hart hart) : ITrapObserver
    {
        public readonly Dictionary<ulong, ulong> Taken = [];

        public void TrapTaken(in TrapEntry entry)
        {
            if (entry.Interrupt) Taken[entry.Step] = hart.Pc; // the vector: the trap has been entered
        }

        public void TrapReturned(in TrapReturn trapReturn) { }
    }

    /// <summary>An interrupt step, which of the interrupted pc / the handler / another loop pc are breakpoints,
    /// where reverse-continue and continue start near it, where checkpoints are added, and how the timeline is set up.</summary>
    public sealed record Case(int Interrupt, int BreakpointMask, int OtherLoopPc, int Behind, int Ahead, int[] CheckpointOffsets,
        bool CheckpointAtInterrupt, ulong Interval, bool WithIndex, int Jobs);

    public static class Cases
    {
        public static Arbitrary<Case> Arb() =>
            (from interrupt in Gen.Choose(0, 10_000)
             from mask in Gen.Choose(1, 7)
             from other in Gen.Choose(0, 5)
             from behind in Gen.Choose(0, 40)
             from ahead in Gen.Choose(1, 40)
             from count in Gen.Choose(0, 4)
             from offsets in Gen.ArrayOf(Gen.Choose(-60, 60), count)
             from atInterrupt in Gen.Elements(true, false)
             from interval in Gen.Elements(1UL << 40, 97UL, 100UL, 1_000UL, 2_600UL)
             from withIndex in Gen.Elements(false, false, true)
             from jobs in Gen.Choose(1, 3)
             select new Case(interrupt, mask, other, behind, ahead, offsets, atInterrupt, interval, withIndex, jobs)).ToArbitrary();
    }

    [Property(Arbitrary = [typeof(Cases)], MaxTest = 60)]
    public void Hits_at_interrupted_steps_do_not_depend_on_checkpoints(Case c)
    {
        var reference = Stepped.Value;
        ulong interrupt = reference.InterruptSteps[c.Interrupt % reference.InterruptSteps.Length];
        var breakpoints = new List<ulong>();
        if ((c.BreakpointMask & 1) != 0) breakpoints.Add(reference.Shown[interrupt]); // interrupted: not hit at that step
        if ((c.BreakpointMask & 2) != 0) breakpoints.Add(reference.Executed[interrupt]); // the handler: hit
        if ((c.BreakpointMask & 4) != 0) breakpoints.Add(reference.LoopPcs[c.OtherLoopPc]);
        ulong[] bps = [.. breakpoints.Distinct()];

        using var index = c.WithIndex ? Indexed.Value.Open() : null;
        var timeline = new TimelineEngine(c.WithIndex ? Indexed.Value.Trace : reference.Trace,
            new TimelineOptions { CheckpointInterval = c.Interval, Index = index, ScanJobs = c.Jobs });
        var checkpoints = c.CheckpointOffsets.Select(o => (ulong)Math.Max(1, (long)interrupt + o)).ToList();
        if (c.CheckpointAtInterrupt) checkpoints.Add(interrupt);
        foreach (ulong step in checkpoints.Order())
        {
            timeline.Seek(step);
            timeline.AddCheckpoint();
        }

        // Reverse-continue from just after the interrupt, then continue from the hit found.
        ulong origin = Math.Min(interrupt + (ulong)c.Ahead, Steps);
        timeline.Seek(origin);
        Assert.Equal(origin, timeline.Position);
        var back = timeline.ReverseContinue(bps, null);
        ulong? last = reference.LastHitBefore(origin, bps);
        if (last is { } hit)
        {
            Assert.Equal(TimelineStopKind.Breakpoint, back.Kind);
            Assert.Equal(hit, back.Step);
            Assert.Equal(reference.Executed[hit], back.Hit!.Value.Pc);
            // The hart stands where a forward run stopped at it: at the breakpoint, the interrupt taken.
            Assert.Equal(reference.Executed[hit], timeline.Machine.Hart.Pc);
            Assert.Equal(hit, timeline.Position);
            var on = timeline.Continue(bps, null);
            AssertContinued(reference, on, reference.FirstHitFrom(hit, reference.Executed[hit], bps), timeline);
        }
        else
        {
            Assert.Equal(TimelineStopKind.Start, back.Kind);
        }

        // Continue from a position shortly before (or at) the interrupt, the interrupt not yet taken.
        ulong from = interrupt - (ulong)Math.Min(c.Behind, (long)interrupt);
        timeline.Seek(from);
        Assert.Equal(reference.Shown[from], timeline.Machine.Hart.Pc);
        var ahead = timeline.Continue(bps, null);
        AssertContinued(reference, ahead, reference.FirstHitFrom(from, reference.Shown[from], bps), timeline);
    }

    private static void AssertContinued(Reference reference, TimelineStop stop, ulong? expected, TimelineEngine timeline)
    {
        if (expected is not { } hit)
        {
            Assert.Equal(TimelineStopKind.End, stop.Kind);
            return;
        }
        Assert.Equal(TimelineStopKind.Breakpoint, stop.Kind);
        Assert.Equal(hit, stop.Step);
        Assert.Equal(reference.Executed[hit], stop.Hit!.Value.Pc);
        Assert.Equal(reference.Executed[hit], timeline.Machine.Hart.Pc);
    }
}
