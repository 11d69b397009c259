using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Replay.Diff;
using ReplayVm.Replay.Timeline;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.Diff;

public class TimelinePairProperties
{
    private static TimelinePair Pair(TraceFile a, TraceFile b, ulong interval) =>
        new(new ReplayTimeline(a, new TimelineOptions { CheckpointInterval = interval }), new ReplayTimeline(b, new TimelineOptions { CheckpointInterval = interval }));

    /// <summary>
    /// For random pairs of demo input schedules — one line with a character changed, or typed up
    /// to 3,000 steps late, or nothing changed — the pair's first divergence is the step
    /// <c>replayvm diff</c> (<see cref="TraceDiff"/>) reports, and none when diff finds the states equal.
    /// </summary>
    [Property(MaxTest = 6)]
    public Property The_first_divergence_is_diffs_step_for_random_schedules() =>
        Prop.ForAll(Gen.Choose(0, DemoPairs.Session.Length - 2).ToArbitrary(), Gen.Choose(0, 2).ToArbitrary(),
            (from delay in Gen.Choose(1, 3000) from letter in Gen.Choose('a', 'z') select (delay, letter)).ToArbitrary(), (line, kind, change) =>
            {
                var (delay, letter) = change;
                var lines = DemoPairs.Session.ToArray();
                string changed = lines[line];
                if (kind == 0) lines[line] = changed[..^1] + (char)letter;
                var a = DemoPairs.Record(DemoPairs.Session);
                var b = DemoPairs.Record(lines, kind == 1 ? i => i == line ? (ulong)delay : 0 : null);
                var diff = TraceDiff.Compare(a, b);
                var first = Pair(a, b, 4096).First();
                if (diff.Outcome == TraceDiffOutcome.StateDiffers) Assert.Equal(diff.Step, first.Step);
                else Assert.Null(first.Step);
            });

    /// <summary>
    /// For random pairs of keys typed into the echo guest at random steps, with random checkpoint
    /// intervals, the divergences and re-joins the pair finds are exactly the steps at which a
    /// step-by-step comparison of the whole states changes its verdict.
    /// </summary>
    [Property(MaxTest = 10)]
    public Property Every_divergence_and_join_is_found_for_random_echo_pairs() =>
        Prop.ForAll(Gen.Choose(20, 1_500).ToArbitrary(), Gen.Choose(0, 600).ToArbitrary(),
            (from key in Gen.Elements((byte)'a', (byte)'b', (byte)'t') from interval in Gen.Elements(64UL, 1000UL, 4096UL) select (key, interval)).ToArbitrary(),
            (step, lag, more) =>
            {
                var (key, interval) = more;
                var a = DiffFixtures.Record(key, (ulong)step, 3_000, interval: 500, setup: DiffFixtures.SmallEcho);
                var b = DiffFixtures.Record((byte)'a', (ulong)(step + lag), 3_000 - (ulong)lag, interval: 500, setup: DiffFixtures.SmallEcho);
                var pair = Pair(a, b, interval);
                var truth = BruteForceScan.StateTransitions(a, b, pair.Limit);
                var found = new List<ulong>();
                for (var answer = pair.First(); answer.Step is { } s; answer = pair.Next(s)) found.Add(s);
                Assert.Equal(truth.Where((_, i) => i % 2 == 0), found);
                Assert.Equal(truth.Where((_, i) => i % 2 == 1), pair.KnownJoins);
            });
}
