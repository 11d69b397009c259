using System.Diagnostics;
using ReplayVm.Replay.Input;
using ReplayVm.Replay.Timeline;
using Xunit.Abstractions;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.Timeline;

/// <summary>
/// The figure issue 5 asks for, measured on a 1.2×10^8-step recording of bench: the latency of
/// one reverse step at positions spread through the recording — each reached by a seek, then
/// stepped back from several times, as a user does — and the memory the checkpoints hold.
/// Printed to the test output (run with <c>--logger "console;verbosity=detailed"</c>).
/// </summary>
public sealed class ReverseStepLatencyTests(ITestOutputHelper output)
{
    private const ulong RecordingSteps = 120_000_000;

    [Fact]
    public void Reverse_step_latency_through_a_long_bench_recording()
    {
        var clock = Stopwatch.StartNew();
        var trace = TimelineRecordings.Record("bench", new ScriptedInputPort([]), RecordingSteps, 10_000_000);
        output.WriteLine($"recorded {trace.End!.Step:N0} steps in {clock.Elapsed.TotalSeconds:F1} s");

        var timeline = new TimelineEngine(trace);
        clock.Restart();
        timeline.Seek(timeline.End);
        output.WriteLine($"first pass to the end: {clock.Elapsed.TotalSeconds:F1} s, interval {timeline.Interval:N0} steps, {timeline.Checkpoints.Count} checkpoints");

        var latencies = new List<double>();
        const int Positions = 24, StepsBackEach = 8;
        for (int i = Positions; i >= 1; i--)
        {
            ulong position = timeline.End / (Positions + 1) * (ulong)i + (ulong)i * 7919;
            timeline.Seek(position);
            for (int k = 0; k < StepsBackEach; k++)
            {
                clock.Restart();
                Assert.True(timeline.StepBackward());
                latencies.Add(clock.Elapsed.TotalMilliseconds);
            }
            Assert.Equal(position - StepsBackEach, timeline.Position);
        }
        latencies.Sort();
        double median = latencies[latencies.Count / 2], worst = latencies[^1];
        output.WriteLine($"reverse step over {latencies.Count} samples at {Positions} positions: median {median:F2} ms, p90 {latencies[latencies.Count * 9 / 10]:F2} ms, worst {worst:F2} ms");
        output.WriteLine($"checkpoints: {timeline.Checkpoints.Count}, memory {timeline.Checkpoints.MemoryBytes / (1 << 20):N1} MiB of a {timeline.Checkpoints.BudgetBytes / (1 << 20):N0} MiB budget");
        Assert.True(timeline.Checkpoints.MemoryBytes <= timeline.Checkpoints.BudgetBytes);
    }
}
