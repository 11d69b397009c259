using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ReplayVm.Core.Translation;

/// <summary>
/// CPU time consumed by the calling thread, for the translator's statistics and the replicas'
/// profile: on a loaded machine
/// the wall time a compile takes includes the time the thread waited for a core, which says
/// nothing about what translating costs. Linux's CLOCK_THREAD_CPUTIME_ID (clock_gettime(2));
/// elsewhere, or if the call fails, the wall clock.
/// </summary>
public static partial class ThreadCpuClock
{
    private const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec time);

    /// <summary>The calling thread's CPU time so far, in <see cref="Stopwatch"/> ticks.</summary>
    public static long Now()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(ClockThreadCpuTimeId, out var t) == 0)
            return (long)((t.Seconds * 1_000_000_000L + t.Nanoseconds) * (Stopwatch.Frequency / 1e9));
        return Stopwatch.GetTimestamp();
    }
}
