using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ReplayVm.Replay.TraceIndex;

/// <summary>
/// A diagnostic timeline of <c>replay --jobs</c>, written to standard error only when the
/// environment variable <c>REPLAYVM_SEGMENT_TRACE</c> is set: one line per milestone with the
/// milliseconds since the process started, the thread, that thread's CPU time, the garbage collections so far (generations 0/1/2) and the bytes allocated, so a profile of
/// the parallel replay shows when each worker starts and ends each segment and what runs before
/// both are busy. Host timing only: nothing here reaches the machine or the replay's result.
/// </summary>
public static class SegmentTrace
{
    /// <summary>Whether the trace is on (read once).</summary>
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("REPLAYVM_SEGMENT_TRACE") is { Length: > 0 };

    private static readonly DateTime ProcessStart = Enabled ? Process.GetCurrentProcess().StartTime.ToUniversalTime() : default;
    private static readonly GcEvents? Gc = Enabled ? new GcEvents() : null;
    private static readonly Lock Gate = new();

    /// <summary>Writes one milestone line (when enabled).</summary>
    public static void Mark(string what)
    {
        if (!Enabled) return;
        double sinceStart = (DateTime.UtcNow - ProcessStart).TotalMilliseconds;
        double cpu = ThreadCpuMilliseconds();
        lock (Gate)
            Console.Error.WriteLine($"segment-trace {sinceStart,9:F1} ms  {Thread.CurrentThread.Name ?? "main",-16} cpu {cpu,8:F1} ms  " +
                                    $"GCs {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} {GC.GetTotalAllocatedBytes() >> 20,4} MiB  {what}");
    }

    /// <summary>The runtime's garbage-collection events as marks: why each collection started, and each large-object allocation sampled.</summary>
    private sealed class GcEvents : System.Diagnostics.Tracing.EventListener
    {
        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
                EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1); // GC
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            string Field(string name) => e.PayloadNames?.IndexOf(name) is int i and >= 0 ? $"{e.Payload![i]}" : "?";
            if (e.EventName?.StartsWith("GCStart", StringComparison.Ordinal) == true)
                Mark($"GC {Field("Count")} of generation {Field("Depth")} starts, reason {Field("Reason")}");
            else if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) == true && Field("AllocationKind") != "0")
                Mark($"large allocation of {Field("TypeName")} (kind {Field("AllocationKind")}, {Field("ObjectSize")} bytes)");
        }
    }

    private static double ThreadCpuMilliseconds()
    {
        const int ClockThreadCpuTimeId = 3; // Linux's CLOCK_THREAD_CPUTIME_ID
        try
        {
            return clock_gettime(ClockThreadCpuTimeId, out var t) == 0 ? t.Seconds * 1e3 + t.Nanoseconds / 1e6 : double.NaN;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return double.NaN;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc")]
    private static extern int clock_gettime(int clock, out TimeSpec time);
}
