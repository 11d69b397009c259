using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core.Hart;
using ReplayVm.Replay.Timeline;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.TraceIndex;

/// <summary>Reverse-continue scanning the index's windows on several machines finds exactly what one machine without an index finds.</summary>
public sealed class ParallelReverseScanTests
{
    private static readonly string[] Functions = ["main", "memcpy", "memset", "quicksort.constprop.0", "stdio_put", "printf"];

    public static class Cases
    {
        public static Arbitrary<(ulong Position, string Function, bool Watch, int Jobs)> Arb()
        {
            ulong end = IndexedRecordings.Bench.Value.Trace.End!.Step;
            return (from p in Gen.Choose(0, (int)end)
                    from f in Gen.Elements(Functions)
                    from w in Gen.Elements(false, false, true)
                    from j in Gen.Choose(2, 4)
                    select ((ulong)p, f, w, j)).ToArbitrary();
        }
    }

    [Property(Arbitrary = [typeof(Cases)], MaxTest = 8)]
    public void The_hit_equals_a_one_machine_scan_without_the_index((ulong Position, string Function, bool Watch, int Jobs) c)
    {
        var recording = IndexedRecordings.Bench.Value;
        using var index = recording.Open();
        ulong pc = Timeline.TimelineRecordings.Symbol("bench", c.Function);
        WatchRange[]? watch = c.Watch ? [new WatchRange(Timeline.TimelineRecordings.Symbol("bench", "buffer_a"), 64, OnRead: false, OnWrite: true)] : null;
        var plain = new TimelineEngine(recording.Trace, new TimelineOptions { ScanJobs = 1 });
        var parallel = new TimelineEngine(recording.Trace, new TimelineOptions { Index = index, ScanJobs = c.Jobs });
        plain.Seek(c.Position);
        parallel.Seek(c.Position);
        var expected = plain.ReverseContinue([pc], watch);
        Assert.Equal(expected, parallel.ReverseContinue([pc], watch));
        Assert.Equal(plain.ComputeHash(), parallel.ComputeHash());
        Assert.Equal(plain.Position, parallel.Position);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void From_the_end_back_to_main_crosses_every_window(int jobs)
    {
        var recording = IndexedRecordings.Bench.Value;
        using var index = recording.Open();
        ulong main = Timeline.TimelineRecordings.Symbol("bench", "main");
        ulong end = recording.Trace.End!.Step;
        var plain = new TimelineEngine(recording.Trace);
        var parallel = new TimelineEngine(recording.Trace, new TimelineOptions { Index = index, ScanJobs = jobs });
        plain.Seek(end);
        parallel.Seek(end);
        var expected = plain.ReverseContinue([main], null);
        Assert.Equal(TimelineStopKind.Breakpoint, expected.Kind);
        Assert.True(expected.Step < 2_000_000, $"main at {expected.Step}: not behind every snapshot");
        Assert.Equal(expected, parallel.ReverseContinue([main], null));
        Assert.Equal(plain.ComputeHash(), parallel.ComputeHash());
        Assert.True(parallel.WindowsScannedInParallel >= 5, $"{parallel.WindowsScannedInParallel} windows scanned in parallel");
        // Nothing before the first hit of main's entry: both go to step 0.
        Assert.Equal(plain.ReverseContinue([main], null), parallel.ReverseContinue([main], null));
    }
}
