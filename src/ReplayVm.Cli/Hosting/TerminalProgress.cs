using System.Diagnostics;

namespace ReplayVm.Cli.Hosting;

/// <summary>
/// A progress line on a terminal's stderr, rewritten in place at most twice a second:
/// "replayvm: indexing 42% (step N of M, R M steps/s, about T s left)". Reports may come from any thread.
/// </summary>
internal sealed class TerminalProgress(string activity, ulong total) : IProgress<double>
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _lock = new();
    private TimeSpan _shown = TimeSpan.MinValue;
    private bool _visible;

    public void Report(double fraction)
    {
        lock (_lock)
        {
            var now = _clock.Elapsed;
            if (now - _shown < TimeSpan.FromMilliseconds(500)) return;
            _shown = now;
            fraction = Math.Clamp(fraction, 0, 1);
            ulong step = (ulong)(fraction * total);
            double rate = now.TotalSeconds > 0 ? step / now.TotalSeconds : 0;
            string left = rate > 0 && fraction < 1 ? $", about {(total - step) / rate:0} s left" : "";
            Console.Error.Write($"\rreplayvm: {activity} {fraction * 100:0}% (step {step} of {total}, {rate / 1e6:0.#} M steps/s{left})\x1b[K");
            _visible = true;
        }
    }

    /// <summary>Erases the line, so the next message starts on a clean one.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            if (_visible) Console.Error.Write("\r\x1b[K");
            _visible = false;
        }
    }
}
