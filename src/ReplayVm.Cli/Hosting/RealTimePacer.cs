using System.Diagnostics;
using ReplayVm.Core;

namespace ReplayVm.Cli.Hosting;

/// <summary>
/// `--pace`: sleeps between slices while the guest's clock is ahead of the host's, so timeouts and
/// countdowns (U-Boot's autoboot, a guest's sleep) take real time. Sleeps are short so Ctrl-C and
/// input stay responsive; the guest computes exactly what it would unpaced.
/// </summary>
internal sealed class RealTimePacer : IGuestPacer
{
    private static readonly TimeSpan MaxSleep = TimeSpan.FromMilliseconds(20);
    private readonly Stopwatch _host = new();
    private ulong _guestStart;

    public void WaitForHost(ulong guestNanoseconds)
    {
        if (!_host.IsRunning)
        {
            _host.Start();
            _guestStart = guestNanoseconds;
            return;
        }
        double aheadMs = (guestNanoseconds - _guestStart) / 1e6 - _host.Elapsed.TotalMilliseconds;
        if (aheadMs >= 1) Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(aheadMs, MaxSleep.TotalMilliseconds)));
    }
}
