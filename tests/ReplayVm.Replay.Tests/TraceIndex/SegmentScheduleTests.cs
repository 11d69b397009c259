using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Replay.TraceIndex;

namespace ReplayVm.Replay.Tests.TraceIndex;

/// <summary>
/// The schedule of <c>replay --jobs</c>: one piece per worker to start with, then the second half of
/// the piece with the most left taken over by a worker with nothing to do, never a step a worker may
/// already be running, and nothing after a segment that stopped the replay.
/// </summary>
public sealed class SegmentScheduleTests
{
    private static readonly ulong[] Tens = [10, 20, 30, 40, 50, 60, 70, 80, 90];

    private static List<(ulong Start, ulong End)> Chain(SegmentSchedule schedule)
    {
        var list = new List<(ulong, ulong)>();
        for (var s = schedule.First; s is not null; s = s.Next) list.Add((s.Start, s.End));
        return list;
    }

    /// <summary>Advances <paramref name="segment"/> from <paramref name="at"/> to its end, one cut at a time; returns where it stopped.</summary>
    private static ulong RunOut(SegmentSchedule schedule, Segment segment, ulong at)
    {
        while (schedule.Advance(segment, at, false, out _) is { } target) at = target;
        return at;
    }

    [Fact]
    public void Each_worker_starts_with_a_piece_cut_at_the_snapshot_nearest_an_equal_share()
    {
        var schedule = new SegmentSchedule(Tens, 100, 3, 0);
        Assert.Equal([(0UL, 30UL), (30UL, 70UL), (70UL, 100UL)], Chain(schedule));
        Assert.Equal(-1, schedule.First.StartCut);
        Assert.Equal(2, schedule.First.EndCut); // the cut at 30
        Assert.Equal(-1, schedule.First.Next!.Next!.EndCut);
        // Without snapshots there is one piece, whatever the workers.
        Assert.Equal([(0UL, 100UL)], Chain(new SegmentSchedule([], 100, 4, 0)));
    }

    [Fact]
    public void A_worker_that_finishes_first_takes_the_second_half_of_what_the_other_has_not_yet_been_allowed_to_run()
    {
        var schedule = new SegmentSchedule(Tens, 100, 2, 0);
        var a = schedule.Take()!;
        var b = schedule.Take()!;
        Assert.Equal((0UL, 50UL), (a.Start, a.End));
        Assert.Equal(10UL, schedule.Advance(a, 0, false, out _)); // a may run to 10
        Assert.Equal(100UL, RunOut(schedule, b, 50));
        var taken = schedule.Take()!;
        Assert.Equal((30UL, 50UL), (taken.Start, taken.End)); // [10, 50) halved at its middle
        Assert.Equal(2, taken.StartCut);
        Assert.Equal(30UL, RunOut(schedule, a, 10));
        Assert.Equal([(0UL, 30UL), (30UL, 50UL), (50UL, 100UL)], Chain(schedule));
        Assert.Equal(50UL, RunOut(schedule, taken, 30));
        Assert.Null(schedule.Take());
    }

    [Fact]
    public void Nothing_is_taken_that_its_worker_may_already_be_running_or_that_is_too_short()
    {
        var schedule = new SegmentSchedule(Tens, 100, 2, 0);
        var a = schedule.Take()!;
        var b = schedule.Take()!;
        Assert.Equal(40UL, schedule.Advance(a, 30, false, out _)); // a may run to 40: no cut left in (40, 50)
        RunOut(schedule, b, 50);
        Assert.Null(schedule.Take());

        var costly = new SegmentSchedule(Tens, 100, 2, 30);
        var c = costly.Take()!;
        var d = costly.Take()!;
        RunOut(costly, d, 50);
        Assert.Equal(10UL, costly.Advance(c, 0, false, out _));
        Assert.Null(costly.Take()); // 40 steps left, under twice the cost of taking over (30)
    }

    [Fact]
    public void The_taker_gets_less_than_half_by_what_taking_over_costs_it()
    {
        var schedule = new SegmentSchedule(Tens, 100, 2, 20);
        var a = schedule.Take()!;
        var b = schedule.Take()!;
        Assert.Equal(10UL, schedule.Advance(a, 0, false, out _));
        RunOut(schedule, b, 50);
        var taken = schedule.Take()!;
        Assert.Equal((40UL, 50UL), (taken.Start, taken.End)); // 40 left: a runs 30 while the taker restores (20) and runs 10
    }

