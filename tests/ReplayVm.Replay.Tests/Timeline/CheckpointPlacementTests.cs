using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core.Hart;
using ReplayVm.Replay.Timeline;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.Timeline;

/// <summary>
/// Where checkpoints sit never changes what reverse-continue finds: in particular a watchpoint hit
/// whose instruction ends exactly on a checkpoint (the boundary between two scanned windows).
/// </summary>
public sealed class CheckpointPlacementTests
{
    public static class Cases
    {
        /// <summary>A position in the first 3 M steps of bench and a few bytes of its stack.</summary>
        public static Arbitrary<(ulong Position, ulong Address, ulong Length)> StackWatches()
        {
            ulong stackTop = TimelineRecordings.Symbol("bench", "__stack_top");
            return (from p in Gen.Choose(200_000, 3_000_000)
                    from offset in Gen.Choose(0, 255)
                    from length in Gen.Choose(1, 8)
                    select ((ulong)p, stackTop - 256 + (ulong)offset, (ulong)length)).ToArbitrary();
        }
    }

    [Property(Arbitrary = [typeof(Cases)], MaxTest = 8)]
    public void A_watch_hit_on_a_checkpoint_is_found_as_without_it((ulong Position, ulong Address, ulong Length) c)
    {
        var trace = TimelineRecordings.Bench.Value;
        WatchRange[] watch = [new WatchRange(c.Address, c.Length, OnRead: false, OnWrite: true)];
        // One window from step 0: no boundary to fall on.
        var reference = new TimelineEngine(trace, new TimelineOptions { CheckpointInterval = 1UL << 40 });
        reference.Seek(c.Position);
        var expected = reference.ReverseContinue(null, watch);
        if (expected.Kind != TimelineStopKind.Watchpoint || expected.Step < 2) return;

        // A checkpoint right where the hit's instruction ends (kept: explicit), with automatic ones
        // far apart or dense around it.
        foreach (ulong interval in new[] { 1UL << 40, Math.Max(1, expected.Step / 3) })
        {
            var timeline = new TimelineEngine(trace, new TimelineOptions { CheckpointInterval = interval });
            timeline.Seek(expected.Step);
            timeline.AddCheckpoint();
            timeline.Seek(c.Position);
            Assert.NotNull(timeline.Checkpoints.At(expected.Step));
            Assert.Equal(expected, timeline.ReverseContinue(null, watch));
            Assert.Equal(reference.ComputeHash(), timeline.ComputeHash());
        }
    }
}
