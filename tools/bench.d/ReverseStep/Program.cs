using System.Diagnostics;
using System.Globalization;
using ReplayVm.Bench.ReverseStep;
using ReplayVm.Replay;
using ReplayVm.Replay.Format;
using ReplayVm.Replay.Timeline;

// Reverse-step latency of the Timeline (issue 5's figure): replay the whole trace once (as a
// debugger's first "continue" to the end would, leaving automatic checkpoints behind), then seek
// to positions spread through it, latest first, and time StepBackward a few times at each.
// Prints "key value" lines that tools/bench parses; everything else goes to stderr.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

try
{
    var trace = TraceReader.ReadFile(options.TracePath);
    var timeline = new Timeline(trace, new TimelineOptions { CheckpointMemory = options.CheckpointMemoryBytes });
    var clock = Stopwatch.StartNew();
    timeline.Seek(timeline.End);
    double firstPass = clock.Elapsed.TotalSeconds;

    var steps = new LatencySample();
    var firstSteps = new LatencySample();
    var seeks = new LatencySample();
    for (int i = options.Positions; i >= 1; i--)
    {
        // Spread evenly, nudged by a prime so positions do not sit on checkpoint boundaries.
        ulong position = timeline.End / (ulong)(options.Positions + 1) * (ulong)i + (ulong)i * 7919;
        clock.Restart();
        timeline.Seek(position);
        seeks.Add(clock.Elapsed.TotalMilliseconds);
        for (int k = 0; k < options.StepsBack; k++)
        {
            clock.Restart();
            if (!timeline.StepBackward()) throw new TimelineException($"could not step back from step {timeline.Position}");
            double ms = clock.Elapsed.TotalMilliseconds;
            steps.Add(ms);
            if (k == 0) firstSteps.Add(ms);
        }
        if (timeline.Position != position - (ulong)options.StepsBack)
            throw new TimelineException($"stepping back from {position} ended at {timeline.Position}");
    }

    var store = timeline.Checkpoints;
    Console.WriteLine($"steps {timeline.End}");
    Console.WriteLine($"first_pass_s {firstPass:F2}");
    Console.WriteLine($"interval {timeline.Interval}");
    Console.WriteLine($"positions {options.Positions}");
    Console.WriteLine($"samples {steps.Count}");
    Console.WriteLine($"median_ms {steps.Median:F3}");
    Console.WriteLine($"p90_ms {steps.P90:F3}");
    Console.WriteLine($"worst_ms {steps.Worst:F3}");
    Console.WriteLine($"first_median_ms {firstSteps.Median:F3}");
    Console.WriteLine($"first_worst_ms {firstSteps.Worst:F3}");
    Console.WriteLine($"seek_median_ms {seeks.Median:F3}");
    Console.WriteLine($"seek_worst_ms {seeks.Worst:F3}");
    Console.WriteLine($"checkpoints {store.Count}");
    Console.WriteLine($"checkpoint_mib {store.MemoryBytes / 1048576.0:F1}");
    Console.WriteLine($"budget_mib {store.BudgetBytes / 1048576.0:F0}");
    Console.WriteLine($"peak_rss_mib {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0}");
    return 0;
}
catch (Exception e) when (e is TraceFormatException or TimelineException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
