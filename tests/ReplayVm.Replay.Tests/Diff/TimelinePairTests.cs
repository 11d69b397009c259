using ReplayVm.Core;
using ReplayVm.Replay.Diff;
using ReplayVm.Replay.Timeline;
using Xunit.Abstractions;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.Diff;

/// <summary>
/// <see cref="TimelinePair"/>: divergences found by its chunked, skipping search are exactly those
/// a step-by-step scan of the whole runs finds, the first is <see cref="TraceDiff"/>'s step, and
/// next/previous walk them in order; <c>diverge</c> agrees with a scan of one value.
/// </summary>
public class TimelinePairTests(ITestOutputHelper output)
{
    internal static readonly Lazy<TraceFile> Base = new(() => DemoPairs.Record(DemoPairs.Session));
    /// <summary>"add bob" typed as "add bOb": the runs part when the guest reads the 'O', and never join again (the name stays in the table).</summary>
    internal static readonly Lazy<TraceFile> Word = new(() => DemoPairs.Record(DemoPairs.WithLine(2, "add bOb")));
    /// <summary>The second and fifth lines typed 420 steps late (a multiple of the wait loop's length): the runs part twice and join twice.</summary>
    internal static readonly Lazy<TraceFile> Late = new(() => DemoPairs.Record(DemoPairs.Session, i => i is 1 or 4 ? 420UL : 0));

    private static TimelinePair Pair(TraceFile a, TraceFile b) =>
        new(new ReplayTimeline(a, new TimelineOptions { CheckpointInterval = 4096 }), new ReplayTimeline(b, new TimelineOptions { CheckpointInterval = 4096 }));

    [Fact]
    public void The_first_divergence_is_the_step_diff_reports()
    {
        foreach (var other in new[] { Word.Value, Late.Value })
        {
            var pair = Pair(Base.Value, other);
            var first = pair.First();
            var diff = TraceDiff.Compare(Base.Value, other);
            output.WriteLine($"{first}; diff: {diff.Summary}");
            Assert.Equal(TraceDiffOutcome.StateDiffers, diff.Outcome);
            Assert.Equal(diff.Step, first.Step);
            Assert.Equal($"differ at step {diff.Step}", first.Message);
            // Both timelines stand on it, where the states differ and one step earlier did not.
            Assert.Equal(diff.Step, pair.A.Position);
            Assert.Equal(diff.Step, pair.B.Position);
            Assert.NotNull(pair.DifferencesNow());
            pair.A.StepBackward();
            pair.B.StepBackward();
            Assert.Null(pair.DifferencesNow());
        }
    }

    [Fact]
    public void Divergences_and_joins_are_those_a_step_by_step_scan_finds_and_next_and_previous_walk_them()
    {
        var pair = Pair(Base.Value, Late.Value);
        var brute = BruteForceScan.StateTransitions(Base.Value, Late.Value, pair.Limit);
        output.WriteLine($"step by step: {string.Join(", ", brute)} (to step {pair.Limit})");
        Assert.True(brute.Count >= 4, "the late lines should part the runs twice and join them twice");
        var expectedDivergences = brute.Where((_, i) => i % 2 == 0).ToList();

        var found = new List<ulong>();
        var answer = pair.First();
        while (answer.Step is { } step)
        {
            output.WriteLine(answer.ToString());
            found.Add(step);
            Assert.Equal(step, pair.A.Position);
            answer = pair.Next(step);
        }
        Assert.Equal(expectedDivergences, found);
        Assert.StartsWith($"no divergence after step {found[^1]}", answer.Message);
        // The scan went through the whole pair and met every join on the way.
        Assert.Equal(pair.Limit, pair.ScannedTo);
        Assert.Equal(brute.Where((_, i) => i % 2 == 1), pair.KnownJoins);
        Assert.Equal(brute, pair.KnownDivergences.Concat(pair.KnownJoins).Order());

        // Backwards from the end: the same divergences in reverse, answered from what the scan learnt.
        ulong here = pair.Limit;
        var back = new List<ulong>();
        while (pair.Previous(here) is { Step: { } previous } p)
        {
            Assert.Equal(0UL, p.StepsCompared);
            back.Add(previous);
            here = previous;
        }
        Assert.Equal(expectedDivergences.AsEnumerable().Reverse(), back);
        Assert.Equal($"no divergence before step {found[0]}", pair.Previous(found[0]).Message);

        // Between a join and the next divergence the runs are equal; inside a divergence they differ.
        Assert.False(pair.DiffersAt(brute[1]));
        Assert.True(pair.DiffersAt(brute[1] - 1));
    }