    /// <summary>
    /// Measured, the cost of taking over is the last restore's time at the workers' rate: the fixed
    /// cost (30 steps) holds until a restore and some running are reported, then 0.05 s of restore at
    /// 100 steps/s (5 steps) makes the 40 steps the other worker has left worth sharing.
    /// </summary>
    [Fact]
    public void A_measured_take_over_cost_is_the_last_restore_time_at_the_workers_rate()
    {
        var schedule = new SegmentSchedule(Tens, 100, 2, 30, measureTakeOver: true);
        var a = schedule.Take()!;
        var b = schedule.Take()!;
        RunOut(schedule, b, 50);
        Assert.Equal(10UL, schedule.Advance(a, 0, false, out _));
        Assert.Equal(30UL, schedule.TakeOverCost);
        schedule.NoteRestore(0.05);
        Assert.Equal(30UL, schedule.TakeOverCost); // no rate yet
        Assert.Null(schedule.Take());
        schedule.NoteRun(60, 0.5);
        schedule.NoteRun(40, 0.5);
        Assert.Equal(5UL, schedule.TakeOverCost);
        var taken = schedule.Take()!;
        Assert.Equal((30UL, 50UL), (taken.Start, taken.End)); // 40 left: the taker gets (40 - 5) / 2, from the cut nearest 33
        // Not measured, the notes change nothing.
        var fixedCost = new SegmentSchedule(Tens, 100, 2, 30);
        fixedCost.NoteRestore(0.1);
        fixedCost.NoteRun(100, 1);
        Assert.Equal(30UL, fixedCost.TakeOverCost);
    }

    [Fact]
    public void After_a_segment_stops_the_replay_nothing_after_it_is_taken_or_run_further()
    {
        var schedule = new SegmentSchedule(Tens, 100, 3, 0);
        var first = schedule.Take()!;
        var middle = schedule.Take()!;
        var last = schedule.Take()!;
        Assert.Equal(10UL, schedule.Advance(first, 0, false, out _));
        schedule.Stop(middle);
        // Not from the last piece (it starts after the stop), though it has the most left: the second half of the first's.
        var taken = schedule.Take()!;
        Assert.Equal((20UL, 30UL), (taken.Start, taken.End));
        Assert.Null(schedule.Take());
        Assert.Null(schedule.Advance(last, 70, false, out bool finished));
        Assert.False(finished);
        schedule.Abandon();
        Assert.Null(schedule.Advance(first, 10, false, out finished));
        Assert.False(finished);
        Assert.Null(schedule.Take());
    }

    public static class Runs
    {
        /// <summary>Cuts (ascending, within the end), the end, workers, what taking over costs, and the order the workers act in.</summary>
        public static Arbitrary<(ulong[] Cuts, ulong End, int Workers, ulong TakeOver, int[] Order)> Arb() =>
            (from end in Gen.Choose(2, 400)
             from cuts in Gen.ArrayOf(Gen.Choose(1, end - 1))
             from workers in Gen.Choose(1, 5)
             from takeOver in Gen.Choose(0, 40)
             from order in Gen.ArrayOf(Gen.Choose(0, 4))
             select (cuts.Distinct().Order().Select(c => (ulong)c).ToArray(), (ulong)end, workers, (ulong)takeOver, order)).ToArbitrary();
    }

    /// <summary>
    /// Workers acting in any order, each running its segment forward only as far as the schedule lets
    /// it and taking more when done: every segment is run from its start to its end by exactly one
    /// worker, never past it, and the segments tile the steps from 0 to the end, each starting at a cut.
    /// </summary>
    [Property(Arbitrary = [typeof(Runs)], MaxTest = 300)]
    public void Workers_in_any_order_run_every_step_once((ulong[] Cuts, ulong End, int Workers, ulong TakeOver, int[] Order) c)
    {
        var schedule = new SegmentSchedule(c.Cuts, c.End, c.Workers, c.TakeOver);
        var current = new Segment?[c.Workers];
        var at = new ulong[c.Workers];
        var retired = new bool[c.Workers];
        var ran = new List<(ulong Start, ulong End)>();
        int turn = 0;
        while (retired.Contains(false))
        {
            int w = turn < c.Order.Length ? c.Order[turn] % c.Workers : turn % c.Workers;
            turn++;
            if (retired[w]) continue;
            if (current[w] is not { } segment)
            {
                current[w] = schedule.Take();
                if (current[w] is { } s) at[w] = s.Start;
                else retired[w] = true;
                continue;
            }
            if (schedule.Advance(segment, at[w], false, out bool finished) is { } target)
            {
                Assert.True(target > at[w] && target <= segment.End, $"ran from {at[w]} to {target} in [{segment.Start}, {segment.End})");
                at[w] = target;
            }
            else
            {
                Assert.True(finished);
                Assert.Equal(segment.End, at[w]);
                ran.Add((segment.Start, segment.End));
                current[w] = null;
            }
        }
        var chain = Chain(schedule);
        Assert.Equal(chain.Order(), ran.Order());
        Assert.Equal(0UL, chain[0].Start);
        Assert.Equal(c.End, chain[^1].End);
        for (int i = 1; i < chain.Count; i++)
        {
            Assert.Equal(chain[i - 1].End, chain[i].Start);
            Assert.Contains(chain[i].Start, c.Cuts);
        }
    }
}
