using System.Diagnostics;
using System.Globalization;
using ReplayVm.Replay;
using ReplayVm.Replay.Format;
using ReplayVm.Replay.Timeline;

// Time for TimelineIndex to find every trap and interrupt of a trace (the background scan behind
// the terminal debugger's timeline marks, next-trap and monitor traps): one full replay with the
// trap observer attached. Prints "key value" lines; everything else goes to stderr.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: replayvm-bench-trap-index TRACE.rvtrace");
    return 2;
}
try
{
    var trace = TraceReader.ReadFile(args[0]);
    var clock = Stopwatch.StartNew();
    using var index = new TimelineIndex(trace);
    double built = clock.Elapsed.TotalSeconds;
    double firstMarker = double.NaN;
    index.WaitUntil(i => i.Count(TrapMarkerKinds.All) > 0, TimeSpan.FromHours(1));
    if (index.Count(TrapMarkerKinds.All) > 0) firstMarker = clock.Elapsed.TotalSeconds;
    index.Completion.Wait();
    double seconds = clock.Elapsed.TotalSeconds;
    if (index.State != TimelineIndexState.Complete)
    {
        Console.Error.WriteLine($"error: the index did not complete: {index.State} {index.Error}");
        return 1;
    }
    long peakMib = Process.GetCurrentProcess().PeakWorkingSet64 >> 20;
    Console.WriteLine($"steps {index.End}");
    Console.WriteLine($"seconds {seconds:0.00}");
    Console.WriteLine($"build_seconds {built:0.00}");
    Console.WriteLine($"first_marker_seconds {firstMarker:0.00}");
    Console.WriteLine($"msteps_per_second {index.End / seconds / 1e6:0}");
    Console.WriteLine($"traps {index.Count(TrapMarkerKinds.Traps)}");
    Console.WriteLine($"interrupts {index.Count(TrapMarkerKinds.Interrupts)}");
    Console.WriteLine($"exact {(index.ExactBefore == ulong.MaxValue ? "all" : $"before step {index.ExactBefore}")}");
    Console.WriteLine($"peak_working_set_mib {peakMib}");
    foreach (var (cause, count) in index.CountsByCause().OrderBy(p => p.Key))
        Console.Error.WriteLine($"  {TrapCauseNames.Describe(cause.Interrupt, cause.Cause)}: {count}");
    return 0;
}
catch (Exception e) when (e is IOException or TraceFormatException or TimelineException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