    [Fact]
    public void A_changed_word_parts_the_runs_once_and_they_never_join()
    {
        var pair = Pair(Base.Value, Word.Value);
        var first = pair.First();
        var next = pair.Next(first.Step!.Value);
        output.WriteLine($"{first}\n{next}");
        Assert.Null(next.Step);
        Assert.Equal($"no divergence after step {first.Step}: the runs stay different to step {pair.Limit}", next.Message);
        Assert.Empty(pair.KnownJoins);
        Assert.False(pair.DiffersAt(first.Step!.Value - 1));
        Assert.True(pair.DiffersAt(pair.Limit));
        // The answer leaves the user where they were.
        Assert.Equal(first.Step, pair.A.Position);
    }

    [Fact]
    public void Diverge_finds_where_a_differing_byte_started_to_differ_as_a_scan_of_that_byte_does()
    {
        var pair = Pair(Base.Value, Word.Value);
        ulong end = pair.Limit;
        pair.A.Seek(end);
        pair.B.Seek(end);
        // The name in the table: 'o' in A, 'O' in B.
        var range = pair.DifferencesNow()!.Memory.First(m => m.A.Contains((byte)'o') && m.B.Contains((byte)'O'));
        ulong address = range.Address + (ulong)Array.IndexOf(range.B, (byte)'O');
        var answer = pair.DivergeMemory(address);
        output.WriteLine(answer.ToString());

        var flips = BruteForceScan.Transitions(Base.Value, Word.Value, end, (a, b) => a.Ram.Read(address, 1)[0] != b.Ram.Read(address, 1)[0]);
        Assert.Equal(flips.Last(), answer.Since);
        Assert.Equal(((ulong)'o', (ulong)'O'), (answer.ValueA, answer.ValueB));
        // The later of the two last writes is the step just before: it made them differ.
        Assert.Equal(answer.Since - 1, Math.Max(answer.WriteA!.Step, answer.WriteB!.Step));
        // The input that made it so: B received the 'O'.
        var (_, inputA, inputB) = answer.InputDifference!.Value;
        Assert.Contains((byte)'O', Assert.IsType<ConsoleInputEvent>(inputB).Bytes);
        Assert.Contains((byte)'o', Assert.IsType<ConsoleInputEvent>(inputA).Bytes);
        Assert.Equal(end, pair.A.Position);
        Assert.Equal(end, pair.B.Position);
    }

    [Fact]
    public void Diverge_on_a_register_follows_the_chain_of_last_writes()
    {
        var pair = Pair(Base.Value, Word.Value);
        ulong first = pair.First().Step!.Value;
        var register = pair.DifferencesNow()!.IntegerRegisters[0];
        var name = new Core.Hart.HartRegister(Core.Hart.RegisterFile.Integer, (int)register.Id);
        // A little later, while the register still differs.
        ulong later = first;
        pair.A.Seek(later);
        pair.B.Seek(later);
        var answer = pair.DivergeRegister(name, $"x{register.Id}");
        var flips = BruteForceScan.Transitions(Base.Value, Word.Value, later, (a, b) => a.Hart.GetX((int)register.Id) != b.Hart.GetX((int)register.Id));
        output.WriteLine($"{answer}; flips {string.Join(",", flips)}");
        Assert.Equal(flips.Last(), answer.Since);
        Assert.Equal(first, answer.Since);
    }
}
