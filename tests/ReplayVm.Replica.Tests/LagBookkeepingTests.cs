using System.Diagnostics;

namespace ReplayVm.Replica.Tests;

/// <summary>The primary's bookkeeping for its backup: how batches are spaced, the publish timeline the lag bound reads, and the lag summary it prints at its end.</summary>
public sealed class LagBookkeepingTests
{
    [Fact]
    public void Selection_finds_what_sorting_puts_at_each_place()
    {
        var random = new Random(15);
        foreach (int length in new[] { 1, 2, 3, 7, 64, 1000 })
        {
            for (int round = 0; round < 20; round++)
            {
                // Few distinct values as well as many: duplicates are where a partition goes wrong.
                int range = round % 2 == 0 ? 4 : 1_000_000;
                var values = Enumerable.Range(0, length).Select(_ => (ulong)random.Next(range)).ToArray();
                var sorted = values.OrderBy(v => v).ToArray();
                foreach (int k in new[] { 0, length / 2, length - 1, random.Next(length) })
                    Assert.Equal(sorted[k], LagSamples.Select((ulong[])values.Clone(), k));
            }
        }
    }

    [Fact]
    public void The_summary_is_the_median_and_maximum_in_steps_and_milliseconds()
    {
        var lags = new LagSamples();
        Assert.Equal(new LagSummary(0, 0, 0, 0), lags.Summary());
        // 600 samples: past the arrays' first growth.
        for (int i = 0; i < 600; i++) lags.Add((ulong)(599 - i) * 10, (599 - i) / 10.0);
        Assert.Equal(600, lags.Count);
        var summary = lags.Summary();
        Assert.Equal(3000UL, summary.MedianSteps);
        Assert.Equal(5990UL, summary.MaxSteps);
        Assert.Equal(30.0, summary.MedianMilliseconds, 3);
        Assert.Equal(59.9, summary.MaxMilliseconds, 3);
    }

    [Fact]
    public void The_timeline_answers_which_step_was_published_by_when_and_how_long_ago_a_step_was()
    {
        var timeline = new PublishTimeline();
        long second = Stopwatch.Frequency;
        Assert.Equal(0UL, timeline.StepPublishedBefore(second));
        Assert.Equal(0, timeline.MillisecondsSincePublished(5, second));
        // A publish every millisecond, step 1000 per ms, for 30 s: the timeline keeps the last 5-10 s.
        long ms = second / 1000;
        for (long t = 1; t <= 30_000; t++) timeline.Add(t * ms, (ulong)t * 1000);
        Assert.InRange(timeline.Count, 5_000, 10_001);
        long now = 30_000 * ms;
        Assert.Equal(29_950_000UL, timeline.StepPublishedBefore(now - 50 * ms));
        Assert.Equal(29_950_000UL, timeline.StepPublishedBefore(now - 50 * ms + ms / 2));
        Assert.Equal(30_000_000UL, timeline.StepPublishedBefore(now + second));
        // Step 29_950_001 was first covered by the publish at 29 951 ms: 49 ms before now.
        Assert.Equal(49.0, timeline.MillisecondsSincePublished(29_950_001, now), 3);
        Assert.Equal(0.0, timeline.MillisecondsSincePublished(30_000_000, now), 3);
        Assert.Equal(0, timeline.MillisecondsSincePublished(31_000_000, now));
    }

    [Fact]
    public void The_timeline_keeps_at_most_its_limit_however_fast_frontiers_come()
    {
        var timeline = new PublishTimeline();
        for (int i = 1; i <= 3 * PublishTimeline.MaxKept; i++) timeline.Add(i, (ulong)i);
        Assert.InRange(timeline.Count, 1, PublishTimeline.MaxKept);
        Assert.Equal((ulong)(3 * PublishTimeline.MaxKept), timeline.StepPublishedBefore(long.MaxValue));
        Assert.Equal((ulong)(3 * PublishTimeline.MaxKept - 10), timeline.StepPublishedBefore(3 * PublishTimeline.MaxKept - 10));
    }

    [Fact]
    public void Output_after_a_quiet_batch_goes_soon_and_a_stream_of_it_at_the_quiet_rate()
    {
        var options = new ReplicaOptions { BatchInterval = TimeSpan.FromMilliseconds(2), QuietBatchInterval = TimeSpan.FromMilliseconds(10) };
        // A key's echo or a prompt after a quiet spell: the output rule waits one short interval.
        Assert.Equal(TimeSpan.FromMilliseconds(2), ReplicaNode.BatchSpacing(options, carries: true, lastCarried: false));
        // Output that keeps coming, and a batch that only moves the frontier: the quiet interval, never longer.
        Assert.Equal(TimeSpan.FromMilliseconds(10), ReplicaNode.BatchSpacing(options, carries: true, lastCarried: true));
        Assert.Equal(TimeSpan.FromMilliseconds(10), ReplicaNode.BatchSpacing(options, carries: false, lastCarried: true));
        Assert.Equal(TimeSpan.FromMilliseconds(10), ReplicaNode.BatchSpacing(options, carries: false, lastCarried: false));
    }
}
