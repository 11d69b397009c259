using System.Diagnostics;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Translation;

/// <summary>The translator's statistics count CPU time, not the wall time a loaded machine stretches.</summary>
public sealed class ThreadCpuClockTests
{
    [Fact]
    public void A_sleeping_thread_uses_no_cpu_time()
    {
        long before = ThreadCpuClock.Now();
        Thread.Sleep(300);
        double ms = Stopwatch.GetElapsedTime(0, ThreadCpuClock.Now() - before).TotalMilliseconds;
        Assert.True(ms < 100, $"300 ms asleep counted {ms:F0} ms of CPU time");
    }

    [Fact]
    public void A_busy_thread_accumulates_cpu_time()
    {
        long before = ThreadCpuClock.Now();
        var deadline = Stopwatch.StartNew();
        ulong x = 1;
        while (Stopwatch.GetElapsedTime(0, ThreadCpuClock.Now() - before).TotalMilliseconds < 5)
        {
            for (int i = 0; i < 10_000; i++) x = x * 6364136223846793005UL + 1;
            Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(1), "the thread's CPU clock did not advance");
        }
        Assert.NotEqual(0UL, x);
    }
}
